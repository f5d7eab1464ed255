"""Plan Kei routes: Valhalla answers -> core audit.

``plan_route`` tries the strictest request first and relaxes only when nothing is found:

1. Kei costing (no motorways, hard) + banned-state rings (if asked) + post-check rounds that
   re-route around trunk edges and tagged over-cap edges with small exclusion rings;
2. without the state rings (the route then carries banned_state warnings);
3. without the hard motorway ban (least-bad route: highway warnings say where).

A route whose end is far from the destination (Valhalla snapped to another road) counts as
"not found" for the relaxation, and is reported with an "unreachable" warning if nothing
better exists. GPS tracks and drawn routes are checked by ``track_check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from kei_drive.core.access import classify, lengthened
from kei_drive.core.audit import (
    UNREACHABLE_GAP_M,
    RoadEdge,
    RouteReport,
    RouteWarning,
    StateReport,
    audit_route,
)
from kei_drive.core.distance import cumulative_m, haversine_m
from kei_drive.core.vocabulary import WarningKind
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.base import NoRouteError, Router, RoutingError
from kei_drive.routing.polyline import decode_array

POST_CHECK_ROUNDS = 3


@dataclass
class Maneuver:
    instruction: str
    distance_m: float
    duration_s: float
    street_names: list[str]
    begin_index: int  # into the route geometry
    type: int = 0


@dataclass
class RouteResult:
    """What the Plan page and the CLI show."""

    report: RouteReport
    maneuvers: list[Maneuver] = field(default_factory=list)
    # Kei-legal as far as the audit can tell; None (check_track): no warning, but the audit
    # could not cover the track (a possible highway, too much unmatched, a gap no road crosses)
    legal: bool | None = True
    notes: list[str] = field(default_factory=list)
    engine: str = ""
    requested: tuple[tuple[float, float], tuple[float, float]] | None = None
    unmatched_share: float = 0.0  # check_track: share of the track not matched to roads
    unmatched: list[dict[str, Any]] = field(default_factory=list)  # check_track: what and why
    longest_unmatched_m: float = 0.0  # check_track: the longest stretch not matched
    matched_share: float | None = None  # check_track: share of the GPS track matched to roads

    @property
    def warnings(self):
        return self.report.warnings

    def to_dict(self) -> dict[str, Any]:
        out = self.report.to_dict()
        out["maneuvers"] = [asdict(m) for m in self.maneuvers]
        out["legal"] = self.legal
        out["notes"] = list(self.notes)
        out["engine"] = self.engine
        if self.matched_share is not None:
            out["matched_share"] = round(self.matched_share, 3)
            out["unmatched"] = list(self.unmatched)
        return out


# --- Valhalla JSON -> plain data ----------------------------------------------------------


def edges_from_trace(answer: dict[str, Any], offset: int = 0) -> list[RoadEdge]:
    """RoadEdge list from a trace_attributes answer (speeds in km/h: units=kilometers)."""
    edges = []
    append = edges.append
    for e in answer.get("edges", ()):
        limit = e.get("speed_limit")
        # absent = untagged; 255 = "unlimited"/unknown in Valhalla
        limit_kmh = float(limit) if type(limit) in (int, float) and 0 < limit < 250 else None
        speed = e.get("speed")
        names = e.get("names")
        append(
            RoadEdge.unchecked(
                e.get("begin_shape_index", 0) + offset,
                e.get("end_shape_index", 0) + offset,
                e.get("road_class", ""),
                limit_kmh,
                float(speed) if speed else None,
                tuple(names) if names else (),
                e.get("use", ""),
            )
        )
    return edges


def maneuvers_from_route(answer: dict[str, Any]) -> list[Maneuver]:
    out = []
    offset = 0
    legs = answer.get("trip", {}).get("legs", [])
    for k, leg in enumerate(legs):
        for m in leg.get("maneuvers", []):
            out.append(
                Maneuver(
                    instruction=m.get("instruction", ""),
                    distance_m=round(float(m.get("length", 0.0)) * 1000, 1),
                    duration_s=round(float(m.get("time", 0.0)), 1),
                    street_names=list(m.get("street_names") or []),
                    begin_index=int(m.get("begin_shape_index", 0)) + offset,
                    type=int(m.get("type", 0)),
                )
            )
        if k < len(legs) - 1:  # later legs' indices follow this leg's shape
            offset += len(decode_array(leg.get("shape", "")))
    return out


MANEUVER_SNAP_SLACK_M = 300.0


def maneuvers_onto(
    found: Sequence[tuple[Maneuver, tuple[float, float]]], geometry: Sequence[Sequence[float]]
) -> list[Maneuver]:
    """Maneuvers (each with the point where it begins) with their ``begin_index`` moved onto
    ``geometry``, the audited route's own vertices: the engine's route shape and the edge
    walk's may differ by a vertex (a route ending on a node: every turn was one vertex
    early, up to 119 m; the arrival's index lay past the line's end). Each goes to the
    nearest vertex ahead, no farther along than the previous maneuver's length; the arrival
    to the last vertex."""
    geo = np.asarray(geometry, dtype=float).reshape(-1, 2)
    if not len(geo):
        return []
    cum = cumulative_m(geo[:, 0], geo[:, 1])
    out: list[Maneuver] = []
    at, reach = 0, MANEUVER_SNAP_SLACK_M
    for m, (plat, plon) in found:
        end = int(np.searchsorted(cum, cum[at] + reach, side="right"))
        window = slice(at, max(end, at + 1))
        near = haversine_m(plat, plon, geo[window, 0], geo[window, 1])
        at = at + int(np.argmin(near))
        reach = 1.5 * m.distance_m + MANEUVER_SNAP_SLACK_M
        out.append(replace(m, begin_index=at))
    if out and out[-1].type in DESTINATION_TYPES:
        out[-1] = replace(out[-1], begin_index=len(geo) - 1)
    return out


def route_maneuvers(answer: dict[str, Any], geometry: Sequence[Sequence[float]]) -> list[Maneuver]:
    """A route answer's maneuvers placed on ``geometry`` (``maneuvers_onto``)."""
    shape = np.concatenate(
        [decode_array(leg.get("shape", "")) for leg in answer.get("trip", {}).get("legs", [])]
        or [np.zeros((0, 2))]
    )
    found = [
        (m, (float(shape[m.begin_index, 0]), float(shape[m.begin_index, 1])))
        for m in maneuvers_from_route(answer)
        if 0 <= m.begin_index < len(shape)
    ]
    return maneuvers_onto(found, geometry)


