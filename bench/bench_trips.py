"""Benchmarks for trip statistics and point ingest (figures, not pass/fail timings).

    .venv/bin/pytest bench/bench_trips.py --benchmark-only

Targets from issue 5: a 10,000-point trip's statistics in a few ms; ingest throughput of
``POST /api/v1/trips/{id}/points`` (TestClient, temp SQLite file, 20 batches x 500 fixes).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from kei_drive.core.gpx import TrackPoint
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import compute_stats

N = 10_000
BATCHES, BATCH = 20, 500
T0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)


def _drive(n: int = N, seed: int = 7) -> TrackArrays:
    """A 1 Hz drive near Boulder: cruising, stop-and-go, parked stretches, GPS jitter."""
    rng = np.random.default_rng(seed)
    speed = np.clip(np.cumsum(rng.normal(0, 0.6, n)) % 30, 0, 28)
    speed[2000:2600] = 0.0  # parked 10 minutes
    speed[7000:7300] = 0.0
    heading = np.cumsum(rng.normal(0, 0.02, n))
    north = np.cumsum(speed * np.cos(heading))
    east = np.cumsum(speed * np.sin(heading))
    lat = 40.0 + (north + rng.normal(0, 3, n)) / 111_195
    lon = -105.3 + (east + rng.normal(0, 3, n)) / (111_195 * np.cos(np.radians(40)))
    t = T0.timestamp() + np.arange(n, dtype=float)
    acc = np.full(n, 5.0)
    return TrackArrays(lat, lon, t, acc, np.full(n, np.nan))


@pytest.fixture(scope="module")
def arrays() -> TrackArrays:
    arr = _drive()
    compute_stats(arr)  # load the state polygons outside the timings
    return arr


@pytest.fixture(scope="module")
def points(arrays) -> list[TrackPoint]:
    return [
        TrackPoint(float(la), float(lo), T0 + timedelta(seconds=i), accuracy_m=5.0)
        for i, (la, lo) in enumerate(zip(arrays.lat, arrays.lon, strict=True))
    ]


def test_stats_10k_arrays_no_states(benchmark, arrays):
    stats = benchmark(compute_stats, arrays, 20.0, with_states=False)
    assert stats.points == N and stats.distance_m > 0


def test_stats_10k_arrays_with_states(benchmark, arrays):
    stats = benchmark(compute_stats, arrays, 20.0)
    assert stats.states[0] == "CO"


def test_stats_10k_trackpoints_with_states(benchmark, points):
    """Includes building the numpy columns from 10k TrackPoint objects."""
    stats = benchmark(compute_stats, points, 20.0)
    assert stats.points == N


def test_stats_200k_fixes_with_2000_dropouts(benchmark):
    """A 1 Hz log cut into 2,000 runs by 40 s dropouts (a tunnel-rich or flaky logger). Each
    run's window sizing rebuilt a quadratic table and scanned the whole log: 32 s (session 17,
    before) against 0.7 s without dropouts; the table is cached and runs are slices now."""
    n = 200_000
    rng = np.random.default_rng(0)
    lat = 39.3 + np.cumsum(np.full(n, 12.0)) / 111_195 % 1.0 + rng.normal(0, 3, n) / 111_195
    lon = -76.6 + rng.normal(0, 3, n) / 111_195
    step = np.ones(n)
    step[100::100] = 40.0
    arr = TrackArrays.from_columns(lat, lon, 1.7e9 + np.cumsum(step))
    stats = benchmark.pedantic(compute_stats, (arr,), {"with_states": False}, rounds=3)
    assert len(stats.gaps) == 1999


def test_ingest_points_endpoint(benchmark, tmp_path_factory):
    from starlette.testclient import TestClient

    from kei_drive.api import api
    from kei_drive.db import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('ingest') / 'bench.db'}"
    migrate(url)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    mp.setenv("KEI_DRIVE_SINGLE_USER", "1")
    arr = _drive(BATCHES * BATCH)
    t_ms = (arr.t * 1000).astype(np.int64)
    batches = [
        [
            {
                "id": f"p{i}",
                "t": int(t_ms[i]),
                "lat": float(arr.lat[i]),
                "lon": float(arr.lon[i]),
                "acc": 5.0,
                "speed": None,
                "heading": None,
                "alt": 1600.0,
            }
            for i in range(b * BATCH, (b + 1) * BATCH)
        ]
        for b in range(BATCHES)
    ]
    timings: list[float] = []
    try:
        with TestClient(api) as client:

            def ingest() -> int:
                trip = str(uuid.uuid4())
                start = time.perf_counter()
                accepted = 0
                for batch in batches:
                    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": batch})
                    accepted += r.json()["accepted"]
                timings.append(time.perf_counter() - start)
                return accepted

            accepted = benchmark.pedantic(ingest, rounds=3, iterations=1)
            # a retry of everything: all duplicates
            trip_retry = str(uuid.uuid4())
            for batch in batches[:2]:
                client.post(f"/api/v1/trips/{trip_retry}/points", json={"points": batch})
            dup = client.post(f"/api/v1/trips/{trip_retry}/points", json={"points": batches[0]})
    finally:
        mp.undo()
    assert accepted == BATCHES * BATCH and dup.json()["duplicates"] == BATCH
    rate = BATCHES * BATCH / min(timings)
    benchmark.extra_info["points_per_s"] = round(rate)
    print(f"\ningest: {rate:,.0f} points/s ({BATCHES} batches x {BATCH}, best of 3)")
