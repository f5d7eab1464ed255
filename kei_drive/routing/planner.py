"""Plan Kei routes and check any route: Valhalla answers -> core audit.

``plan_route`` tries the strictest request first and relaxes only when nothing is found:

1. Kei costing (no motorways, hard) + banned-state rings (if asked) + post-check rounds that
   re-route around trunk edges and tagged over-cap edges with small exclusion rings;
2. without the state rings (the route then carries banned_state warnings);
3. without the hard motorway ban (least-bad route: highway warnings say where).

A route whose end is far from the destination (Valhalla snapped to another road) counts as
"not found" for the relaxation, and is reported with an "unreachable" warning if nothing
better exists. ``check_track`` map-matches a GPS track (chunked) and audits it.
"""

from __future__ import annotations

import math
import os
import queue
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from kei_drive.core.access import classify
from kei_drive.core.audit import (
    HIGHWAY_CLASSES,
    UNREACHABLE_GAP_M,
    RoadEdge,
    RouteReport,
    RouteWarning,
    StateReport,
    audit_route,
    highway_classes,
)
from kei_drive.core.distance import cumulative_m, haversine_m
from kei_drive.core.memory import trim_heap
from kei_drive.core.trips import TrackArrays, position_noise_m, smooth_positions, track_pieces
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.base import NoRouteError, Router, RoutingError
from kei_drive.routing.polyline import decode, decode_array
from kei_drive.routing.unmatched import UnmatchedRun, unmatched_runs
from kei_drive.routing.unmatched import notes as unmatched_notes
from kei_drive.routing.unmatched import reasons as unmatched_reasons

POST_CHECK_ROUNDS = 3
MATCH_MIN_SPACING_M = 20.0  # GPS points closer than this to the last kept one are dropped
MATCH_CHUNK_POINTS = 400  # the engine keeps ~65 kB a fix of its largest chunk (measured): 400 keeps
# check-route of a 500k-fix GPX under 300 MB with two engines side by side (500: 303 MB)
MATCH_CHUNK_M = 150_000.0  # under trace max_distance (200 km)
JOIN_GAP_M = 30.0


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
    legal: bool = True  # Kei-legal as far as the audit can tell
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


def _route_shape(answer: dict[str, Any]) -> str:
    legs = answer.get("trip", {}).get("legs", [])
    if len(legs) != 1:
        raise RoutingError(f"expected a one-leg route, got {len(legs)} legs")
    return legs[0]["shape"]


# --- planning -------------------------------------------------------------------------------


def _load_rules(rules: Any) -> Any:
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
    rules = _load_rules(rules)
    permits = _load_permits(permits)
    notes: list[str] = []

    def audit(answer: dict) -> tuple[RouteReport, list[RoadEdge]]:
        shape = _route_shape(answer)
        try:
            trace = router.trace_attributes(kc.edge_walk_request(shape))
            edges = edges_from_trace(trace)
            # edge indices refer to the trace's own shape (an array: the audit takes one)
            geometry = decode_array(trace.get("shape") or shape)
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
        )
        return report, edges

    # Banned states to keep out of (never the ones we start or end in).
    state_ring_list: list = []
    if options.avoid_banned_states or options.avoid_opt_in_states:
        banned = _states_to_avoid(rules, options)
        for label, point in (("start", origin), ("destination", destination)):
            hit = state_at(*point)
            if hit and hit.code in banned:
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
        raise NoRouteError(
            f"no route found from {origin[0]:.5f},{origin[1]:.5f} to "
            f"{destination[0]:.5f},{destination[1]:.5f}: {last_error}"
        )
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
        maneuvers=maneuvers_from_route(best.answer),
        legal=legal,
        notes=_dedupe(notes),
        engine=getattr(router, "name", ""),
        requested=(origin, destination),
    )


def _states_to_avoid(rules: Any, options: kc.KeiOptions) -> set[str]:
    """Banned or no-access states; with ``avoid_opt_in_states`` also the local-only ones."""
    kinds = {"banned_state"} | ({"road_access"} if options.avoid_opt_in_states else set())
    return {r.state for r in rules.all_rules(options.on) if classify(r) in kinds}


def _load_permits(permits: Sequence[Any] | None) -> Sequence[Any]:
    if permits is not None:
        return permits
    from kei_drive.core.local_permits import load_permits

    return load_permits()


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


