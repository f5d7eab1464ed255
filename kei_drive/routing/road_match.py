"""Which road are the latest fixes on? Valhalla ``trace_attributes`` on a few recent fixes,
then ``locate`` around a ramp to learn which road it serves.

Valhalla by default keeps no "motorway_link": it reclassifies a link to the class of a road
it joins (a ramp from a residential street onto I 99 reads "tertiary", use "ramp"); tiles
built here keep the link's class (``tiles.make_config``), tiles built elsewhere may not. So
for a ramp of a lesser class, or without a name, the ends of its edges are located,
following further ramp edges a few hops, until a motorway or trunk is found there (or none
is).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kei_drive.core.audit import RoadEdge, lone_ramp_runs
from kei_drive.core.distance import haversine_m
from kei_drive.core.road_status import MatchedRoad, RoadUnknown
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.base import Router
from kei_drive.routing.polyline import decode

MIN_FIXES = 3
MIN_SPAN_M = 15.0  # fixes spread over less than this: standing still
MIN_STEP_M = 3.0  # a fix this close to the previous kept one adds nothing
RAMP_HOPS = 6  # locate calls spent following a chain of ramp edges
RECENT_MATCH = 3  # the newest fix off every road: one of the two before it may answer
MAX_FOLLOW_ANGLE_DEG = 60.0  # on a motorway the GPS moves along it, not across


class RoadNotFound(Exception):
    """No road for these fixes; ``reason`` says why (a ``RoadUnknown``)."""

    def __init__(self, reason: RoadUnknown, detail: str = "") -> None:
        super().__init__(detail or str(reason))
        self.reason = reason
        self.detail = detail


def _usable(fixes: Sequence[tuple[float, float, float | None]]) -> list[tuple[float, float]]:
    """The fixes to match: at least MIN_STEP_M apart; raises RoadNotFound when too few or
    when they span less than MIN_SPAN_M."""
    if len(fixes) < MIN_FIXES:
        raise RoadNotFound(RoadUnknown.TOO_FEW_FIXES)
    kept = [(fixes[0][0], fixes[0][1])]
    for lat, lon, _acc in fixes[1:]:
        if haversine_m(kept[-1][0], kept[-1][1], lat, lon) >= MIN_STEP_M:
            kept.append((lat, lon))
    newest = (fixes[-1][0], fixes[-1][1])
    if len(kept) > 1 and kept[-1] != newest:
        kept[-1] = newest  # the newest fix is the one that counts
    span = max(haversine_m(fixes[0][0], fixes[0][1], la, lo) for la, lo, _ in fixes)
    if span < MIN_SPAN_M or len(kept) < 2:
        raise RoadNotFound(RoadUnknown.NOT_MOVING)
    return kept


def _accuracy(fixes: Sequence[tuple[float, float, float | None]]) -> float:
    values = sorted(a for _la, _lo, a in fixes if a is not None and a > 0)
    return values[len(values) // 2] if values else 10.0


def _edge_index(point: dict[str, Any], edges: list) -> int | None:
    index = point.get("edge_index")
    ok = point.get("type") != "unmatched" and isinstance(index, int) and 0 <= index < len(edges)
    return index if ok else None


def _fast(edge: dict[str, Any]) -> bool:
    """A road that raises the alert by its kind: a motorway or a ramp."""
    return edge.get("road_class") == "motorway" or edge.get("use") == "ramp"


def _follows(points: list[tuple[float, float]], matched: list[dict], a: int, b: int) -> bool:
    """The GPS moved from fix ``a`` to ``b`` along the road it was matched on (within
    MAX_FOLLOW_ANGLE_DEG), not across it."""
    gps = _vector_m(points[a], points[b])
    road = _vector_m(
        (matched[a].get("lat", points[a][0]), matched[a].get("lon", points[a][1])),
        (matched[b].get("lat", points[b][0]), matched[b].get("lon", points[b][1])),
    )
    if math.hypot(*gps) < MIN_STEP_M or math.hypot(*road) < MIN_STEP_M:
        return True  # too short a step to judge by direction
    cos = (gps[0] * road[0] + gps[1] * road[1]) / (math.hypot(*gps) * math.hypot(*road))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos)))) <= MAX_FOLLOW_ANGLE_DEG


def _vector_m(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    k = 111_195.0
    return ((q[1] - p[1]) * k * math.cos(math.radians(p[0])), (q[0] - p[0]) * k)


def _entered(edges: list, index: int) -> bool:
    """The run of motorway/ramp edges ending at ``index`` was driven onto: it starts the
    match, or its first edge continues the edge before it. The matcher restarts with a gap
    in its shape where it jumps (noise beside a motorway, a bridge over one)."""
    first = index
    while first > 0 and _fast(edges[first - 1]):
        first -= 1
    if first == 0:
        return True
    return edges[first].get("begin_shape_index") == edges[first - 1].get("end_shape_index")


def _pick(points: list[tuple[float, float]], matched: list[dict], edges: list) -> int:
    """The matched point that says which road the truck is on: the newest one on a road
    (the newest fix, or one of the RECENT_MATCH before it when it is off every road).

    A motorway or ramp must hold for the matched fix before it too, moving along it: a
    bridge over a motorway, or one noisy fix beside it, is not the motorway. Otherwise the
    newest match on an ordinary road answers."""
    on_road = [
        k for k in range(len(matched) - 1, -1, -1) if _edge_index(matched[k], edges) is not None
    ]
    if not on_road or on_road[0] < len(matched) - RECENT_MATCH:
        raise RoadNotFound(RoadUnknown.OFF_ROAD)
    k = on_road[0]
    if not _fast(edges[matched[k]["edge_index"]]):
        return k
    if len(on_road) > 1 and _entered(edges, matched[k]["edge_index"]):
        prev = on_road[1]
        if _fast(edges[matched[prev]["edge_index"]]) and _follows(points, matched, prev, k):
            return k
    ordinary = [j for j in on_road[1:] if not _fast(edges[matched[j]["edge_index"]])]
    if ordinary and ordinary[0] >= len(matched) - RECENT_MATCH - 1:
        return ordinary[0]
    raise RoadNotFound(RoadUnknown.OFF_ROAD)


def match_road(router: Router, fixes: Sequence[tuple[float, float, float | None]]) -> MatchedRoad:
    """The road edge under the newest of ``fixes`` ((lat, lon, accuracy_m), oldest first).

    Raises RoadNotFound (too few fixes, standing still, newest fix off the map) and lets
    RoutingError through (no tiles, no data here, engine down)."""
    points = _usable(fixes)
    answer = router.trace_attributes(kc.map_match_request(points, _accuracy(fixes)))
    edges = answer.get("edges") or []
    matched = answer.get("matched_points") or []
    if not edges or len(matched) != len(points):
        raise RoadNotFound(RoadUnknown.OFF_ROAD)
    k = _pick(points, matched, edges)
    last = matched[k]
    edge = edges[last["edge_index"]]
    limit = edge.get("speed_limit")
    if not isinstance(limit, int | float) or limit <= 0 or limit >= 250:
        limit = None  # absent = untagged; 255 = unlimited/unknown in Valhalla
    road = MatchedRoad(
        road_class=str(edge.get("road_class", "")),
        names=tuple(edge.get("names") or ()),
        speed_limit_kmh=float(limit) if limit else None,
        ramp=edge.get("use") == "ramp",
    )
    # A ramp's class may be the lesser road's (Valhalla's default) or its own (our tiles):
    # either way an unnamed ramp is named after the road it serves.
    if road.ramp and (road.road_class not in ("motorway", "trunk") or not road.names):
        at = (float(last.get("lat", points[k][0])), float(last.get("lon", points[k][1])))
        serves, name = ramp_serves(router, at)
        road = MatchedRoad(**{**road.__dict__, "ramp_serves": serves, "ramp_serves_name": name})
    return road


def _locate(router: Router, lat: float, lon: float) -> list[dict[str, Any]]:
    locate = getattr(router, "locate", None)
    if locate is None:  # an engine adapter without locate: the ramp's road stays unknown
        return []
    answer = locate({"locations": [{"lat": lat, "lon": lon}], "costing": "auto", "verbose": True})
    return (answer[0].get("edges") or []) if answer else []


def _classification(candidate: dict[str, Any]) -> dict[str, Any]:
    return (candidate.get("edge") or {}).get("classification") or {}


def ramp_serves(router: Router, at: tuple[float, float]) -> tuple[str, str]:
    """("motorway" | "trunk" | "", its first name) for the ramp at ``at``: the roads met at
    the ends of its edges, following connected ramp edges at most RAMP_HOPS locates."""
    road_class, name, _where = ramp_serves_where(router, at)
    return road_class, name


def ramp_serves_where(
    router: Router, at: tuple[float, float]
) -> tuple[str, str, tuple[float, float] | None]:
    """``ramp_serves`` and where along the ramp that road was met."""
    seen_shapes: set[str] = set()
    ends: list[tuple[float, float]] = []
    found: dict[str, tuple[str, tuple[float, float]]] = {}

    def take(candidates: list[dict[str, Any]], where: tuple[float, float]) -> None:
        for c in candidates:
            info = c.get("edge_info") or {}
            cls = _classification(c)
            if cls.get("use") == "ramp" or cls.get("link"):
                shape = info.get("shape") or ""
                if shape and shape not in seen_shapes:
                    seen_shapes.add(shape)
                    pts = decode(shape)
                    if pts:
                        ends.extend([pts[0], pts[-1]])
            elif cls.get("classification") in ("motorway", "trunk"):
                names = info.get("names") or []
                found.setdefault(cls["classification"], (names[0] if names else "", where))

    take(_locate(router, *at), at)
    hops = 0
    visited: set[tuple[float, float]] = set()
    while ends and hops < RAMP_HOPS:
        end = ends.pop(0)
        key = (round(end[0], 6), round(end[1], 6))
        if key in visited:
            continue
        visited.add(key)
        hops += 1
        take(_locate(router, *end), end)
    for cls in ("motorway", "trunk"):
        if cls in found:
            return cls, *found[cls]
    return "", "", None


def name_lone_ramps(
    router: Router, geometry: Sequence[Sequence[float]], edges: list[RoadEdge]
) -> list[RoadEdge]:
    """Edges with each lone highway ramp (``lone_ramp_runs``: a track that drives only the
    ramp) named after the road it serves, found on the map: "ramp to I 95" when the track
    heads towards where that road was met, else "ramp from I 95"."""
    out = edges
    for first, end in lone_ramp_runs(edges):
        a, b = edges[first].begin_index, edges[end - 1].end_index
        start, stop = tuple(geometry[a]), tuple(geometry[b])
        middle = tuple(geometry[(a + b) // 2])
        _cls, name, where = ramp_serves_where(router, (middle[0], middle[1]))
        if not name or where is None:
            continue
        towards = haversine_m(*stop, *where) <= haversine_m(*start, *where)
        label = f"ramp {'to' if towards else 'from'} {name}"
        out = out if out is not edges else list(edges)
        out[first:end] = [replace(e, names=(label,)) for e in edges[first:end]]
    return out
