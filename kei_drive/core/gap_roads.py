"""A gap in recording measured along the road instead of in a straight line.

A trip's distance counts a gap in recording (screen locked, tunnel) as the straight line
between the fixes before and after it: a lower bound, short by whatever the road winds or
turns meanwhile (a corner of a street grid: ~30 %). Where a routing engine is installed
(``routing.gap_roads``), the shortest road between those two fixes is measured; it replaces
the straight line when the truck was driven during the gap (as its moving time counts it)
and the road could have been driven in the gap's time at the engine's road speeds (with
slack), so a stop is never bridged by a phantom drive, nor a gap by a road nobody could
have driven in it.
The shortest road is still a lower bound of what was driven (a careful driver measuring
the gap on a map would do the same), and it is never shorter than the straight line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from kei_drive.core.times import iso_z, parse_iso
from kei_drive.core.track import DEFAULT_CONFIG
from kei_drive.core.trips import Gap, TrackAnalysis, TripStats

# The road must be drivable in the gap: the engine's time for it (legal speeds, turn costs)
# at most this many times the gap's duration, plus a grace for short gaps (a driver a third
# faster than the engine's estimate, a light that the engine's turn costs overstate).
ROAD_TIME_SLACK = 1.5
ROAD_TIME_GRACE_S = 30.0
# A sparse log's step: its road at most this much faster than the truck's pace around it
# (``step_roads``); a neighbour's road paces it when under STEP_PLAUSIBLE_SLACK its own
STEP_PACE_SLACK = 1.3
STEP_PLAUSIBLE_SLACK = 1.5
STEP_PACE_STEPS = 2
STEP_MAX_MEDIAN_SNAP_M = 16.0  # fixes typically farther off their roads: lines (``step_roads``)
STEP_MAX_SNAP_M = 40.0
STEP_MAX_ROAD_RATIO = 2.5  # ...and at most this much longer than its own line
STEP_MIN_ROAD_SHARE = 0.8  # ...and not this much shorter (its ends snapped elsewhere)

GapKey = tuple[str | None, str | None]


def gap_key(gap: Gap | Mapping[str, Any]) -> GapKey:
    """A gap's identity across recomputed statistics: its start and end (ISO 8601, to the
    millisecond: a fix's time read back from the database may differ from the file's in
    the last microsecond)."""
    if isinstance(gap, Gap):
        return (_to_ms(gap.start), _to_ms(gap.end))
    return (_to_ms(parse_iso(gap.get("start"))), _to_ms(parse_iso(gap.get("end"))))


def _to_ms(value: datetime | None) -> str | None:
    if value is None:
        return None
    return iso_z(value + timedelta(microseconds=500 - (value.microsecond + 500) % 1000))


def driven_across(gap: Gap | Mapping[str, Any]) -> bool:
    """Was the truck driven across the gap, as its moving time counts it: the straight line
    over ``stationary_radius_m`` and at ``stop_speed_mps`` or more? A stop with the screen
    locked is not: the fix after it may have wandered tens of metres, and a road between
    the two would be a phantom drive."""
    metres, seconds = _line(gap)
    cfg = DEFAULT_CONFIG
    return metres > cfg.stationary_radius_m and metres >= cfg.stop_speed_mps * seconds


def counts_distance(gap: Gap | Mapping[str, Any]) -> bool:
    """Does the gap's line count as distance: driven across, or longer than a parked phone's
    fix wanders (``gap_drift_max_m``: 562 m in 20 min was travelled, however slowly)? A
    parked phone's drift of 0.03-0.25 m/s across gaps made a log that never left 34 m a
    177 m "trip" averaging 25 mph."""
    return driven_across(gap) or _line(gap)[0] > DEFAULT_CONFIG.gap_drift_max_m


def _line(gap: Gap | Mapping[str, Any]) -> tuple[float, float]:
    """The gap's straight line (m) and duration (s), from a ``Gap`` or its stored dict."""
    if isinstance(gap, Gap):
        return gap.distance_m, gap.duration_s
    return float(gap.get("distance_m") or 0.0), float(gap.get("duration_s") or 0.0)


