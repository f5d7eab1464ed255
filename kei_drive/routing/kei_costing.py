"""Valhalla request JSON for a Kei vehicle (the same JSON drives the local and HTTP engines).

Measured choices (pyvalhalla 3.9.1):
- ``auto`` + ``exclude_highways: true`` is a hard motorway ban (needs the config's
  ``allow_hard_exclusions``, written by ``kei-drive tiles build``).
- ``use_highways: 0`` adds Valhalla's highway penalty (full on motorways, half on trunks) and
  ``top_speed`` caps the speed the cost model assumes, so fast trunks lose their time advantage.
  Trunks are then avoided whenever a local alternative exists; where the planner still finds
  one it re-routes with small exclusion rings on those edges (``ring_around``).
- ``exclude_polygons`` only cuts edges that cross a ring, so a state outline blocks entering
  the state, not driving inside it: the planner treats origin/destination states separately.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kei_drive.core.units import mph_to_kmh
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH

STATE_VERTEX_BUDGET = 2000  # vertices for all banned-state rings of one request (~10 ms)
STATE_SIMPLIFY_M = 1000.0  # state outlines simplified to ~1 km for exclusion rings
RING_HALF_SIZE_M = 6.0  # exclusion ring around one edge's midpoint


@dataclass(frozen=True)
class KeiOptions:
    """What the driver asked for. Motorways are always excluded (hard)."""

    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH
    avoid_trunks: bool = True  # penalty, then re-route around any trunk left
    avoid_banned_states: bool = False  # hard, via state exclusion rings (banned or no access)
    avoid_opt_in_states: bool = False  # also avoid designated/opt-in/permit/farm-only states
    avoid_over_cap_roads: bool = True  # best effort: re-route around tagged over-cap roads
    on: date | None = None  # rules in force on this date (default today)
    extra_rings: tuple[tuple[tuple[float, float], ...], ...] = field(default=())
    # the truck's direction of travel at the origin (degrees from north; a re-route): the
    # route starts the way it is going, not behind it
    origin_heading: float | None = None


def kei_costing(options: KeiOptions, *, hard: bool = True) -> dict[str, Any]:
    """Costing options for ``auto``; ``hard=False`` drops the hard motorway ban (fallback)."""
    top_kmh = max(10, min(252, round(mph_to_kmh(options.top_speed_mph))))
    auto: dict[str, Any] = {
        "use_highways": 0.0,
        "top_speed": top_kmh,
        "use_tolls": 0.5,
        "use_ferry": 0.5,
    }
    if hard:
        auto["exclude_highways"] = True
    return {"auto": auto}


HEADING_TOLERANCE_DEG = 45  # a road this far off the truck's heading is not the one it is on


def route_request(
    origin: tuple[float, float],
    destination: tuple[float, float],
    options: KeiOptions,
    *,
    hard: bool = True,
    rings: Sequence[Sequence[tuple[float, float]]] = (),
) -> dict[str, Any]:
    """A Valhalla /route request. ``rings`` are [(lon, lat), ...] closed rings to exclude."""
    locations = [
        {"lat": origin[0], "lon": origin[1], "type": "break"},
        {"lat": destination[0], "lon": destination[1], "type": "break"},
    ]
    if hard:  # exclude_highways does not stop Valhalla snapping a location onto a motorway
        for loc in locations:
            loc["search_filter"] = {"max_road_class": "trunk"}
    if options.origin_heading is not None:
        locations[0]["heading"] = round(options.origin_heading) % 360
        locations[0]["heading_tolerance"] = HEADING_TOLERANCE_DEG
    req: dict[str, Any] = {
        "locations": locations,
        "costing": "auto",
        "costing_options": kei_costing(options, hard=hard),
        "units": "kilometers",
        "language": "en-US",
        "directions_options": {"units": "miles"},
    }
    if rings:
        req["exclude_polygons"] = [[[lon, lat] for lon, lat in ring] for ring in rings]
    return req


TRACE_ATTRIBUTES = [
    "edge.road_class",
    "edge.speed_limit",
    "edge.speed",
    "edge.names",
    "edge.use",
    "edge.begin_shape_index",
    "edge.end_shape_index",
    "shape",
]


def edge_walk_request(encoded_shape: str) -> dict[str, Any]:
    """trace_attributes along a planned route (plain auto: attributes, not preferences)."""
    return {
        "encoded_polyline": encoded_shape,
        "shape_match": "edge_walk",
        "costing": "auto",
        "units": "kilometers",
        "filters": {"attributes": TRACE_ATTRIBUTES, "action": "include"},
    }


MATCH_ATTRIBUTES = [*TRACE_ATTRIBUTES, "matched.edge_index", "matched.type", "matched.point"]


# The matcher looks for roads this far from a fix at least (3x its accuracy when larger).
# Valhalla's 50 m: 30 m cost a third less CPU on the 6,000 km bench track, but phone and
# logger tracks are often 30-50 m off the road (towns, trees, a GPX with no accuracy), and at
# 30 m such a track was not matched at all (tests/browser/test_plan_page.py, a track 41 m
# beside its road). Correct audits first (docs/performance.md, "Big GPX files").
MATCH_MIN_RADIUS_M = 50.0
# Valhalla refuses a trace whose search radius is over its service limit (trace
# max_search_radius, 100 m by default and in tiles built here): "Input trace option is out of
# bounds" failed check-route for any log whose fixes' error was over 33 m.
MATCH_MAX_RADIUS_M = 100.0
MATCH_BREAKAGE_M = 2000.0  # Valhalla's default: fixes farther apart are not joined


def map_match_request(
    points: Sequence[tuple[float, float]],
    accuracy_m: float = 10.0,
    breakage_m: float = MATCH_BREAKAGE_M,
) -> dict[str, Any]:
    """trace_attributes map-matching a GPS track (``map_snap``); ``accuracy_m`` is the fixes'
    typical error, so the matcher neither snaps noise to a crossing road nor loses the road;
    fixes farther apart than ``breakage_m`` are not joined (an engine honours more than its
    2 km only when its config lets requests set it: ``routing.tiles.make_config``)."""
    accuracy = min(max(accuracy_m, 5.0), 50.0)
    return {
        "shape": [{"lat": lat, "lon": lon} for lat, lon in points],
        "shape_match": "map_snap",
        "costing": "auto",
        "units": "kilometers",
        "trace_options": {
            "search_radius": min(max(MATCH_MIN_RADIUS_M, 3 * accuracy), MATCH_MAX_RADIUS_M),
            "gps_accuracy": accuracy,
            "breakage_distance": breakage_m,
        },
        "filters": {"attributes": MATCH_ATTRIBUTES, "action": "include"},
    }


def trace_route_request(
    points: Sequence[tuple[float, float]], accuracy_m: float = 10.0
) -> dict[str, Any]:
    """trace_route along a route given as points (an audited GPX route): the turn-by-turn
    directions of the roads the points follow (matched like ``map_match_request``)."""
    req = map_match_request(points, accuracy_m)
    del req["filters"]
    req["language"] = "en-US"
    req["directions_options"] = {"units": "miles"}
    return req


def ring_around(
    lat: float, lon: float, half_m: float = RING_HALF_SIZE_M
) -> list[tuple[float, float]]:
    """A small closed square [(lon, lat), ...] centred on a point of an edge: the edge crosses
    it, so ``exclude_polygons`` drops that edge (and anything else within a few metres)."""
    dlat = half_m / 111_320.0
    dlon = half_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    return [
        (lon - dlon, lat - dlat),
        (lon + dlon, lat - dlat),
        (lon + dlon, lat + dlat),
        (lon - dlon, lat + dlat),
        (lon - dlon, lat - dlat),
    ]


def state_rings(
    codes: Iterable[str],
    bbox: tuple[float, float, float, float] | None = None,
    *,
    vertex_budget: int = STATE_VERTEX_BUDGET,
) -> list[list[tuple[float, float]]]:
    """Exterior rings [(lon, lat), ...] of the given states, clipped to ``bbox``
    (min_lon, min_lat, max_lon, max_lat) when given, simplified to fit ``vertex_budget``."""
    import shapely

    from kei_drive.core.geo import state_polygons

    polys = state_polygons(tolerance_m=STATE_SIMPLIFY_M)
    geoms = []
    for code in codes:
        geom = polys.get(code)
        if geom is None:
            continue
        if bbox is not None:
            geom = shapely.clip_by_rect(geom, *bbox)
        if not geom.is_empty:
            geoms.append(geom)
    tolerance_deg = STATE_SIMPLIFY_M / 111_320.0
    for _ in range(8):
        rings = []
        for geom in geoms:
            simple = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
            for poly in getattr(simple, "geoms", [simple]):
                if poly.geom_type == "Polygon" and not poly.is_empty and poly.area > 0:
                    rings.append([(x, y) for x, y in poly.exterior.coords])
        if sum(len(r) for r in rings) <= vertex_budget:
            return rings
        tolerance_deg *= 2
    return rings