def _route_shape(answer: dict[str, Any]) -> str:
    legs = answer.get("trip", {}).get("legs", [])
    if len(legs) != 1:
        raise RoutingError(f"expected a one-leg route, got {len(legs)} legs")
    return legs[0]["shape"]


# --- planning -------------------------------------------------------------------------------


def load_rules_or_default(rules: Any) -> Any:
    """``rules`` when given (an account's rule book), else the shipped rules."""
    if rules is not None:
        return rules
    from kei_drive.core.rules import load_rules

    return load_rules()


def _bbox(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float, float, float]:
    """lon/lat box around two points, padded by half their distance and at least ~50 km."""
    pad = max(0.5, 0.5 * max(abs(a[0] - b[0]), abs(a[1] - b[1])))
    return (
        min(a[1], b[1]) - pad,
        min(a[0], b[0]) - pad,
        max(a[1], b[1]) + pad,
        max(a[0], b[0]) + pad,
    )


def _ring_on_edge(geometry: Sequence[tuple[float, float]], e: RoadEdge) -> list:
    """Exclusion ring at the midpoint of the edge's longest segment (away from junctions)."""
    pts = np.asarray(geometry[e.begin_index : e.end_index + 1], dtype=float)
    if len(pts) < 2:
        return []
    seg = haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    k = int(np.argmax(seg))
    lat, lon = (pts[k] + pts[k + 1]) / 2
    return kc.ring_around(float(lat), float(lon))


def _offending_edges(report: RouteReport, edges: list[RoadEdge], options: kc.KeiOptions) -> list:
    """Edges to route around: trunks (if asked) and tagged limits over the state's cap."""
    if not edges:
        return []
    stretches = []
    for w in report.warnings:
        if (w.kind == "highway" and options.avoid_trunks) or (
            w.kind == "speed_cap" and options.avoid_over_cap_roads
        ):
            stretches.append((w.from_m, w.to_m, w.kind))
    if not stretches:
        return []
    cum = cumulative_m([p[0] for p in report.geometry], [p[1] for p in report.geometry])
    bad = []
    # The first and last edges hold the start and destination: they cannot be avoided.
    for e in edges[1:-1]:
        if e.end_index <= e.begin_index or e.end_index >= len(cum):
            continue
        mid = (cum[e.begin_index] + cum[e.end_index]) / 2
        for a, b, kind in stretches:
            if a <= mid <= b and (kind == "speed_cap" or e.road_class == "trunk"):
                bad.append(e)
                break
    return bad