def drivable_road_m(gap: Gap, road_m: float, road_s: float, snapped_m: float = 0.0) -> float | None:
    """The length to count for ``gap`` given the shortest road between its fixes
    (``road_m`` long, ``road_s`` at the engine's speeds, its ends up to ``snapped_m`` from
    the fixes: over ``STEP_MAX_SNAP_M``, not the fixes' road); None keeps the straight line,
    as does, in a sparse log (``Gap.sparse_log``), a road over ``STEP_MAX_ROAD_RATIO`` times
    the line. (In a dense log one-way streets can make it that long: a real 1.8 km loop
    between fixes 136 m apart.)

    A sparse log's step is judged by ``step_roads`` instead."""
    if not driven_across(gap) or not (road_m >= 0 and road_s >= 0):
        return None
    if snapped_m > STEP_MAX_SNAP_M:
        return None  # not the fixes' road
    if gap.sparse_log and road_m > STEP_MAX_ROAD_RATIO * gap.distance_m:
        return None  # a detour from a sparse log's fix (16 m from an interstate's ramp, no
        # other road near: 4.4 km round the junctions across a 414 m delivery stop, which
        # the truck stood most of, so its time did not tell)
    if road_s > ROAD_TIME_SLACK * gap.duration_s + ROAD_TIME_GRACE_S:
        return None  # nobody drove that road in the gap's time
    return max(road_m, gap.distance_m)  # the road ends snap to edges: never under the line


def step_roads(
    steps: Sequence[Gap], found: Mapping[GapKey, tuple[float, float]]
) -> dict[GapKey, float]:
    """The length to count for each of a sparse log's ``steps`` (in order) given the
    shortest road between its fixes and how far its ends lie from them (``found``, by
    ``gap_key``: metres, metres).

    Where the fixes lie typically over ``STEP_MAX_MEDIAN_SNAP_M`` off the roads the engine
    starts and ends at (GPS error of 30-40 m), every step keeps its line: such fixes land on
    parallel streets, and the road between two of them is a detour (an outside check: at
    40 m of error every 30 s, 32 of 72 drives came out over 3 points further off by road).
    So does a step whose ends lie over ``STEP_MAX_SNAP_M`` off.

    A step is judged by the truck's own pace around it, not by the engine's time: the
    engine's shortest road through a town takes longer than a truck keeping 40 mph on the
    main road did (1.6 km in 90 s read 176 s). The pace is the fastest of the step's and
    its neighbours' counted lengths over their times (``Gap.pace_mps``) and of the roads
    of the neighbouring steps (``STEP_PACE_STEPS`` either side) that are not faster than
    their own such pace by ``STEP_PLAUSIBLE_SLACK`` (50 %): a road faster than the pace by
    ``STEP_PACE_SLACK`` (30 %) is a detour the truck did not drive (a 120 s step of a 25 mph
    drive bridged by 4.4 km of interstate),
    and a street grid's steps, each cutting a corner, are paced by their neighbours' roads,
    not by their own shortened lines."""
    snaps = [snap for _road, snap in found.values()]
    if not snaps or float(np.median(snaps)) > STEP_MAX_MEDIAN_SNAP_M:
        return {}
    roads = {key: road for key, (road, snap) in found.items() if snap <= STEP_MAX_SNAP_M}
    speeds: list[float | None] = []
    for step in steps:
        road = roads.get(gap_key(step))
        ok = road is not None and _fits_line(step, road) and driven_across(step)
        loose = ok and road <= STEP_PLAUSIBLE_SLACK * (step.pace_mps or 0.0) * step.duration_s
        speeds.append(road / step.duration_s if loose else None)
    out: dict[GapKey, float] = {}
    for i, step in enumerate(steps):
        road = roads.get(gap_key(step))
        if road is None or speeds[i] is None:
            continue
        near = [
            speeds[j]
            for j in range(max(i - STEP_PACE_STEPS, 0), min(i + STEP_PACE_STEPS + 1, len(steps)))
            if j != i and speeds[j] is not None and _adjacent(steps, i, j)
        ]
        pace = max([step.pace_mps or 0.0, *near])
        if road <= STEP_PACE_SLACK * pace * step.duration_s:
            out[gap_key(step)] = max(road, step.distance_m)
    return out


