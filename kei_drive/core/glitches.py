"""What a careful reader of a GPS log sets aside before measuring it: wrong time stamps
re-timed or given (``repaired_times``, ``ends_restamped``, ``filled_times``,
``dequantised_times``, ``coarse_times_spread``), glitches dropped (``drop_glitches``), and
the jumps and gaps that cut a log (``steps_and_jumps``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import great_circle_m, haversine_m
from kei_drive.core.time_order import SWAPPED_FIX_S, spread_repeated_times
from kei_drive.core.track import DEFAULT_CONFIG, StatsConfig, TrackArrays
from kei_drive.core.track_noise import position_noise_m


def steps_and_jumps(arr: TrackArrays, cfg: StatsConfig) -> tuple[NDArray, NDArray, NDArray]:
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


def typical_step_s(arr: TrackArrays, dt: NDArray) -> float:
    """The log's rhythm: the median time between its fixes (0 when untimed). A 2 Hz logger's
    whole-second stamps are spread first: its steps of 0 s and 1 s are 0.5 s."""
    timed = np.isfinite(dt)
    if not timed.any():
        return 0.0
    steps = np.diff(spread_repeated_times(arr.t)) if timed.all() else dt[timed]
    return float(np.median(steps))


def gap_threshold_s(typical_s: float, cfg: StatsConfig) -> float:
    """A longer time step is a gap in recording, not the log's rhythm."""
    return max(cfg.gap_min_s, 5.0 * typical_s)


def with_noise_slack(arr: TrackArrays) -> TrackArrays:
    """The track with each fix's accuracy at least three times the typical noise, for the
    jump tests only (noise of a fix that reports no accuracy must not look like a jump)."""
    if len(arr) < 5:
        return arr
    return replace(arr, accuracy=np.fmax(arr.accuracy, 3.0 * position_noise_m(arr)))


COARSE_STAMP_S = 60.0  # stamps to the minute (or coarser) shared by most fixes


def coarse_times_spread(arr: TrackArrays) -> TrackArrays:
    """The track with stamps coarser than its fixes read as a careful reader would: a log
    whose stamps are whole minutes, most fixes sharing one, has each minute's fixes spread
    evenly over it (the last minute's at the pace of the one before); a log whose fixes all
    share one stamp (a date alone) is untimed. Read as written, every step of 0 s was a jump:
    a 9 mi drive stamped to the minute was refused as "no movement"."""
    t = arr.t
    n = t.size
    if n < 3 or not np.isfinite(t).all() or (t % COARSE_STAMP_S != 0).any():
        return arr
    dt = np.diff(t)
    if (dt < 0).any() or np.mean(dt == 0) <= 0.5:
        return arr
    first = np.flatnonzero(np.concatenate(([True], dt != 0)))
    if first.size == 1:
        return replace(arr, t=np.full(n, np.nan))  # one stamp for all: no times to read
    size = np.diff(np.concatenate((first, [n])))
    group = np.repeat(np.arange(first.size), size)
    span = np.diff(t[first])
    per_fix = span / size[:-1]
    per_fix = np.concatenate((per_fix, [per_fix[-1]]))  # the last minute: the pace before
    rank = np.arange(n) - first[group]
    return replace(arr, t=t + rank * per_fix[group])


DEQUANTISE_MIN_FIXES = 20
DEQUANTISE_HALF_FIXES = 10  # each fix's time: its run's stamps over this many either side
DEQUANTISE_MAX_STEP_S = 2.0  # a longer step cuts the runs (fixes lost, not a late stamp)
# a 1 Hz log is read at its rhythm when its seconds over are this share of its seconds short
# at least (a late stamp makes one of each; at 10 % of fixes lost, arrival stamps read worse)
DEQUANTISE_MIN_BALANCE = 0.85
# a log whose stamps wander, with more seconds short of a lost fix than this share, is read
# as written (a 2 Hz log stamped on arrival losing a tenth of its fixes: 86 mph for 65 read
# at its rhythm, 81 as written); a clock's exact whole seconds are cut at each lost fix
DEQUANTISE_MAX_LOST_SHARE = 0.06


