"""Highway on the road across a gap in recording: the GPS lost its signal (or the phone slept)
for kilometres, so the matcher never saw that stretch; the shortest road between the fixes
either side (the one trip statistics count, ``routing.gap_roads``) may run along an
interstate. Such a stretch is pointed out (``PossibleHighway``), not counted: nobody knows the
way the truck took. A gap the engine finds no road across stays unknown.

A sparse log's long steps (a tracker's fix every 2 min, kilometres apart) are matched, but the
fastest road between their fixes is checked the same way (``step_highways``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from kei_drive.core.audit import highway_classes
from kei_drive.core.distance import cumulative_m, haversine_m
from kei_drive.core.gap_roads import STEP_PACE_SLACK
from kei_drive.core.track import TrackArrays
from kei_drive.core.track_pieces import TrackPieces
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.base import NoRouteError, Router, RouterUnavailableError, RoutingError
from kei_drive.routing.gap_roads import (
    HEADING_TOLERANCE_DEG,
    MAX_GAPS_ROUTED,
    SNAP_RADIUS_M,
)
from kei_drive.routing.lanes import LANES, in_lanes
from kei_drive.routing.planner import edges_from_trace
from kei_drive.routing.polyline import decode_array
from kei_drive.routing.possible_highway import PossibleHighway

HEADING_MIN_STEP_M = 10.0  # a step shorter than this says nothing of the truck's heading
# A road between a sparse log's two fixes the truck could not have driven in the time between
# them (on average faster than this, 90 mph) was not its road.
STEP_MAX_SPEED_MPS = 40.0
ROUTE_MIN_LINE_RATIO = 0.8  # a shorter route than this times the line is not between them
# A sparse log with more steps to check than this reads unknown beyond them (~50 h of a 60 s
# logger at 13 m/s): each is one or two routes and a trace, ~4.7 ms a step on two lanes of the
# in-process engine (bench/bench_sparse_check.py), ~14 s in all, as long as 2,000 took one by
# one before; one by one (a Valhalla server, one core, or ``lanes=1``), ~1.5 times that. The
# cap does not follow the lanes, so a log reads the same on every machine.
MAX_STEPS_CHECKED = 3_000
# Steps asked one by one below this many (an engine of its own costs its start-up).
LANE_MIN_STEPS = 200


@dataclass
class GapRoads:
    """What the engine says of a track's gaps in recording over ``min_m``."""

    possible: list[PossibleHighway] = field(default_factory=list)  # highway on the road
    unknown: int = 0  # gaps it found no road across (or was not asked about)


def _heading(track: TrackArrays, a: int, b: int) -> float | None:
    """Compass bearing from fix ``a`` to ``b`` (None when they are too close to tell)."""
    lat0, lon0, lat1, lon1 = (
        float(v) for v in (track.lat[a], track.lon[a], track.lat[b], track.lon[b])
    )
    if haversine_m(lat0, lon0, lat1, lon1) < HEADING_MIN_STEP_M:
        return None
    east = (lon1 - lon0) * math.cos(math.radians(lat0))
    return math.degrees(math.atan2(east, lat1 - lat0)) % 360.0


def _location(track: TrackArrays, at: int, heading: float | None) -> dict[str, Any]:
    location: dict[str, Any] = {"lat": float(track.lat[at]), "lon": float(track.lon[at])}
    if heading is not None:  # on the carriageway the truck was driving, not the other one
        location |= {
            "heading": round(heading, 1),
            "heading_tolerance": HEADING_TOLERANCE_DEG,
            "radius": SNAP_RADIUS_M,
        }
    return location


def _road_across(router: Router, track: TrackArrays, before: Any, after: Any) -> dict[str, Any]:
    """The shortest car route from the last fix of ``before`` to the first of ``after`` (index
    arrays of two pieces of the cut), leaving and reaching them the way the truck moved."""
    a, b = int(before[-1]), int(after[0])
    heading_in = _heading(track, int(before[-2]), a) if before.size > 1 else None
    heading_out = _heading(track, b, int(after[1])) if after.size > 1 else None
    return _route(router, track, (a, heading_in), (b, heading_out), shortest=True)