def _fits_line(step: Gap, road: float) -> bool:
    """Is ``road`` a road between the step's fixes at all: no shorter than
    ``STEP_MIN_ROAD_SHARE`` of the length counted for it (both ends snapped to one spot),
    nor longer than ``STEP_MAX_ROAD_RATIO`` times it (a detour round a block, or onto a
    parallel street from a fix 30-40 m off; a corner's line is 30 % short, and a road that
    doubles back between two fixes keeps its line)."""
    counted = step.distance_m
    return STEP_MIN_ROAD_SHARE * counted <= road <= STEP_MAX_ROAD_RATIO * counted


def _adjacent(steps: Sequence[Gap], i: int, j: int) -> bool:
    """Are steps ``i`` and ``j`` of one run of consecutive steps (no other step between)?"""
    a, b = min(i, j), max(i, j)
    return all(steps[k].end == steps[k + 1].start for k in range(a, b))


def with_roads_across_gaps(stats: TripStats, roads: Mapping[GapKey, float]) -> TripStats:
    """``stats`` with each gap and sparse step (``TripStats.to_measure``) found in ``roads``
    counted along its road: the distance and the average moving speed grow by the road's
    length over the length counted before (a gap's straight line, a step's length)."""
    gaps, extra = _measured(stats.gaps, roads)
    steps, extra_steps = _measured(stats.road_steps, roads)
    extra += extra_steps
    if not extra and all(g.road_m is None for g in (*gaps, *steps)):
        return stats
    avg = stats.avg_moving_speed_mps
    if avg is not None and stats.moving_s:
        avg += extra / stats.moving_s  # gaps and steps are timed: their length is in it
    top = stats.max_speed_mps
    if top is not None and avg is not None:
        # a top speed is never under the average the roads raised; a sparse log's (the lower
        # of its lines over three fixes) is at least what two measured steps in a row held
        # along the road (three fixes, as before)
        top = max(top, avg, _held_over_two_steps(steps))
    over = stats.over_cap_s
    if over is not None and stats.cap_mps is not None:
        # the time above the cap agrees with that top speed: the steps held over it along
        # the road count, those the positions counted already once
        steps, more = _over_cap_along_road(steps, stats.cap_mps)
        over += more
    return replace(
        stats,
        distance_m=stats.distance_m + extra,
        avg_moving_speed_mps=avg,
        max_speed_mps=top,
        over_cap_s=over,
        gaps=tuple(gaps),
        road_steps=tuple(steps),
    )


def _held_over_two_steps(steps: Sequence[Gap]) -> float:
    """The fastest speed along the road two consecutive measured steps both held (0: none)."""
    return max((held for _i, held in _held_by_pairs(steps)), default=0.0)


def _over_cap_along_road(steps: list[Gap], cap_mps: float) -> tuple[list[Gap], float]:
    """``steps`` with those that held over ``cap_mps`` along the road together with a step
    next to them (held over three fixes, as the top speed is) marked ``over_cap``, and the
    time of those not marked before (so measuring again adds nothing)."""
    over = [False] * len(steps)
    for i, held in _held_by_pairs(steps):
        if held > cap_mps:
            over[i] = over[i + 1] = True
    added = sum(
        step.duration_s
        for step, is_over in zip(steps, over, strict=True)
        if is_over and not step.over_cap
    )
    marked = [
        replace(step, over_cap=True) if is_over else step
        for step, is_over in zip(steps, over, strict=True)
    ]
    return marked, added


