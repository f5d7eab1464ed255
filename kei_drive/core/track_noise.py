"""How noisy a GPS log is (``position_noise_m``, ``scatter_noise_m``), whether an untimed
track is a log or a drawn route (``untimed_log``), and positions smoothed by their noise
(``smooth_positions``)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m
from kei_drive.core.track import DENSE_STEP_M, TrackArrays


def drop_short_runs(flags: NDArray, min_len: int) -> NDArray:
    """``flags`` with runs of True shorter than ``min_len`` cleared."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = flags.copy()
    for a, b in zip(starts[stops - starts < min_len], stops[stops - starts < min_len], strict=True):
        out[a:b] = False
    return out


def local_xy_m(arr: TrackArrays) -> tuple[NDArray, NDArray]:
    """Positions in metres on a plane tangent near the track (east, north)."""
    y = arr.lat * (np.pi / 180.0 * 6_371_008.8)
    x = arr.lon * (np.pi / 180.0 * 6_371_008.8 * np.cos(np.radians(float(np.median(arr.lat)))))
    return x, y


def span_step_m(arr: TrackArrays, k: int = 10) -> float:
    """Median distance between fixes, measured over ``k`` steps (noise hardly adds to it)."""
    k = min(k, len(arr) - 1)
    x, y = local_xy_m(arr)
    return float(np.median(np.hypot(x[k:] - x[:-k], y[k:] - y[:-k]))) / k


def winding_step_m(arr: TrackArrays, noise_m: float) -> float:
    """The distance between fixes along a road that winds: ``span_step_m``, or the median
    step less what ``noise_m`` (per axis) adds to it when that is longer. Over 10 steps a
    mountain road's hairpins fold back on themselves: 10 m steps measured 6 m, and fits sized
    for 6 m steps spanned whole hairpins (a noisy untimed log of one read 15-60 % short)."""
    x, y = local_xy_m(arr)
    squared = float(np.median(np.diff(x) ** 2 + np.diff(y) ** 2)) if len(arr) > 1 else 0.0
    return max(span_step_m(arr), float(np.sqrt(max(squared - 4.0 * noise_m * noise_m, 0.0))))


def untimed_log(arr: TrackArrays) -> bool:
    """An untimed track with fixes at most ``DENSE_STEP_M`` apart: a GPS log whose times
    were stripped, whose scatter is noise; not a drawn route, whose vertices are bends."""
    if len(arr) < 5 or np.isfinite(arr.t).any() or (arr.accuracy == 0).all():
        return False  # timed, or exact vertices (a GPX route's: ``exact_route_points``)
    if span_step_m(arr) > DENSE_STEP_M:
        return False
    return not _wiggles_are_bends(arr) or _doubles_back(arr)


BENDS_MIN_PERSISTENCE = 0.3
ROUTE_MAX_STEP_RATIO = 4.0


def _doubles_back(arr: TrackArrays) -> bool:
    """Are the track's single steps (median) over ``ROUTE_MAX_STEP_RATIO`` times its step
    over 10 fixes? No road doubles back at every vertex (a hairpin road's 10 m steps span
    4 m over 10), GPS noise far larger than the steps does: logs 3-5 m apart with 20-30 m of
    noise whose wiggles happened to run on were measured as drawn routes, 10 times too long
    (an outside review)."""
    x, y = local_xy_m(arr)
    single = float(np.median(np.hypot(np.diff(x), np.diff(y))))
    return single > ROUTE_MAX_STEP_RATIO * span_step_m(arr)


def _wiggles_are_bends(arr: TrackArrays) -> bool:
    """Do the track's sideways wiggles run on from one vertex to the next (a road's bends:
    a drawn or exported route, or a log without noise), rather than flip side (noise)?

    Measured by the lag-1 correlation of each vertex's signed offset from the line joining
    its neighbours: about -0.6 for GPS noise (white noise alone: -2/3), +0.7 to +0.95 for a
    route's vertices however unevenly spaced (a route drawn with a vertex every 2 m in bends
    and 285 m between them was fitted as a log: 14 % too long)."""
    x, y = local_xy_m(arr)
    ax, ay = x[1:-1] - x[:-2], y[1:-1] - y[:-2]
    bx, by = x[2:] - x[1:-1], y[2:] - y[1:-1]
    chord = np.hypot(x[2:] - x[:-2], y[2:] - y[:-2])
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = (ax * by - ay * bx) / chord
    offset = offset[np.isfinite(offset)]
    if offset.size < 4 or not offset.std() > 0:
        return True  # a straight line: nothing to smooth
    return float(np.corrcoef(offset[:-1], offset[1:])[0, 1]) >= BENDS_MIN_PERSISTENCE


def second_difference_noise_m(arr: TrackArrays, keep: NDArray | None = None) -> float:
    """Noise per axis from the scatter of second differences: for white noise of sigma per
    axis the 2-D second difference has a median of 2.88 sigma (a car's path bends little
    between dense fixes, so the rest of it is noise). ``keep``: of those fixes only."""
    x, y = local_xy_m(arr)
    if keep is not None:
        x, y = x[keep], y[keep]
    return float(np.median(np.hypot(np.diff(x, 2), np.diff(y, 2)))) / 2.884


