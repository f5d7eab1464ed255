"""Trip statistics from a GPS track (numpy-vectorised).

Pipeline (each step one vectorised pass; Python loops only over a handful of pieces). Its
parts live beside this module: the columns and the rules (``core.track``), wrong stamps and
glitches (``core.glitches``), noise and smoothing (``core.track_noise``), lengths fitted
(``core.track_fit``); this module puts them together (``analyze_track``).

1. Drop invalid fixes (NaN / out of range) and fixes whose reported accuracy is worse
   than ``max_accuracy_m``, or 1.5x the log's median when its fixes are rougher as a rule
   (``accuracy_limit_m``; unless that would leave fewer than two).
2. Outliers: a jump between consecutive fixes faster than ``max_speed_mps`` (over at most
   ``max_bridge_s``; ``max_untimed_jump_m`` for untimed fixes) cuts the track into pieces;
   small pieces (<= ``outlier_max_points``) are glitches and dropped, e.g. one bogus fix in
   Taiwan in a Colorado drive. A remaining implausible jump between big pieces is a
   *break*: it adds no distance, no moving time and no speed.
3. Gaps: a time step longer than ``gap_s`` (at least ``gap_min_s``, 5x the typical
   interval) is a gap in recording (hidden page, tunnel). It is reported; its straight
   line counts as distance (a lower bound) and its time as moving when the truck moved.
   Where a routing engine is installed, the shortest road between its two fixes replaces
   the straight line when it could be driven in the gap's time (``core.gap_roads``).
4. Positions are smoothed over +-``smooth_window_s``; a fix is *moving* when the smoothed
   position moved more than max(``stationary_radius_m``, accuracy) across
   +-``motion_window_s`` at ``stop_speed_mps`` or more. Only segments between moving
   fixes add distance and moving time, so a parked truck's jitter adds nothing. Lengths
   are measured between positions fitted by local quadratics (``local_fit``) over a window
   just wide enough for the noise (a moving average would cut inside every bend), less
   what white noise is left (``without_noise_left``). Where the device reported a speed
   it measured (a GPS's Doppler speed: not computed from the positions, in m/s), the
   moving steps are measured by it instead, and it tells moving from standing
   (``device_speed``): no bend is cut, no noise or wander adds length, a wait at a light
   is not moving time and a crawl in a queue is.
5. Speed per fix: the device's speed when it reported one, else the distance travelled
   over +-``speed_window_s`` between moving-average positions (``_speed_windows``); a 5-fix
   running median removes spikes. Max speed and time above the cap come from these speeds.

Untimed fixes (GPX routes, some loggers) give distance but no time or speed values. A drawn
line (vertices more than ``DENSE_STEP_M`` apart) is measured as its polyline; a log whose
times were stripped is smoothed as a 1 Hz log would be, so its length does not grow with
its noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.device_speed import (
    DEVICE_MOVING_FIXES,
    measured_speed,
    measured_steps,
    moves_a_standing_phone,
    steps_with_speed,
    straight_runs,
)
from kei_drive.core.distance import great_circle_m, haversine_m, initial_bearing_deg
from kei_drive.core.glitches import (
    coarse_times_spread,
    dequantised_times,
    drop_glitches,
    ends_restamped,
    filled_times,
    gap_threshold_s,
    repaired_times,
    steps_and_jumps,
    typical_step_s,
    with_noise_slack,
)
from kei_drive.core.gpx import TrackPoint
from kei_drive.core.standing import pinned_steps, standing_steps
from kei_drive.core.time_order import spread_repeated_times
from kei_drive.core.times import iso_z
from kei_drive.core.track import DEFAULT_CONFIG, StatsConfig, TrackArrays
from kei_drive.core.track_fit import (
    FitWindows,
    count_windows,
    fit_positions,
    fit_windows,
    run_slices,
    untimed_length_half,
    without_noise_left,
)
from kei_drive.core.track_noise import (
    drop_short_runs,
    local_xy_m,
    position_noise_m,
    scatter_noise_m,
    untimed_log,
)

STATS_KEYS = (
    "distance_m",
    "elapsed_s",
    "moving_s",
    "max_speed_mps",
    "avg_moving_speed_mps",
    "over_cap_s",
    "states",
    "points",
)


@dataclass(frozen=True)
class Gap:
    """A stretch with no fixes (page hidden, screen locked, no signal), or (``step``) a long
    step between two fixes of a sparse log, measured the same way (``TripStats.road_steps``)."""

    start: datetime
    end: datetime
    duration_s: float
    distance_m: float  # straight line across the gap
    # the shortest road between its two fixes when the routing engine measured it (and it
    # could be driven in the gap's time): the trip's distance counts it (core.gap_roads)
    road_m: float | None = None
    # (lat, lon) of the fixes before and after: what the engine routes between, and the
    # directions of travel into and out of the gap (None: standing) (not stored)
    ends: tuple[float, float, float, float] | None = field(default=None, compare=False)
    headings: tuple[float | None, float | None] = field(default=(None, None), compare=False)
    step: bool = False  # a sparse log's step: ``distance_m`` is the length it counts
    # (a step) the truck's pace around it: the fastest of its and its neighbours' lengths
    # over their times (not stored)
    pace_mps: float | None = field(default=None, compare=False)
    # (a gap) in a log whose fixes are ``ROAD_STEP_LOG_S`` or more apart (not stored)
    sparse_log: bool = field(default=False, compare=False)
    # its time is in ``TripStats.over_cap_s`` already (not stored): the positions held it
    # over the cap, or its road did (``gap_roads``)
    over_cap: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "duration_s": round(self.duration_s, 1),
            "distance_m": round(self.distance_m, 1),
        }
        if self.road_m is not None:
            out["road_m"] = round(self.road_m, 1)
        return out


@dataclass(frozen=True)
class TripStats:
    distance_m: float
    elapsed_s: float | None  # None: fewer than two timed fixes
    moving_s: float | None
    max_speed_mps: float | None
    avg_moving_speed_mps: float | None
    over_cap_s: float | None  # None also when no cap is given
    states: tuple[str, ...]  # USPS codes in order of first visit
    points: int  # fixes given
    points_used: int = 0  # after dropping invalid, inaccurate and glitch fixes
    started_at: datetime | None = None
    ended_at: datetime | None = None
    gaps: tuple[Gap, ...] = ()
    cap_mps: float | None = None
    # a sparse log's long moving steps, to measure along the road (``ROAD_STEP_LOG_S``); only
    # those the engine measured are stored (``to_dict``: "road_steps", when there are any)
    road_steps: tuple[Gap, ...] = ()

    @property
    def rejected_points(self) -> int:
        return self.points - self.points_used

    @property
    def to_measure(self) -> tuple[Gap, ...]:
        """The gaps in recording and the sparse steps the engine may measure by road."""
        return (*self.gaps, *self.road_steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the documented keys first, times as ISO 8601 UTC."""
        out = asdict(self)
        out["states"] = list(self.states)
        out["gaps"] = [g.to_dict() for g in self.gaps]
        steps = [g.to_dict() for g in self.road_steps if g.road_m is not None]
        del out["road_steps"]
        if steps:
            out["road_steps"] = steps
        out["started_at"] = iso_z(self.started_at)
        out["ended_at"] = iso_z(self.ended_at)
        out["rejected_points"] = self.rejected_points
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 3)
        return {k: out.pop(k) for k in STATS_KEYS} | out


