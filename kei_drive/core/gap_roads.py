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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kei_drive.core.times import iso_z
from kei_drive.core.trips import DEFAULT_CONFIG, Gap, TripStats

# The road must be drivable in the gap: the engine's time for it (legal speeds, turn costs)
# at most this many times the gap's duration, plus a grace for short gaps (a driver a third
# faster than the engine's estimate, a light that the engine's turn costs overstate).
ROAD_TIME_SLACK = 1.5
ROAD_TIME_GRACE_S = 30.0

GapKey = tuple[str | None, str | None]


def gap_key(gap: Gap | Mapping[str, Any]) -> GapKey:
    """A gap's identity across recomputed statistics: its start and end (ISO 8601)."""
    if isinstance(gap, Gap):
        return (iso_z(gap.start), iso_z(gap.end))
    return (gap.get("start"), gap.get("end"))


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


def drivable_road_m(gap: Gap, road_m: float, road_s: float) -> float | None:
    """The length to count for ``gap`` given the shortest road between its fixes
    (``road_m`` long, ``road_s`` at the engine's speeds); None keeps the straight line."""
    if not driven_across(gap) or not (road_m >= 0 and road_s >= 0):
        return None
    if road_s > ROAD_TIME_SLACK * gap.duration_s + ROAD_TIME_GRACE_S:
        return None  # nobody drove that road in the gap's time
    return max(road_m, gap.distance_m)  # the road ends snap to edges: never under the line


def with_roads_across_gaps(stats: TripStats, roads: Mapping[GapKey, float]) -> TripStats:
    """``stats`` with each gap found in ``roads`` counted along its road: the distance and
    the average moving speed grow by the road's length over the straight line."""
    gaps: list[Gap] = []
    extra = 0.0
    for gap in stats.gaps:
        road = roads.get(gap_key(gap))
        if road is not None and gap.road_m is None and driven_across(gap):
            extra += road - gap.distance_m
            gap = replace(gap, road_m=road)
        gaps.append(gap)
    if not extra and all(g.road_m is None for g in gaps):
        return stats
    avg = stats.avg_moving_speed_mps
    if avg is not None and stats.moving_s:
        avg += extra / stats.moving_s  # the gaps are timed steps: their length is in it
    return replace(
        stats, distance_m=stats.distance_m + extra, avg_moving_speed_mps=avg, gaps=tuple(gaps)
    )


def stored_roads(stats: Mapping[str, Any] | None) -> dict[GapKey, float]:
    """The road lengths across gaps kept with a trip's stored statistics."""
    gaps: Sequence[Mapping[str, Any]] = (stats or {}).get("gaps") or []
    return {gap_key(g): float(g["road_m"]) for g in gaps if g.get("road_m") is not None}