def _route(
    router: Router,
    track: TrackArrays,
    start: tuple[int, float | None],
    end: tuple[int, float | None],
    *,
    shortest: bool,
) -> dict[str, Any]:
    """A car route between two fixes (index, heading or None), shortest or fastest."""
    options = {"auto": {"shortest": True}} if shortest else {}
    return router.route(
        {
            "locations": [_location(track, *start), _location(track, *end)],
            "costing": "auto",
            "costing_options": options,
            "units": "kilometers",
            "directions_type": "none",
        }
    )


def _road_attributes(router: Router, encoded: str, length_m: float) -> dict[str, Any]:
    """The engine's roads along its own route (``length_m`` long): walked edge by edge, or
    (a route the walk cannot follow: one that turns round on an edge) matched to its shape,
    whose vertices can be kilometres apart on a straight road."""
    request = kc.edge_walk_request(encoded)
    try:
        return router.trace_attributes(request)
    except NoRouteError:
        options = {"breakage_distance": max(kc.MATCH_BREAKAGE_M, length_m + 1000.0)}
        return router.trace_attributes(
            request | {"shape_match": "walk_or_snap", "trace_options": options}
        )


def _highway_stretches(
    router: Router, answer: dict[str, Any], min_m: float, gap_s: float | None
) -> list[PossibleHighway]:
    """The motorway and trunk stretches (ramps included) of ``min_m`` or more on a route."""
    encoded = answer["trip"]["legs"][0]["shape"]
    shape = decode_array(encoded)
    length_m = float(answer["trip"]["summary"]["length"]) * 1000.0
    if length_m < min_m or len(shape) < 2:  # (both ends on one spot: a truck turning round)
        return []
    edges = edges_from_trace(_road_attributes(router, encoded, length_m))
    classes = highway_classes(edges)
    cum = cumulative_m(shape[:, 0], shape[:, 1])
    out: list[PossibleHighway] = []
    k = 0
    while k < len(edges):
        end = k + 1
        while classes[k] and end < len(edges) and classes[end] == classes[k]:
            end += 1
        if classes[k]:
            b = min(edges[k].begin_index, len(cum) - 1)
            e = min(edges[end - 1].end_index, len(cum) - 1)
            length = float(cum[e] - cum[b])
            if length >= min_m:
                names = next((x.names for x in edges[k:end] if x.names), ())
                ramp = all(x.use == "ramp" for x in edges[k:end])
                road = names[0] if names else "a ramp" if ramp else ""
                half = float(cum[b]) + length / 2
                lat, lon = (float(np.interp(half, cum, shape[:, c])) for c in (0, 1))
                out.append(PossibleHighway(length, classes[k], road, 0, None, lat, lon, gap_s))
        k = end
    return out


def gap_highways(
    router: Router, track: TrackArrays, cut: TrackPieces, min_gap_m: float, min_stretch_m: float
) -> GapRoads:
    """For each gap in recording of ``cut`` (not a jump: a glitch) over ``min_gap_m`` straight:
    the highway stretches of ``min_stretch_m`` or more on the shortest road across it.
    Raises ``RouterUnavailableError`` when the routing server does not answer."""
    found = GapRoads()
    gaps = [
        j for j, (kind, metres) in enumerate(cut.breaks) if kind == "gap" and metres > min_gap_m
    ]
    for number, j in enumerate(gaps):
        before, after = cut.pieces[j], cut.pieces[j + 1]
        if number >= MAX_GAPS_ROUTED:
            found.unknown += len(gaps) - number
            break
        gap_s = float(track.t[int(after[0])] - track.t[int(before[-1])])
        try:
            answer = _road_across(router, track, before, after)
            found.possible += _highway_stretches(
                router, answer, min_stretch_m, gap_s if math.isfinite(gap_s) else None
            )
        except RouterUnavailableError:
            raise
        except (RoutingError, KeyError, IndexError, TypeError, ValueError):
            found.unknown += 1  # no road between them (or outside the tiles)
    return found