class _Attempt:
    def __init__(self, answer: dict, report: RouteReport, edges: list[RoadEdge], label: str):
        self.answer, self.report, self.edges, self.label = answer, report, edges, label

    @property
    def reaches(self) -> bool:
        return not any(w.kind == "unreachable" for w in self.report.warnings)


def plan_route(
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    options: kc.KeiOptions | None = None,
    router: Router | None = None,
    rules: Any = None,
    permits: Sequence[Any] | None = None,
) -> RouteResult:
    """Plan a Kei route between two (lat, lon) points and audit it.

    ``permits``: the driver's local permissions (default: the stored ones).

    Raises NoRouteError when not even a relaxed route exists, RoutingError (TilesMissingError,
    RouterUnavailableError) when the engine cannot be used.
    """
    from kei_drive.core.geo import state_at
    from kei_drive.routing import get_router

    options = options or kc.KeiOptions()
    router = router or get_router()
    rules = load_rules_or_default(rules)
    permits = load_permits(permits)
    notes: list[str] = []
    walked_elsewhere: set[int] = set()  # answers whose audited line is not their own shape

    def audit(answer: dict) -> tuple[RouteReport, list[RoadEdge]]:
        shape = _route_shape(answer)
        try:
            trace = router.trace_attributes(kc.edge_walk_request(shape))
            if trace.get("shape") not in (None, shape):
                walked_elsewhere.add(id(answer))
            edges = edges_from_trace(trace)
            # edge indices refer to the trace's own shape (an array: the audit takes one)
            geometry = decode_array(trace.get("shape") or shape)
            if len(geometry) < 2:
                # a route along part of one edge: edge_walk answers a single point (a
                # re-route near the destination then had no line to follow on the phone)
                geometry = decode_array(shape)
                edges = [replace(e, begin_index=0, end_index=len(geometry) - 1) for e in edges[:1]]
        except NoRouteError:
            geometry = decode_array(shape)
            edges = []
            notes.append("Road attributes could not be read for this route.")
        report = audit_route(
            geometry,
            edges,
            rules,
            on=options.on,
            top_speed_mph=options.top_speed_mph,
            requested_start=origin,
            requested_end=destination,
            permits=permits,
            engine_time_s=_engine_time_s(answer),
        )
        return report, edges

    # Banned states to keep out of (never the ones we start or end in).
    state_ring_list: list = []
    if options.avoid_banned_states or options.avoid_opt_in_states:
        banned = _states_to_avoid(rules, options)
        avoided = set(banned)  # both ends are named, even when they lie in one state
        for label, point in (("start", origin), ("destination", destination)):
            hit = state_at(*point)
            if hit and hit.code in avoided:
                rule = rules.rule_for(hit.code, on=options.on)
                what = "banned" if classify(rule) == "banned_state" else "only locally allowed"
                notes.append(
                    f"Your {label} is in {hit.name}, where Kei vehicles are {what} "
                    f"({rule.advice() if rule else ''}); the route cannot avoid it."
                )
                banned.discard(hit.code)
        if banned:
            state_ring_list = kc.state_rings(sorted(banned), _bbox(origin, destination))

    base_rings = [list(r) for r in options.extra_rings]
    plans = [
        ("kei", True, base_rings + state_ring_list),
        ("kei without state avoidance", True, base_rings),
        ("relaxed (motorways allowed)", False, base_rings),
    ]
    if not state_ring_list:
        plans.pop(0)
    attempts: list[_Attempt] = []
    last_error: RoutingError | None = None
    for label, hard, rings in plans:
        try:
            answer = router.route(
                kc.route_request(origin, destination, options, hard=hard, rings=rings)
            )
        except NoRouteError as exc:
            last_error = exc
            continue
        except RoutingError as exc:
            # an end far outside the map data: the engine's own words were "Path distance
            # exceeds the max distance limit: 5000000 meters" (0,0; New York was told apart)
            outside = _outside_map(router, origin, destination)
            if outside is None:
                raise
            raise NoRouteError(
                f"no route found from {_ll(origin)} to {_ll(destination)}: {outside}"
            ) from exc
        report, edges = audit(answer)
        attempt = _Attempt(answer, report, edges, label)
        if hard:
            attempt = _post_check(
                attempt, rings, origin, destination, options, router, audit, notes
            )
        attempts.append(attempt)
        if attempt.reaches:
            break
    if not attempts:
        why = _why_no_route(router, origin, destination, last_error)
        raise NoRouteError(f"no route found from {_ll(origin)} to {_ll(destination)}: {why}")
    best = next((a for a in attempts if a.reaches), attempts[0])
    if best.label != plans[0][0]:
        notes.append(_relaxed_note(best.label))
    report = best.report
    legal = report.kei_legal
    unverified = sorted({w.state for w in report.warnings if w.kind == "unverified" and w.state})
    if unverified:
        notes.append(
            "Kei rules are unverified in " + ", ".join(unverified) + ": check before you drive."
        )
    if not legal:
        notes.append(
            "No fully Kei-legal route was found; this is the least-bad route — read the warnings."
        )
    return RouteResult(
        report=report,
        maneuvers=route_maneuvers(best.answer, report.geometry)
        if id(best.answer) in walked_elsewhere
        else maneuvers_from_route(best.answer),
        legal=legal,
        notes=_dedupe(notes),
        engine=getattr(router, "name", ""),
        requested=(origin, destination),
    )