def _held_by_pairs(steps: Sequence[Gap]) -> Iterator[tuple[int, float]]:
    """(i, the speed steps i and i + 1 both held along the road) for consecutive measured
    steps."""
    for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False)):
        if a.road_m is None or b.road_m is None or a.end != b.start:
            continue
        if a.duration_s > 0 and b.duration_s > 0:
            yield i, min(a.road_m / a.duration_s, b.road_m / b.duration_s)


def _measured(items: Sequence[Gap], roads: Mapping[GapKey, float]) -> tuple[list[Gap], float]:
    """``items`` with the roads found for them, and the length they add to the trip."""
    out: list[Gap] = []
    extra = 0.0
    for gap in items:
        road = roads.get(gap_key(gap))
        if road is not None and gap.road_m is None and driven_across(gap):
            extra += road - gap.distance_m
            gap = replace(gap, road_m=road)
        out.append(gap)
    return out, extra


def stored_roads(stats: Mapping[str, Any] | None) -> dict[GapKey, float]:
    """The road lengths across gaps and sparse steps kept with a trip's stored statistics."""
    kept: list[Mapping[str, Any]] = [
        *((stats or {}).get("gaps") or []),
        *((stats or {}).get("road_steps") or []),
    ]
    return {gap_key(g): float(g["road_m"]) for g in kept if g.get("road_m") is not None}


def shown_along_road(
    analysis: TrackAnalysis, t: np.ndarray, stats: Mapping[str, Any] | None
) -> TrackAnalysis:
    """``analysis`` with the speeds and over-cap flags a map and chart draw raised where a
    sparse log's steps were measured along the road (``stats["road_steps"]``): the three
    fixes of two measured steps in a row show what both held along the road, as the top
    speed and the time above the cap count it, never above that top speed. A 60 s log of
    I 95 charted 34.7 mph beside a top speed of 52 mph and 2 min above the cap, with no
    stretch above the cap on its map. ``t``: the fixes' times (epoch seconds)."""
    steps = [s for s in (stats or {}).get("road_steps") or [] if s.get("road_m") is not None]
    if len(steps) < 2 or t.size < 3:
        return analysis
    bounds = [(parse_iso(s.get("start")), parse_iso(s.get("end"))) for s in steps]
    speed, over = analysis.speed_mps.copy(), analysis.over_cap.copy()
    top = (stats or {}).get("max_speed_mps")
    cap = (stats or {}).get("cap_mps")
    for k in range(len(steps) - 1):
        (a_start, a_end), (b_start, b_end) = bounds[k], bounds[k + 1]
        if None in (a_start, a_end, b_end) or a_end != b_start:
            continue  # not two steps in a row
        durations = (float(steps[k]["duration_s"]), float(steps[k + 1]["duration_s"]))
        if min(durations) <= 0:
            continue
        held = min(float(steps[k + j]["road_m"]) / durations[j] for j in (0, 1))
        fixes = _fixes_at(t, [a_start.timestamp(), a_end.timestamp(), b_end.timestamp()])  # type: ignore[union-attr]
        if fixes is None:
            continue
        speed[fixes] = np.fmax(speed[fixes], held)
        if cap is not None and held > cap:
            over[fixes] = True
    if top is not None:
        speed = np.minimum(speed, top)
    return replace(analysis, speed_mps=speed, over_cap=over)


def _fixes_at(t: np.ndarray, times: list[float], within_s: float = 0.5) -> np.ndarray | None:
    """The indices of the fixes stamped at ``times`` (None when one has none)."""
    at = np.clip(np.searchsorted(t, times), 1, t.size - 1)
    nearer = np.where(np.abs(t[at - 1] - times) <= np.abs(t[at] - times), at - 1, at)
    return nearer if np.all(np.abs(t[nearer] - times) <= within_s) else None