# --- GPS tracks -----------------------------------------------------------------------------
#
# A recorded track is cut where no matcher should bridge (glitches dropped, implausible jumps
# and long gaps), each piece is smoothed according to its noise, thinned, and matched in
# chunks; a chunk the engine refuses is halved until the bad part is isolated. Highway
# stretches must be sustained on the GPS (length, time, heading), so a bridge over a
# motorway or noise near one never becomes "motorway use". Each piece is audited on its own
# and the reports are joined; what was not matched is reported with its reason.

MATCH_BREAK_M = 2000.0  # fixes farther apart than this are not bridged (Valhalla's breakage)
MATCH_POINT_BUDGET = 20_000  # beyond this many fixes the spacing grows...
MATCH_MAX_SPACING_M = 100.0  # ...up to this: sparser fixes cost the matcher more, not less
MATCH_THREADS = min(2, os.cpu_count() or 1)  # chunks matched side by side (own engines)
MATCH_MIN_BISECT_POINTS = 6  # a refused chunk this small stays unmatched
SUSTAINED_MIN_M = 150.0  # shorter highway stretches are crossings or noise
SUSTAINED_MIN_S = 8.0  # ... and so are shorter times on one (timed tracks)
SUSTAINED_MIN_POINTS = 3
SUSTAINED_MAX_ANGLE_DEG = 45.0  # the GPS must move along the highway, not across it
HIGHWAY_USE_MAX_UNMATCHED_M = 500.0  # "no highway" needs no longer unknown stretch


# An untimed track is a drawn route (a GPX route or an exported plan), whose vertices can
# be kilometres apart on a straight road: it is filled in to this spacing before matching,
# so that the matcher's 2 km breakage never cuts it. Longer straight lines are not roads.
ROUTE_FILL_SPACING_M = 200.0
ROUTE_FILL_MAX_SEGMENT_M = 30_000.0


def fill_route(
    lat: np.ndarray, lon: np.ndarray, spacing_m: float = ROUTE_FILL_SPACING_M
) -> tuple[np.ndarray, np.ndarray]:
    """Points added along every segment longer than ``spacing_m`` (up to
    ``ROUTE_FILL_MAX_SEGMENT_M``), evenly; the original vertices are kept."""
    if lat.size < 2:
        return lat, lon
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    steps = np.where(seg <= ROUTE_FILL_MAX_SEGMENT_M, np.ceil(seg / spacing_m), 1).astype(np.int64)
    steps = np.maximum(steps, 1)
    seg_of = np.repeat(np.arange(seg.size), steps)  # one entry per output point but the last
    frac = np.arange(seg_of.size) - np.repeat(np.cumsum(steps) - steps, steps)
    frac = frac / steps[seg_of]
    out_lat = np.append(lat[seg_of] + (lat[seg_of + 1] - lat[seg_of]) * frac, lat[-1])
    out_lon = np.append(lon[seg_of] + (lon[seg_of + 1] - lon[seg_of]) * frac, lon[-1])
    return out_lat, out_lon


def thin_track(points: Sequence[tuple[float, float]], min_spacing_m: float = MATCH_MIN_SPACING_M):
    """Drop points closer than ``min_spacing_m`` to the previous kept one (keeps the last)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    keep = _thin_index(pts[:, 0], pts[:, 1], min_spacing_m)
    return [(float(a), float(b)) for a, b in pts[keep]]


def _thin_index(lat: np.ndarray, lon: np.ndarray, min_spacing_m: float) -> np.ndarray:
    if lat.size <= 2:
        return np.arange(lat.size)
    cum = cumulative_m(lat, lon)
    # Keep the first point of each min_spacing bucket of distance along the track.
    bucket = np.floor(cum / min_spacing_m).astype(np.int64)
    keep = np.concatenate(([True], bucket[1:] != bucket[:-1]))
    keep[-1] = True
    return np.flatnonzero(keep)


def _chunk_bounds(lat: np.ndarray, lon: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges of at most MATCH_CHUNK_POINTS / MATCH_CHUNK_M, sharing ends."""
    cum = cumulative_m(lat, lon)
    out, start = [], 0
    while start < lat.size - 1:
        end = min(start + MATCH_CHUNK_POINTS, lat.size)
        far = int(np.searchsorted(cum, cum[start] + MATCH_CHUNK_M, side="right"))
        end = max(min(end, far), start + 2)
        out.append((start, end))
        start = end - 1
    return out


