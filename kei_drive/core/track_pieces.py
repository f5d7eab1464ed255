"""A log cut where a map-matcher must not bridge (``track_pieces``), standing fixes
(``standing``) and the positions a careful reader would follow (``cleaned_positions``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import cumulative_m, haversine_m
from kei_drive.core.glitches import (
    drop_glitches,
    gap_threshold_s,
    repaired_times,
    steps_and_jumps,
    typical_step_s,
    with_noise_slack,
)
from kei_drive.core.track import DEFAULT_CONFIG, StatsConfig, TrackArrays
from kei_drive.core.track_noise import (
    drop_short_runs,
    position_noise_m,
    scatter_noise_m,
    smooth_positions,
)


@dataclass(frozen=True)
class TrackPieces:
    """A track cut where a map-matcher must not bridge: implausible jumps and long gaps."""

    pieces: tuple[NDArray, ...]  # index arrays into the input track, in order
    glitches: int  # fixes dropped: invalid, or isolated behind implausible jumps
    breaks: tuple[tuple[str, float], ...]  # between pieces: ("jump" | "gap", straight metres)
    # steps over ``max_gap_m`` kept in a piece (``max_step_m``): input indices of their fixes
    long_steps: tuple[tuple[int, int], ...] = ()


def track_pieces(
    arr: TrackArrays,
    max_gap_m: float = 2000.0,
    config: StatsConfig = DEFAULT_CONFIG,
    max_gap_s: float = float("inf"),
    max_step_m: float = 0.0,
) -> TrackPieces:
    """Cut a track into pieces a map-matcher can follow: isolated glitches (a bogus fix
    1,000 km away) are dropped, and the track is cut at the remaining implausible jumps and
    wherever consecutive fixes are more than ``max_gap_m`` or ``max_gap_s`` apart (signal
    lost for long, or recording stopped: nobody knows the way between).

    A step of up to ``max_step_m`` is not cut when it is the log's rhythm, not a gap in its
    recording (as the trip statistics tell them apart): a tracker writing a fix every 2 min
    at 45 mph leaves 2.4 km between each two, and every one of its steps is the drive."""
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(arr.lat)
            & np.isfinite(arr.lon)
            & (np.abs(arr.lat) <= 90)
            & (np.abs(arr.lon) <= 180)
        )
    idx = np.flatnonzero(valid)
    track = with_noise_slack(arr.take(idx))
    keep = drop_glitches(track, config)
    idx, track = idx[keep], track.take(keep)
    if idx.size < 2:
        return TrackPieces((idx,) if idx.size else (), len(arr) - idx.size, ())
    d, dt, brk = steps_and_jumps(track, config)
    with np.errstate(invalid="ignore"):
        far = d > max_gap_m
        kept = np.zeros_like(far)
        if max_step_m > max_gap_m and far.any():
            rhythm = dt <= gap_threshold_s(typical_step_s(track, dt), config)
            kept = far & rhythm & (d <= max_step_m)
        cut = brk | (far & ~kept) | (dt > max_gap_s)
    at = np.flatnonzero(cut)
    pieces = tuple(np.split(idx, at + 1))
    breaks = tuple(("jump" if brk[i] else "gap", float(d[i])) for i in at)
    steps = tuple((int(idx[i]), int(idx[i + 1])) for i in np.flatnonzero(kept & ~cut))
    return TrackPieces(pieces, len(arr) - idx.size, breaks, steps)


def thin_index(lat: NDArray, lon: NDArray, min_spacing_m: float) -> NDArray:
    """Indices of the first point of each ``min_spacing_m`` of distance along the line, and
    the last point, which replaces the one kept before it when that lies closer along the
    line: two points a few metres apart (a route's end written twice, a stop's last fix)
    made the matcher drive on to the next crossing and back when the second lay behind the
    first (an outside check: a planned route's check read 6,078 m for 4,841)."""
    if lat.size <= 2:
        return np.arange(lat.size)
    along = cumulative_m(lat, lon)
    bucket = np.floor(along / min_spacing_m).astype(np.int64)
    keep = np.concatenate(([True], bucket[1:] != bucket[:-1]))
    keep[-1] = True
    kept = np.flatnonzero(keep)
    if kept.size > 2 and along[kept[-1]] - along[kept[-2]] < min_spacing_m:
        kept = np.delete(kept, -2)
    return kept


STANDING_WINDOW_S = 10.0  # a fix stands when the fixes this long before and after are near
STANDING_NOISE = 4.0  # ...within this many times the noise (or the jitter radius)
STANDING_MAX_MPS = 2.0  # ...and the truck is not shown moving faster than this (see below)


def _window_ends(t: NDArray, window_s: float) -> tuple[NDArray, NDArray]:
    """Per fix, the index of the first fix ``window_s`` before it and of the last one
    ``window_s`` after it (at least one fix away, within the log)."""
    i = np.arange(t.size)
    lo = np.minimum(np.searchsorted(t, t - window_s, side="left"), i - 1).clip(0)
    hi = np.maximum(np.searchsorted(t, t + window_s, side="right") - 1, i + 1)
    return lo, hi.clip(max=t.size - 1)


def _standing_near_m(noise_m: float) -> float:
    return max(DEFAULT_CONFIG.stationary_radius_m, STANDING_NOISE * noise_m)


def standing(lat: NDArray, lon: NDArray, t: NDArray, noise_m: float) -> NDArray:
    """Per fix of a timed log, did the truck stand there: are the fixes ``STANDING_WINDOW_S``
    before and after it both within ``near`` = max(``stationary_radius_m``, 4 x noise)? (Both
    ends: a U-turn's tip is far from them, though they are near each other.) Runs of moving
    shorter than 3 fixes are jitter. All False for a log without times.

    A phone that says its fixes are 40 m off makes ``near`` 160 m, which a truck at 15 m/s
    does not leave in 10 s: a whole drive stood and was thinned to its two ends (an I 95
    drive at 12 m/s read as 6.7 km with no highway instead of 8.4 km with 2.1 km of it). A
    stop stays within about 2 x ``near`` of where it began; in a run of standing fixes that
    goes farther, a fix stands only with a fix within ``near`` on one side over ``near`` /
    ``STANDING_MAX_MPS`` (80 s there): a moving truck leaves that on both sides, a stop of
    that length does not (so it is still one point from its first fix to its last)."""
    n = lat.size
    if n < 3 or not np.isfinite(t).all():
        return np.zeros(n, dtype=bool)
    near = _standing_near_m(noise_m)
    lo, hi = _window_ends(t, STANDING_WINDOW_S)
    far = np.fmax(haversine_m(lat, lon, lat[lo], lon[lo]), haversine_m(lat, lon, lat[hi], lon[hi]))
    still = ~drop_short_runs(far > near, 3)
    if near / STANDING_MAX_MPS > STANDING_WINDOW_S and still.any():
        _keep_slow_drives_moving(lat, lon, t, still, near)
    return still


def _keep_slow_drives_moving(
    lat: NDArray, lon: NDArray, t: NDArray, still: NDArray, near: float
) -> None:
    """In ``still``, the runs of standing fixes that spread over more than 2 x ``near``:
    their fixes stand only with a fix within ``near`` on one side over ``near`` /
    ``STANDING_MAX_MPS`` (a side cut short by the log's start or end shows nothing)."""
    edges = np.diff(np.concatenate(([0], still.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    at = np.flatnonzero(still)
    run_start = np.repeat(starts, stops - starts)  # per standing fix, its run's first fix
    from_start = haversine_m(lat[at], lon[at], lat[run_start], lon[run_start])
    offsets = np.concatenate(([0], np.cumsum(stops - starts)[:-1]))
    check = at[np.repeat(np.maximum.reduceat(from_start, offsets) > 2 * near, stops - starts)]
    if not check.size:
        return
    window_s = near / STANDING_MAX_MPS
    lo, hi = _window_ends(t, window_s)
    lo, hi, at_t = lo[check], hi[check], t[check]
    before = haversine_m(lat[check], lon[check], lat[lo], lon[lo])
    after = haversine_m(lat[check], lon[check], lat[hi], lon[hi])
    before[at_t - window_s < t[0]] = np.inf
    after[at_t + window_s > t[-1]] = np.inf
    still[check] = np.fmin(before, after) <= near


def _crept_on(lat: NDArray, lon: NDArray, still: NDArray, near: float) -> NDArray:
    """Per fix, whether it stands but lies over 2 x ``near`` from the last one kept of its
    run (the run's first fix, then each such fix), in a run that ends over 4 x ``near`` from
    where it began: a truck creeping in a jam below the standing speed (20 m in 10 s) stood
    for kilometres, one point from its first fix, and a crawl along an interstate read
    Kei-legal. A stop, and a parked phone's wander, which comes back, stay one point."""
    crept = np.zeros(lat.size, dtype=bool)
    edges = np.diff(np.concatenate(([0], still.astype(np.int8), [0])))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if b - a < 2 or haversine_m(lat[a], lon[a], lat[b - 1], lon[b - 1]) <= 4 * near:
            continue
        kept, start = a, a + 1
        while start < b:  # the next fix over 2 x near from the kept one, 1,024 fixes at a time
            stop = min(start + 1024, b)
            beyond = np.flatnonzero(
                haversine_m(lat[kept], lon[kept], lat[start:stop], lon[start:stop]) > 2 * near
            )
            if beyond.size:
                kept = start + int(beyond[0])
                crept[kept], start = True, kept + 1
            else:
                start = stop
    return crept


def moving_thin_index(
    lat: NDArray, lon: NDArray, t: NDArray, noise_m: float, min_spacing_m: float
) -> NDArray:
    """``thin_index`` of the fixes where the truck moved, with the first fix of each stop:
    thinned by the distance along the line, a parked phone's scatter (45 min at 5 s, 5 m)
    kept a point every few fixes and came out 1.5 km of road (states-along) and 3 km of
    track (check-route); a stop is one point."""
    still = standing(lat, lon, t, noise_m)
    first = still & ~np.concatenate(([False], still[:-1]))
    index = np.flatnonzero(~still | first | _crept_on(lat, lon, still, _standing_near_m(noise_m)))
    if index.size == 0:
        return index
    if index[-1] != lat.size - 1:
        index = np.append(index, lat.size - 1)  # the log's last fix (the stop it ends in)
    return index[thin_index(lat[index], lon[index], min_spacing_m)]


CLEAN_SPACING_M = 30.0  # what is left of the noise adds ~1 % at this spacing; bends lose less
# A piece of fewer fixes is neither smoothed (``smooth_positions``) nor thinned (a stop is
# one point, and a piece's first and last fixes stay): taken as logged, without the per-piece
# passes (a shuffled 500,000-fix log cut into one-fix pieces took 29 s in them).
SMOOTHED_MIN_FIXES = 3


def cleaned_positions(
    track: TrackArrays, max_gap_m: float = 2000.0
) -> tuple[NDArray, NDArray, NDArray, TrackPieces]:
    """A GPS log's positions as a careful reader takes them: glitches dropped, cut at
    implausible jumps and at gaps over ``max_gap_m``, each piece smoothed by its own noise
    and thinned to ``CLEAN_SPACING_M`` (so its length does not grow with the noise).
    Returns lat, lon, per segment whether it crosses a cut (not driven as far as anyone
    knows), and the cut."""
    track = repaired_times(track)[0]
    cut = track_pieces(track, max_gap_m)
    lats, lons = [], []
    for index in cut.pieces:
        if index.size < SMOOTHED_MIN_FIXES:  # as logged: what smoothing and thinning leave of it
            lats.append(track.lat[index])
            lons.append(track.lon[index])
            continue
        piece = track.take(index)
        noise = position_noise_m(piece)
        lat, lon = smooth_positions(piece, scatter_noise_m(piece, noise))
        keep = moving_thin_index(lat, lon, piece.t, noise, CLEAN_SPACING_M)
        lats.append(lat[keep])
        lons.append(lon[keep])
    if not lats:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool), cut
    sizes = np.fromiter((a.size for a in lats), dtype=np.int64, count=len(lats))
    crossing = np.zeros(int(sizes.sum()), dtype=bool)
    crossing[np.cumsum(sizes) - 1] = True  # the step from a piece's last fix to the next's first
    return np.concatenate(lats), np.concatenate(lons), crossing[:-1], cut
