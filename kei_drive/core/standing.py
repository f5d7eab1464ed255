"""Waits a dense log's motion test counts as moving: a wait at a light, a queue's stops.

A fix is *moving* when its position moved across +-``motion_window_s`` (10 s): wide enough
that a parked phone's jitter never passes for a drive, but a wait shorter than the window
lies wholly inside one and the seconds either side of every stop reach into the braking or
pulling away. A phone's 1 Hz log of a town drive (no device speed) read its moving time
25-70 % long. Here a fix stands when its position moved less over a few seconds than the
log's own noise allows (``standing_steps``); the window grows with the noise, so that a
crawl at ``CRAWL_MPS`` still moves in it by a margin, and a log too noisy to tell a wait from
such a crawl within +-10 s keeps its waits as moving (the old reading). The cost: a steady
crawl slower than that loses part of its moving time (0.6 m/s: ~20 %), where the old test
kept it down to 0.5 m/s (docs/performance.md, session 40).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.track import TrackArrays
from kei_drive.core.track_noise import local_xy_m, second_difference_noise_m

CRAWL_MPS = 0.75  # a queue's crawl this fast moves across the window, above the noise...
CRAWL_MARGIN = 1.25  # ...by this much (at exactly the noise, a coin toss)
NOISE_SIGMAS = 5.0  # two fixes standing lie this many sigmas (per axis) apart at most, ~always
MIN_HALF_S = 2.0  # +- this at least: a wait of ~4 s is told
PINNED_M = 0.05  # fixes closer than this are one position written again
# A held position is a wait only where the truck could stop and start: the step before it
# averages at most half of firm braking times its time, the step after half of pulling away
# (a Kei takes 7 s or more to 60 km/h), so a logger writing its last fix again at speed is
# no wait...
BRAKING_MPS2 = 4.0
PULLING_AWAY_MPS2 = 2.5
# ...nor one whose next step makes up for it, this much faster than the step before, when
# that was a pace (a step braking in is slower, and pulling away from a wait is faster)
CATCH_UP_RATIO = 1.5
CATCH_UP_MIN_MPS = 2.0
COORDINATE_DIGITS = range(3, 8)  # a log written with this many decimals or fewer: its grid
GRID_MIN_VALUES = 20  # ...told from this many changed values at least


def standing_steps(
    arr: TrackArrays,
    run_start: NDArray,
    run_end: NDArray,
    stop_speed_mps: float,
    max_half_s: float,
) -> NDArray:
    """Per step of a dense timed log (time-ordered), whether both its fixes stood: over
    +-h seconds within the fix's run (h from the noise, at least ``MIN_HALF_S``; none when
    it would exceed ``max_half_s``) the position moved less than the noise allows and
    slower than ``stop_speed_mps``."""
    n = len(arr)
    if n < 5:
        return np.zeros(max(n - 1, 0), dtype=bool)
    limit = NOISE_SIGMAS * second_difference_noise_m(arr)
    half = CRAWL_MARGIN * limit / (2.0 * CRAWL_MPS)
    if half > max_half_s:
        return np.zeros(n - 1, dtype=bool)  # too noisy to tell a short wait from a crawl
    half = max(half, MIN_HALF_S)
    i = np.arange(n)
    lo = np.searchsorted(arr.t, arr.t - half, side="left")
    hi = np.searchsorted(arr.t, arr.t + half, side="right") - 1
    lo = np.maximum(np.minimum(lo, i - 1), run_start)
    hi = np.minimum(np.maximum(hi, i + 1), run_end)
    x, y = local_xy_m(arr)
    moved = np.hypot(x[hi] - x[lo], y[hi] - y[lo])
    span = arr.t[hi] - arr.t[lo]
    stood = (hi > lo) & (moved < np.maximum(limit, stop_speed_mps * span))
    return stood[:-1] & stood[1:]


def coordinate_grid_m(arr: TrackArrays) -> float:
    """The grid a log's coordinates are written on, in metres (0 when finer than 1e-7
    degrees, or unknown): a file with 4 decimals puts a walk's fixes on one ~10 m cell for
    seconds. Told by the values that change (a drive along a meridian keeps one longitude)."""
    step = max(1, len(arr) // 2_000)  # (a long log: a sample tells)
    lat, lon = arr.lat[::step], arr.lon[::step]
    m_per_deg = 111_195.0
    grid = 0.0
    for values, scale in ((lat, m_per_deg), (lon, m_per_deg * np.cos(np.radians(lat.mean())))):
        changed = values[1:][np.diff(values) != 0]
        if changed.size < GRID_MIN_VALUES:
            continue
        for digits in COORDINATE_DIGITS:
            scaled = changed * 10.0**digits
            if np.all(np.abs(scaled - np.round(scaled)) < 1e-3):
                grid = max(grid, scale / 10.0**digits)
                break
    return grid


def pinned_steps(arr: TrackArrays, d: NDArray, dt: NDArray, stop_speed_mps: float) -> NDArray:
    """Per step of a timed log (lengths ``d``, times ``dt``), whether the truck stood: its
    fixes at one position, as a GPS holding its position while the truck stands writes them
    (static hold: the Boulder fixture's logger). A log sparser than ``standing_steps`` reads
    counted each wait shorter than its +-10 s motion window as moving: a clean 5 s log of a
    town drive read +12 %. Not a wait: a run of such steps the truck could not have stopped
    and started around (``BRAKING_MPS2``, ``PULLING_AWAY_MPS2``), or that the next step
    makes up for (a logger writing its last fix again), or one on a grid coarser than a
    truck at ``stop_speed_mps`` moves in the step (a walk written with 4 decimals)."""
    with np.errstate(invalid="ignore"):
        held = (d < PINNED_M) & (coordinate_grid_m(arr) <= stop_speed_mps * dt)
    if not held.any():
        return held
    edges = np.diff(np.concatenate(([0], held.astype(np.int8), [0])))
    first, end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # runs [first, end)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.nan_to_num(d / dt, nan=0.0)
    step_dt = np.nan_to_num(dt, nan=0.0)
    has_before, has_after = first > 0, end < d.size
    before = np.where(has_before, rate[first - 1], 0.0)
    after = np.where(has_after, rate[np.minimum(end, d.size - 1)], 0.0)
    room_before = np.where(has_before, BRAKING_MPS2 * step_dt[first - 1] / 2, np.inf)
    room_after = np.where(
        has_after, PULLING_AWAY_MPS2 * step_dt[np.minimum(end, d.size - 1)] / 2, np.inf
    )
    wait = (before <= room_before) & (after <= room_after)
    wait &= ~((before >= CATCH_UP_MIN_MPS) & (after > CATCH_UP_RATIO * before))
    out = np.zeros_like(held)
    for a, b in zip(first[wait], end[wait], strict=True):
        out[a:b] = True
    return out