@dataclass
class _Part:
    """A run of thinned fixes: matched (road geometry and edges) or kept as GPS geometry."""

    geometry: list[tuple[float, float]]
    edges: list[RoadEdge]
    gps_m: float  # length of the GPS fixes it covers
    unmatched_m: float  # of which not matched to a road
    unmatched_runs: list[UnmatchedRun] = field(default_factory=list)  # where, and how long


@dataclass
class _Piece:
    parts: list[_Part] = field(default_factory=list)

    def take_audit_input(self) -> tuple[np.ndarray, list[RoadEdge]]:
        """The parts' geometry (one (n, 2) array) and edges joined; the parts give up theirs
        (a long track's geometry and edges are then held once, not twice, while audited)."""
        arrays: list[np.ndarray] = []
        edges: list[RoadEdge] = []
        size = 0
        last: tuple[float, float] | None = None
        for part in self.parts:
            pts = np.asarray(part.geometry, dtype=float).reshape(-1, 2)
            offset = size
            if last is not None and len(pts) and haversine_m(*last, *pts[0]) < JOIN_GAP_M:
                offset -= 1  # parts share their boundary point
                pts = pts[1:]
            if len(pts):
                arrays.append(pts)
                size += len(pts)
                last = (float(pts[-1, 0]), float(pts[-1, 1]))
            edges.extend(part.edges if offset == 0 else (e.shifted(offset) for e in part.edges))
            part.geometry, part.edges = [], []
        return (np.concatenate(arrays) if arrays else np.zeros((0, 2))), edges


def _angle_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    dot = a[0] * b[0] + a[1] * b[1]
    norm = math.hypot(*a) * math.hypot(*b)
    return 180.0 if norm == 0 else math.degrees(math.acos(max(-1.0, min(1.0, dot / norm))))


