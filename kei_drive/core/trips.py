"""Trip statistics from a GPS track (numpy-vectorised).

Pipeline (each step one vectorised pass; Python loops only over a handful of pieces):

1. Drop invalid fixes (NaN / out of range) and fixes whose reported accuracy is worse
   than ``max_accuracy_m`` (unless that would leave fewer than two).
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
   what white noise is left (``_without_noise_left``). Where the device reported a speed
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

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kei_drive.core.device_speed import (
    DEVICE_MOVING_FIXES,
    measured_speed,
    measured_steps,
    moves_a_standing_phone,
    steps_with_speed,
    straight_runs,
)
from kei_drive.core.distance import cumulative_m, great_circle_m, haversine_m, initial_bearing_deg
from kei_drive.core.gpx import GpxSource, GpxTrack, TrackPoint, read_gpx_columns
from kei_drive.core.memory import trim_heap
from kei_drive.core.times import iso_z

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


GPX_COLUMNS = ("lat", "lon", "t", "accuracy", "speed")  # GpxSegment names, TrackArrays order


@dataclass(frozen=True)
class StatsConfig:
    max_accuracy_m: float = 50.0  # fixes reported worse than this are dropped
    stationary_radius_m: float = 10.0  # movement below this (or the fix accuracy) is jitter
    stop_speed_mps: float = 0.5  # slower drift than this over the motion window is parked
    max_speed_mps: float = 60.0  # 216 km/h: faster jumps between fixes are glitches
    max_bridge_s: float = 7200.0  # a jump over a longer pause is judged as if 2 h long
    max_untimed_jump_m: float = 100_000.0
    outlier_max_points: int = 5  # pieces this small between implausible jumps are glitches
    gap_min_s: float = 30.0
    gap_drift_max_m: float = 200.0  # a gap's line longer than this was travelled, if slowly
    min_moving_fixes: int = 5  # shorter moving blips (1 Hz logging) are jitter
    smooth_window_s: float = 2.0
    max_smooth_window_s: float = 15.0  # speeds of very noisy tracks: averaged over at most +-this
    max_fit_window_s: float = 30.0  # lengths of very noisy tracks: fitted over at most +-this
    sustain_fixes: int = 5  # max speed and time over the cap must hold this many fixes...
    sustain_s: float = 4.0  # ...or, in a sparse log, as many as span this (2 at least)
    motion_window_s: float = 10.0
    speed_window_s: float = 3.0
    state_sample_m: float = 100.0  # states are looked up at most every this many metres


DEFAULT_CONFIG = StatsConfig()


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


def drives_only(
    tracks: list[GpxTrack], notes_out: list[str] | None, purpose: str = "check"
) -> list[GpxTrack]:
    """A file's tracks without its planned routes (``<rte>``) when it holds both: the drive
    and the route it followed are not two drives (joined, they would be one line jumping
    back to the start). A file of routes only is its routes. ``notes_out`` receives a note
    on the routes set aside; ``purpose``: what the user would do with them ("check",
    "import")."""
    routes = sum(1 for t in tracks if t.kind == "rte")
    if not routes or routes == len(tracks):
        return tracks
    if notes_out is not None:
        one = routes == 1
        held = "a planned route (<rte>)" if one else f"{routes} planned routes (<rte>)"
        save = "the route in a file of its own" if one else "the routes in a file of their own"
        notes_out.append(
            f"The file also holds {held} beside its track: the track was read; save {save} "
            f"to {purpose} {'it' if one else 'them'}."
        )
    return [t for t in tracks if t.kind != "rte"]


def continued_tracks(tracks: list[GpxTrack], notes_out: list[str] | None = None) -> list[GpxTrack]:
    """The file's tracks with each one that goes on without a pause from the one before
    (a logger starting a new ``<trk>`` every few minutes, or at midnight) joined to it: its
    first fix comes one fix interval after the other's last (at most twice the median
    interval, 2 s at least) and within reach at a plausible speed. Tracks with a pause
    between them, overlapping ones (a track written twice, two devices) and untimed ones
    stay as the file divides them. ``notes_out`` receives a note on the tracks joined."""
    out: list[GpxTrack] = []
    for track in tracks:
        before = out[-1] if out else None
        if before is not None and before.kind == track.kind == "trk" and _goes_on(before, track):
            out[-1] = replace(before, segments=[*before.segments, *track.segments])
        else:
            out.append(track)
    joined = len(tracks) - len(out)
    if joined and notes_out is not None:
        notes_out.append(
            f"{joined} of the file's {len(tracks)} tracks go on without a pause from the one "
            f"before (a logger starting a new track): read as {len(out)} drive"
            f"{'s' if len(out) != 1 else ''}."
        )
    return out


def _goes_on(before: GpxTrack, after: GpxTrack) -> bool:
    t0 = np.concatenate([s.t for s in before.segments])
    t1 = np.concatenate([s.t for s in after.segments])
    if t0.size < 2 or t1.size == 0 or not (np.isfinite(t0[-1]) and np.isfinite(t1[0])):
        return False
    steps = np.diff(t0[np.isfinite(t0)])
    interval = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    gap = float(t1[0] - t0[-1])
    if not 0.0 <= gap <= max(2.0 * interval, 2.0):
        return False
    last, first = before.segments[-1], after.segments[0]
    step_m = float(haversine_m(last.lat[-1], last.lon[-1], first.lat[0], first.lon[0]))
    return step_m <= StatsConfig().max_speed_mps * max(gap, 1.0)


@dataclass(frozen=True)
class TrackArrays:
    """A track as columns: degrees, epoch seconds (NaN: untimed), metres, m/s (NaN: unknown)."""

    lat: NDArray
    lon: NDArray
    t: NDArray
    accuracy: NDArray
    speed: NDArray

    @classmethod
    def from_points(cls, points: Sequence[TrackPoint]) -> TrackArrays:
        nan = float("nan")
        return cls(
            np.array([p.lat for p in points], dtype=float),
            np.array([p.lon for p in points], dtype=float),
            np.array([p.time.timestamp() if p.time else nan for p in points], dtype=float),
            np.array([nan if p.accuracy_m is None else p.accuracy_m for p in points], float),
            np.array([nan if p.speed_mps is None else p.speed_mps for p in points], float),
        )

    @classmethod
    def from_columns(
        cls,
        lat: ArrayLike,
        lon: ArrayLike,
        t: ArrayLike | None = None,
        accuracy: ArrayLike | None = None,
        speed: ArrayLike | None = None,
    ) -> TrackArrays:
        lat = np.asarray(lat, dtype=float)

        def col(values: ArrayLike | None) -> NDArray:
            if values is None:
                return np.full(lat.shape, np.nan)
            return np.asarray(values, dtype=float)  # None entries become NaN

        return cls(lat, np.asarray(lon, dtype=float), col(t), col(accuracy), col(speed))

    @classmethod
    def from_gpx(cls, source: GpxSource, notes_out: list[str] | None = None) -> TrackArrays:
        """Every track point of a GPX file, concatenated, or every route point when it has
        no track (one streaming parse). A file holding a drive and its planned route is the
        drive: the two joined would be one line jumping back to the start. ``notes_out``
        receives the parser's note on points left out and one on routes set aside."""
        # elevation and course: not needed
        tracks = read_gpx_columns(source, GPX_COLUMNS[2:], notes_out=notes_out)
        tracks = drives_only(tracks, notes_out)
        segments = [s for track in tracks for s in exact_route_points(track).segments]
        del tracks
        out = cls(*(np.concatenate([getattr(s, k) for s in segments]) for k in GPX_COLUMNS))
        sizes = [len(s) for s in segments]
        del segments
        order = time_order(out, sizes)
        if order is not None:
            out = out.take(order)
        trim_heap()  # the per-segment columns, freed
        return out

    def __len__(self) -> int:
        return int(self.lat.size)

    def take(self, index: NDArray | slice) -> TrackArrays:
        """The fixes at ``index`` (a slice gives views, not copies)."""
        return TrackArrays(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


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


def _jumps(arr: TrackArrays, cfg: StatsConfig) -> tuple[NDArray, NDArray, NDArray]:
    """Segment lengths, time steps (NaN: untimed/backwards) and implausible-jump flags."""
    d = haversine_m(arr.lat[:-1], arr.lon[:-1], arr.lat[1:], arr.lon[1:])
    dt = np.diff(arr.t)
    with np.errstate(invalid="ignore"):
        dt[dt < 0] = np.nan
        slack = cfg.stationary_radius_m + np.nan_to_num(
            np.fmax(arr.accuracy[:-1], arr.accuracy[1:]), nan=0.0
        )
        # Fixes under a second apart may be up to a second apart (a 2 Hz logger writing
        # whole seconds stamps two fixes with one second).
        seconds = np.minimum(np.maximum(dt, 1.0), cfg.max_bridge_s)
        limit = np.where(np.isnan(dt), cfg.max_untimed_jump_m, cfg.max_speed_mps * seconds + slack)
    return d, dt, d > limit


def _typical_step_s(arr: TrackArrays, dt: NDArray) -> float:
    """The log's rhythm: the median time between its fixes (0 when untimed). A 2 Hz logger's
    whole-second stamps are spread first: its steps of 0 s and 1 s are 0.5 s."""
    timed = np.isfinite(dt)
    if not timed.any():
        return 0.0
    steps = np.diff(_spread_repeated_times(arr.t)) if timed.all() else dt[timed]
    return float(np.median(steps))


def _gap_s(typical_s: float, cfg: StatsConfig) -> float:
    """A longer time step is a gap in recording, not the log's rhythm."""
    return max(cfg.gap_min_s, 5.0 * typical_s)


def _with_noise_slack(arr: TrackArrays) -> TrackArrays:
    """The track with each fix's accuracy at least three times the typical noise, for the
    jump tests only (noise of a fix that reports no accuracy must not look like a jump)."""
    if len(arr) < 5:
        return arr
    return replace(arr, accuracy=np.fmax(arr.accuracy, 3.0 * position_noise_m(arr)))


RESTAMP_MAX_STEPS = 1000  # a log with more suspect steps than this (and than 2 % of its
RESTAMP_MAX_SHARE = 0.02  # steps) is taken as it is: ~0.15 ms a step (bench_glitchy_logs)


def repaired_times(
    arr: TrackArrays, config: StatsConfig = DEFAULT_CONFIG
) -> tuple[TrackArrays, int]:
    """The track with each fix (or run of up to three) whose time stamp, not its position, is
    out of line given a time read from its neighbours, and how many were. A tracker that
    stamps a fix with the time of the fix before puts 1.5 km of a 2 min log into 0 s: an
    implausible jump, and the glitch rule then dropped half of a short log (a drive on I 95
    read Kei-legal); a fix stamped 1970 made the interstate at a log's end too short a visit
    to count.

    Such a fix is stamped out of order, or with a neighbour's time, next to a jump or a step
    back in time; it lies on the way from the fix before it to the fix after it at a
    plausible speed over their times, at most twice the fastest sound step near it
    (``_pace_around``), with no other jump beside it. It is given the time its share of that
    way takes at an even pace (at either end of the log: the pace of the step beside it). Of
    the fixes that could be the wrong ones, those whose new times ask the slowest pace are
    (a longer run must ask a slower one). A fix stamped in order is never re-timed: a jump
    beside it is a glitch in a position, and stays one."""
    n = len(arr)
    if n < 3 or not np.isfinite(arr.t).any():
        return arr, 0
    slacked = _with_noise_slack(arr)
    d, dt, jump = _jumps(slacked, config)
    with np.errstate(invalid="ignore"):
        suspect = jump | (np.diff(arr.t) < 0)
    steps = np.flatnonzero(suspect)
    if not steps.size or steps.size > max(RESTAMP_MAX_STEPS, RESTAMP_MAX_SHARE * n):
        return arr, 0
    slack = config.stationary_radius_m + np.nan_to_num(
        np.fmax(slacked.accuracy[:-1], slacked.accuracy[1:]), nan=0.0
    )
    t = arr.t.copy()
    with np.errstate(invalid="ignore"):
        forward = dt[dt > 0]  # the log's rhythm, its wrong stamps' 0 s steps left out
    gap_s = _gap_s(float(np.median(forward)) if forward.size else 0.0, config)
    repaired = 0
    for step in steps.tolist():
        if not suspect[step]:
            continue  # made plausible by the repair of the step before
        options = list(_restamp_options(step, t, d, jump, slack, gap_s, config))
        if not options:
            continue
        _, first, times = min(options, key=lambda option: option[0])
        t[first : first + times.size] = times
        for s in range(first - 1, first + times.size):
            if 0 <= s < n - 1:
                jump[s] = suspect[s] = False
        repaired += times.size
    return (replace(arr, t=t), repaired) if repaired else (arr, 0)


RESTAMP_RUN_MAX = 3  # at most this many fixes in a row re-timed (a clock stuck for 3 fixes)
RESTAMP_RUN_COST = 0.1  # a longer run must ask a pace this much slower per fix to be taken


def _restamp_options(
    step: int, t: NDArray, d: NDArray, jump: NDArray, slack: NDArray, gap_s: float, cfg: StatsConfig
) -> Iterator[tuple[float, int, NDArray]]:
    """(cost, first fix, new times) for each run of fixes holding fix ``step`` or the fix
    after it that new times can explain (``repaired_times``)."""
    n = t.size
    for a in range(max(1, step + 1 - RESTAMP_RUN_MAX), min(step + 1, n - 2) + 1):
        for b in range(max(a, step), min(a + RESTAMP_RUN_MAX - 1, n - 2) + 1):
            times = _restamped_run(a, b, t, d, jump, slack, cfg)
            if times is not None:
                pace = (d[a - 1 : b + 1].sum()) / (t[b + 1] - t[a - 1])
                yield pace * (1.0 + RESTAMP_RUN_COST * (b - a)), a, times
    for b in range(step, min(RESTAMP_RUN_MAX, n - 2)):  # runs from the log's first fix
        option = _restamped_end(0, b, t, d, jump, gap_s)
        if option is not None:
            yield option
    for a in range(max(2, n - RESTAMP_RUN_MAX), min(step + 1, n - 1) + 1):  # ... to its last
        option = _restamped_end(a, n - 1, t, d, jump, gap_s)
        if option is not None:
            yield option


def _restamped_run(
    a: int, b: int, t: NDArray, d: NDArray, jump: NDArray, slack: NDArray, cfg: StatsConfig
) -> NDArray | None:
    """New times for fixes ``a``..``b`` (inside the log), each stamped out of order or with a
    neighbour's time, when the way from the fix before them to the fix after them is
    plausible at an even pace over those two fixes' times; None otherwise."""
    n = t.size
    stamps, before, after = t[a : b + 1], t[a - 1], t[b + 1]
    if ((before < stamps) & (stamps < after)).any():
        return None  # one stamped in order: nothing says its time is the wrong one
    if (a >= 2 and jump[a - 2]) or (b + 1 < n - 1 and jump[b + 1]):
        return None  # another jump beside them: a glitch in a position, not a time
    span, legs = after - before, d[a - 1 : b + 1]
    way = float(legs.sum())
    if not (np.isfinite(span) and span > 0 and np.isfinite(way)):
        return None
    seconds = min(max(span, 1.0), cfg.max_bridge_s)
    if way > cfg.max_speed_mps * seconds + slack[a - 1] + slack[b]:
        return None
    pace = _pace_around(a, b, t, d, jump)
    if pace is not None and way / span > SPIKE_SPEED_RATIO * max(pace, 2.0):
        return None  # far faster than the log went around them: a position is off
    share = np.cumsum(legs[:-1]) / way if way > 0 else np.arange(1, b - a + 2) / (b - a + 2)
    return before + share * span


def _restamped_end(
    a: int, b: int, t: NDArray, d: NDArray, jump: NDArray, gap_s: float
) -> tuple[float, int, NDArray] | None:
    """(cost, a, new times) for a run ``a``..``b`` holding the log's first or last fix, each
    stamped not before (at the start: not after) the fix beside the run: timed at the pace
    of the sound step beyond that fix."""
    at_start = a == 0
    inner, far = (b + 1, b + 2) if at_start else (a - 1, a - 2)
    stamps = t[a : b + 1]
    pace_s = t[far] - t[inner] if at_start else t[inner] - t[far]
    if (
        jump[min(inner, far)]
        or not np.isfinite(pace_s)
        or pace_s <= 0
        or (stamps < t[inner] if at_start else stamps > t[inner]).any()  # in order
    ):
        return None
    pace = d[min(inner, far)] / pace_s
    legs = d[a : b + 1] if at_start else d[a - 1 : b]  # from each fix to the inner one, in order
    to_inner = np.cumsum(legs[::-1])[::-1] if at_start else np.cumsum(legs)
    if pace < 1.0 or to_inner.max() / pace > gap_s:
        return None
    times = t[inner] - to_inner / pace if at_start else t[inner] + to_inner / pace
    return pace * (1.0 + RESTAMP_RUN_COST * (b - a)), a, times


def _drop_glitches(arr: TrackArrays, cfg: StatsConfig) -> NDArray:
    """Indices (into ``arr``) of fixes that are not glitches: isolated fixes behind
    implausible jumps, runs of them (``_drop_excursions``), stale fixes repeated far from
    the track (``_stale_fixes``), then lone spikes (``_spikes``)."""
    n = len(arr)
    if n < 3:
        return np.arange(n)
    jump = _jumps(arr, cfg)[2]
    if not jump.any():
        return np.flatnonzero(~_spikes(arr))
    piece = np.concatenate(([0], np.cumsum(jump)))
    sizes = np.bincount(piece)
    first = np.searchsorted(piece, np.arange(sizes.size))
    last = first + sizes - 1
    big = (sizes > cfg.outlier_max_points) | (sizes * 2 > n)
    if not big.any():
        big = _largest_chain(arr, first, last, sizes, cfg)
    _drop_excursions(arr, piece, sizes, big, cfg)
    _add_reachable(arr, first, last, big, cfg)
    keep = np.flatnonzero(big[piece])
    stale = _stale_fixes(arr.take(keep), cfg) if keep.size >= 3 else None
    keep = keep if stale is None else keep[~stale]
    return keep[~_spikes(arr.take(keep))]


CHAIN_MAX_PIECES = 64  # more pieces than this with none large: the first largest anchors


def _largest_chain(
    arr: TrackArrays, first: NDArray, last: NDArray, sizes: NDArray, cfg: StatsConfig
) -> NDArray:
    """Per piece, when none is large: is it in the chain of pieces holding the most fixes,
    each within reach of the one before it (a glitch between them skipped)? Seven fixes of a
    2 min log with one far glitch mid-way are pieces of 3, 1 and 3; the first largest alone
    dropped half the drive."""
    count = sizes.size
    if count > CHAIN_MAX_PIECES:
        chosen = np.zeros(count, dtype=bool)
        chosen[np.argmax(sizes)] = True  # the first largest piece
        return chosen
    chains: list[list[int]] = []
    for k in range(count):
        joins = [c for c in chains if _within_reach(arr, int(last[c[-1]]), int(first[k]), cfg)]
        if joins:
            max(joins, key=lambda c: sizes[c].sum()).append(k)
        else:
            chains.append([k])
    best = max(chains, key=lambda c: sizes[c].sum())  # the first of equals
    chosen = np.zeros(count, dtype=bool)
    chosen[best] = True
    return chosen


RESTAMP_PACE_STEPS = 5  # the log's pace around a fix: the fastest of this many steps each side


def _pace_around(a: int, b: int, t: NDArray, d: NDArray, jump: NDArray) -> float | None:
    """The fastest of the sound steps near fixes ``a``..``b``, none of them touching those
    fixes or the fixes either side (one of which may be a glitch whose fast step would
    vouch for it); None with fewer than two such steps (a drive's slow start alone is no
    measure of its pace)."""
    lo, hi = max(0, a - 2 - RESTAMP_PACE_STEPS), min(d.size, b + 2 + RESTAMP_PACE_STEPS)
    steps = np.r_[lo : max(lo, a - 2), min(hi, b + 2) : hi]
    with np.errstate(invalid="ignore", divide="ignore"):
        dt = t[steps + 1] - t[steps]
        sound = ~jump[steps] & (dt > 0)
    return float((d[steps][sound] / dt[sound]).max()) if sound.sum() >= 2 else None


def _within_reach(arr: TrackArrays, a: int, b: int, cfg: StatsConfig) -> bool:
    """Could the truck have gone from fix ``a`` to the later fix ``b`` in the time between,
    judged as the jump test judges a step (its slack, a pause counting as 2 h at most)? A
    fix 1,000 km away stamped a day later is out of reach; one stamped earlier always is."""
    metres = float(haversine_m(arr.lat[a], arr.lon[a], arr.lat[b], arr.lon[b]))
    seconds = float(arr.t[b] - arr.t[a])
    if np.isnan(seconds):
        return metres <= cfg.max_untimed_jump_m
    accuracy = float(np.fmax(arr.accuracy[a], arr.accuracy[b]))
    slack = cfg.stationary_radius_m + (accuracy if np.isfinite(accuracy) else 0.0)
    reach = cfg.max_speed_mps * min(max(seconds, 1.0), cfg.max_bridge_s)
    return seconds >= 0 and metres <= reach + slack


REACH_MAX_PIECES = 10_000  # a log cut into more pieces than this keeps only its large ones


def _add_reachable(
    arr: TrackArrays, first: NDArray, last: NDArray, kept: NDArray, cfg: StatsConfig
) -> None:
    """In ``kept`` (per piece), keep each small piece too that is within reach of the kept
    pieces either side: it is the drive, and only a glitch between cut it off. A sparse
    log's last five fixes after one far glitch are its last five minutes on the road."""
    if kept.size > REACH_MAX_PIECES:
        return
    ids = np.flatnonzero(kept).tolist()  # the kept pieces after k: as they were
    previous, j = None, 0
    for k in range(kept.size):
        if kept[k]:
            previous = k
            continue
        while j < len(ids) and ids[j] < k:
            j += 1
        following = ids[j] if j < len(ids) else None
        if (
            (previous is not None or following is not None)
            and (previous is None or _within_reach(arr, int(last[previous]), int(first[k]), cfg))
            and (following is None or _within_reach(arr, int(last[k]), int(first[following]), cfg))
        ):
            kept[k] = True
            previous = k


SPIKE_SPEED_RATIO = 2.0  # a fix the truck would have had to go this much faster to visit
SPIKE_MIN_M = 50.0  # ... and this much out of its way (and 2x the fix's noise slack)
SPIKE_PACE_STEPS = 3  # the speed before and after: the fastest of this many steps each side


def _spikes(arr: TrackArrays) -> NDArray:
    """Per fix of a timed log: a spike, a fix off the line from the fix before to the fix
    after that the truck could only have visited at ``SPIKE_SPEED_RATIO`` times the speed it
    went at before and after (each step, and the line between them). A fix 300 m to the side
    of a 10 s log is within the 60 m/s a jump allows, and made check-route 33 % long (the
    matcher went out to a road there and back) and the trip 13 %. A real U-turn, or a bend,
    takes the time it takes: its fix needs no faster speed to reach."""
    n = len(arr)
    out = np.zeros(n, dtype=bool)
    if n < 5 or not np.isfinite(arr.t).all():
        return out
    step = haversine_m(arr.lat[:-1], arr.lon[:-1], arr.lat[1:], arr.lon[1:])
    dt = np.maximum(np.diff(arr.t), 1.0)
    across = haversine_m(arr.lat[:-2], arr.lon[:-2], arr.lat[2:], arr.lon[2:])  # i-1 -> i+1
    visit = step[:-1] + step[1:]  # i-1 -> i -> i+1
    span = dt[:-1] + dt[1:]
    # the fastest of the SPIKE_PACE_STEPS steps either side (a winding road's straight lines
    # between sparse fixes cut its bends: one step alone may read slow)
    rate = np.concatenate((np.zeros(SPIKE_PACE_STEPS), step / dt, np.zeros(SPIKE_PACE_STEPS)))
    pace = across / span
    for k in range(1, SPIKE_PACE_STEPS + 1):
        before = rate[SPIKE_PACE_STEPS - k : SPIKE_PACE_STEPS - k + n - 2]  # step (i-1-k, i-k)
        after = rate[SPIKE_PACE_STEPS + k + 1 : SPIKE_PACE_STEPS + k + 1 + n - 2]
        pace = np.maximum(pace, np.maximum(before, after))
    slack = np.fmax(SPIKE_MIN_M, 2.0 * np.nan_to_num(arr.accuracy[1:-1], nan=0.0))
    out[1:-1] = (visit / span > SPIKE_SPEED_RATIO * np.maximum(pace, 2.0)) & (
        visit - across > slack
    )
    out[1:-1] &= ~(out[:-2] | out[2:])  # two in a row are no lone spike: judge neither
    return out


def _drop_excursions(
    arr: TrackArrays, piece: NDArray, sizes: NDArray, kept: NDArray, cfg: StatsConfig
) -> None:
    """In ``kept`` (per piece between implausible jumps), drop each piece that lies out of
    reach of the kept pieces either side, when those two join up without it (the fix
    before it within reach of the fix after it) and it is smaller than the two together: a
    run of fixes 2,000 km away for half a minute (a Wi-Fi position of a moved router) is
    no visit to Texas, however many fixes it holds."""
    first = np.searchsorted(piece, np.arange(sizes.size))
    last = first + sizes - 1
    ids = np.flatnonzero(kept).tolist()
    j = 1
    while j < len(ids) - 1:
        a, k, b = ids[j - 1], ids[j], ids[j + 1]
        if (
            sizes[k] < sizes[a] + sizes[b]
            and _out_of_reach(arr, int(last[a]), int(first[k]), cfg)
            and _out_of_reach(arr, int(last[k]), int(first[b]), cfg)
            and not _out_of_reach(arr, int(last[a]), int(first[b]), cfg)
        ):
            kept[k] = False
            del ids[j]
            j = max(j - 1, 1)  # the piece before may now be an excursion between new neighbours
        else:
            j += 1


def _stale_fixes(arr: TrackArrays, cfg: StatsConfig) -> NDArray | None:
    """Per fix: part of a run that never moved and lies an implausible jump, made within
    seconds, away from a track that does move (a phone repeating its cached position at a
    cold start); None when there is none. Judged once the isolated glitches are gone, so a
    parked warm-up with one multipath fix in it is not such a run."""
    _, dt, jump = _jumps(arr, cfg)
    if not jump.any():
        return None
    piece = np.concatenate(([0], np.cumsum(jump)))
    count = int(piece[-1]) + 1
    quick = ~(dt[jump] > cfg.gap_min_s)  # each jump's time step (NaN: untimed) is short
    next_to_quick = np.append(quick, False) | np.insert(quick, 0, False)  # per piece
    still = _stationary_pieces(arr, piece, count, 3.0 * cfg.stationary_radius_m)
    at_an_end = np.zeros(count, dtype=bool)
    at_an_end[[0, -1]] = True  # a cold start's cached fix comes first (or a last one, last)
    sizes = np.bincount(piece, minlength=count)
    stale = still & next_to_quick & at_an_end & (sizes * 2 < len(arr))
    if not stale.any() or sizes[~still].sum() * 2 <= len(arr):
        return None  # the track that moves must be most of the log
    first = np.searchsorted(piece, np.arange(count))
    last = np.append(first[1:], len(arr)) - 1
    moving = np.flatnonzero(~still)
    for k in np.flatnonzero(stale).tolist():
        # stale only if the moving track itself is out of its reach (not just a glitch
        # between them): a parked warm-up where the drive begins is a place
        a, b = (last[k], first[moving[0]]) if k == 0 else (first[k], last[moving[-1]])
        if not _out_of_reach(arr, int(a), int(b), cfg):
            stale[k] = False
    return stale[piece] if stale.any() else None


def _out_of_reach(arr: TrackArrays, a: int, b: int, cfg: StatsConfig) -> bool:
    """Is fix ``b`` farther from fix ``a`` than the vehicle could go in the time between?"""
    metres = float(haversine_m(arr.lat[a], arr.lon[a], arr.lat[b], arr.lon[b]))
    seconds = abs(float(arr.t[b] - arr.t[a]))
    if not np.isfinite(seconds):
        return metres > cfg.max_untimed_jump_m
    return metres > cfg.max_speed_mps * max(seconds, 1.0) + 3.0 * cfg.stationary_radius_m


def _stationary_pieces(arr: TrackArrays, piece: NDArray, count: int, radius_m: float) -> NDArray:
    """Per piece (runs of equal, increasing ``piece`` ids): do all its fixes lie within
    ``radius_m`` of its first one?"""
    first = np.searchsorted(piece, np.arange(count))
    d = haversine_m(arr.lat[first][piece], arr.lon[first][piece], arr.lat, arr.lon)
    return np.maximum.reduceat(d, first) <= radius_m


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


def _drop_short_runs(flags: NDArray, min_len: int) -> NDArray:
    """``flags`` with runs of True shorter than ``min_len`` cleared."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = flags.copy()
    for a, b in zip(starts[stops - starts < min_len], stops[stops - starts < min_len], strict=True):
        out[a:b] = False
    return out


def _sparse_speeds(arr: TrackArrays, run_start: NDArray, run_end: NDArray) -> NDArray:
    """Per fix of a log 10 s or more between fixes, its speed from the positions: the lower
    of the lines from the fix before to the fix after and from two before to two after
    (inside its run). A fix thrown aside is skipped by the lines across it, not driven to
    and back; two in a row (multipath comes in runs) make no three fast fixes in a row
    either: each bad fix ends the lines of the fixes one and two away from it."""
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
    fixes of a 30 s tracker are two minutes, over which no top speed holds. (A speed derived
    from the positions spreads one step's jump over the fixes of its window: five; in a log
    ``SPARSE_SPEED_LOG_S`` apart or more, over three: ``_sparse_speeds``.)"""
    if not measured and typical_s >= SPARSE_SPEED_LOG_S:
        return min(cfg.sustain_fixes, SPARSE_SUSTAIN_FIXES)
    if not measured or typical_s <= 0:
        return cfg.sustain_fixes
    return int(max(2, min(cfg.sustain_fixes, 1 + math.ceil(cfg.sustain_s / typical_s))))


def _sustained(speed: NDArray, run: NDArray, k: int) -> NDArray:
    """Per fix, the lowest speed of a window of ``k`` consecutive fixes of one run that
    holds it (NaN where no such window): a speed counts only when held over several fixes,
    never from one step."""
    n = speed.size
    out = np.full(n, np.nan)
    if n < k:
        return out
    win = np.lib.stride_tricks.sliding_window_view(speed, k)
    same_run = run[k - 1 :] == run[: n - k + 1]
    low = np.where(same_run & np.isfinite(win).all(axis=1), win.min(axis=1), np.nan)
    # a fix's value: the best window it belongs to (a plateau keeps its full height)
    padded = np.concatenate((np.full(k - 1, np.nan), low, np.full(k - 1, np.nan)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    any_valid = np.isfinite(windows).any(axis=1)
    out[any_valid] = np.nanmax(windows[any_valid], axis=1)
    return out


# Noise left in a fitted step, as a share of the step (~0.5 % of length, subtracted by
# ``_without_noise_left``). A narrower window would follow the bends still better, but
# would let slow GPS wander (correlated noise, which nothing can tell from a real path)
# lengthen the drive more than a moving average did.
LENGTH_NOISE_SHARE = 0.12
# A log this sparse (median step) has its speeds from the line across two steps, held
# over three fixes (a minute or more): its top speed is no longer the lowest of two minutes.
SPARSE_SPEED_LOG_S = 10.0
SPARSE_SUSTAIN_FIXES = 3
DENSE_LOG_S = 2.0  # logs with fixes at most this far apart (median) are fitted, not averaged


def _quadratic_weights(half: int) -> NDArray:
    """Savitzky-Golay weights of a local quadratic fit over +-``half`` fixes, at its centre."""
    k = np.arange(-half, half + 1, dtype=float)
    h = float(half)
    return (3 * (3 * h * h + 3 * h - 1) - 15 * k * k) / ((2 * h - 1) * (2 * h + 1) * (2 * h + 3))


def _step_noise_factors(max_half: int) -> NDArray:
    """Per half-window, the noise (per unit of position noise) left in the step between two
    consecutive quadratic-fit positions (the square root of the summed squared differences
    of consecutive weights); half 0 and 1 leave the fixes as they are: sqrt(2)."""
    return np.diagonal(_step_noise_table(max_half)).copy()


@functools.lru_cache(maxsize=16)
def _step_noise_table(max_half: int) -> NDArray:
    """[h1, h2]: the noise (per unit of position noise) left in the step from a fix fitted
    over +-h1 fixes to the next one fitted over +-h2 (windows shrink near a run's ends): the
    square root of the summed squared differences of the two fits' weights."""
    top = max_half + 1
    out = np.empty((top, top))
    for h1 in range(top):
        for h2 in range(top):
            weights = np.zeros(2 * top + 1)  # on offsets -top..top from the first fix
            weights[top - h1 : top + h1 + 1] -= _quadratic_weights(h1)
            weights[top + 1 - h2 : top + h2 + 2] += _quadratic_weights(h2)
            out[h1, h2] = np.sqrt(np.sum(weights**2))
    out.setflags(write=False)  # cached: shared by every call
    return out


def _length_half(noise_m: float, step_m: float, max_half: int, share: float) -> int:
    """The smallest half-window whose quadratic fit leaves at most ``share`` of the noise
    in a step of ``step_m`` (``max_half`` when none does)."""
    factors = _step_noise_factors(max_half)
    enough = np.flatnonzero(noise_m * factors <= share * max(step_m, 0.5))
    return int(enough[0]) if enough.size else max_half


FIT_BLOCK = 1 << 16  # fixes fitted at a time: a long log's sums stay small


def local_fit(
    columns: Sequence[NDArray],
    before: NDArray,
    after: NDArray,
    t: NDArray | None = None,
    quadratic: NDArray | None = None,
) -> list[NDArray]:
    """Each value of each column replaced by a least-squares fit over its window of
    ``before[i]`` fixes before it and ``after[i]`` after it, evaluated at the fix, against
    time ``t`` (fix numbers when None): a quadratic where the window holds as many fixes on
    either side (a Savitzky-Golay filter whose window may differ per fix), or where
    ``quadratic`` says; a straight line elsewhere (a run's ends, where a quadratic would
    extrapolate the noise). Unlike a moving average it follows a bend instead of cutting
    inside it, so a winding road keeps its length while the noise is averaged out. Windows
    must lie inside the arrays."""
    n = columns[0].size
    a = np.broadcast_to(np.asarray(before, dtype=np.intp), (n,))
    b = np.broadcast_to(np.asarray(after, dtype=np.intp), (n,))
    quad = (a == b) if quadratic is None else np.broadcast_to(quadratic, (n,))
    out = [np.array(c, dtype=float) for c in columns]
    for start in range(0, n, FIT_BLOCK):
        block = slice(start, min(start + FIT_BLOCK, n))
        offsets = _fit_offsets(columns, a, b, t, quad, block)
        for column, offset in zip(out, offsets, strict=True):
            column[block] += offset
    return out


def _fit_offsets(
    columns: Sequence[NDArray],
    a: NDArray,
    b: NDArray,
    t: NDArray | None,
    quadratic: NDArray,
    block: slice,
) -> list[NDArray]:
    """``local_fit`` for the fixes of ``block``: each fit's value less the fix's own."""
    n = columns[0].size
    lo, hi = block.start, block.stop
    a, b, quadratic = a[block], b[block], quadratic[block]
    top = int(max(a.max(), b.max())) if a.size else 0
    size = hi - lo
    if top < 1:
        return [np.zeros(size) for _ in columns]
    s = [np.ones(size)] + [np.zeros(size) for _ in range(4)]  # sums of u**m (u: offset in t)
    v = [[np.zeros(size) for _ in range(3)] for _ in columns]  # sums of u**m * (value - own)
    for k in [*range(-top, 0), *range(1, top + 1)]:
        first, last = max(lo, -k), min(hi, n - k)  # fixes whose neighbour k away exists
        if first >= last:
            continue
        here, there, mine = (
            slice(first, last),
            slice(first + k, last + k),
            slice(first - lo, last - lo),
        )
        mask = ((b[mine] >= k) if k > 0 else (a[mine] >= -k)).astype(float)
        u = np.full(mask.size, float(k)) if t is None else t[there] - t[here]
        s[0][mine] += mask
        power = mask * u
        for m in range(1, 5):
            s[m][mine] += power
            if m < 4:
                power = power * u
        for column, sums in zip(columns, v, strict=True):
            y = mask * (column[there] - column[here])
            sums[0][mine] += y
            y *= u
            sums[1][mine] += y
            y *= u
            sums[2][mine] += y
    with np.errstate(invalid="ignore", divide="ignore"):
        line_det = s[0] * s[2] - s[1] * s[1]
        # the quadratic's constant term by Cramer's rule on the 3x3 normal equations
        det = (
            s[0] * (s[2] * s[4] - s[3] * s[3])
            - s[1] * (s[1] * s[4] - s[3] * s[2])
            + s[2] * (s[1] * s[3] - s[2] * s[2])
        )
    quadratic = quadratic & (a >= 1) & (b >= 1)
    out = []
    for v0, v1, v2 in v:
        with np.errstate(invalid="ignore", divide="ignore"):
            line = (s[2] * v0 - s[1] * v1) / line_det
            quad = (
                v0 * (s[2] * s[4] - s[3] * s[3])
                - s[1] * (v1 * s[4] - s[3] * v2)
                + s[2] * (v1 * s[3] - s[2] * v2)
            ) / det
        offset = np.where(quadratic, quad, np.where(a + b >= 1, line, 0.0))
        out.append(np.where(np.isfinite(offset), offset, 0.0))
    return out


@dataclass(frozen=True)
class _FitWindows:
    """Per fix, the fixes before and after it that its position is fitted over, and where
    the fit is a quadratic (else a line). Trip lengths use as many fixes on either side (a
    first fix logged 15 s early pulls no fit), fewer near a run's ends."""

    before: NDArray
    after: NDArray
    quadratic: NDArray


def _fit_positions(arr: TrackArrays, windows: _FitWindows) -> tuple[NDArray, NDArray]:
    """Positions fitted over their windows (``local_fit``), against time when timed."""
    t = _spread_repeated_times(arr.t) if np.isfinite(arr.t).all() else None
    lat, lon = local_fit((arr.lat, arr.lon), windows.before, windows.after, t, windows.quadratic)
    return lat, lon


def _count_windows(n: int, half: int, run_start: NDArray, run_end: NDArray) -> _FitWindows:
    """+-``half`` fixes, shrunk near each run's ends (as many either side)."""
    i = np.arange(n)
    symmetric = np.minimum(half, np.minimum(i - run_start, run_end - i))
    return _FitWindows(symmetric, symmetric, np.ones(n, dtype=bool))


def _spread_repeated_times(t: NDArray) -> NDArray:
    """Fixes sharing a time stamp (a 2 Hz logger writing whole seconds) spread evenly over
    the interval to the next stamp, so that a fit against time sees them in order."""
    n = t.size
    new_stamp = np.concatenate(([True], t[1:] != t[:-1]))
    first = np.flatnonzero(new_stamp)
    if first.size == n:
        return t
    group = np.cumsum(new_stamp) - 1
    size = np.diff(np.concatenate((first, [n])))
    rank = np.arange(n) - first[group]
    next_t = np.concatenate((t[first[1:]], [t[-1] + 1.0]))
    interval = np.clip(next_t - t[first], 0.0, 1.0)
    return t + rank / size[group] * interval[group]


def _white_noise_m(arr: TrackArrays) -> float:
    """The fast-changing (white) part of a dense log's position noise, per axis: the median
    of third differences (5.27 sigma in 2-D for white noise of sigma per axis). A car's
    path changes its bend little between dense fixes, so unlike second differences these
    hardly grow on a winding road; slow drift, which adds no length, does not show in them.
    0 for a sparse or drawn track (its third differences are the road's bends)."""
    if len(arr) < 8 or not _dense_log(arr):
        return 0.0
    x, y = _local_xy_m(arr)
    return float(np.median(np.hypot(np.diff(x, 3), np.diff(y, 3)))) / 5.266


def _without_noise_left(arr: TrackArrays, seg_len: NDArray, windows: _FitWindows) -> NDArray:
    """Step lengths between fitted positions less what the noise left in them adds: with
    noise of v per axis across a step of s, the step measures sqrt(s**2 + v) on average, so
    sqrt(d**2 - v) is the step. ``_step_noise_table`` gives v for two quadratic fits; steps
    at a run's ends (lines) are left as they are. (The fixes are taken as evenly spaced: a
    gap in a run makes v a little too large.)"""
    half = np.where(windows.quadratic, windows.before, 0)
    both = windows.quadratic[:-1] & windows.quadratic[1:]
    table = _step_noise_table(int(half.max()) if half.size else 0)
    left = np.where(both, _white_noise_m(arr) * table[half[:-1], half[1:]], 0.0)
    return np.sqrt(np.maximum(seg_len * seg_len - left * left, 0.0))


def _fit_windows(
    arr: TrackArrays,
    disp: NDArray,
    span: NDArray,
    moving: NDArray,
    run: NDArray,
    run_start: NDArray,
    run_end: NDArray,
    cfg: StatsConfig,
) -> _FitWindows:
    """Per fix, the window (in time, +-half seconds, inside its run) of the quadratic fit its
    position gets: per run, as many fixes as leave at most ``LENGTH_NOISE_SHARE`` of the
    noise in the run's median step while moving (``_length_half``), in seconds at the log's typical
    interval, between ``smooth_window_s`` and ``max_fit_window_s``: a log with dropped
    fixes gets fewer fixes, not a longer time. ``disp`` is each fix's displacement over the
    motion window of ``span`` seconds; ``moving``, whether the fix moves (a parked phone's
    jitter must not make the median step small: a long stop would widen every window)."""
    n = len(arr)
    t = _spread_repeated_times(arr.t)
    steps = np.diff(t)
    steps = steps[steps > 0]
    dt_fix = max(float(np.median(steps)) if steps.size else 1.0, 0.1)
    noise = position_noise_m(arr)
    max_half = max(int(cfg.max_fit_window_s / dt_fix), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.nan_to_num(disp / span * dt_fix)
    half_s = np.full(n, cfg.max_fit_window_s)
    for a, b in _run_slices(run):
        moving_steps = step[a:b][moving[a:b]]
        if moving_steps.size:
            step_m = float(np.median(moving_steps))
            fixes = _length_half(noise, step_m, max_half, LENGTH_NOISE_SHARE)
            half_s[a:b] = fixes * dt_fix
    half_s = np.clip(half_s, cfg.smooth_window_s, cfg.max_fit_window_s)
    i = np.arange(n)
    lo = np.maximum(np.searchsorted(t, t - half_s - 1e-9, side="left"), run_start)
    hi = np.minimum(np.searchsorted(t, t + half_s + 1e-9, side="right") - 1, run_end)
    # as many fixes either side, fewer near a run's ends: a truck parked there stays put
    # (a line fitted over the drive beyond would drag its fixes along)
    half = np.maximum(np.minimum(i - lo, hi - i), 0)
    return _FitWindows(half, half, np.ones(n, dtype=bool))


def _run_slices(run: NDArray) -> list[tuple[int, int]]:
    """[start, end) of each run (``run`` numbers the fixes' runs, never decreasing)."""
    starts = np.flatnonzero(np.diff(run, prepend=run[0] - 1))
    return list(zip(starts.tolist(), [*starts[1:].tolist(), run.size], strict=True))


def _speed_windows(
    arr: TrackArrays,
    disp: NDArray,
    span: NDArray,
    typical: float,
    moving: NDArray,
    run: NDArray,
    run_start: NDArray,
    run_end: NDArray,
    cfg: StatsConfig,
) -> tuple[NDArray, NDArray, NDArray]:
    """Symmetric moving-average windows for speeds, one size per run: the noise left between
    two consecutive smoothed fixes is about noise * sqrt(2) / (2h + 1), so a window of
    10 * noise / step fixes keeps its share of each step under ~1.5 % (the step is the run's
    median while moving; between smooth_window_s and max_smooth_window_s).
    ``disp`` is each fix's displacement over the motion window of ``span`` seconds; only
    ``moving`` fixes count for the median step (a long stop's jitter is not a step).
    Also returns, per fix, whether its window got that size (not near a run's end): only
    there is a speed derived from the smoothed fixes free of noise."""
    n = len(arr)
    noise = position_noise_m(arr)
    dt_fix = max(typical, 0.1)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.nan_to_num(disp / span * dt_fix)
    half_s = np.full(n, cfg.max_smooth_window_s)
    for a, b in _run_slices(run):
        moving_steps = step[a:b][moving[a:b]]
        if moving_steps.size:
            fixes = np.ceil((10.0 * noise / max(float(np.median(moving_steps)), 0.5) - 1) / 2)
            half_s[a:b] = np.clip(fixes * dt_fix, cfg.smooth_window_s, cfg.max_smooth_window_s)
    i = np.arange(n)
    t = _spread_repeated_times(arr.t)  # a 2 Hz logger's whole-second stamps: 2, 2, 3, 4, 4...
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


def _untimed_length_half(arr: TrackArrays, cfg: StatsConfig) -> int:
    """Half-window (fixes) of the quadratic fit smoothing an untimed log's positions for its
    length, sized as for timed logs (``_fit_windows``), at most as many as a 1 Hz log's
    ``max_fit_window_s``; 0 for a log without noise."""
    noise, step = _second_difference_noise_m(arr), _span_step_m(arr)
    return _length_half(noise, step, int(cfg.max_fit_window_s), LENGTH_NOISE_SHARE)


def _running_median(values: NDArray, width: int = 5, block: int = 1 << 16) -> NDArray:
    """The median of each value's centred window of ``width`` (odd), NaN left out."""
    if values.size < width:
        return values
    half = width // 2
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


def _states(lat: NDArray, lon: NDArray, cum: NDArray, sample_m: float) -> tuple[str, ...]:
    from kei_drive.core.geo import states_at  # shapely and the polygons load on first use

    if lat.size == 0:
        return ()
    _, first = np.unique(np.floor(cum / sample_m), return_index=True)
    sample = np.union1d(first, [lat.size - 1])
    codes = states_at(lat[sample], lon[sample])
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

    def result(stats: TripStats, breaks: NDArray | None = None) -> TrackAnalysis:
        breaks = np.zeros(0, dtype=np.intp) if breaks is None else breaks
        return TrackAnalysis(stats, used, moving_out, speed_out, over_out, breaks)

    # 1. validity and accuracy gating
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(src.lat)
            & np.isfinite(src.lon)
            & (np.abs(src.lat) <= 90)
            & (np.abs(src.lon) <= 180)
        )
        keep = valid & ~(src.accuracy > cfg.max_accuracy_m)
    if keep.sum() < 2:
        keep = valid
    idx = np.flatnonzero(keep)
    # 2. glitches
    # Noise must not look like a jump: each fix is allowed three times the typical noise.
    checked = repaired_times(_take(src, idx), cfg)[0]
    keep = _drop_glitches(_with_noise_slack(checked), cfg)
    idx = idx[keep]
    arr = _take(checked, keep)
    del checked
    n = len(arr)
    used[idx] = True
    if n < 2:
        return result(_empty(n_in, n, cap_mps, arr.t))

    d, dt, brk = _jumps(_with_noise_slack(arr), cfg)
    timed_seg = np.isfinite(dt)
    all_timed = bool(timed_seg.all())
    # 3. gaps in recording
    typical = _typical_step_s(arr, dt)
    gap_s = _gap_s(typical, cfg)
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
    fit: _FitWindows | None = None  # the windows of the length fits (``local_fit``)
    speed_len: NDArray | None = None  # steps between the positions speeds come from
    if all_timed:
        s_lat = s_lon = None  # after the motion test: the window depends on the speed
    elif not timed_seg.any():  # untimed: a drawn line's polyline, a log's smoothed fixes
        half = _untimed_length_half(arr, cfg) if log else 0
        fit = _count_windows(n, half, run_start, run_end) if log else None
        s_lat, s_lon = _fit_positions(arr, fit) if half and fit else (arr.lat, arr.lon)
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
        moving = _drop_short_runs(moving, cfg.min_moving_fixes)
    if s_lat is None or s_lon is None:
        # Lengths: a window wide enough that the noise left in consecutive smoothed fixes
        # is small next to the step between them (the distance must not grow with noise).
        span = arr.t[hi] - arr.t[lo]
        # speeds: moving averages (a fit's peaks are noisier); lengths: quadratic fits
        v_lo, v_hi, steady = _speed_windows(
            arr, disp, span, typical, moving, run, run_start, run_end, cfg
        )
        v_lat, v_lon = smooth(v_lo, v_hi)
        speed_len = haversine_m(v_lat[:-1], v_lon[:-1], v_lat[1:], v_lon[1:])
        if typical <= DENSE_LOG_S:  # a sparse log's fits would span whole bends: averages
            fit = _fit_windows(arr, disp, span, moving, run, run_start, run_end, cfg)
            s_lat, s_lon = _fit_positions(arr, fit)
        else:
            s_lat, s_lon = v_lat, v_lon
        del v_lat, v_lon, v_lo, v_hi
    seg_len = haversine_m(s_lat[:-1], s_lon[:-1], s_lat[1:], s_lon[1:])
    if speed_len is None:
        speed_len = seg_len
    if fit is not None:
        seg_len = _without_noise_left(arr, seg_len, fit)
        del fit
    with_speed = all_timed and bool(np.isfinite(arr.speed).any())
    straight = (
        straight_runs(*_local_xy_m(TrackArrays.from_columns(s_lat, s_lon))) if with_speed else None
    )
    del s_lat, s_lon, m_lat, m_lon, disp, radius  # a long log's peak memory
    seg_moving = moving[:-1] & moving[1:] & ~cut
    device, refused = None, False
    half_moved = np.zeros(n - 1, dtype=bool)  # steps between standing and moving (measured)
    if with_speed:  # a 2 Hz logger's whole-second stamps spread: its true time steps
        dev_dt = np.diff(_spread_repeated_times(arr.t))
        device, refused = measured_speed(
            arr.speed, arr.t, d, dev_dt, seg_len, seg_moving, straight, cfg.stop_speed_mps
        )
    if device is not None:
        rolling = _drop_short_runs(device > 0.0, DEVICE_MOVING_FIXES)
        if moves_a_standing_phone(
            rolling, moving, device, dev_dt, arr.lat, arr.lon, cfg.stationary_radius_m
        ):
            device, refused = None, True  # a repeated or made-up value: no measure, no value
    by_device = device is not None
    if by_device:
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
    road_steps = (
        _road_steps(arr, seg_moving, seg_dist, dt, by_speed)
        if all_timed and typical >= ROAD_STEP_LOG_S
        else ()
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
            derived = _sparse_speeds(arr, run_start, run_end)
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
        moving_s = float(np.sum(dt, where=(seg_moving & timed_seg) | gap_moved))
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
                fix_over = _drop_short_runs(speed > cap_mps, sustain)
            seg_over = seg_moving & timed_seg & fix_over[:-1] & fix_over[1:]
            over_cap_s = float(np.sum(dt, where=seg_over))
            over_out[idx] = np.concatenate((seg_over, [False])) | np.concatenate(
                ([False], seg_over)
            )
        # (a gap's line without its time is left out of the average)
        timed_dist = float(np.sum(seg_dist, where=timed_seg & ~(gap_counts & ~gap_moved)))
        if max_speed is not None and moving_s > 0 and typical >= SPARSE_SPEED_LOG_S:
            # a sparse log's top speed (the lower of its lines over three fixes) may read
            # under its average (GPS error lengthens the lines): a top speed is never under it
            max_speed = max(max_speed, timed_dist / moving_s)
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
        states = _states(arr.lat, arr.lon, raw_cum, cfg.state_sample_m)
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
) -> tuple[Gap, ...]:
    """The long moving steps of a sparse log, as ``Gap``s (``step``) whose ``distance_m`` is
    the length the trip counts for them; the direction of travel at each fix is the line
    from the fix before it to the fix after it (the road's direction there, near enough)."""
    accuracy = arr.accuracy[np.isfinite(arr.accuracy)]
    if accuracy.size and float(np.median(accuracy)) >= ROAD_STEP_MAX_ACCURACY_M:
        return ()  # fixes that far off land on parallel streets: their roads detour
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

    return tuple(
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
        for i in np.flatnonzero(long)
    )


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
STATS_RULES = 5
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
# in ``STATS_RULES`` 5 (one such fix dropped the I 95 end of a 1 min log).
HIGHWAY_RULES = 7


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
    """Cut a sequence of fixes wherever consecutive times are more than ``max_gap_s`` apart
    (untimed fixes never cut)."""
    out: list[list[TrackPoint]] = []
    current: list[TrackPoint] = []
    last: datetime | None = None
    for p in points:
        if current and p.time and last and (p.time - last).total_seconds() > max_gap_s:
            out.append(current)
            current = []
        current.append(p)
        last = p.time or last
    if current:
        out.append(current)
    return out


# --------------------------------------------------------------------------- map matching


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
    track = _with_noise_slack(arr.take(idx))
    keep = _drop_glitches(track, config)
    idx, track = idx[keep], track.take(keep)
    if idx.size < 2:
        return TrackPieces((idx,) if idx.size else (), len(arr) - idx.size, ())
    d, dt, brk = _jumps(track, config)
    with np.errstate(invalid="ignore"):
        far = d > max_gap_m
        kept = np.zeros_like(far)
        if max_step_m > max_gap_m and far.any():
            rhythm = dt <= _gap_s(_typical_step_s(track, dt), config)
            kept = far & rhythm & (d <= max_step_m)
        cut = brk | (far & ~kept) | (dt > max_gap_s)
    at = np.flatnonzero(cut)
    pieces = tuple(np.split(idx, at + 1))
    breaks = tuple(("jump" if brk[i] else "gap", float(d[i])) for i in at)
    steps = tuple((int(idx[i]), int(idx[i + 1])) for i in np.flatnonzero(kept & ~cut))
    return TrackPieces(pieces, len(arr) - idx.size, breaks, steps)


def thin_index(lat: NDArray, lon: NDArray, min_spacing_m: float) -> NDArray:
    """Indices of the first point of each ``min_spacing_m`` of distance along the line (and
    the last point)."""
    if lat.size <= 2:
        return np.arange(lat.size)
    bucket = np.floor(cumulative_m(lat, lon) / min_spacing_m).astype(np.int64)
    keep = np.concatenate(([True], bucket[1:] != bucket[:-1]))
    keep[-1] = True
    return np.flatnonzero(keep)


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
    still = ~_drop_short_runs(far > near, 3)
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
    lats, lons, crossing = [], [], []
    for index in cut.pieces:
        piece = track.take(index)
        noise = position_noise_m(piece)
        lat, lon = smooth_positions(piece, scatter_noise_m(piece, noise))
        keep = moving_thin_index(lat, lon, piece.t, noise, CLEAN_SPACING_M)
        lat, lon = lat[keep], lon[keep]
        lats.append(lat)
        lons.append(lon)
        crossing.append(np.zeros(lat.size, dtype=bool))
        crossing[-1][-1] = True  # the step from its last fix to the next piece's first
    if not lats:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool), cut
    return np.concatenate(lats), np.concatenate(lons), np.concatenate(crossing)[:-1], cut


DENSE_STEP_M = 30.0  # untimed fixes closer than this (median) are a log, not a drawn route


def _local_xy_m(arr: TrackArrays) -> tuple[NDArray, NDArray]:
    """Positions in metres on a plane tangent near the track (east, north)."""
    y = arr.lat * (np.pi / 180.0 * 6_371_008.8)
    x = arr.lon * (np.pi / 180.0 * 6_371_008.8 * np.cos(np.radians(float(np.median(arr.lat)))))
    return x, y


def _span_step_m(arr: TrackArrays, k: int = 10) -> float:
    """Median distance between fixes, measured over ``k`` steps (noise hardly adds to it)."""
    k = min(k, len(arr) - 1)
    x, y = _local_xy_m(arr)
    return float(np.median(np.hypot(x[k:] - x[:-k], y[k:] - y[:-k]))) / k


def untimed_log(arr: TrackArrays) -> bool:
    """An untimed track with fixes at most ``DENSE_STEP_M`` apart: a GPS log whose times
    were stripped, whose scatter is noise; not a drawn route, whose vertices are bends."""
    if len(arr) < 5 or np.isfinite(arr.t).any() or (arr.accuracy == 0).all():
        return False  # timed, or exact vertices (a GPX route's: ``exact_route_points``)
    return _span_step_m(arr) <= DENSE_STEP_M and not _wiggles_are_bends(arr)


BENDS_MIN_PERSISTENCE = 0.3


def _wiggles_are_bends(arr: TrackArrays) -> bool:
    """Do the track's sideways wiggles run on from one vertex to the next (a road's bends:
    a drawn or exported route, or a log without noise), rather than flip side (noise)?

    Measured by the lag-1 correlation of each vertex's signed offset from the line joining
    its neighbours: about -0.6 for GPS noise (white noise alone: -2/3), +0.7 to +0.95 for a
    route's vertices however unevenly spaced (a route drawn with a vertex every 2 m in bends
    and 285 m between them was fitted as a log: 14 % too long)."""
    x, y = _local_xy_m(arr)
    ax, ay = x[1:-1] - x[:-2], y[1:-1] - y[:-2]
    bx, by = x[2:] - x[1:-1], y[2:] - y[1:-1]
    chord = np.hypot(x[2:] - x[:-2], y[2:] - y[:-2])
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = (ax * by - ay * bx) / chord
    offset = offset[np.isfinite(offset)]
    if offset.size < 4 or not offset.std() > 0:
        return True  # a straight line: nothing to smooth
    return float(np.corrcoef(offset[:-1], offset[1:])[0, 1]) >= BENDS_MIN_PERSISTENCE


def _second_difference_noise_m(arr: TrackArrays) -> float:
    """Noise per axis from the scatter of second differences: for white noise of sigma per
    axis the 2-D second difference has a median of 2.88 sigma (a car's path bends little
    between dense fixes, so the rest of it is noise)."""
    x, y = _local_xy_m(arr)
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
    if len(arr) < 8 or np.isfinite(arr.accuracy).any() or _dense_log(arr):
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
    x, y = _local_xy_m(arr)
    dx, dy = np.diff(x, 2), np.diff(y, 2)
    prod = dx[:-1] * dx[1:] + dy[:-1] * dy[1:]
    if prod.size < 4:
        return 0.0
    kept = np.sort(np.abs(prod))[: prod.size - prod.size // 10]
    limit = kept[-1]
    mean = float(prod[np.abs(prod) <= limit].mean())
    return math.sqrt(max(-mean, 0.0) / 8.0)


def _dense_log(arr: TrackArrays) -> bool:
    """A timed log with fixes at most 2 s apart, or an untimed log (``untimed_log``)."""
    dt = np.diff(arr.t)
    if np.isfinite(dt).all() and dt.size and float(np.median(dt)) <= 2.0:
        return True
    return untimed_log(arr)


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
    if not _dense_log(arr):
        return reported
    estimated = _second_difference_noise_m(arr)
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
    if len(arr) < 5 or not (_dense_log(arr) or np.isfinite(arr.t).all()):
        return noise_m
    return np.minimum(noise_m, _local_scatter_m(arr))


SCATTER_BLOCK = 64  # fixes per local estimate of the scatter


def _local_scatter_m(arr: TrackArrays) -> NDArray:
    """Per fix, the scatter of second differences (as ``_second_difference_noise_m``) over
    its block of ``SCATTER_BLOCK`` fixes or either block beside it, the largest: one figure
    for a whole log let a clean first half hide a noisy second one, which then went
    unsmoothed (2 km at 2 m then 20 m of noise read 3.8 km)."""
    x, y = _local_xy_m(arr)
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


def _median_step_m(lat: NDArray, lon: NDArray) -> float:
    return float(np.median(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])))


def exact_route_points(track: GpxTrack) -> GpxTrack:
    """A GPX route (``<rte>``) as exact positions: its points are a drawn line's vertices,
    not GPS fixes, so their accuracy is 0 where none is given and nothing smooths them (a
    winding route keeps its length). A route whose points are under ``DENSE_STEP_M`` apart
    (median) is a GPS log some app wrote as a route, and a track is returned as it is."""
    if track.kind != "rte":
        return track
    segments = []
    for segment in track.segments:
        if len(segment) < 5 or _median_step_m(segment.lat, segment.lon) >= DENSE_STEP_M:
            exact = np.where(np.isnan(segment.accuracy), 0.0, segment.accuracy)
            segment = replace(segment, accuracy=exact)
        segments.append(segment)  # (points a second apart: a GPS log written as a route)
    return replace(track, segments=segments)


def from_segments(segments: Sequence[Any]) -> tuple[TrackArrays, NDArray, NDArray]:
    """One track from GPX segments (``GpxSegment`` columns) joined in order, with its
    course and elevation columns (one segment's own arrays, not a copy: big imports)."""

    def joined(key: str) -> NDArray:
        columns = [getattr(s, key) for s in segments]
        return columns[0] if len(columns) == 1 else np.concatenate(columns)

    track = TrackArrays(*(joined(k) for k in GPX_COLUMNS))
    course, elevation = joined("course"), joined("elevation")
    order = time_order(track, [len(s) for s in segments])
    if order is None:
        return track, course, elevation
    return track.take(order), course[order], elevation[order]


SAME_PLACE_DEG = 1e-5  # ~1 m: the same fix written with 5 or more decimals
SWAPPED_FIX_S = 10.0  # a segment stepping back no more than this has swapped fixes


def time_order(track: TrackArrays, segment_sizes: Sequence[int] | None = None) -> NDArray | None:
    """The order a careful reader puts a fully timed log's fixes in when some step goes back
    in time; None when nothing needs to move (or some fix has no time). Per segment: written
    newest first, it is reversed; stepping back at most ``SWAPPED_FIX_S`` (swapped fixes), it
    is sorted; a larger step back is a clock change (time zone, DST, a reset) and stays as
    written. Segments sharing a fix (the same time and place) are one device's log written
    again in parts (a track and a thinned copy, a day's piece beside the whole trip): their
    fixes are merged in time order. Segments are put in time order when their times do not
    overlap (written newest first); overlapping ones (two devices, two vehicles) stay in
    file order. A fix written twice (same time and place) is read once."""
    t = track.t
    n = t.size
    if n < 2 or not np.isfinite(t).all():
        return None
    if not (np.diff(t) < 0).any():  # in order: only a fix written twice in a row to drop
        again = np.concatenate(([False], _same_fix(track, slice(1, None), slice(None, -1))))
        return np.flatnonzero(~again) if again.any() else None
    bounds = np.cumsum([0, *(segment_sizes or [n])]).tolist()
    parts = [
        a + segment_order(t[a:b], track.lat[a:b], track.lon[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    parts = copies_merged(track, parts)
    spans = sorted(((t[p].min(), t[p].max(), k) for k, p in enumerate(parts) if p.size))
    if all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans)):
        parts = [parts[k] for _lo, _hi, k in spans]
    order = np.concatenate(parts)
    # each fix once: the first of those with the same time and place (a track written
    # twice, perhaps rounded to fewer decimals the second time)
    t_o, lat_o, lon_o = t[order], track.lat[order], track.lon[order]
    by_key = np.lexsort((lon_o, lat_o, t_o))  # stable: equal fixes stay in reading order
    same = (
        (t_o[by_key[1:]] == t_o[by_key[:-1]])
        & (np.abs(lat_o[by_key[1:]] - lat_o[by_key[:-1]]) <= SAME_PLACE_DEG)
        & (np.abs(lon_o[by_key[1:]] - lon_o[by_key[:-1]]) <= SAME_PLACE_DEG)
    )
    repeat = np.zeros(order.size, dtype=bool)  # of each pair, the one read later
    repeat[np.maximum(by_key[1:], by_key[:-1])[same]] = True
    order = order[~repeat]
    return None if order.size == n and (order == np.arange(n)).all() else order


def segment_order(t: NDArray, lat: NDArray | None = None, lon: NDArray | None = None) -> NDArray:
    """The order of one segment's fixes (times ``t``, all finite): reversed when written
    newest first, sorted when it steps back at most ``SWAPPED_FIX_S`` (swapped fixes), as
    written otherwise (a larger step back is a clock change: time zone, DST, a reset).
    Given their places, swapped fixes are sorted only when that shortens the way: a 1 min
    log's fix stamped 5 s before the fix before it lies on the way in file order, and
    sorted, the track ran back and forth 3 km (``repaired_times`` re-times it instead)."""
    step = np.diff(t)
    if step.size and (step < 0).any():
        if (step <= 0).all():
            return np.arange(t.size)[::-1]
        if step.min() >= -SWAPPED_FIX_S:
            order = np.argsort(t, kind="stable")
            if lat is None or lon is None or _way_m(lat[order], lon[order]) <= _way_m(lat, lon):
                return order
    return np.arange(t.size)


def _way_m(lat: NDArray, lon: NDArray) -> float:
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def copies_merged(track: TrackArrays, parts: list[NDArray]) -> list[NDArray]:
    """``parts`` (index arrays, one per segment) where those that are copies of each other
    in part are joined into one, in time order; the others as they are. Two segments are
    copies when, over the time both have fixes, at least half the fixes of the one with
    fewer there are fixes of the other (the same time and place; a thinned copy has fewer),
    and they are never in two places at one instant: two trucks parked side by side share
    a fix now and then (or every fix, from the same Wi-Fi position), then drive apart, and
    must not be woven into one log."""
    if len(parts) < 2:
        return parts
    segment = np.concatenate([np.full(p.size, k) for k, p in enumerate(parts)])
    index = np.concatenate(parts)
    t, lat, lon = track.t[index], track.lat[index], track.lon[index]
    by_key = np.lexsort((lon, lat, t))
    same = (
        (t[by_key[1:]] == t[by_key[:-1]])
        & (np.abs(lat[by_key[1:]] - lat[by_key[:-1]]) <= SAME_PLACE_DEG)
        & (np.abs(lon[by_key[1:]] - lon[by_key[:-1]]) <= SAME_PLACE_DEG)
    )
    a, b = segment[by_key[:-1]][same], segment[by_key[1:]][same]
    pairs, shared = np.unique(
        np.column_stack((np.minimum(a, b), np.maximum(a, b)))[a != b], axis=0, return_counts=True
    )
    copies = [
        (int(x), int(y))
        for (x, y), count in zip(pairs.tolist(), shared.tolist(), strict=True)
        if count >= 0.5 * min(_fixes_while_both(track, parts[x], parts[y]))
        and count >= np.intersect1d(track.t[parts[x]], track.t[parts[y]]).size
    ]
    if not copies:
        return parts
    root = list(range(len(parts)))

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    for x, y in copies:
        rx, ry = find(x), find(y)
        root[max(rx, ry)] = min(rx, ry)
    groups: dict[int, list[int]] = {}
    for k in range(len(parts)):
        groups.setdefault(find(k), []).append(k)
    out = []
    for members in groups.values():  # in the order of their first segments
        joined = np.concatenate([parts[k] for k in members])
        out.append(
            joined if len(members) == 1 else joined[np.argsort(track.t[joined], kind="stable")]
        )
    return out


def _fixes_while_both(track: TrackArrays, a: NDArray, b: NDArray) -> tuple[int, int]:
    """How many fixes each of two segments has while both have (their common time span)."""
    ta, tb = track.t[a], track.t[b]
    lo, hi = max(ta.min(), tb.min()), min(ta.max(), tb.max())
    return (
        int(np.count_nonzero((ta >= lo) & (ta <= hi))),
        int(np.count_nonzero((tb >= lo) & (tb <= hi))),
    )


def _same_fix(track: TrackArrays, a: slice | NDArray, b: slice | NDArray) -> NDArray:
    """Are fixes ``a`` and ``b`` the same (time, and place within ``SAME_PLACE_DEG``)?"""
    return (
        (track.t[a] == track.t[b])
        & (np.abs(track.lat[a] - track.lat[b]) <= SAME_PLACE_DEG)
        & (np.abs(track.lon[a] - track.lon[b]) <= SAME_PLACE_DEG)
    )


def split_on_time_gaps(t: NDArray, max_gap_s: float) -> list[NDArray]:
    """Index runs of a track cut wherever consecutive times are more than ``max_gap_s``
    apart (an untimed fix never cuts; like ``split_on_gaps`` on columns)."""
    n = t.size
    if n == 0:
        return []
    timed = np.isfinite(t)
    idx = np.flatnonzero(timed)
    cut_after = idx[:-1][np.diff(t[idx]) > max_gap_s]
    # the cut falls just before the next timed fix
    next_timed = idx[np.searchsorted(idx, cut_after, side="right")]
    return [piece for piece in np.split(np.arange(n), next_timed) if piece.size]


NO_MOVEMENT_M = 50.0  # a log measured shorter than this never left one spot (GPS jitter)


def no_movement(stats: TripStats) -> bool:
    """The log never left one spot: two fixes 0 m apart, or a parked phone's jitter (an
    hour of it measures a few metres once smoothed). Not a trip."""
    return stats.distance_m < NO_MOVEMENT_M