ALTERNATING_MAX_STEP_S = 5.0  # beyond, a fast drive's bends alternate too
ALTERNATING_MAX_STEP_M = 70.0  # so do a car's at 25 m/s, 5 s apart
ALTERNATING_MIN_RATIO = 2.0  # below twice the noise assumed, the road's bends may be the rest


SPARSE_SMOOTH_REACH_M = 150.0


def sparse_smoothing_noise_m(arr: TrackArrays, noise_m: float) -> float | NDArray:
    """The noise to smooth a log by before map-matching: ``noise_m`` (``position_noise_m``),
    or for a timed log with fixes 3-5 s apart and no accuracy given, the noise its fixes
    show when that is over twice as much (``_alternating_noise_m``), per fix no more than a
    window of +-``SPARSE_SMOOTH_REACH_M`` of road takes out. 30 m of white noise at 3 s, read
    as the 5 m assumed, was smoothed over one fix and the matcher zigzagged from street to
    street: +80 % on check-route's distance. (The matcher's path follows the roads, so a
    window's cut corners cost it little; a polyline measured as it is would be cut short, so
    states-along and trip statistics keep ``noise_m``, and so do the fixes within reach of the
    log's start or end.)"""
    if len(arr) < 8 or np.isfinite(arr.accuracy).any() or dense_log(arr):
        return noise_m
    dt = np.diff(arr.t)
    if not (np.isfinite(dt).all() and np.median(dt) <= ALTERNATING_MAX_STEP_S):
        return noise_m
    shown = _alternating_noise_m(arr)
    if shown < ALTERNATING_MIN_RATIO * noise_m:
        return noise_m
    step = haversine_m(arr.lat[:-1], arr.lon[:-1], arr.lat[1:], arr.lon[1:])
    driven = math.sqrt(max(float(np.median(step)) ** 2 - 4 * shown**2, 0.0))  # noise out
    if driven > ALTERNATING_MAX_STEP_M:
        return noise_m
    around = np.concatenate((step[:1], (step[:-1] + step[1:]) / 2, step[-1:]))
    reach = np.floor(SPARSE_SMOOTH_REACH_M / np.maximum(around, 1.0))
    noise = np.maximum(noise_m, np.minimum(shown, 5.0 * np.sqrt(2 * reach + 1)))
    # not where the window would reach past the log's start or end: a line fitted to what
    # is left of it pulled a last ramp onto the street's line (an outside check: a drive
    # ending 400 m up an interstate lost its highway in 17 of 324 noisy logs)
    i = np.arange(len(arr))
    noise[(i < reach) | (len(arr) - 1 - i < reach)] = noise_m
    return noise


