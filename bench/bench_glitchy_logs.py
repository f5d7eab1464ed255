"""What a log's wrong time stamps and glitches cost to read (``core.glitches.repaired_times``, the
glitch rule's pieces), on 500,000-fix logs made to be as bad as they come (figures, not
pass/fail).

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_glitchy_logs.py

Each log: a 1 Hz drive at 15 m/s with 5 m of noise, or a 60 s one at 25 m/s (round a 20 km
circle), spoiled in one
way: hundreds or thousands of fixes stamped with the time of the fix before, the fixes in a
random order, a fix 1,000 km away every 10 fixes, two every 7. ``repaired_times`` alone, then
``compute_stats`` and ``cleaned_positions`` (which include it), each timed in process.

2026-12-06 (session 27): see docs/performance.md, "Session 27".
"""

from __future__ import annotations

import time

import numpy as np

from kei_drive.core.glitches import repaired_times
from kei_drive.core.track import TrackArrays
from kei_drive.core.track_pieces import cleaned_positions
from kei_drive.core.trips import compute_stats

FIXES = 500_000


def _drive(step_s: float, speed_mps: float, rng: np.random.Generator) -> TrackArrays:
    """Round and round a 20 km circle near Baltimore (a long log stays on the map)."""
    angle = np.arange(FIXES) * speed_mps * step_s / 20_000.0
    north = 20_000.0 * np.sin(angle) + rng.normal(0, 5, FIXES)
    east = 20_000.0 * np.cos(angle) + rng.normal(0, 5, FIXES)
    lat, lon = 39.3 + north / 111_320, -76.6 + east / 86_000
    return TrackArrays.from_columns(lat, lon, 1.7e9 + np.arange(FIXES) * step_s)


def _stamped_as_before(track: TrackArrays, count: int, rng: np.random.Generator) -> TrackArrays:
    t = track.t.copy()
    at = rng.choice(np.arange(1, FIXES - 1), count, replace=False)
    t[at] = t[at - 1]
    return TrackArrays.from_columns(track.lat, track.lon, t)


def _logs() -> dict[str, TrackArrays]:
    rng = np.random.default_rng(5)
    dense, sparse = _drive(1.0, 15.0, rng), _drive(60.0, 25.0, rng)
    order = rng.permutation(FIXES)
    far = dense.lat.copy()
    far[5::10] += 9.0
    pairs = dense.lat.copy()
    pairs[5::7] += 9.0
    pairs[6::7] += 9.0
    return {
        "1 Hz, clean": dense,
        "1 Hz, 900 stamped as the fix before": _stamped_as_before(dense, 900, rng),
        "60 s, 990 stamped as the fix before": _stamped_as_before(sparse, 990, rng),
        "60 s, 5,000 stamped as the fix before": _stamped_as_before(sparse, 5000, rng),
        "1 Hz, shuffled": dense.take(order),
        "1 Hz, a fix 1,000 km off every 10": TrackArrays.from_columns(far, dense.lon, dense.t),
        "1 Hz, 2 fixes 1,000 km off every 7": TrackArrays.from_columns(pairs, dense.lon, dense.t),
    }


def test_bench_glitchy_logs():
    print()
    for name, track in _logs().items():
        start = time.perf_counter()
        _, repaired = repaired_times(track)
        repair_s = time.perf_counter() - start
        start = time.perf_counter()
        stats = compute_stats(track, with_states=False)
        stats_s = time.perf_counter() - start
        start = time.perf_counter()
        cleaned_positions(track)
        cleaned_s = time.perf_counter() - start
        print(
            f"{name:40s} repaired_times {repair_s:5.2f} s ({repaired:4d} re-timed) | "
            f"compute_stats {stats_s:5.2f} s ({stats.points_used:,} fixes used) | "
            f"cleaned_positions {cleaned_s:5.2f} s"
        )