def step_highways(
    router: Router,
    track: TrackArrays,
    steps: Sequence[tuple[int, int]],
    min_stretch_m: float,
    max_speed_mps: float = STEP_MAX_SPEED_MPS,
    lanes: int = LANES,
    step_speeds: Mapping[tuple[int, int], float] | None = None,
) -> GapRoads:
    """For each step of a sparse log (``steps``: input indices of its two fixes), the highway
    stretches of ``min_stretch_m`` or more on the fastest car road between its fixes, when the
    truck could have driven that road in the step's time (a stretch continued by the next
    step's is one). The matcher follows the likeliest road between such fixes, near the
    shortest; a car between them would take the fastest, and a fix a minute cannot tell which
    the truck took. Many steps are asked on ``lanes`` engines of their own side by side (as the
    matcher's chunks: ``routing.lanes``). Raises ``RouterUnavailableError`` when the
    routing server does not answer. ``step_speeds``: a lower bound than ``max_speed_mps`` for
    some steps (a dense log's gaps: ``pace_across_gaps``)."""
    found = GapRoads()
    checked = list(steps[:MAX_STEPS_CHECKED])
    bounds = step_speeds or {}
    found.unknown = len(steps) - len(checked)

    def ask(lane: Router, step: tuple[int, int]) -> list[PossibleHighway] | None:
        return _step_stretches(lane, track, step, min_stretch_m, bounds.get(step, max_speed_mps))

    last_end = -1
    for (a, b), stretches in zip(
        checked, in_lanes(router, ask, checked, lanes, LANE_MIN_STEPS), strict=True
    ):
        if stretches is None:
            found.unknown += 1  # no road between them (or outside the tiles)
            continue
        for stretch in stretches:  # one highway over several steps in a row: one stretch
            previous = found.possible[-1] if found.possible and a == last_end else None
            if previous and _same_road(previous, stretch):
                found.possible[-1] = _longer(previous, stretch)
            else:
                found.possible.append(stretch)
            last_end = b
    return found


def _step_stretches(
    router: Router,
    track: TrackArrays,
    step: tuple[int, int],
    min_stretch_m: float,
    max_speed_mps: float,
) -> list[PossibleHighway] | None:
    """The highway stretches on the fastest road the truck could have driven between a
    step's fixes in its time ([] when none could be), or None when no road joins them."""
    a, b = step
    step_s = float(track.t[b] - track.t[a])
    heading_in = _heading(track, a - 1, a) if a > 0 else None
    heading_out = _heading(track, b, b + 1) if b + 1 < len(track) else None
    within_m = max_speed_mps * step_s if math.isfinite(step_s) else math.inf
    try:
        answer = _fastest(router, track, (a, heading_in), (b, heading_out), within_m)
        if answer is None:
            return []  # no road the truck could have driven in the step's time
        seconds = step_s if math.isfinite(step_s) else None
        return [
            replace(h, step_s=seconds)
            for h in _highway_stretches(router, answer, min_stretch_m, None)
        ]
    except RouterUnavailableError:
        raise
    except (RoutingError, KeyError, IndexError, TypeError, ValueError):
        return None


def _longer(first: PossibleHighway, then: PossibleHighway) -> PossibleHighway:
    """``first`` continued by ``then`` (the next step's stretch of the same highway)."""
    return replace(first, length_m=first.length_m + then.length_m)


def _same_road(one: PossibleHighway, other: PossibleHighway) -> bool:
    return (one.road, one.road_class) == (other.road, other.road_class)


