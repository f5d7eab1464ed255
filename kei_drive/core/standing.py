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
# A lone step between two such fixes is a wait unless the step after catches up, this much
# faster than the step before: a logger writing its last fix again when no new one came
CATCH_UP_RATIO = 1.5


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


def pinned_steps(d: NDArray, dt: NDArray) -> NDArray:
    """Per step of a timed log (lengths ``d``, times ``dt``), whether the truck stood: its
    two fixes at one position, a GPS holding its position while the truck stands (static
    hold, as the Boulder fixture's logger does), over two steps or more, or over one that
    the next step does not make up for (``CATCH_UP_RATIO``). A log sparser than
    ``standing_steps`` reads counted each such wait shorter than its +-10 s motion window
    as moving: a clean 5 s log of a town drive read +11-15 % (stop-and-go +28-32 %)."""
    held = d < PINNED_M
    if d.size < 3:
        return held
    run = held & (np.r_[False, held[:-1]] | np.r_[held[1:], False])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = d / np.maximum(dt, 1e-3)
        before, after = np.r_[0.0, rate[:-1]], np.r_[rate[1:], 0.0]
        catch_up = after > CATCH_UP_RATIO * np.maximum(before, 1.0)
    return run | (held & ~catch_up)