def dequantised_times(arr: TrackArrays) -> TrackArrays:
    """The track with whole-second stamps read at the log's rhythm, in a log of one fix a
    second or more whose stamps wander by a second (a phone stamping each fix when it
    arrives, 2, 3, 3, 5, 6...; a 2 Hz logger writing whole seconds, 2, 2, 3, 3...): each
    fix's time is the rhythm's, offset by the mean of its run's stamps over
    ``DEQUANTISE_HALF_FIXES`` fixes either side. Read as written, a second's error over a
    speed's 6 s read a 1 Hz drive on I 55 at 79 mph (true 65) and a 2 Hz drive that never
    went over 43 mph 8 s above a 45 mph cap.

    A second short of fixes with no second over it nearby is a lost fix, not a late stamp:
    the runs are cut there (spread over its neighbours, a lost fix read twice as fast). A
    1 Hz log is read so only when its seconds over (two fixes that moved) balance its
    seconds short; stamps a second apart exactly, or with fractions, are left as they are."""
    t = arr.t
    n = t.size
    if n < DEQUANTISE_MIN_FIXES or not np.isfinite(t).all() or (t != np.round(t)).any():
        return arr
    dt = np.diff(t)
    close = dt <= DEQUANTISE_MAX_STEP_S
    if (dt < 0).any() or close.sum() < n // 2:
        return arr
    per_second = round(close.sum() / max(float(dt[close].sum()), 1.0))
    if per_second < 1:
        return arr  # sparser than 1 Hz
    # stamp groups: a second over holds more fixes than the rhythm's (that moved: a fix
    # written twice is no late stamp), a second short fewer or none
    first = np.flatnonzero(np.concatenate(([True], dt != 0)))
    size = np.diff(np.concatenate((first, [n])))
    moved = np.concatenate(
        ([0], np.cumsum((dt == 0) & ((np.diff(arr.lat) != 0) | (np.diff(arr.lon) != 0))))
    )
    fixes = 1 + moved[first + size - 1] - moved[first]  # fixes of each second that moved apart
    over = fixes > per_second
    short = (size < per_second) | np.concatenate(([False], np.diff(t[first]) == 2))
    if per_second == 1 and (not over.any() or over.sum() < DEQUANTISE_MIN_BALANCE * short.sum()):
        return arr  # stamped as fixes are, losing some: nothing to read at another rhythm
    near = np.convolve(over, np.ones(5, dtype=int), mode="same") > 0  # within two seconds
    lost = np.zeros(n - 1, dtype=bool)
    lost[first[1:][(short & ~near)[1:]] - 1] = True  # the step into a lone short second
    if over.any() and lost.sum() > DEQUANTISE_MAX_LOST_SHARE * first.size:
        return arr  # stamps that wander, cut so often: runs too short to read a rhythm in
    rhythm = 1.0 / per_second
    cut = ~close | lost
    # runs between cuts, each read on its own (vectorised: a log may hold many)
    run = np.concatenate(([0], np.cumsum(cut)))
    start = np.concatenate(([0], np.flatnonzero(cut) + 1))
    end = np.concatenate((start[1:], [n])) - 1
    i = np.arange(n) - start[run]  # the fix's place in its run
    offset = np.concatenate(([0.0], np.cumsum(t - t[start[run]] - rhythm * i)))
    lo = np.maximum(np.arange(n) - DEQUANTISE_HALF_FIXES, start[run])
    hi = np.minimum(np.arange(n) + DEQUANTISE_HALF_FIXES, end[run])
    mean = (offset[hi + 1] - offset[lo]) / (hi - lo + 1)
    out = t[start[run]] + rhythm * i + mean
    if (np.diff(out) <= 0).any():
        return arr  # a run's reading would reorder it: never reorder a log
    return replace(arr, t=out)


UNTIMED_FILL_MAX_SHARE = 0.5  # a log with more fixes untimed than this is read as untimed
UNTIMED_END_FIXES = 3  # untimed fixes at a log's ends given its rhythm, at most


def filled_times(arr: TrackArrays) -> TrackArrays:
    """The track with the odd fix written without a time given one, as a careful reader
    does: between timed fixes, evenly (the log's rhythm); up to ``UNTIMED_END_FIXES`` at
    either end, at the log's median step. One fix in ten untimed cost each 2 s of moving
    time and of time above the cap (a 1 Hz drive on I 55: 399 s of 499), and one untimed
    fix made a log's measured speed unused. A log mostly untimed (a drawn route) is left."""
    t = arr.t
    timed = np.isfinite(t)
    n_untimed = int(t.size - timed.sum())
    if not n_untimed or timed.sum() < 2 or n_untimed > UNTIMED_FILL_MAX_SHARE * t.size:
        return arr
    at = np.flatnonzero(timed)
    if (np.diff(t[at]) < 0).any():
        return arr  # out of order: no times between to read
    i = np.arange(t.size)
    filled = np.interp(i, at, t[at])
    first, last = int(at[0]), int(at[-1])
    rhythm = float(np.median(np.diff(t[at]) / np.diff(at)))
    filled[:first] = t[first] - rhythm * (first - i[:first])
    filled[last + 1 :] = t[last] + rhythm * (i[last + 1 :] - last)
    if first > UNTIMED_END_FIXES:
        filled[:first] = np.nan
    if t.size - 1 - last > UNTIMED_END_FIXES:
        filled[last + 1 :] = np.nan
    return replace(arr, t=filled)