def _fastest(
    router: Router,
    track: TrackArrays,
    start: tuple[int, float | None],
    end: tuple[int, float | None],
    within_m: float,
) -> dict[str, Any] | None:
    """The fastest car route between two fixes no longer than ``within_m``: leaving and
    reaching them the way the truck moved, or in any direction (a fix on a bend, or beside
    the other carriageway, sends the headed route round a block or an interchange). None
    when neither is that short, or is much shorter than the line between the fixes (a route
    of 0 m: both ends snapped to one spot of a road the truck drove out and back); raises
    ``RoutingError`` when no road joins them."""
    headed = start[1] is not None or end[1] is not None
    tries = [(start, end), ((start[0], None), (end[0], None))] if headed else [(start, end)]
    answers, error = [], None
    for a, b in tries:
        try:
            answers.append(_route(router, track, a, b, shortest=False))
        except RouterUnavailableError:
            raise
        except RoutingError as exc:
            error = exc
    if not answers and error is not None:
        raise error
    line_m = haversine_m(*_at(track, start[0]), *_at(track, end[0]))
    fitting = [
        x
        for x in answers
        if ROUTE_MIN_LINE_RATIO * line_m
        <= float(x["trip"]["summary"]["length"]) * 1000.0
        <= within_m
    ]
    return min(fitting, key=lambda x: float(x["trip"]["summary"]["time"]), default=None)


def _at(track: TrackArrays, i: int) -> tuple[float, float]:
    return float(track.lat[i]), float(track.lon[i])


# A dense log's gap: the road across it at most this much faster than the truck's pace around
# it (as a sparse step's road is counted: ``core.gap_roads.STEP_PACE_SLACK``), its pace being
# the fastest it covered in PACE_WINDOW_S within PACE_REACH_S of the gap, or the gap's line.
PACE_WINDOW_S = 10.0
PACE_REACH_S = 60.0


def pace_across_gaps(
    track: TrackArrays, gaps: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], float]:
    """For each gap in recording of a dense log (input indices of its two fixes), the fastest
    the truck could have driven across it: ``STEP_PACE_SLACK`` times its pace around it, at
    most ``STEP_MAX_SPEED_MPS``. A Kei drive at 12 m/s losing 92 s of signal was read
    "possibly on a highway": the fastest car road between its fixes (1,575 m, 17 m/s) ran
    along a trunk, the shortest (1,080 m) fitted its pace."""
    out: dict[tuple[int, int], float] = {}
    t = track.t
    for a, b in gaps:
        gap_s = float(t[b] - t[a])
        if not gap_s > 0:
            continue
        line = haversine_m(*_at(track, a), *_at(track, b)) / gap_s
        pace = max(line, _fastest_window(track, a, -1), _fastest_window(track, b, 1))
        out[(a, b)] = min(STEP_MAX_SPEED_MPS, STEP_PACE_SLACK * pace)
    return out


def _fastest_window(track: TrackArrays, at: int, way: int) -> float:
    """The fastest straight-line speed over ``PACE_WINDOW_S`` among the fixes within
    ``PACE_REACH_S`` before (``way`` -1) or after (+1) fix ``at`` (0 when none)."""
    t = track.t
    if way < 0:
        lo, hi = int(np.searchsorted(t, t[at] - PACE_REACH_S, side="left")), at + 1
    else:
        lo, hi = at, int(np.searchsorted(t, t[at] + PACE_REACH_S, side="right"))
    tt = t[lo:hi]
    if tt.size < 2 or not np.isfinite(tt).all():
        return 0.0
    ends = np.searchsorted(tt, tt + PACE_WINDOW_S, side="left")
    ok = ends < tt.size
    if not ok.any():
        return 0.0
    i, j = np.flatnonzero(ok) + lo, ends[ok] + lo
    seconds = t[j] - t[i]
    held = seconds >= PACE_WINDOW_S  # (stamps out of order leave some windows short)
    if not held.any():
        return 0.0
    i, j = i[held], j[held]
    metres = haversine_m(track.lat[i], track.lon[i], track.lat[j], track.lon[j])
    return float(np.max(metres / seconds[held]))
