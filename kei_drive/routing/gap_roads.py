"""The shortest road across each gap in recording of a trip, from the routing engine.

``core.gap_roads`` decides whether a road counts (drivable in the gap's time) and applies
it to the statistics; this asks the engine (in-process on local tiles, or a Valhalla
server) for one shortest car route a gap. Without tiles, outside them, or when the engine
finds no road, a gap keeps its straight line: the trip is still stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kei_drive.core.distance import great_circle_m
from kei_drive.core.gap_roads import GapKey, drivable_road_m, driven_across, gap_key, step_roads
from kei_drive.core.trips import Gap
from kei_drive.routing.base import Router, RouterUnavailableError, RoutingError
from kei_drive.routing.polyline import decode_array

log = logging.getLogger(__name__)

# A trip with more gaps than this (a logger that drops out every minute) keeps straight
# lines for the rest: each is one route request (a few milliseconds on local tiles).
MAX_GAPS_ROUTED = 100
# ...and a sparse log's steps (``core.trips.ROAD_STEP_LOG_S``): 12 h of a 60 s tracker
MAX_STEPS_ROUTED = 720
HEADING_TOLERANCE_DEG = 45.0  # a road leaving a fix this far off the truck's direction is not it
# A fix is on one of the roads this close to it (GPS error): the one going the truck's way,
# not a service road a few metres nearer (a toll plaza beside an interstate).
SNAP_RADIUS_M = 30
# ...and never one farther than this: without a cutoff the engine takes the nearest road
# however far (a fix outside the tiles was joined to a road 3.4 km away)
SNAP_CUTOFF_M = 100


def gap_route_request(gap: Gap, headings: bool = True) -> dict[str, Any]:
    """The shortest car route between a gap's two fixes (length and time, no directions),
    leaving and reaching them in the directions the truck moved (so a fix on a divided road
    is on its own carriageway, not the other one and a U-turn away), ``headings`` False:
    in any direction. Every road within ``SNAP_RADIUS_M`` of a fix may be the truck's (not
    only the nearest: a fix 16 m from an interstate's ramp was routed 4.4 km round the
    junctions from it); roads over ``SNAP_CUTOFF_M`` from it are not taken."""
    lat0, lon0, lat1, lon1 = gap.ends or (0.0, 0.0, 0.0, 0.0)
    locations: list[dict[str, float]] = [
        {"lat": lat, "lon": lon, "radius": SNAP_RADIUS_M, "search_cutoff": SNAP_CUTOFF_M}
        for lat, lon in ((lat0, lon0), (lat1, lon1))
    ]
    for location, heading in zip(locations, gap.headings, strict=True):
        if headings and heading is not None:  # of those roads, the ones going that way
            location |= {"heading": round(heading, 1), "heading_tolerance": HEADING_TOLERANCE_DEG}
    return {
        "locations": locations,
        "costing": "auto",
        "costing_options": {"auto": {"shortest": True}},
        "units": "kilometers",
        "directions_type": "none",
    }


def roads_across_gaps(gaps: Sequence[Gap], router: Router | None = None) -> dict[GapKey, float]:
    """The length to count for each gap (or sparse step: ``Gap.step``) the engine bridges by
    a drivable road (by ``gap_key``); those missing from the answer keep their length."""
    todo = [g for g in gaps if g.ends is not None and g.road_m is None and driven_across(g)]
    todo = [g for g in todo if not g.step][:MAX_GAPS_ROUTED] + [g for g in todo if g.step][
        :MAX_STEPS_ROUTED
    ]
    if not todo:
        return {}
    if router is None:
        from kei_drive.routing import get_router

        try:
            router = get_router()
        except RoutingError:  # no tiles installed: straight lines, as before
            return {}
        except Exception:  # noqa: BLE001 - a trip is stored whatever the engine does
            log.exception("routing engine unavailable: gaps keep their straight lines")
            return {}
    out: dict[GapKey, float] = {}
    steps: dict[GapKey, tuple[float, float]] = {}  # judged together (``step_roads``)
    for gap in todo:
        try:
            road = _shortest_road(router, gap)
        except RouterUnavailableError:
            break  # a server that does not answer: the rest would wait for it too
        except Exception:  # noqa: BLE001 - e.g. tiles rebuilt meanwhile: keep the trip
            log.exception("gap route failed: the gap keeps its straight line")
            break
        if road is None:
            continue  # no road between them (or outside the tiles): the straight line
        if gap.step:
            steps[gap_key(gap)] = (road[0], road[2])
            continue
        length = drivable_road_m(gap, *road)
        if length is not None:
            out[gap_key(gap)] = length
    return out | step_roads([g for g in todo if g.step], steps)


def _shortest_road(router: Router, gap: Gap) -> tuple[float, float, float] | None:
    """(metres, seconds, the farther fix's distance from where the road starts or ends) of
    the shortest road across ``gap``, None when there is none. It is routed in the
    directions of travel and in any direction, and the shorter road kept: a sparse log's
    directions are lines from fix to fix, up to 90 degrees off the road at a bend (a 219 m
    step at a corner was routed 1,450 m round the block), and a truck that turned round in
    a gap (a delivery stop) left it the other way (a 414 m gap was routed 4.4 km round an
    interstate's junctions)."""
    found = []
    for headings in (True, False):
        try:
            trip = router.route(gap_route_request(gap, headings))["trip"]
            summary = trip["summary"]
            found.append(
                (
                    float(summary["length"]) * 1000.0,
                    float(summary["time"]),
                    _snapped_m(gap, trip),
                )
            )
        except RouterUnavailableError:
            raise
        except (RoutingError, KeyError, TypeError, ValueError):
            continue
    return min(found) if found else None


def _snapped_m(gap: Gap, trip: dict[str, Any]) -> float:
    """How far the road's ends lie from the fixes (the farther end; 0 when unknown)."""
    legs = trip.get("legs") or []
    shape = decode_array(legs[0].get("shape", "")) if legs else None
    if shape is None or len(shape) < 1 or gap.ends is None:
        return 0.0
    lat0, lon0, lat1, lon1 = gap.ends
    first, last = shape[0], shape[-1]
    return max(
        great_circle_m(lat0, lon0, float(first[0]), float(first[1])),
        great_circle_m(lat1, lon1, float(last[0]), float(last[1])),
    )
