"""What "road now" adds to a points batch (figures, not pass/fail).

A car's route across Baltimore (it takes I 95 and its ramps) is driven at 20 m/s with one
fix a second and posted as the Drive screen does, three fixes a batch, to the real API
in-process (Starlette TestClient, a temp SQLite file, the in-process engine on the
Baltimore tiles). Each batch goes to two trips, one asking for the road and one not, so
both see the same database; prints per-batch time with and without, the added cost, and
what the road answers said.

Run: .venv/bin/pytest bench/bench_road.py -s
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from kei_drive.core.distance import cumulative_m
from kei_drive.db import migrate
from kei_drive.routing.polyline import decode
from kei_drive.routing.tiles import build_tiles
from kei_drive.routing.valhalla_local import LocalValhallaRouter

BALTIMORE = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "osm" / "baltimore.osm.pbf"
)
A, B = (39.2850, -76.6050), (39.3040, -76.5320)  # downtown -> north-east (car takes I 95)
SPEED_MPS = 20.0
BATCH = 3  # the recorder syncs every 3 s


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    if not BALTIMORE.is_file():
        pytest.skip(f"real OSM extract not available at {BALTIMORE}")
    out = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return out


def _drive(tiles: Path) -> list[tuple[float, float]]:
    """The car route A -> B, one point per second at SPEED_MPS."""
    router = LocalValhallaRouter(tiles)
    req = {"locations": [{"lat": A[0], "lon": A[1]}, {"lat": B[0], "lon": B[1]}], "costing": "auto"}
    pts = np.array(decode(router.route(req)["trip"]["legs"][0]["shape"]))
    cum = cumulative_m(pts[:, 0], pts[:, 1])
    at = np.arange(0.0, cum[-1], SPEED_MPS)
    return list(zip(np.interp(at, cum, pts[:, 0]), np.interp(at, cum, pts[:, 1]), strict=True))


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.1f}"


def test_bench_road_now(tiles, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tiles))
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "none.json"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    migrate(url)
    from kei_drive.api import api

    drive = _drive(tiles)
    start = int(time.time() * 1000) - len(drive) * 1000
    plain_trip, road_trip = str(uuid.uuid4()), str(uuid.uuid4())
    plain_ms: list[float] = []
    road_ms: list[float] = []
    check_ms: list[float] = []
    said: Counter[str] = Counter()
    unknown_at: list[int] = []  # batch numbers answered "unknown"
    with TestClient(api) as client:
        for i in range(0, len(drive) - BATCH + 1, BATCH):
            points = [
                {"id": f"p{j}", "t": start + j * 1000, "lat": lat, "lon": lon, "acc": 5.0}
                for j, (lat, lon) in enumerate(drive[i : i + BATCH], start=i)
            ]
            sent_at = start + (i + BATCH) * 1000
            for trip, want, times in ((plain_trip, False, plain_ms), (road_trip, True, road_ms)):
                body = {"points": points, "sent_at": sent_at, "want_road": want}
                t0 = time.perf_counter()
                reply = client.post(f"/api/v1/trips/{trip}/points", json=body).json()
                times.append((time.perf_counter() - t0) * 1000)
            road = reply["road"]
            if road["status"] == "matched":
                said[road["class"] + (" (motorway)" if road["motorway"] else "")] += 1
                check_ms.append(road["check_ms"])
            else:
                said["unknown: " + road["reason"]] += 1
                unknown_at.append(len(road_ms))
    # The first batch also loads the engine and the state index: reported apart.
    first = road_ms[0] - plain_ms[0]
    plain, road = plain_ms[1:], road_ms[1:]
    added = [r - p for r, p in zip(road, plain, strict=True)]
    print(
        f"\nroad now, Baltimore car route ({len(drive)} fixes, {len(plain_ms)} batches of {BATCH}):"
        f"\n  batch without road: p50 {_ms(plain, 50)} ms, p95 {_ms(plain, 95)} ms"
        f"\n  batch with road:    p50 {_ms(road, 50)} ms, p95 {_ms(road, 95)} ms"
        f"\n  added per batch:    p50 {_ms(added, 50)} ms, p95 {_ms(added, 95)} ms, "
        f"mean {statistics.fmean(added):.1f} ms (first batch, cold engine: {first:.0f} ms)"
        f"\n  road check alone:   p50 {_ms(check_ms[1:], 50)} ms, p95 {_ms(check_ms[1:], 95)} ms"
        f"\n  answers: {dict(said.most_common())}; unknown at batches {unknown_at}"
    )
    assert said, "no batch was answered"