def _states_to_avoid(rules: Any, options: kc.KeiOptions) -> set[str]:
    """Banned or no-access states; with ``avoid_opt_in_states`` also the local-only ones."""
    kinds = {"banned_state"} | ({"road_access"} if options.avoid_opt_in_states else set())
    return {r.state for r in rules.all_rules(options.on) if classify(r) in kinds}


def load_permits(permits: Sequence[Any] | None) -> Sequence[Any]:
    """``permits`` when given (an account's), else the default local-permits file's."""
    if permits is not None:
        return permits
    from kei_drive.core.local_permits import load_permits

    return load_permits()


def _engine_time_s(answer: dict) -> float | None:
    """The engine's time for a /route answer (its turns and signals included)."""
    try:
        return float(answer["trip"]["summary"]["time"])
    except (KeyError, TypeError, ValueError):
        return None


def _ll(point: tuple[float, float]) -> str:
    return f"{point[0]:.5f},{point[1]:.5f}"


def _outside_map(
    router: Router, origin: tuple[float, float], destination: tuple[float, float]
) -> str | None:
    """That the start or destination lies outside the installed map data (local tiles, which
    know what they cover), or None."""
    covers = getattr(router, "covers", None)
    if covers is None:
        return None
    outside = [
        label for label, p in (("start", origin), ("destination", destination)) if not covers(*p)
    ]
    if not outside:
        return None
    return (
        f"the {' and the '.join(outside)} lie{'s' if len(outside) == 1 else ''} outside "
        "the installed map data (build tiles from an extract that holds "
        f"{'it' if len(outside) == 1 else 'them'}: kei-drive tiles build FILE.osm.pbf)"
    )


def _why_no_route(
    router: Router, origin: tuple[float, float], destination: tuple[float, float], error: Any
) -> str:
    """The engine's reason, or (local tiles that do not reach an end) that end lies outside
    the installed map data, which the engine calls "No suitable edges near location"."""
    return _outside_map(router, origin, destination) or str(error)


def _relaxed_note(label: str) -> str:
    if label == "kei without state avoidance":
        return "No route avoids the states you asked to avoid; this one crosses one (see warnings)."
    if label.startswith("relaxed"):
        return "No route without motorways reaches the destination; this one uses them."
    return "The route had to be relaxed."


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _post_check(attempt, rings, origin, destination, options, router, audit, notes):
    """Re-route around trunk / over-cap edges with small rings, keeping the best route."""
    rings = list(rings)
    best = attempt
    for _ in range(POST_CHECK_ROUNDS):
        bad = _offending_edges(best.report, best.edges, options)
        if not bad:
            break
        new = [r for r in (_ring_on_edge(best.report.geometry, e) for e in bad) if r]
        if not new:
            break
        rings += new
        try:
            answer = router.route(kc.route_request(origin, destination, options, rings=rings))
        except NoRouteError:
            notes.append("Some fast roads could not be avoided (no way around them).")
            break
        report, edges = audit(answer)
        candidate = _Attempt(answer, report, edges, attempt.label)
        if not candidate.reaches and best.reaches:
            break
        if _badness(candidate.report) >= _badness(best.report):
            break
        best = candidate
    return best


def _badness(report: RouteReport) -> float:
    """Metres of highway / over-cap road (lower is better)."""
    return sum(w.to_m - w.from_m for w in report.warnings if w.kind in ("highway", "speed_cap"))


