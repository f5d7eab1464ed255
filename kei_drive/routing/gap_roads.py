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

from kei_drive.core.gap_roads import GapKey, drivable_road_m, driven_across, gap_key, step_roads
from kei_drive.core.trips import Gap
from kei_drive.routing.base import Router, RouterUnavailableError, RoutingError

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


def gap_route_request(gap: Gap) -> dict[str, Any]:
    """The shortest car route between a gap's two fixes (length and time, no directions),
    leaving and reaching them in the directions the truck moved (so a fix on a divided road
    is on its own carriageway, not the other one and a U-turn away)."""
    lat0, lon0, lat1, lon1 = gap.ends or (0.0, 0.0, 0.0, 0.0)
    locations: list[dict[str, float]] = [{"lat": lat0, "lon": lon0}, {"lat": lat1, "lon": lon1}]
    for location, heading in zip(locations, gap.headings, strict=True):
        if heading is not None:  # roads within the radius going that way, not just the nearest
            location |= {
                "heading": round(heading, 1),
                "heading_tolerance": HEADING_TOLERANCE_DEG,
                "radius": SNAP_RADIUS_M,
            }
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
    steps: dict[GapKey, float] = {}  # a sparse log's steps: judged together (``step_roads``)
    for gap in todo:
        try:
            answer = router.route(gap_route_request(gap))
            summary = answer["trip"]["summary"]
            road_m, road_s = float(summary["length"]) * 1000.0, float(summary["time"])
        except RouterUnavailableError:
            break  # a server that does not answer: the rest would wait for it too
        except (RoutingError, KeyError, TypeError, ValueError):
            continue  # no road between them (or outside the tiles): the straight line
        except Exception:  # noqa: BLE001 - e.g. tiles rebuilt meanwhile: keep the trip
            log.exception("gap route failed: the gap keeps its straight line")
            break
        if gap.step:
            steps[gap_key(gap)] = road_m
            continue
        length = drivable_road_m(gap, road_m, road_s)
        if length is not None:
            out[gap_key(gap)] = length
    return out | step_roads([g for g in todo if g.step], steps)