@dataclass(frozen=True)
class TrackAnalysis:
    """Stats plus per-fix results (aligned with the input) for maps and charts."""

    stats: TripStats
    used: NDArray  # bool: the fix survived gating and outlier rejection
    moving: NDArray  # bool
    speed_mps: NDArray  # smoothed speed; NaN where unknown or not used
    over_cap: NDArray  # bool
    breaks_after: NDArray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    # input indices after which the line should be cut (gaps and implausible jumps)
    speed_verdict: bool | None = None  # the log's speed: measured it, refused, neither
    # (``TrackArrays.speed_verdict``: the trips cut from this log are measured as it was)


def _take(arr: TrackArrays, idx: NDArray) -> TrackArrays:
    """``arr.take(idx)``, without a copy when ``idx`` is every fix in order (the usual case:
    a long log then costs no second copy of its columns)."""
    n = len(arr)
    if idx.size == n and (n == 0 or (idx[0] == 0 and idx[-1] == n - 1)):
        return arr
    return arr.take(idx)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


HEADING_MIN_M = 20.0  # the direction of travel is measured over at least this much track...
HEADING_MAX_FIXES = 10  # ...within this many fixes of the point (else: standing, unknown)


def _heading(arr: TrackArrays, i: int, step: int) -> float | None:
    """The direction of travel at fix ``i``: arriving there (``step`` -1: from a fix before
    it) or leaving it (``step`` 1: to a fix after it)."""
    for j in range(i + step, i + step * (HEADING_MAX_FIXES + 1), step):
        if not 0 <= j < len(arr):
            return None
        a, b = (j, i) if step < 0 else (i, j)
        lat1, lon1, lat2, lon2 = (
            float(v) for v in (arr.lat[a], arr.lon[a], arr.lat[b], arr.lon[b])
        )
        if great_circle_m(lat1, lon1, lat2, lon2) >= HEADING_MIN_M:
            return initial_bearing_deg(lat1, lon1, lat2, lon2)
    return None


def _windows(
    n: int,
    t: NDArray | None,
    half: float,
    k: int,
    run_start: NDArray,
    run_end: NDArray,
    at_least_neighbours: bool = False,
) -> tuple[NDArray, NDArray]:
    """[lo, hi] index windows of +-``half`` seconds (or +-``k`` fixes when untimed), kept
    inside each fix's run."""
    i = np.arange(n)
    if t is not None:
        lo = np.searchsorted(t, t - half, side="left")
        hi = np.searchsorted(t, t + half, side="right") - 1
    else:
        lo, hi = i - k, i + k
    if at_least_neighbours:
        lo, hi = np.minimum(lo, i - 1), np.maximum(hi, i + 1)
    return np.maximum(lo, run_start), np.minimum(hi, run_end)


def _sparse_speeds(
    arr: TrackArrays, run: NDArray, run_start: NDArray, run_end: NDArray, noise_m: float
) -> NDArray:
    """Per fix of a log 10 s or more between fixes, its speed from the positions.

    As a careful reader computes it: the fastest the straight lines between consecutive
    fixes held over ``SPARSE_SUSTAIN_FIXES`` steps in a row (the lowest of them), among the
    windows of steps beside the fix (``_held_lines``). The lines cut a road's bends, so
    they understate it; but each carries the fixes' error, so the fastest of many windows
    reads high on a rough log: it counts less about half the error a line may hold
    (``noise_m`` at either end), down to at least the lower of the lines across two and four steps
    (``_long_lines``), which hold little of it but cut bends most (a 10 s log of a winding
    road read 29 mph where its lines held 37 mph for 30 s)."""
    held = _held_lines(arr, run)
    with np.errstate(invalid="ignore", divide="ignore"):
        # what noise adds to the fastest of a 20-minute log's windows: ~0.45x the error of
        # one line (measured on straight roads, 5-30 m of noise, fixes 10-30 s apart)
        error = (
            HELD_LINE_NOISE_SHARE * math.sqrt(2.0) * noise_m / float(np.nanmedian(np.diff(arr.t)))
        )
    return np.fmax(held - error, _long_lines(arr, run_start, run_end))