# Warnings of a state's rule for one stretch of it (``core.access``; not the driver's own
# local permits, whose stretches are the permit's area).
STATE_STRETCH_KINDS = frozenset(
    {
        WarningKind.BANNED_STATE,
        WarningKind.ROAD_ACCESS,
        WarningKind.UNVERIFIED,
        WarningKind.RESTRICTED_STATE,
    }
)


def combine_reports(reports: list[RouteReport]) -> RouteReport:
    """Reports of consecutive pieces as one (positions shifted; a state continued across a
    break stays one entry, and so does its state-rule warning)."""
    if len(reports) == 1:
        return reports[0]
    geometry: list[tuple[float, float]] = []
    states: list[StateReport] = []
    warnings: list[RouteWarning] = []
    offset = 0.0
    open_at_end: dict[tuple[str, str | None], RouteWarning] = {}
    for r in reports:
        geometry.extend(r.geometry)
        for s in r.states:
            s = replace(s, from_m=round(s.from_m + offset, 1), to_m=round(s.to_m + offset, 1))
            if states and states[-1].state == s.state:
                states[-1].to_m = s.to_m
                states[-1].km = round((s.to_m - states[-1].from_m) / 1000, 3)
                states[-1].permit_caps_mph = sorted(
                    {*states[-1].permit_caps_mph, *s.permit_caps_mph}
                )
            else:
                states.append(s)
        open_at_end = _join_warnings(warnings, r, offset, open_at_end)
        offset += r.distance_m
    return RouteReport(
        distance_m=offset,
        duration_s=sum(r.duration_s for r in reports),
        geometry=geometry,
        states=states,
        warnings=warnings,
    )


def _join_warnings(
    warnings: list[RouteWarning],
    report: RouteReport,
    offset: float,
    open_before: dict[tuple[str, str | None], RouteWarning],
) -> dict[tuple[str, str | None], RouteWarning]:
    """Append the report's warnings shifted by ``offset``; a state-rule warning that starts
    the piece continues the previous piece's open one. Returns those open at its end."""
    open_after: dict[tuple[str, str | None], RouteWarning] = {}
    for w in report.warnings:
        key = (w.kind, w.state)
        state_stretch = w.kind in STATE_STRETCH_KINDS
        shifted = replace(w, from_m=round(w.from_m + offset, 1), to_m=round(w.to_m + offset, 1))
        prev = open_before.get(key) if state_stretch and w.from_m <= 0.05 else None
        if prev is not None:
            prev.to_m = shifted.to_m
            prev.message = lengthened(prev.message, prev.to_m - prev.from_m)
            shifted = prev
        else:
            warnings.append(shifted)
        if state_stretch and abs(w.to_m - report.distance_m) <= 0.06:
            open_after[key] = shifted
    return open_after


# Valhalla maneuver types that start or end a leg (kStart*, kDestination*).
START_TYPES = (1, 2, 3)
DESTINATION_TYPES = (4, 5, 6)
CONTINUE_TYPE = 8  # kContinue


def both_legal(first: bool | None, then: bool | None) -> bool | None:
    """Two routes driven one after the other: not legal if either is not, unknown if either
    is unknown."""
    if first is False or then is False:
        return False
    return None if first is None or then is None else True


def join_results(first: RouteResult, then: RouteResult) -> RouteResult:
    """Two routes driven one after the other, as one: positions, maneuver indices and notes
    carried over; the first's arrival dropped and the second's start made a "continue"."""
    report = combine_reports([first.report, then.report])
    offset = len(first.report.geometry)
    maneuvers = [m for m in first.maneuvers if m.type not in DESTINATION_TYPES]
    for m in then.maneuvers:
        kind = CONTINUE_TYPE if m.type in START_TYPES and maneuvers else m.type
        maneuvers.append(replace(m, begin_index=m.begin_index + offset, type=kind))
    return replace(
        then,
        report=report,
        maneuvers=maneuvers,
        legal=both_legal(first.legal, then.legal),
        notes=_dedupe([*first.notes, *then.notes]),
        requested=(first.requested[0], then.requested[1])
        if first.requested and then.requested
        else then.requested,
    )


__all__ = [
    "Maneuver",
    "RouteResult",
    "UNREACHABLE_GAP_M",
    "combine_reports",
    "edges_from_trace",
    "join_results",
    "plan_route",
]