REPEATED_STAMPS_MAX_SHARE = 0.1  # a log with more steps of 0 s writes whole seconds
REPEATED_END_MOVED_M = 1.0  # a repeated end stamp whose fix moved less is a fix written twice


def ends_restamped(arr: TrackArrays) -> TrackArrays:
    """The track with a stamp repeated at either end given the log's rhythm, in a log whose
    stamps are otherwise its own: a logger that stamps its first fix with the second's time
    (or its last with the one before) put a whole step into 0 s, and a 1 Hz drive at 30 mph
    read 35 mph for its first five seconds. A 2 Hz logger writing whole seconds (stamps
    2, 2, 3, 3...) repeats throughout and is left to ``dequantised_times``; a fix written
    twice (same stamp, same place) is left as it is."""
    t = arr.t
    n = t.size
    if n < 4 or not np.isfinite(t).all():
        return arr
    dt = np.diff(t)
    head = int(np.argmax(dt != 0)) if dt[0] == 0 else 0  # steps of 0 s at the start
    tail = int(np.argmax(dt[::-1] != 0)) if dt[-1] == 0 else 0
    if not (head or tail) or head + tail >= n - 2:
        return arr
    inner = dt[head : dt.size - tail]
    if np.mean(inner == 0) > REPEATED_STAMPS_MAX_SHARE or not (inner >= 0).all():
        return arr  # repeats throughout, or steps back: not this rule's
    # a fix written twice (the same place: it did not move in 0 s) is left as it is
    step_m = haversine_m(arr.lat[:-1], arr.lon[:-1], arr.lat[1:], arr.lon[1:])
    head = head if head and (step_m[:head] > REPEATED_END_MOVED_M).any() else 0
    tail = tail if tail and (step_m[dt.size - tail :] > REPEATED_END_MOVED_M).any() else 0
    if not (head or tail):
        return arr
    rhythm = float(np.median(inner))
    t = t.copy()
    t[:head] = t[head] - rhythm * np.arange(head, 0, -1)
    if tail:
        t[n - tail :] = t[n - tail - 1] + rhythm * np.arange(1, tail + 1)
    return replace(arr, t=t)


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
    slacked = with_noise_slack(arr)
    d, dt, jump = steps_and_jumps(slacked, config)
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
    gap_s = gap_threshold_s(float(np.median(forward)) if forward.size else 0.0, config)
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
    bridged = _clock_changes_bridged(
        t, d, slack, float(np.median(forward)) if forward.size else 0.0, config
    )
    return (replace(arr, t=t), repaired) if repaired or bridged else (arr, 0)


def _clock_changes_bridged(
    t: NDArray, d: NDArray, slack: NDArray, typical_s: float, cfg: StatsConfig
) -> bool:
    """Read on across each step back in time of over ``SWAPPED_FIX_S`` left after the repair
    whose fixes lie one ordinary step apart (``t`` changed in place; whether any was): the
    clock changed while the log went on (local time without a zone across the end of
    daylight saving time stepped back an hour in mid-drive: its duration read -46 min), so
    the fixes after it are read one typical step after the fix before. A step back with a
    jump (another device's log, a reset far away), or one a later step forward as large
    undoes (a run of fixes stamped early), stays, as time_order left it."""
    with np.errstate(invalid="ignore"):
        steps = np.diff(t)
        back = np.flatnonzero(steps < -SWAPPED_FIX_S)
    if not back.size:
        return False
    # the largest step forward after each step: a run of fixes stamped early whose clock
    # comes back later (a step forward as large) is no clock change; the glitch rules
    # judge it
    ahead = np.maximum.accumulate(np.nan_to_num(steps, nan=-np.inf)[::-1])[::-1]
    ahead = np.concatenate((ahead[1:], [-np.inf]))
    bridged = False
    step_s = max(typical_s, 1.0)
    for s in back.tolist():
        undone = ahead[s] >= -steps[s] - CLOCK_UNDONE_SLACK_S
        if not undone and d[s] <= cfg.max_speed_mps * step_s + slack[s]:
            t[s + 1 :] += t[s] - t[s + 1] + step_s
            bridged = True
    return bridged


CLOCK_UNDONE_SLACK_S = 60.0  # a step forward within this of the step back undoes it


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