def _held_lines(arr: TrackArrays, run: NDArray) -> NDArray:
    """Per fix, the fastest the lines between consecutive fixes held over three steps in a
    row beside it. A fix thrown aside makes two fast lines, never three in a row; two
    thrown the same way make the lines either side of them fast, not the one between."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step = haversine_m(arr.lat[:-1], arr.lon[:-1], arr.lat[1:], arr.lon[1:]) / np.diff(arr.t)
    step[(run[:-1] != run[1:]) | ~np.isfinite(step)] = np.nan
    held = _sustained(step, run[:-1], SPARSE_SUSTAIN_FIXES)
    pad = np.full(1, np.nan)
    with np.errstate(invalid="ignore"):
        return np.fmax(np.concatenate((pad, held)), np.concatenate((held, pad)))


def _long_lines(arr: TrackArrays, run_start: NDArray, run_end: NDArray) -> NDArray:
    """Per fix, the lower of the lines from the fix before to the fix after and from two
    before to two after (inside its run). A fix thrown aside is skipped by the lines across
    it; two in a row (multipath comes in runs) make no three fast fixes in a row either."""
    i = np.arange(len(arr))
    speeds = []
    for k in (1, 2):
        lo, hi = np.maximum(i - k, run_start), np.minimum(i + k, run_end)
        with np.errstate(invalid="ignore", divide="ignore"):
            line = haversine_m(arr.lat[lo], arr.lon[lo], arr.lat[hi], arr.lon[hi])
            speeds.append(line / (arr.t[hi] - arr.t[lo]))
    return np.fmin(*speeds)


def _sustain_fixes(typical_s: float, cfg: StatsConfig, measured: bool) -> int:
    """Fixes a speed must hold to count: ``cfg.sustain_fixes``; a speed the device
    ``measured`` (one reading a fix) as many as span ``cfg.sustain_s``, two at least: five
    fixes of a 30 s tracker are two minutes, over which no top speed holds. A speed derived
    from the positions spreads one step's jump over the fixes of its window: five, or as
    many as span ``POSITION_SUSTAIN_S``, three at least (five fixes of a 5 s log, with the
    median over them, needed ~40 s over a cap: a clean log's 20 s at 47 mph read 0 s over
    45); in a log ``SPARSE_SPEED_LOG_S`` apart or more, three: ``_sparse_speeds``."""
    if typical_s <= 0:
        return cfg.sustain_fixes
    if not measured:
        if typical_s >= SPARSE_SPEED_LOG_S:
            return min(cfg.sustain_fixes, SPARSE_SUSTAIN_FIXES)
        spanned = 1 + math.ceil(POSITION_SUSTAIN_S / typical_s)
        return int(max(SPARSE_SUSTAIN_FIXES, min(cfg.sustain_fixes, spanned)))
    return int(max(2, min(cfg.sustain_fixes, 1 + math.ceil(cfg.sustain_s / typical_s))))


def _sustained(speed: NDArray, run: NDArray, k: int) -> NDArray:
    """Per fix, the lowest speed of a window of ``k`` consecutive fixes of one run that
    holds it (NaN where no such window): a speed counts only when held over several fixes,
    never from one step."""
    n = speed.size
    if n < k:
        return np.full(n, np.nan)
    win = np.lib.stride_tricks.sliding_window_view(speed, k)
    same_run = run[k - 1 :] == run[: n - k + 1]
    low = np.where(same_run & np.isfinite(win).all(axis=1), win.min(axis=1), np.nan)
    # a fix's value: the best window it belongs to (a plateau keeps its full height)
    padded = np.concatenate((np.full(k - 1, np.nan), low, np.full(k - 1, np.nan)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    return np.fmax.reduce(windows, axis=1)  # NaN left out; all NaN: NaN (and no copy)


def _shown_speeds(speed: NDArray, run: NDArray, k: int, top: float | None) -> NDArray:
    """Per fix, the speed the map and chart show: as held over ``k`` fixes, as the top
    speed and the time above the cap count it (a one-step spike is shaved off), never
    above the top speed (a run's ends, where the noise is not averaged out, do not count
    for it); a fix in no full window keeps its own speed, under the same ceiling."""
    held = _sustained(speed, run, k)
    shown = np.where(np.isfinite(held), held, speed)
    return shown if top is None else np.minimum(shown, top)


# A log this sparse (median step) has its speeds from the line across two steps, held
# over three fixes (a minute or more): its top speed is no longer the lowest of two minutes.
SPARSE_SPEED_LOG_S = 10.0
SPARSE_SUSTAIN_FIXES = 3
POSITION_SUSTAIN_S = 10.0  # (``_sustain_fixes``)
HELD_LINE_NOISE_SHARE = 0.5  # (``_sparse_speeds``)
DENSE_LOG_S = 2.0  # logs with fixes at most this far apart (median) are fitted, not averaged


def _local_steps(
    disp: NDArray, span: NDArray, typical: float, moving: NDArray, run: NDArray, cfg: StatsConfig
) -> NDArray:
    """Per fix, the step around it while moving: the median of the moving steps within the
    widest window either side (NaN in a run that never moves), not the run's: a crawl's small
    steps sized a 20 s burst at 50 mph between crawls a 15 s window, which read it 44 mph and
    never over a 45 mph cap. ``disp`` is each fix's displacement over the motion window of
    ``span`` seconds; only ``moving`` fixes count (a long stop's jitter is not a step)."""
    dt_fix = max(typical, 0.1)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.nan_to_num(disp / span * dt_fix)
    local = np.full(step.size, np.nan)
    width = 2 * int(math.ceil(cfg.max_smooth_window_s / dt_fix)) + 1
    for a, b in run_slices(run):
        moving_steps = step[a:b][moving[a:b]]
        if moving_steps.size:
            part = _running_median(np.where(moving[a:b], step[a:b], np.nan), width)
            local[a:b] = np.where(np.isfinite(part), part, float(np.median(moving_steps)))
    return local


def _speed_windows(
    arr: TrackArrays,
    local: NDArray,
    noise: float | NDArray,
    typical: float,
    run_start: NDArray,
    run_end: NDArray,
    cfg: StatsConfig,
) -> tuple[NDArray, NDArray, NDArray]:
    """Symmetric moving-average windows, one size per fix from its ``local`` step: the noise
    left between two consecutive smoothed fixes is about noise * sqrt(2) / (2h + 1), so a
    window of 10 * noise / step fixes keeps its share of each step under ~1.5 % (between
    smooth_window_s and max_smooth_window_s; the widest where the run never moves).
    Also returns, per fix, whether its window got that size (not near a run's end): only
    there is a speed derived from the smoothed fixes free of noise."""
    n = len(arr)
    dt_fix = max(typical, 0.1)
    with np.errstate(invalid="ignore"):
        fixes = np.ceil((10.0 * np.asarray(noise) / np.maximum(local, 0.5) - 1) / 2)
    half_s = np.where(
        np.isfinite(local),
        np.clip(fixes * dt_fix, cfg.smooth_window_s, cfg.max_smooth_window_s),
        cfg.max_smooth_window_s,
    )
    i = np.arange(n)
    t = spread_repeated_times(arr.t)  # a 2 Hz logger's whole-second stamps: 2, 2, 3, 4, 4...
    lo = np.maximum(np.searchsorted(t, t - half_s, side="left"), run_start)
    hi = np.minimum(np.searchsorted(t, t + half_s, side="right") - 1, run_end)
    half = np.minimum(i - lo, hi - i)  # symmetric: a run's ends are not pulled inwards
    # full: the window reaches (nearly) half_s either way; counted in seconds, not fixes,
    # so that dropped fixes or uneven fixes a stamp do not make it look short (to within
    # the log's longer steps: 3, 1, 3, 1 fixes a stamp are 1/3 s and 1 s apart)
    reach = np.minimum(t[i] - t[i - half], t[i + half] - t[i])
    longer_step = float(np.percentile(np.diff(t), 90)) if n > 1 else dt_fix
    full = reach >= half_s - 1.5 * max(dt_fix, longer_step)
    return i - half, i + half, full | (half_s <= cfg.smooth_window_s)


def _running_median(values: NDArray, width: int = 5, cells: int = 1 << 19) -> NDArray:
    """The median of each value's centred window of ``width`` (odd), NaN left out."""
    if values.size < width:
        return values
    half = width // 2
    # blocks of at most ``cells`` window entries: each block's sort copies them (a block of
    # 65,536 fixes' 61-wide windows took 32 MB, an import's peak memory)
    block = max(256, cells // width)
    padded = np.pad(values, half, constant_values=np.nan)  # not "edge": that repeats a spike
    med = np.empty(values.size)
    for start in range(0, values.size, block):  # blocks: a long log's sort stays small
        part_in = padded[start : start + block + 2 * half]
        windows = np.lib.stride_tricks.sliding_window_view(part_in, width)
        out = np.sort(windows, axis=1)  # NaN sort last
        valid = np.sum(~np.isnan(windows), axis=1)
        # median of the valid entries in each window (NaN when none)
        mid = np.clip((valid - 1) // 2, 0, width - 1)
        hi_mid = np.clip(valid // 2, 0, width - 1)
        rows = np.arange(valid.size)
        part = (out[rows, mid] + out[rows, hi_mid]) / 2
        part[valid == 0] = np.nan
        med[start : start + valid.size] = part
    return med


STATE_STEP_POINTS_MAX = 250_000


def _states(
    lat: NDArray, lon: NDArray, cum: NDArray, sample_m: float, driven: NDArray
) -> tuple[str, ...]:
    """The states a trip was in, in order: its fixes every ``sample_m``, and points every
    ``sample_m`` along each ``driven`` step longer than that (a sparse log's 360 m step may
    cut a state's corner: WV, 233 m of MD, WV; a gap or a jump is not followed)."""
    from kei_drive.core.geo import states_at  # shapely and the polygons load on first use

    if lat.size == 0:
        return ()
    _, first = np.unique(np.floor(cum / sample_m), return_index=True)
    where = np.union1d(first, [lat.size - 1]).astype(float)  # fractional fix indices
    step_m = np.diff(cum)
    long = np.flatnonzero(driven & (step_m > sample_m))
    if long.size:
        # at most STATE_STEP_POINTS_MAX points between fixes (~0.3 s of lookups): a year of a
        # tracker driving all day is sampled more coarsely between its fixes
        spacing = max(sample_m, float(step_m[long].sum()) / STATE_STEP_POINTS_MAX)
        per_step = np.floor(step_m[long] / spacing).astype(int)
        at = np.repeat(long, per_step)
        k = np.arange(at.size) - np.repeat(np.cumsum(per_step) - per_step, per_step) + 1
        where = np.sort(np.concatenate((where, at + k / np.repeat(per_step + 1, per_step))))
    i = np.minimum(np.floor(where).astype(int), lat.size - 1)
    j = np.minimum(i + 1, lat.size - 1)
    f = where - i
    codes = states_at(lat[i] + f * (lat[j] - lat[i]), lon[i] + f * (lon[j] - lon[i]))
    seen: dict[str, None] = {}
    for code in codes:
        if code and code not in seen:
            seen[str(code)] = None
    return tuple(seen)


def _empty(n_input: int, used: int, cap: float | None, t: NDArray) -> TripStats:
    timed = t[np.isfinite(t)]
    start = _dt(timed[0]) if timed.size else None
    return TripStats(
        distance_m=0.0,
        elapsed_s=None,
        moving_s=None,
        max_speed_mps=None,
        avg_moving_speed_mps=None,
        over_cap_s=None,
        states=(),
        points=n_input,
        points_used=used,
        started_at=start,
        ended_at=start,
        cap_mps=cap,
    )


ROUGH_LOG_ACCURACY_RATIO = 1.5  # a rough log keeps fixes up to 1.5x its median accuracy


def accuracy_limit_m(accuracy: NDArray, cfg: StatsConfig = DEFAULT_CONFIG) -> float:
    """Fixes reported worse than this are dropped: ``max_accuracy_m``, or 1.5x the log's
    median accuracy when its fixes are that rough as a rule (or none of its best twentieth
    claims under half ``max_accuracy_m``). A logger reporting 35-60 m at every fix lost
    every other one at 50 m, and with its trips' first fixes their first kilometres; one
    reporting 28-57 m lost the moving fixes of a 5.5 km drive among red lights (962 m); its
    rare fix of 1 km is still dropped. A phone parked indoors at 33-92 m between drives at
    5 m keeps its good fixes only (its parked noise read +100 %)."""
    known = accuracy[np.isfinite(accuracy)]
    if not known.size:
        return cfg.max_accuracy_m
    best, low, typical = np.percentile(known, [5, 10, 50])
    good_ones = best < cfg.max_accuracy_m / 2  # (none when its best twentieth claims 30 m)
    if good_ones and low * ROUGH_LOG_ACCURACY_RATIO < typical:  # good and rough: drop the rough
        return cfg.max_accuracy_m
    return max(cfg.max_accuracy_m, ROUGH_LOG_ACCURACY_RATIO * float(typical))


def _position_noise_m(arr: TrackArrays, cfg: StatsConfig) -> float:
    """How far a fix may lie off: its median reported accuracy, at least
    ``stationary_radius_m``."""
    known = arr.accuracy[np.isfinite(arr.accuracy)]
    typical = float(np.median(known)) if known.size else 0.0
    return max(cfg.stationary_radius_m, typical)


def analyze_track(
    points: Sequence[TrackPoint] | TrackArrays,
    cap_mps: float | None = None,
    config: StatsConfig = DEFAULT_CONFIG,
    *,
    with_states: bool = True,
) -> TrackAnalysis:
    """Stats and per-fix results for one trip's fixes, in recording order."""
    cfg = config
    src = points if isinstance(points, TrackArrays) else TrackArrays.from_points(points)
    n_in = len(src)
    used = np.zeros(n_in, dtype=bool)
    moving_out = np.zeros(n_in, dtype=bool)
    speed_out = np.full(n_in, np.nan)
    over_out = np.zeros(n_in, dtype=bool)

    verdict = src.speed_verdict

    def result(stats: TripStats, breaks: NDArray | None = None) -> TrackAnalysis:
        breaks = np.zeros(0, dtype=np.intp) if breaks is None else breaks
        return TrackAnalysis(stats, used, moving_out, speed_out, over_out, breaks, verdict)

    # 1. validity and accuracy gating
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(src.lat)
            & np.isfinite(src.lon)
            & (np.abs(src.lat) <= 90)
            & (np.abs(src.lon) <= 180)
        )
        keep = valid & ~(src.accuracy > accuracy_limit_m(src.accuracy[valid], cfg))
    if keep.sum() < 2:
        keep = valid
    idx = np.flatnonzero(keep)
    # 2. glitches
    # Noise must not look like a jump: each fix is allowed three times the typical noise.
    checked = repaired_times(filled_times(coarse_times_spread(_take(src, idx))), cfg)[0]
    checked = dequantised_times(ends_restamped(checked))
    keep = drop_glitches(with_noise_slack(checked), cfg)
    idx = idx[keep]
    arr = _take(checked, keep)
    del checked
    n = len(arr)
    used[idx] = True
    if n < 2:
        return result(_empty(n_in, n, cap_mps, arr.t))

    d, dt, brk = steps_and_jumps(with_noise_slack(arr), cfg)
    timed_seg = np.isfinite(dt)
    all_timed = bool(timed_seg.all())
    # 3. gaps in recording
    typical = typical_step_s(arr, dt)
    gap_s = gap_threshold_s(typical, cfg)
    gap = timed_seg & (dt > gap_s) & ~brk
    cut = brk | gap
    run = np.concatenate(([0], np.cumsum(cut)))
    bounds = np.flatnonzero(np.diff(run)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds - 1, [n - 1]))
    run_start, run_end = starts[run], ends[run]
    t_win = arr.t if all_timed else None

    # 4. smoothing and motion
    # Untimed: windows of fixes; a log's fix counts as a second of a 1 Hz log, a drawn
    # line's vertices are few and far apart.
    log = not timed_seg.any() and untimed_log(arr)
    smooth_k, motion_k = (int(cfg.smooth_window_s), int(cfg.motion_window_s)) if log else (1, 3)
    lo, hi = _windows(n, t_win, cfg.smooth_window_s, smooth_k, run_start, run_end)
    cs_lat = np.concatenate(([0.0], np.cumsum(arr.lat)))
    cs_lon = np.concatenate(([0.0], np.cumsum(arr.lon)))

    def smooth(lo: NDArray, hi: NDArray) -> tuple[NDArray, NDArray]:
        count = hi - lo + 1
        return (cs_lat[hi + 1] - cs_lat[lo]) / count, (cs_lon[hi + 1] - cs_lon[lo]) / count

    # Motion uses the full (one-sided at run ends) window: least noise. Lengths use a
    # symmetric window, which does not pull a run's first and last fix inwards.
    m_lat, m_lon = smooth(lo, hi)
    steady = np.ones(n, dtype=bool)  # fixes whose smoothed position is free of noise
    fit: FitWindows | None = None  # the windows of the length fits (``local_fit``)
    speed_len: NDArray | None = None  # steps between the positions speeds come from
    if all_timed:
        s_lat = s_lon = None  # after the motion test: the window depends on the speed
    elif not timed_seg.any():  # untimed: a drawn line's polyline, a log's smoothed fixes
        half = untimed_length_half(arr, cfg) if log else 0
        fit = count_windows(n, half, run_start, run_end) if log else None
        s_lat, s_lon = fit_positions(arr, fit) if half and fit else (arr.lat, arr.lon)
    else:
        half = np.minimum(np.arange(n) - lo, hi - np.arange(n))
        s_lat, s_lon = smooth(np.arange(n) - half, np.arange(n) + half)

    lo, hi = _windows(n, t_win, cfg.motion_window_s, motion_k, run_start, run_end, True)
    disp = haversine_m(m_lat[lo], m_lon[lo], m_lat[hi], m_lon[hi])
    radius = np.fmax(cfg.stationary_radius_m, np.nan_to_num(arr.accuracy, nan=0.0))
    moving = disp > radius
    if not timed_seg.any() and not log:
        moving[:] = True  # a drawn route: no jitter to leave out (its tight bends moved)
    if all_timed:
        span = arr.t[hi] - arr.t[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            moving &= disp >= cfg.stop_speed_mps * span
    if typical and typical <= 5.0:
        moving = drop_short_runs(moving, cfg.min_moving_fixes)
    if s_lat is None or s_lon is None:
        # Lengths: a window wide enough that the noise left in consecutive smoothed fixes
        # is small next to the step between them (the distance must not grow with noise).
        span = arr.t[hi] - arr.t[lo]
        # speeds: moving averages (a fit's peaks are noisier); lengths: quadratic fits
        local = _local_steps(disp, span, typical, moving, run, cfg)
        noise = position_noise_m(arr)
        v_lo, v_hi, steady = _speed_windows(arr, local, noise, typical, run_start, run_end, cfg)
        v_lat, v_lon = smooth(v_lo, v_hi)
        speed_len = haversine_m(v_lat[:-1], v_lon[:-1], v_lat[1:], v_lon[1:])
        if typical <= DENSE_LOG_S:  # a sparse log's fits would span whole bends: averages
            fit = fit_windows(arr, disp, span, moving, run, run_start, run_end, cfg)
            s_lat, s_lon = fit_positions(arr, fit)
        else:
            # its lengths averaged for the noise its fixes show, at most what they claim
            # (``scatter_noise_m``): sized by a claimed 5 m, a clean 3 s log was averaged
            # over +-1 fix, 18 m off each 72 m street corner (11 % short); its speeds keep
            # the claim's windows (a cruise at 43-45 mph read over a 45 mph cap)
            shown = scatter_noise_m(arr, noise)
            l_lo, l_hi, _ = _speed_windows(arr, local, shown, typical, run_start, run_end, cfg)
            s_lat, s_lon = smooth(l_lo, l_hi)
            del l_lo, l_hi
        del v_lat, v_lon, v_lo, v_hi, local
    seg_len = haversine_m(s_lat[:-1], s_lon[:-1], s_lat[1:], s_lon[1:])
    if speed_len is None:
        speed_len = seg_len
    if fit is not None:
        seg_len = without_noise_left(arr, seg_len, fit)
        del fit
    with_speed = all_timed and bool(np.isfinite(arr.speed).any())
    straight = (
        straight_runs(*local_xy_m(TrackArrays.from_columns(s_lat, s_lon))) if with_speed else None
    )
    del s_lat, s_lon, m_lat, m_lon, disp, radius  # a long log's peak memory
    seg_moving = moving[:-1] & moving[1:] & ~cut
    device, refused = None, False
    half_moved = np.zeros(n - 1, dtype=bool)  # steps between standing and moving (measured)
    if with_speed:  # a 2 Hz logger's whole-second stamps spread: its true time steps
        dev_dt = np.diff(spread_repeated_times(arr.t))
        measure = (arr.speed, arr.t, d, dev_dt, seg_len, seg_moving, straight, cfg.stop_speed_mps)
        if verdict:  # the log trusts it: its measure unless far off this trip's lines
            device, refused = measured_speed(*measure, True)
        if device is None:  # judged on the trip's own fixes
            device, refused = measured_speed(*measure, xy=local_xy_m(arr))
            if device is not None and moves_a_standing_phone(
                drop_short_runs(device > 0.0, DEVICE_MOVING_FIXES),
                moving,
                device,
                dev_dt,
                arr.lat,
                arr.lon,
                _position_noise_m(arr, cfg),
            ):
                device, refused = None, True  # a repeated or made-up value: no measure
            # too few fixes to tell, from a log that refused it (a trip whose own fixes
            # accept it is measured by it: the log's refusal may be a stretch of its own)
            refused = refused or (device is None and verdict is False)
    by_device = device is not None
    if with_speed:
        verdict = True if by_device else (False if refused else None)
    if by_device:
        rolling = drop_short_runs(device > 0.0, DEVICE_MOVING_FIXES)
        # A measured speed tells moving from standing better than the positions: a crawl
        # in a queue moves (when held over a few fixes: a standstill's spike does not), a
        # wait at a light stands; a step between standing and moving is half moved. Where
        # a fix has no speed, the positions decide as before.
        known = ~np.isnan(device)
        by_positions = seg_moving
        moving = np.where(known, (moving & (device > 0.0)) | rolling, moving)
        measured = known[:-1] & known[1:]
        seg_moving = np.where(measured, moving[:-1] | moving[1:], by_positions) & ~cut
        half_moved = seg_moving & measured & (moving[:-1] != moving[1:])
        seg_len = measured_steps(device, dev_dt, seg_len, seg_moving)
    by_speed = steps_with_speed(device, dev_dt, seg_moving) if device is not None else None
    del device
    with np.errstate(invalid="ignore"):
        # moving time: driven across (the line over the jitter radius, at stop speed or
        # more); distance: that, or a line longer than a parked phone's fix wanders (a stop
        # with the screen locked that ends a few metres away is neither; the same rules on
        # stored gaps: ``core.gap_roads.driven_across`` and ``counts_distance``)
        gap_moved = gap & (d > cfg.stationary_radius_m) & (d >= cfg.stop_speed_mps * dt)
        gap_counts = gap_moved | (gap & (d > cfg.gap_drift_max_m))
    seg_dist = np.where(seg_moving, seg_len, 0.0) + np.where(gap_counts, d, 0.0)
    distance = float(seg_dist.sum())
    road_steps, road_step_at = (
        _road_steps(arr, seg_moving, seg_dist, dt, by_speed)
        if all_timed and typical >= ROAD_STEP_LOG_S
        else ((), np.zeros(0, dtype=int))
    )
    del by_speed

    # 5. speeds and times
    timed_pts = np.isfinite(arr.t)
    stats_times: dict[str, Any] = {}
    speed = np.full(n, np.nan)
    if timed_seg.any():
        cum = np.concatenate(([0.0], np.cumsum(np.where(seg_moving, speed_len, 0.0))))
        del speed_len
        if all_timed and typical >= SPARSE_SPEED_LOG_S:
            noise = _position_noise_m(arr, cfg)
            derived = _sparse_speeds(arr, run, run_start, run_end, noise)
        elif all_timed:
            lo, hi = _windows(n, arr.t, cfg.speed_window_s, 0, run_start, run_end, True)
            with np.errstate(invalid="ignore", divide="ignore"):
                derived = (cum[hi] - cum[lo]) / (arr.t[hi] - arr.t[lo])
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                seg_speed = np.where(timed_seg & ~cut, (cum[1:] - cum[:-1]) / dt, np.nan)
            derived = np.fmax(
                np.concatenate(([np.nan], seg_speed)), np.concatenate((seg_speed, [np.nan]))
            )
        derived[~np.isfinite(derived)] = np.nan
        reported = np.full(n, np.nan) if refused else arr.speed  # refused: km/h, copied...
        speed = np.where(np.isfinite(reported) & (reported >= 0), reported, derived)
        del derived, cum
        sustain = _sustain_fixes(typical, cfg, by_device)
        speed = _running_median(speed, 5 if sustain >= 5 else 3)
        speed[~moving] = np.where(np.isnan(speed[~moving]), np.nan, 0.0)
        with np.errstate(invalid="ignore"):
            speed[speed > cfg.max_speed_mps] = np.nan
        # a dense log's waits the motion window spans (at lights, in a queue): not moving
        # time; their steps still add what distance they measured (``core.standing``)
        stood = np.zeros(n - 1, dtype=bool)
        if all_timed and not by_device and typical <= DENSE_LOG_S:
            stood = standing_steps(arr, run_start, run_end, cfg.stop_speed_mps, cfg.motion_window_s)
        elif all_timed and not by_device:  # too sparse for its noise to tell: a held position
            stood = pinned_steps(arr, d, dt, cfg.stop_speed_mps)
        moving_s = float(np.sum(dt, where=(seg_moving & timed_seg & ~stood) | gap_moved))
        moving_s -= float(np.sum(dt, where=half_moved & timed_seg)) / 2  # stopped half-way
        t_timed = arr.t[timed_pts]
        held = _sustained(np.where(steady, speed, np.nan), run, sustain)
        moving_speeds = held[moving & np.isfinite(held)]
        # no speed held long enough to tell: unknown if the truck moved (a 2-fix trip's
        # one step is no top speed, and 0 read below its average), else 0
        max_speed = (
            float(moving_speeds.max()) if moving_speeds.size else (None if moving_s > 0 else 0.0)
        )
        over_cap_s = None
        if cap_mps is not None:
            with np.errstate(invalid="ignore"):
                fix_over = drop_short_runs(speed > cap_mps, sustain)
            seg_over = seg_moving & timed_seg & fix_over[:-1] & fix_over[1:]
            with np.errstate(invalid="ignore"):
                # a gap (a tunnel) between fixes over the cap, crossed faster than it even
                # in a straight line: above the cap all along, as a careful reader counts it
                seg_over |= gap_moved & fix_over[:-1] & fix_over[1:] & (d > cap_mps * dt)
            over_cap_s = float(np.sum(dt, where=seg_over))
            over_out[idx] = np.concatenate((seg_over, [False])) | np.concatenate(
                ([False], seg_over)
            )
            road_steps = tuple(
                replace(step, over_cap=bool(seg_over[i]))
                for step, i in zip(road_steps, road_step_at, strict=True)
            )
        # (a gap's line without its time is left out of the average)
        timed_dist = float(np.sum(seg_dist, where=timed_seg & ~(gap_counts & ~gap_moved)))
        if max_speed is not None and moving_s > 0 and typical >= SPARSE_SPEED_LOG_S:
            # a sparse log's top speed (the lower of its lines over three fixes) may read
            # under its average (GPS error lengthens the lines): a top speed is never under
            # it, when that average spans two steps or more; under an average of one step it
            # is not known (one step is no held speed: a sparse walk's one step of 64 m in
            # 9 s read "max 16 mph")
            average = timed_dist / moving_s
            if np.count_nonzero((seg_moving & timed_seg & ~stood) | gap_moved) >= 2:
                max_speed = max(max_speed, average)
            elif max_speed < average:
                max_speed = None
        speed = _shown_speeds(speed, run, sustain, max_speed)
        stats_times = dict(
            elapsed_s=float(t_timed[-1] - t_timed[0]),
            moving_s=moving_s,
            max_speed_mps=max_speed,
            avg_moving_speed_mps=timed_dist / moving_s if moving_s > 0 else 0.0,
            over_cap_s=over_cap_s,
            started_at=_dt(t_timed[0]),
            ended_at=_dt(t_timed[-1]),
        )
    moving_out[idx] = moving
    speed_out[idx] = speed

    gaps = tuple(
        Gap(
            _dt(arr.t[i]),
            _dt(arr.t[i + 1]),
            float(dt[i]),
            float(d[i]),
            ends=(
                float(arr.lat[i]),
                float(arr.lon[i]),
                float(arr.lat[i + 1]),
                float(arr.lon[i + 1]),
            ),
            headings=(_heading(arr, i, -1), _heading(arr, i + 1, 1)),
            sparse_log=typical >= ROAD_STEP_LOG_S,
        )
        for i in np.flatnonzero(gap)
    )
    states: tuple[str, ...] = ()
    if with_states:
        raw_cum = np.concatenate(([0.0], np.cumsum(np.where(brk, 0.0, d))))
        states = _states(arr.lat, arr.lon, raw_cum, cfg.state_sample_m, ~cut)
    stats = TripStats(
        distance_m=distance,
        elapsed_s=stats_times.get("elapsed_s"),
        moving_s=stats_times.get("moving_s"),
        max_speed_mps=stats_times.get("max_speed_mps"),
        avg_moving_speed_mps=stats_times.get("avg_moving_speed_mps"),
        over_cap_s=stats_times.get("over_cap_s"),
        states=states,
        points=n_in,
        points_used=n,
        started_at=stats_times.get("started_at"),
        ended_at=stats_times.get("ended_at"),
        gaps=gaps,
        cap_mps=cap_mps,
        road_steps=road_steps,
    )
    return result(stats, idx[np.flatnonzero(cut)])


# A sparse log (a tracker, a logger saving battery, OwnTracks' significant changes) is
# measured by the straight lines between its fixes, which cut every bend between them: at
# 60-120 s 11-17 % short on 31 Baltimore drives (bench/bench_sparse_steps.py), 25-30 % on
# an outside check's I 95 drive. Each moving step of a log this sparse (median),
# this long, not measured by the device's speed, is measured along the shortest drivable
# road between its fixes where the routing engine finds one (``core.gap_roads``).
ROAD_STEP_LOG_S = 20.0
ROAD_STEP_MIN_M = 200.0
ROAD_STEP_PACE_STEPS = 2  # a step's pace: the fastest of it and this many steps either side
ROAD_STEP_MAX_ACCURACY_M = 20.0  # fixes claiming this much error (median) keep their lines


def _road_steps(
    arr: TrackArrays,
    seg_moving: NDArray,
    seg_dist: NDArray,
    dt: NDArray,
    by_speed: NDArray | None,
) -> tuple[tuple[Gap, ...], NDArray]:
    """The long moving steps of a sparse log, as ``Gap``s (``step``) whose ``distance_m`` is
    the length the trip counts for them, and the index of each; the direction of travel at
    each fix is the line from the fix before it to the fix after it (the road's direction
    there, near enough)."""
    accuracy = arr.accuracy[np.isfinite(arr.accuracy)]
    if accuracy.size and float(np.median(accuracy)) >= ROAD_STEP_MAX_ACCURACY_M:
        return (), np.zeros(0, dtype=int)  # fixes that far off land on parallel streets
    long = seg_moving & (seg_dist >= ROAD_STEP_MIN_M)
    if by_speed is not None:
        long &= ~by_speed
    last = len(arr) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.where(seg_moving & (dt > 0), seg_dist / dt, 0.0)
    reach = ROAD_STEP_PACE_STEPS
    padded = np.concatenate((np.zeros(reach), speed, np.zeros(reach)))
    pace = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=1)

    def through(i: int) -> float | None:
        a, b = max(i - 1, 0), min(i + 1, last)
        lat1, lon1 = float(arr.lat[a]), float(arr.lon[a])
        lat2, lon2 = float(arr.lat[b]), float(arr.lon[b])
        if great_circle_m(lat1, lon1, lat2, lon2) < HEADING_MIN_M:
            return None
        return initial_bearing_deg(lat1, lon1, lat2, lon2)

    at = np.flatnonzero(long)
    steps = tuple(
        Gap(
            _dt(arr.t[i]),
            _dt(arr.t[i + 1]),
            float(dt[i]),
            float(seg_dist[i]),
            ends=(
                float(arr.lat[i]),
                float(arr.lon[i]),
                float(arr.lat[i + 1]),
                float(arr.lon[i + 1]),
            ),
            headings=(through(i), through(i + 1)),
            step=True,
            pace_mps=float(pace[i]),
        )
        for i in at.tolist()
    )
    return steps, at


# The rules ``compute_stats`` measures a log by. Bump it whenever they give other figures for
# the same fixes: stored trips computed by older rules are then recomputed (the server's
# sweeper, ``services.ingest.refresh_outdated_stats``), so the history never mixes trips
# measured one way with trips measured another. 2: a far run of glitches between two parts
# of a drive that join up without it is dropped (``_drop_excursions``); a speed of 0 at
# every fix of a wandering phone says it stood (``device_speed._standing_phone``); lone
# spikes of a sparse log are dropped (``_spikes``). 3: a trip that moved but held no speed
# long enough to tell has no top speed (None), not 0 under its average. 4: a sparse log's top
# speed is never under its average moving speed. 5: a fix whose time stamp, not its place, is
# out of line is given a time read from its neighbours (``repaired_times``), and a small piece
# within reach of the kept pieces either side is the drive, not a glitch (``_add_reachable``).
# 6: a dense log's scatter is taken as noise up to 100 m (``track_noise.SCATTER_NOISE_MAX_M``;
# beyond, it is glitches, which are dropped), and a log cut into over 10,000 pieces has its
# small pieces within reach kept too (the pass was skipped for them). 7: a background logger's
# trip is measured by its speed field as its device's log says (``services.ingest
# .log_speed_verdict``; those finished before were judged on their own few fixes), within
# ``device_speed.LOG_VERDICT_HOLDS``; a log's refusal yields to a trip that accepts its speed.
# 8: a device rough as a rule keeps its fixes up to 1.5x its median accuracy
# (``accuracy_limit_m``), and a run moving by the speed alone is checked against the fixes'
# own noise (``_position_noise_m``).
# 9: a log whose best twentieth of fixes claims over 25 m is rough as a rule too.
# 10: fixes reporting standing that lie together are left out of the check of a speed
# against the positions (``device_speed.standing_wander``).
# 11: the time above the cap counts a gap crossed over it between fixes over it (a tunnel),
# and a sparse log's steps held over it along the road (``gap_roads._over_cap_along_road``),
# as its top speed did; a clock stepping back in mid-drive is read on (``glitches
# ._clock_changes_bridged``); a trip's states include those its steps cross between fixes.
# 12: a sparse log's speeds are the fastest its lines between consecutive fixes held over
# three steps, less half a line's error (``_sparse_speeds``): its lines across four steps
# cut a winding road's bends (29 mph where the lines held 37).
# 13: a dense log's smoothing window is sized by the steps around each fix, not the run's
# median step (a 20 s burst at 50 mph between crawls read 44 mph, 0 s over a 45 mph cap).
# 14: a stamp repeated at either end of a log is given the log's rhythm (``glitches
# .ends_restamped``: a 1 Hz drive at 30 mph read 35 mph), and a fix without a time one read
# from its neighbours (``glitches.filled_times``); whole-second stamps that wander are read
# at the log's rhythm (``glitches.dequantised_times``: 79 mph for a 65 mph drive), and
# stamps to the minute spread over it (``glitches.coarse_times_spread``).
# 15: a speed derived from the positions holds over as many fixes as span 10 s, three at
# least (``POSITION_SUSTAIN_S``): five fixes of a 5 s log needed ~40 s over the cap (a clean
# log's 20 s at 47 mph read 0 s over 45 mph, its top speed 37 mph).
# 16: a dense log without a device speed tells its waits from moving by its own few seconds
# (``core.standing``): a wait at a light inside the +-10 s motion window was moving time (a
# phone's town drive read +21-62 %); a step over 15 s measured by the device's speed is never
# shorter than its positions make it (``device_speed.measured_steps``: a logger every 60 s
# read a straight 5 km as 4.6 km).
# 17: a dense log's length fits are sized by the scatter its moving fixes show when under
# their claimed accuracy, down to half the claim (``track_fit.fit_noise_m``: a clean 1 Hz log
# claiming 5 m cut hairpins 10-14 % short, a town drive 3-6 %). 18: two fixes in a row off a
# timed log's way are glitches when only twice the truck's speed around them, and 20 m/s or
# more, could reach them (``glitches._spike_pairs``: a 10 s walk with two fixes 500 m off read
# 1,980 m for ~1,000 m);
# a sparse log whose moving time is one step has no top speed, not that step's (a real walk's
# one step of 64 m in 9 s read "max 16 mph"); an untimed log's length fits are sized by its
# step along winding roads (``track_noise.winding_step_m``: a noisy untimed log of hairpins
# read 16 % short, now 8 %), and one whose steps are far shorter than its noise is a log,
# never a drawn route (``track_noise._doubles_back``: ~10 times too long). 19: a log sparser
# than 2 s whose position is held (the same spot written again where the truck could stop
# and pull away) stood there (``standing.pinned_steps``: a clean 5 s log's waits at lights
# read as moving, +12 %, stop-and-go +28 %); a sparse log's lengths averaged for the scatter
# its fixes show, at most the noise they claim (``scatter_noise_m``: a clean 3 s log of a
# street grid read 11 % under its lines, each corner cut).
STATS_RULES = 19
# The rules a trip's highway use is judged by: how this module cleans, smooths and thins a log
# for the matcher (``cleaned_positions``, ``standing``, ``smooth_positions``) and when
# ``routing.track_check`` counts a matched stretch as highway. Bump it whenever they may give
# another answer for the same fixes: the sweeper matches stored trips again
# (``services.ingest.refresh_outdated_highway_use``). 1: session 21's reading (large claimed
# errors, scatter per block, crawls, stretches judged on two legs); 2: a stretch dropped for
# want of fixes alone makes the answer unknown, not "no" (``track_check.PossibleHighway``);
# 3: so does one that a sparse log leaves with one fix or none, where the road between the
# fixes either side runs along it (``track_check._bare_between``), or the shortest road across
# a gap in recording over 2 km does (``routing.gap_highways``); glitch runs dropped, and the
# ends of a smoothed log kept where they are (``_line_at_the_ends``), a sparse log smoothed
# by its scatter (``scatter_noise_m``); 4: out-and-backs the truck could not have driven cut
# from the matched path (``routing.spurs``), and a 3-5 s log with no accuracy smoothed by the
# noise its fixes show (``sparse_smoothing_noise_m``); 5: the engine's sweep also measures
# the roads across gaps and a sparse log's steps (``_road_steps``) of trips stored before
# (or without an engine), so the history is measured one way; 6: a sparse log's steps over
# 2 km are matched, not cut, and the fastest road between its fixes is checked for highway
# (``routing.gap_highways.step_highways``); 7: wrong time stamps and small pieces read as
# in ``STATS_RULES`` 5 (one such fix dropped the I 95 end of a 1 min log); 8: as
# ``STATS_RULES`` 6 (a log with many far glitches); 9: a trunk posted 35 mph or less is an
# ordinary road (``audit._town_trunk``), and a drawn route follows the roads between its
# points (``routing.drawn_routes``); 10: a dense log's gaps in recording (30 s or more, 400 m
# or more) are checked as a sparse log's steps (``track_check.GAP_CHECK_MIN_S``); 11: a log's
# last fix replaces the one kept before it when that lies within the thinning's spacing
# (``track_pieces.thin_index``), and an untimed track's out-and-backs are cut back to their
# deepest point (``routing.spurs``): the matcher drove on to the next crossing and back;
# 12: glitches as in ``STATS_RULES`` 18 (two fixes in a row off the truck's way), and an
# untimed log far noisier than its steps is smoothed as a log (``track_noise._doubles_back``).
HIGHWAY_RULES = 12


def compute_stats(
    points: Sequence[TrackPoint] | TrackArrays,
    cap_mps: float | None = None,
    config: StatsConfig = DEFAULT_CONFIG,
    *,
    with_states: bool = True,
) -> TripStats:
    """Statistics of one trip (see the module docstring for the method)."""
    return analyze_track(points, cap_mps, config, with_states=with_states).stats


def split_on_gaps(
    points: Sequence[TrackPoint], max_gap_s: float = 1800.0
) -> list[list[TrackPoint]]:
    """Cut a sequence of fixes wherever consecutive times are more than ``max_gap_s`` apart,
    either way (``time_order.split_on_time_gaps``; untimed fixes never cut)."""
    out: list[list[TrackPoint]] = []
    current: list[TrackPoint] = []
    last: datetime | None = None
    for p in points:
        if current and p.time and last and abs((p.time - last).total_seconds()) > max_gap_s:
            out.append(current)
            current = []
        current.append(p)
        last = p.time or last
    if current:
        out.append(current)
    return out


NO_MOVEMENT_M = 50.0  # a log measured shorter than this never left one spot (GPS jitter)


def no_movement(stats: TripStats) -> bool:
    """The log never left one spot: two fixes 0 m apart, or a parked phone's jitter (an
    hour of it measures a few metres once smoothed). Not a trip."""
    return stats.distance_m < NO_MOVEMENT_M