def _vector_m(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    k = 111_195.0
    return ((q[1] - p[1]) * k * math.cos(math.radians(p[0])), (q[0] - p[0]) * k)


def _index_or_none(value: Any, size: int) -> int:
    """``value`` when it indexes a list of ``size``, else -1."""
    return value if isinstance(value, int) and 0 <= value < size else -1


def _drop_unsustained(
    edges: list[RoadEdge],
    shape: list[tuple[float, float]],
    fixes: list[tuple[float, float]],
    times: np.ndarray,
    matched: list[dict[str, Any]],
) -> list[RoadEdge]:
    """Edges of highway stretches the GPS does not support (too short, too brief, or crossed
    rather than followed) get the class of the road around them."""
    classes = highway_classes(edges)
    if not any(classes):
        return list(edges)
    cum = cumulative_m([p[0] for p in shape], [p[1] for p in shape]) if shape else np.zeros(1)
    # each GPS fix: matched or not, and the edge it was matched to (-1: none)
    matched_fix = np.array([m.get("type") == "matched" for m in matched], dtype=bool)
    # (an unmatched fix's edge_index is Valhalla's "none", 2**64 - 1: no edge either)
    n_edges = len(edges)
    fix_edge = np.array(
        [_index_or_none(m.get("edge_index"), n_edges) for m in matched], dtype=np.int64
    )
    out = list(edges)
    k = 0
    while k < len(edges):
        if not classes[k]:
            k += 1
            continue
        end = k
        while end < len(edges) and classes[end]:
            end += 1
        on = np.flatnonzero(matched_fix & (fix_edge >= k) & (fix_edge < end)).tolist()
        b, e = edges[k].begin_index, edges[end - 1].end_index
        length = float(cum[min(e, len(cum) - 1)] - cum[min(b, len(cum) - 1)])
        sustained = len(on) >= SUSTAINED_MIN_POINTS and length >= SUSTAINED_MIN_M
        if sustained:
            t = times[on]
            if np.isfinite(t).all() and float(t[-1] - t[0]) < SUSTAINED_MIN_S:
                sustained = False
        if sustained:
            gps = _vector_m(fixes[on[0]], fixes[on[-1]])
            road = _vector_m(
                (matched[on[0]]["lat"], matched[on[0]]["lon"]),
                (matched[on[-1]]["lat"], matched[on[-1]]["lon"]),
            )
            sustained = (
                math.hypot(*road) >= SUSTAINED_MIN_M / 2
                and _angle_deg(gps, road) <= SUSTAINED_MAX_ANGLE_DEG
                and math.hypot(*gps) >= 0.5 * math.hypot(*road)
            )
        if not sustained:
            around = next(
                (
                    x
                    for x in [*edges[end:], *reversed(edges[:k])]
                    if x.road_class and x.use != "ramp"
                ),
                None,
            )
            cls = around.road_class if around and around.road_class not in HIGHWAY_CLASSES else ""
            for j in range(k, end):
                out[j] = replace(edges[j], road_class=cls, use="road", names=edges[j].names)
        k = end
    return out


def _match(
    router: Router, lat: np.ndarray, lon: np.ndarray, times: np.ndarray, accuracy_m: float
) -> list[_Part]:
    """Match one chunk; a refused chunk is halved until the refusal is isolated."""
    fixes = list(zip(lat.tolist(), lon.tolist(), strict=True))
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    try:
        answer = router.trace_attributes(kc.map_match_request(fixes, accuracy_m))
        shape = decode(answer.get("shape", ""))
        if len(shape) < 2:
            raise NoRouteError("empty match")
    except NoRouteError:
        if lat.size >= 2 * MATCH_MIN_BISECT_POINTS:
            mid = lat.size // 2
            return _match(router, lat[: mid + 1], lon[: mid + 1], times[: mid + 1], accuracy_m) + (
                _match(router, lat[mid:], lon[mid:], times[mid:], accuracy_m)
            )
        total = float(seg.sum())
        refused = np.zeros(lat.size, dtype=bool)
        return [_Part(fixes, [], total, total, unmatched_runs(lat, lon, seg, refused))]
    matched = answer.get("matched_points") or []
    edges = _drop_unsustained(edges_from_trace(answer), shape, fixes, times, matched)
    unmatched_m, runs = 0.0, []
    if len(matched) == len(fixes):
        ok = np.array([m.get("type") != "unmatched" for m in matched])
        unmatched_m = float(seg[~(ok[:-1] & ok[1:])].sum())
        runs = unmatched_runs(lat, lon, seg, ok) if unmatched_m > 0 else []
    return [_Part(shape, edges, float(seg.sum()), unmatched_m, runs)]


def _longest_unmatched_m(parts: list[_Part]) -> float:
    """The longest run of unmatched track (wholly unmatched parts in a row add up)."""
    longest = run = 0.0
    for part in parts:
        if part.unmatched_m > 0 and part.unmatched_m >= part.gps_m - 1e-6:
            run += part.unmatched_m
        else:
            run = part.unmatched_m
        longest = max(longest, run)
    return longest


def _combine(reports: list[RouteReport]) -> RouteReport:
    """Reports of consecutive pieces as one (positions shifted; a state continued across a
    break stays one entry)."""
    if len(reports) == 1:
        return reports[0]
    geometry: list[tuple[float, float]] = []
    states: list[StateReport] = []
    warnings: list[RouteWarning] = []
    offset = 0.0
    for r in reports:
        geometry.extend(r.geometry)
        for s in r.states:
            s = replace(s, from_m=round(s.from_m + offset, 1), to_m=round(s.to_m + offset, 1))
            if states and states[-1].state == s.state:
                states[-1].to_m = s.to_m
                states[-1].km = round((s.to_m - states[-1].from_m) / 1000, 3)
            else:
                states.append(s)
        warnings.extend(
            replace(w, from_m=round(w.from_m + offset, 1), to_m=round(w.to_m + offset, 1))
            for w in r.warnings
        )
        offset += r.distance_m
    return RouteReport(
        distance_m=offset,
        duration_s=sum(r.duration_s for r in reports),
        geometry=geometry,
        states=states,
        warnings=warnings,
    )


def _as_track(points: Sequence[tuple[float, float]] | TrackArrays) -> TrackArrays:
    if isinstance(points, TrackArrays):
        return points
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return TrackArrays.from_columns(pts[:, 0], pts[:, 1])


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %" if share >= 0.01 else "under 1 %"


def _thinned_pieces(
    track: TrackArrays, cut: Any
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """(lat, lon, times, noise) of each piece of the cut track, smoothed by its own noise
    and thinned for the matcher; a very long track is matched at a wider spacing (measured
    on Baltimore tiles: 50-100 m is cheapest per km; 800 m costs 20 ms a fix, 100 m about
    1 ms, 200 m 20 % more per km than 100 m)."""
    smoothed = []
    for index in cut.pieces:
        if index.size >= 2:
            contiguous = int(index[-1]) - int(index[0]) + 1 == index.size  # views, not copies
            sub = track.take(slice(int(index[0]), int(index[-1]) + 1) if contiguous else index)
            noise = position_noise_m(sub)
            lat, lon = smooth_positions(sub, noise)
            smoothed.append((lat, lon, sub.t, noise, float(cumulative_m(lat, lon)[-1])))
    budget_spacing = min(sum(s[-1] for s in smoothed) / MATCH_POINT_BUDGET, MATCH_MAX_SPACING_M)
    out = []
    for lat, lon, times, noise, _length in smoothed:
        keep = _thin_index(lat, lon, max(MATCH_MIN_SPACING_M, 2 * noise, budget_spacing))
        out.append((lat[keep], lon[keep], times[keep], noise))
    return out


def _matched_pieces(
    track: TrackArrays, cut: Any, router: Router | None
) -> Iterator[Iterator[_Part]]:
    """Per piece of the cut track: its parts, matched chunk by chunk as they are asked for
    (GPS geometry only without a router)."""
    for lat, lon, times, noise in _thinned_pieces(track, cut):
        yield _piece_parts(router, lat, lon, times, noise)


def _all_matched_pieces(track: TrackArrays, cut: Any, router: Router | None) -> list[list[_Part]]:
    """Every piece's parts, its chunks matched MATCH_THREADS at a time when the engine has
    lanes (engines of its own per thread): the matcher is most of a long track's cost."""
    pieces = _thinned_pieces(track, cut)
    lanes_of = getattr(router, "lanes", None)
    jobs = [(k, a, b) for k, p in enumerate(pieces) for a, b in _chunk_bounds(p[0], p[1])]
    if router is None or lanes_of is None or MATCH_THREADS < 2 or len(jobs) < 2:
        return [list(_piece_parts(router, *p)) for p in pieces]
    free: queue.SimpleQueue[Router] = queue.SimpleQueue()
    for lane in lanes_of(MATCH_THREADS):
        free.put(lane)

    def match(job: tuple[int, int, int]) -> list[_Part]:
        k, a, b = job
        lat, lon, times, noise = pieces[k]
        lane = free.get()
        try:
            return _match(lane, lat[a:b], lon[a:b], times[a:b], noise)
        finally:
            free.put(lane)

    out: list[list[_Part]] = [[] for _ in pieces]
    with ThreadPoolExecutor(MATCH_THREADS) as pool:
        for (k, _a, _b), parts in zip(jobs, pool.map(match, jobs), strict=True):
            out[k].extend(parts)
    while not free.empty():  # the extra engines go: their memory is the audit's now
        free.get()
    trim_heap()
    return out


def _piece_parts(
    router: Router | None, lat: np.ndarray, lon: np.ndarray, times: np.ndarray, noise: float
) -> Iterator[_Part]:
    for a, b in _chunk_bounds(lat, lon):
        if router is None:
            fixes = list(zip(lat[a:b].tolist(), lon[a:b].tolist(), strict=True))
            length = float(cumulative_m(lat[a:b], lon[a:b])[-1])
            yield _Part(fixes, [], length, length)
        else:
            yield from _match(router, lat[a:b], lon[a:b], times[a:b], noise)


def track_uses_highway(
    points: Sequence[tuple[float, float]] | TrackArrays, router: Router | None = None
) -> bool | None:
    """Did the track use a motorway or trunk (ramps included)? True as soon as one matched
    chunk holds a sustained highway stretch (the rest of the track cannot undo it, so it is
    not matched); False only when the whole track was matched with no unknown stretch
    longer than ``HIGHWAY_USE_MAX_UNMATCHED_M``; None (unknown) otherwise or without tiles."""
    from kei_drive.routing import get_router

    track = _as_track(points)
    if len(track) < 2:
        return None
    router = router or get_router()
    parts: list[_Part] = []
    for piece in _matched_pieces(track, track_pieces(track, MATCH_BREAK_M), router):
        for part in piece:
            if _has_highway(part):
                return True
            parts.append(part)
    gps_m = sum(p.gps_m for p in parts)
    unmatched_m = sum(p.unmatched_m for p in parts)
    if (
        gps_m > 0
        and unmatched_m < gps_m
        and _longest_unmatched_m(parts) <= (HIGHWAY_USE_MAX_UNMATCHED_M)
    ):
        return False
    return None


def _has_highway(part: _Part) -> bool:
    """A highway edge (ramps joining one count) covering at least one segment: exactly what
    makes ``audit_route`` warn of a highway stretch."""
    classes = highway_classes(part.edges)
    return any(c and e.end_index > e.begin_index for c, e in zip(classes, part.edges, strict=True))


def check_track(
    points: Sequence[tuple[float, float]] | TrackArrays,
    *,
    router: Router | None = None,
    rules: Any = None,
    on: date | None = None,
    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH,
    permits: Sequence[Any] | None = None,
) -> RouteResult:
    """Map-match a recorded or imported track and audit it.

    ``points`` are (lat, lon) pairs or a ``TrackArrays`` (times and accuracies help: they
    decide the smoothing, the matcher's accuracy and the sustained-highway test). Stretches
    that cannot be matched keep the GPS geometry and are audited for states and distance,
    with road attributes reported as unknown; ``unmatched`` says what and why.
    """
    from kei_drive.routing import get_router

    track = _as_track(points)
    if len(track) < 2:
        raise ValueError("a route needs at least two points")
    if not np.isfinite(track.t).any():  # a drawn route, not a recording
        track = TrackArrays.from_columns(*fill_route(track.lat, track.lon))
    rules = _load_rules(rules)
    notes: list[str] = []
    engine = ""
    try:
        router = router or get_router()
        engine = getattr(router, "name", "")
    except RoutingError as exc:
        router = None
        notes.append(f"{exc}; road attributes are unknown")
    cut = track_pieces(track, MATCH_BREAK_M)
    pieces = [_Piece(parts) for parts in _all_matched_pieces(track, cut, router)]
    if not pieces:
        raise ValueError("no two usable fixes in the track (all were rejected as glitches)")

    gps_m = sum(p.gps_m for piece in pieces for p in piece.parts)
    unmatched_m = sum(p.unmatched_m for piece in pieces for p in piece.parts)
    longest = _longest_unmatched_m([p for piece in pieces for p in piece.parts])
    reports = []
    permits = _load_permits(permits)
    for piece in pieces:
        geometry, edges = piece.take_audit_input()
        reports.append(
            audit_route(geometry, edges, rules, on=on, top_speed_mph=top_speed_mph, permits=permits)
        )
        del geometry, edges
    report = _combine(reports)
    unmatched: list[dict[str, Any]] = []
    if unmatched_m > 0 and router is None:
        unmatched.append(
            {
                "reason": "no_routing_tiles",
                "length_m": round(unmatched_m, 1),
                "longest_m": round(longest, 1),
            }
        )
    elif unmatched_m > 0:
        runs = [run for piece in pieces for p in piece.parts for run in p.unmatched_runs]
        unmatched.extend(unmatched_reasons(router, runs, longest))
        notes.extend(unmatched_notes(router, unmatched, gps_m, _pct))
    if cut.glitches:
        unmatched.append({"reason": "gps_glitch", "points": cut.glitches})
    for kind, metres in cut.breaks:
        unmatched.append(
            {"reason": "gps_jump" if kind == "jump" else "gap", "length_m": round(metres, 1)}
        )
    share = 1.0 - unmatched_m / gps_m if gps_m > 0 else 0.0
    if cut.glitches:
        notes.append(
            f"{cut.glitches} GPS fix{'es' if cut.glitches > 1 else ''} ignored as "
            f"{'glitches' if cut.glitches > 1 else 'a glitch'} "
            "(implausible jumps)."
        )
    if cut.breaks:
        notes.append(
            f"The track was cut at {len(cut.breaks)} jump{'s' if len(cut.breaks) > 1 else ''} "
            "or long gap(s) in recording; those stretches are not audited."
        )
    return RouteResult(
        report=report,
        legal=report.kei_legal,
        notes=notes,
        engine=engine,
        requested=(
            (float(track.lat[0]), float(track.lon[0])),
            (float(track.lat[-1]), float(track.lon[-1])),
        ),
        unmatched_share=1.0 - share if router is not None else 1.0,
        matched_share=share if router is not None else 0.0,
        unmatched=unmatched,
        longest_unmatched_m=longest if router is not None else float("inf"),
    )


# Valhalla maneuver types that start or end a leg (kStart*, kDestination*).
START_TYPES = (1, 2, 3)
DESTINATION_TYPES = (4, 5, 6)
CONTINUE_TYPE = 8  # kContinue
MANEUVER_SNAP_SLACK_M = 300.0


def _legs_shape(answer: dict[str, Any]) -> np.ndarray:
    """The shape of every leg of a route answer, concatenated (maneuver indices refer to it)."""
    parts = [decode_array(leg.get("shape", "")) for leg in answer.get("trip", {}).get("legs", [])]
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts) if parts else np.zeros((0, 2))


def track_maneuvers(
    points: Sequence[tuple[float, float]],
    geometry: Sequence[tuple[float, float]],
    router: Router,
) -> list[Maneuver]:
    """Turn-by-turn directions along a route given as points (Valhalla ``trace_route``),
    their ``begin_index`` moved onto ``geometry`` (the audited route's own vertices).

    Raises RoutingError when the engine cannot match the points to roads.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    lat, lon = fill_route(pts[:, 0], pts[:, 1])
    keep = _thin_index(lat, lon, MATCH_MIN_SPACING_M)
    lat, lon = lat[keep], lon[keep]
    found: list[tuple[Maneuver, tuple[float, float]]] = []
    for a, b in _chunk_bounds(lat, lon):
        fixes = list(zip(lat[a:b].tolist(), lon[a:b].tolist(), strict=True))
        answer = router.trace_route(kc.trace_route_request(fixes))
        shape = _legs_shape(answer)
        for m in maneuvers_from_route(answer):
            if 0 <= m.begin_index < len(shape):
                found.append((m, (float(shape[m.begin_index, 0]), float(shape[m.begin_index, 1]))))
    # One start and one arrival: chunks and breaks start and end legs of their own.
    found = [
        (m, p)
        for k, (m, p) in enumerate(found)
        if not (m.type in START_TYPES and k > 0)
        and not (m.type in DESTINATION_TYPES and k < len(found) - 1)
    ]
    geo = np.asarray(geometry, dtype=float).reshape(-1, 2)
    if not len(geo):
        return []
    cum = cumulative_m(geo[:, 0], geo[:, 1])
    out: list[Maneuver] = []
    at, reach = 0, MANEUVER_SNAP_SLACK_M
    for m, (plat, plon) in found:
        # The nearest vertex ahead, no farther along than the previous maneuver's length.
        end = int(np.searchsorted(cum, cum[at] + reach, side="right"))
        window = slice(at, max(end, at + 1))
        near = haversine_m(plat, plon, geo[window, 0], geo[window, 1])
        at = at + int(np.argmin(near))
        reach = 1.5 * m.distance_m + MANEUVER_SNAP_SLACK_M
        out.append(replace(m, begin_index=at))
    if out and out[-1].type in DESTINATION_TYPES:
        out[-1] = replace(out[-1], begin_index=len(geo) - 1)
    return out


def join_results(first: RouteResult, then: RouteResult) -> RouteResult:
    """Two routes driven one after the other, as one: positions, maneuver indices and notes
    carried over; the first's arrival dropped and the second's start made a "continue"."""
    report = _combine([first.report, then.report])
    offset = len(first.report.geometry)
    maneuvers = [m for m in first.maneuvers if m.type not in DESTINATION_TYPES]
    for m in then.maneuvers:
        kind = CONTINUE_TYPE if m.type in START_TYPES and maneuvers else m.type
        maneuvers.append(replace(m, begin_index=m.begin_index + offset, type=kind))
    return replace(
        then,
        report=report,
        maneuvers=maneuvers,
        legal=first.legal and then.legal,
        notes=_dedupe([*first.notes, *then.notes]),
        requested=(first.requested[0], then.requested[1])
        if first.requested and then.requested
        else then.requested,
    )


__all__ = [
    "Maneuver",
    "RouteResult",
    "UNREACHABLE_GAP_M",
    "check_track",
    "edges_from_trace",
    "join_results",
    "plan_route",
    "thin_track",
    "track_maneuvers",
    "track_uses_highway",
]