def drop_glitches(arr: TrackArrays, cfg: StatsConfig) -> NDArray:
    """Indices (into ``arr``) of fixes that are not glitches: isolated fixes behind
    implausible jumps, runs of them (``_drop_excursions``), stale fixes repeated far from
    the track (``_stale_fixes``), then lone spikes (``_spikes``)."""
    n = len(arr)
    if n < 3:
        return np.arange(n)
    jump = steps_and_jumps(arr, cfg)[2]
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
    fix 1,000 km away stamped a day later is out of reach; one stamped earlier always is.
    (Plain floats: asked once per small piece, of which a broken log has thousands.)"""
    lat, lon = arr.lat, arr.lon
    metres = great_circle_m(float(lat[a]), float(lon[a]), float(lat[b]), float(lon[b]))
    seconds = float(arr.t[b]) - float(arr.t[a])
    if math.isnan(seconds):
        return metres <= cfg.max_untimed_jump_m
    x, y = float(arr.accuracy[a]), float(arr.accuracy[b])
    accuracy = y if math.isnan(x) else x if math.isnan(y) else max(x, y)  # as np.fmax
    slack = cfg.stationary_radius_m + (accuracy if math.isfinite(accuracy) else 0.0)
    reach = cfg.max_speed_mps * min(max(seconds, 1.0), cfg.max_bridge_s)
    return seconds >= 0 and metres <= reach + slack


def _add_reachable(
    arr: TrackArrays, first: NDArray, last: NDArray, kept: NDArray, cfg: StatsConfig
) -> None:
    """In ``kept`` (per piece), keep each small piece too that is within reach of the kept
    pieces either side: it is the drive, and only a glitch between cut it off. A sparse
    log's last five fixes after one far glitch are its last five minutes on the road; a log
    with two fixes in every seven 1,000 km off is ~140,000 pieces of 5 and 2 fixes, and its
    drive is every piece of 5 (one pass, ~0.5 s for 500,000 fixes)."""
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
# Two fixes in a row are a spike only at this speed too: a truck pulling out of a parking
# spot, round a block and parked again went over twice its parked "pace" (an outside review)
SPIKE_PAIR_MIN_MPS = 20.0


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
    slack_all = np.fmax(SPIKE_MIN_M, 2.0 * np.nan_to_num(arr.accuracy, nan=0.0))
    slack = slack_all[1:-1]
    out[1:-1] = (visit / span > SPIKE_SPEED_RATIO * np.maximum(pace, 2.0)) & (
        visit - across > slack
    )
    out[1:-1] &= ~(out[:-2] | out[2:])  # two in a row are no lone spike: judge neither
    out |= _spike_pairs(arr, step, dt, rate, slack_all)
    return out


def _fastest_near(rate: NDArray, first_step: NDArray, last_step: NDArray) -> NDArray:
    """Per entry, the fastest of the SPIKE_PACE_STEPS steps before step ``first_step`` and
    after step ``last_step`` (``rate``: step speeds padded by SPIKE_PACE_STEPS zeros)."""
    pace = np.zeros(first_step.size)
    for k in range(1, SPIKE_PACE_STEPS + 1):
        pace = np.maximum(pace, rate[SPIKE_PACE_STEPS + first_step - k])
        pace = np.maximum(pace, rate[SPIKE_PACE_STEPS + last_step + k])
    return pace


def _spike_pairs(
    arr: TrackArrays, step: NDArray, dt: NDArray, rate: NDArray, slack: NDArray
) -> NDArray:
    """Per fix: one of two fixes in a row off the line from the fix before them to the fix
    after them, each out of the truck's way, that it could only have visited at
    ``SPIKE_SPEED_RATIO`` times its speed before and after, and at ``SPIKE_PAIR_MIN_MPS`` or
    more (two fixes 500 m off a 10 s walk's log were 950 m of it)."""
    n = len(arr)
    out = np.zeros(n, dtype=bool)
    if n < 6:
        return out
    # the pairs j, j+1 (between fixes j-1 and j+2) visited at SPIKE_PAIR_MIN_MPS or more: few,
    # so the rest is worked out for them alone (a long log's memory)
    span = dt[:-2] + dt[1:-1] + dt[2:]
    j = np.flatnonzero(step[:-2] + step[1:-1] + step[2:] > SPIKE_PAIR_MIN_MPS * span) + 1
    span = span[j - 1]
    if not j.size:
        return out
    lat, lon = arr.lat, arr.lon
    across = haversine_m(lat[j - 1], lon[j - 1], lat[j + 2], lon[j + 2])
    visit = step[j - 1] + step[j] + step[j + 1]
    pace = np.maximum(across / span, _fastest_near(rate, j - 1, j + 1))
    # each of the two out of the way on its own (a lone spike beside a good fix is no pair)
    detour = np.minimum(
        step[j - 1] + haversine_m(lat[j], lon[j], lat[j + 2], lon[j + 2]),
        haversine_m(lat[j - 1], lon[j - 1], lat[j + 1], lon[j + 1]) + step[j + 1],
    )
    room = np.fmax(slack[j], slack[j + 1])
    pair = (visit / span > SPIKE_SPEED_RATIO * pace) & (detour - across > room)
    first = j[pair]
    first = first[~(np.isin(first - 1, first) | np.isin(first + 1, first))]  # pairs overlapping
    out[first] = True
    out[first + 1] = True
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
    _, dt, jump = steps_and_jumps(arr, cfg)
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