def _alternating_noise_m(arr: TrackArrays) -> float:
    """Noise per axis from how second differences alternate: for white noise of sigma per
    axis, consecutive 2-D second differences have a mean dot product of -8 sigma**2, while a
    road's bends and a truck's speeding up add to it (the same way for a few fixes running),
    so they never pass for noise; between sparse fixes, where second differences are mostly
    the road's bends, this tells the noise from them. The 10 % largest products (a sharp
    turn, a glitch) are left out."""
    x, y = local_xy_m(arr)
    dx, dy = np.diff(x, 2), np.diff(y, 2)
    prod = dx[:-1] * dx[1:] + dy[:-1] * dy[1:]
    if prod.size < 4:
        return 0.0
    kept = np.sort(np.abs(prod))[: prod.size - prod.size // 10]
    limit = kept[-1]
    mean = float(prod[np.abs(prod) <= limit].mean())
    return math.sqrt(max(-mean, 0.0) / 8.0)


def dense_log(arr: TrackArrays) -> bool:
    """A timed log with fixes at most 2 s apart, or an untimed log (``untimed_log``)."""
    dt = np.diff(arr.t)
    if np.isfinite(dt).all() and dt.size and float(np.median(dt)) <= 2.0:
        return True
    return untimed_log(arr)


# A dense log's fixes scattering more than this (per axis) are not a GPS's noise but glitches
# (a logger writing two fixes in every seven 1,000 km off): taken as noise, they made every
# jump "plausible" within three times it (``glitches.with_noise_slack``), so no glitch was
# dropped and the log was read as hundreds of thousands of pieces (41 s in states-along).
SCATTER_NOISE_MAX_M = 100.0


def position_noise_m(arr: TrackArrays) -> float:
    """Typical position noise of a track, in metres (per axis, about one sigma).

    For a dense timed track (fixes <= 2 s apart) or an untimed one whose fixes are at most
    ``DENSE_STEP_M`` apart (a log without times, not a drawn route): the scatter of second
    differences. Otherwise, and as a floor, the fixes' median reported accuracy (5 m when
    none is given).
    """
    acc = arr.accuracy[np.isfinite(arr.accuracy)]
    reported = float(np.median(acc)) if acc.size else 5.0
    if len(arr) < 5:
        return reported
    if not dense_log(arr):
        return reported
    estimated = min(second_difference_noise_m(arr), SCATTER_NOISE_MAX_M)
    return max(min(reported, 50.0), estimated) if acc.size else max(estimated, 2.0)


def scatter_noise_m(arr: TrackArrays, noise_m: float | NDArray) -> float | NDArray:
    """Per fix, the part of ``noise_m`` (``position_noise_m``) a moving average takes out: in
    a dense or a timed log, no more than the scatter its fixes show around it
    (``_local_scatter_m``; between sparse fixes the road's bends add to it, so it bounds the
    noise from above), however far off the phone says they are. (A phone saying 25 m whose
    fixes scatter 5 m was smoothed over +-10 fixes, which at speed cut through a ramp's
    bend: 500 m of I 95's 2,150 went missing; a 5 s log saying 10-20 m, over +-2 fixes,
    250 m at 25 m/s: states-along 5-16 % short.) What the scatter does not show, an offset or
    a slow wander, no average takes out; the matcher is told of it through ``noise_m``."""
    if len(arr) < 5 or not (dense_log(arr) or np.isfinite(arr.t).all()):
        return noise_m
    return np.minimum(noise_m, _local_scatter_m(arr))


SCATTER_BLOCK = 64  # fixes per local estimate of the scatter


def _local_scatter_m(arr: TrackArrays) -> NDArray:
    """Per fix, the scatter of second differences (as ``second_difference_noise_m``) over
    its block of ``SCATTER_BLOCK`` fixes or either block beside it, the largest: one figure
    for a whole log let a clean first half hide a noisy second one, which then went
    unsmoothed (2 km at 2 m then 20 m of noise read 3.8 km)."""
    x, y = local_xy_m(arr)
    per_fix = np.hypot(np.diff(x, 2), np.diff(y, 2)) / 2.884
    per_fix = np.concatenate((per_fix[:1], per_fix, per_fix[-1:]))
    n = per_fix.size
    blocks = -(-n // SCATTER_BLOCK)
    padded = np.pad(per_fix, (0, blocks * SCATTER_BLOCK - n), mode="symmetric")
    median = np.median(padded.reshape(blocks, SCATTER_BLOCK), axis=1)
    beside = np.maximum(np.r_[median[:1], median[:-1]], np.r_[median[1:], median[-1:]])
    return np.repeat(np.maximum(median, beside), SCATTER_BLOCK)[:n]


SMOOTH_MAX_HALF_S = 10.0


def smooth_positions(arr: TrackArrays, noise_m: float | NDArray) -> tuple[NDArray, NDArray]:
    """Moving average over +-h fixes, h growing with the noise (one figure, or one per fix)
    so that what is left of it (noise / sqrt(2h+1)) is about 5 m, over at most
    +-``SMOOTH_MAX_HALF_S`` of a timed log (a log with a fix a minute is not smoothed: its
    fixes are far apart next to the noise); drawn routes (untimed, vertices far apart) and
    partly timed tracks stay as they are."""
    n = len(arr)
    half = np.clip(np.ceil(((np.asarray(noise_m) / 5.0) ** 2 - 1) / 2), 0, 10).astype(np.int64)
    if not half.any() or n < 3:
        return arr.lat, arr.lon
    if np.isfinite(arr.t).all():
        step_s = float(np.median(np.diff(arr.t)))
        if step_s > 0:
            half = np.minimum(half, int(SMOOTH_MAX_HALF_S / step_s))
        if not half.any():
            return arr.lat, arr.lon
    elif not untimed_log(arr):
        return arr.lat, arr.lon
    i = np.arange(n)
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half, n - 1)
    cs_lat = np.concatenate(([0.0], np.cumsum(arr.lat)))
    cs_lon = np.concatenate(([0.0], np.cumsum(arr.lon)))
    count = hi - lo + 1
    lat = (cs_lat[hi + 1] - cs_lat[lo]) / count
    lon = (cs_lon[hi + 1] - cs_lon[lo]) / count
    _line_at_the_ends(arr, lat, lon, lo, hi)
    return lat, lon


def _line_at_the_ends(
    arr: TrackArrays, lat: NDArray, lon: NDArray, lo: NDArray, hi: NDArray
) -> None:
    """Where ``smooth_positions``' window is cut short by the log's start or end, the value
    of a straight line fitted to the window at the fix's own time, not the window's mean: a
    one-sided mean pulled each end a window inward (60 m of a 5 s log at 12 m/s: check-route
    read a 1.1 km drive 12 % short, and never audited its first and last step), and the fix
    as logged brings its noise to the matcher (a detour at the end of a noisy drive)."""
    i = np.arange(lat.size)
    clock = arr.t if np.isfinite(arr.t).all() else i.astype(float)
    for k in np.flatnonzero((hi - i != i - lo) & (hi - lo >= 2)).tolist():
        x = clock[lo[k] : hi[k] + 1] - clock[k]
        dx = x - x.mean()
        spread = float(dx @ dx)
        if spread <= 0:
            continue
        for column, out in ((arr.lat, lat), (arr.lon, lon)):
            y = column[lo[k] : hi[k] + 1]
            out[k] = y.mean() - float(dx @ (y - y.mean())) / spread * x.mean()
