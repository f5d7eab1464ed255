"""Telling devices apart in a many-segment track (``core.device_logs.separate_logs``):
figures, not pass/fail.

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_device_logs.py

Each case has 5,000 segments of 100 fixes (500,000 fixes), 1 Hz, 30 s of signal loss
between segments:

- ``one device, a fix dated 2044``: one log (its segments never overlap but for the wild fix);
- ``1980 start-ups``: each segment's first 30 fixes dated 1980-01-06 at the same instants
  (a logger before it reads the satellites' time): one log. Compared pair by pair this took
  739 s (a review of 405fc1c); the sweep now skips instants when more than ``MAX_DEVICES``
  segments log at once;
- ``two devices``: 2,500 segments each, 3 km apart over the same hours: two logs.

2026-12-05, 2 cores, load ~1: 0.21-0.29 s / 0.25-0.36 s / 2.2-2.6 s (each segment of two
devices placed against the log's neighbours in time). A review's harder cases, by hand:
50,002 2-fix segments of two devices 14.9-16.6 s (416 s before offers went to neighbours in
time only), 20,201 segments with one tracker writing each fix alone 7.8 s, three devices in
5,100 segments (510,000 fixes) 3.9 s.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from kei_drive.core.device_logs import separate_logs
from kei_drive.core.gpx import GpxSegment

SEGMENTS, FIXES, GAP_S = 5_000, 100, 30
T0 = 1.7e9
EPOCH_1980 = 315_964_800.0


def _segment(start_s: float, lat0: float, lon: float, cold: int = 0) -> GpxSegment:
    t = T0 + start_s + np.arange(FIXES, dtype=float)
    if cold:
        t[:cold] = EPOCH_1980 + np.arange(cold)
    lat = lat0 + (start_s + np.arange(FIXES)) * 12.0 / 111_195
    nan = np.full(FIXES, np.nan)
    return GpxSegment(lat, np.full(FIXES, lon), t, nan, nan, nan, nan)


def _one_device(count: int, lon: float = -105.0, cold: int = 0) -> list[GpxSegment]:
    return [_segment(k * (FIXES + GAP_S), 40.0, lon, cold) for k in range(count)]


def _cases() -> dict[str, tuple[list[GpxSegment], int]]:
    wild = _one_device(SEGMENTS)
    wild[1234].t[7] = 2.3e9  # 2044
    a, b = _one_device(SEGMENTS // 2), _one_device(SEGMENTS // 2, lon=-104.965)
    two = [s for pair in zip(a, b, strict=True) for s in pair]
    return {
        "one device, a fix dated 2044": (wild, 1),
        "1980 start-ups": (_one_device(SEGMENTS, cold=30), 1),
        "two devices": (two, 2),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_bench_separate_logs(name):
    segments, want = _cases()[name]
    start = time.perf_counter()
    logs = separate_logs(segments)
    seconds = time.perf_counter() - start
    print(f"\n{name}: {len(segments):,} segments -> {len(logs)} logs in {seconds:.2f} s")
    assert len(logs) == want
