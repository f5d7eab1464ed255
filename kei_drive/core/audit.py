"""Route audit: what a Kei driver must know about a route, from plain data.

Input: the route geometry [(lat, lon), ...], the road edges along it (class, tagged speed
limit, names, which geometry vertices they cover), the Kei rule book and a date. Output:
a RouteReport with distance, time at Kei speeds, the states crossed with their rule status
and the warnings. No routing engine here: adapters turn their answers into RoadEdge lists.

Work is per geometry segment (vectorised): each segment gets its edge's attributes and the
state its midpoint lies in; warnings are runs of flagged segments, merged.

Unknown speed limits are reported only where they matter (documented threshold):
- only in states whose rule has a speed cap (elsewhere the posted limit does not decide);
- on roads above local class (trunk, primary, secondary, tertiary) or with no map data at all;
- on local roads (unclassified, residential, service) only when the state's cap is below
  ASSUMED_LOCAL_LIMIT_MPH, since statutory limits on such streets are 25-35 mph.
Motorways are already "highway" warnings and are not repeated as unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from kei_drive.core.access import HARD_KINDS, access_stretches, runs_of_equal
from kei_drive.core.distance import great_circle_m, segment_lengths_m
from kei_drive.core.units import METERS_PER_MILE, mph_to_kmh
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.core.vocabulary import WarningKind

HIGHWAY_CLASSES = ("motorway", "trunk")
# OSM link classes as some engines report them; Valhalla reports a link as a "ramp" edge
# with the class of a road it joins, so ramps are classed by their neighbours instead.
LINK_CLASSES = {"motorway_link": "motorway", "trunk_link": "trunk"}
_HIGHWAY_OR_LINK = frozenset((*HIGHWAY_CLASSES, *LINK_CLASSES))
UNKNOWN_LIMIT_CLASSES = ("trunk", "primary", "secondary", "tertiary", "")
# A trunk posted this or less is a town's street, not a highway (``_town_trunk``); the
# lowest Kei cap in the rules is 35 mph, so such a road is under every cap
TOWN_TRUNK_MAX_MPH = 35
TOWN_TRUNK_MAX_KMH = mph_to_kmh(TOWN_TRUNK_MAX_MPH) + 0.5  # a limit tagged "56" km/h
LOCAL_CLASSES = ("unclassified", "residential", "service_other", "service")
ASSUMED_LOCAL_LIMIT_MPH = 35
# What a highway stretch means for a Kei (the audit's messages and the driver's announcements).
HIGHWAY_WORDS = {
    "motorway": "Kei vehicles may not use motorways/interstates",
    "trunk": "fast divided road, usually above Kei speed caps",
}
UNKNOWN_ROAD_SPEED_KMH = 40.0  # time estimate where there is no map data
UNREACHABLE_GAP_M = 500.0  # route end farther than this from the request: "unreachable"
MERGE_GAP_M = 30.0  # same-kind warnings closer than this are merged
# Tie-break between warnings starting at the same place (the report's own order).
KIND_ORDER = (
    WarningKind.UNREACHABLE,
    WarningKind.BANNED_STATE,
    WarningKind.ROAD_ACCESS,
    WarningKind.UNVERIFIED,
    WarningKind.RESTRICTED_STATE,
    WarningKind.LOCAL_PERMIT,
    WarningKind.HIGHWAY,
    WarningKind.SPEED_CAP,
    WarningKind.UNKNOWN_SPEED_LIMIT,
)


@dataclass(frozen=True, slots=True)
class RoadEdge:
    """One road edge along a route: it covers geometry vertices begin_index..end_index."""

    begin_index: int
    end_index: int
    road_class: str = ""  # motorway|trunk|primary|secondary|tertiary|unclassified|residential|...
    speed_limit_kmh: float | None = None  # tagged limit only; None = not tagged
    speed_kmh: float | None = None  # typical travel speed (for time estimates)
    names: tuple[str, ...] = ()  # refs and names, e.g. ("I 95", "John F. Kennedy Highway")
    use: str = ""  # "road", "ramp", "ferry", ...

    @classmethod
    def unchecked(
        cls,
        begin_index: int,
        end_index: int,
        road_class: str,
        speed_limit_kmh: float | None,
        speed_kmh: float | None,
        names: tuple[str, ...],
        use: str,
    ) -> RoadEdge:
        """The constructor without a frozen dataclass's ``object.__setattr__`` per field
        (~3x cheaper; an engine answer has an edge per road segment)."""
        out = object.__new__(cls)
        b, e, rc, lim, sp, nm, us = _EDGE_SETTERS  # slots: each set directly
        b(out, begin_index)
        e(out, end_index)
        rc(out, road_class)
        lim(out, speed_limit_kmh)
        sp(out, speed_kmh)
        nm(out, names)
        us(out, use)
        return out

    def shifted(self, offset: int) -> RoadEdge:
        """The same edge with its geometry indices moved by ``offset`` (every field kept;
        cheaper than ``dataclasses.replace`` when joining a long track's parts)."""
        return RoadEdge.unchecked(
            self.begin_index + offset,
            self.end_index + offset,
            self.road_class,
            self.speed_limit_kmh,
            self.speed_kmh,
            self.names,
            self.use,
        )

    @property
    def speed_limit_mph(self) -> int | None:
        if not self.speed_limit_kmh:
            return None
        return round(self.speed_limit_kmh / mph_to_kmh(1))


_EDGE_SETTERS = tuple(getattr(RoadEdge, name).__set__ for name in RoadEdge.__slots__)


@dataclass
class StateReport:
    state: str
    name: str
    from_m: float
    to_m: float
    km: float
    status: str  # legal | restricted | banned | unclear | unknown (no rule)
    max_road_speed_mph: int | None = None
    interstate_forbidden: bool | None = None
    advice: str = ""
    sources: list[str] = field(default_factory=list)
    road_access: str | None = None  # RoadAccess value; None = unverified or no rule
    visitors: str | None = None  # Visitors value
    permit_caps_mph: list[int] = field(default_factory=list)  # set by a driver's permits


@dataclass
class RouteWarning:
    # highway|speed_cap|unknown_speed_limit|banned_state|road_access|unverified|
    # restricted_state|local_permit|unreachable
    kind: str
    message: str
    from_m: float
    to_m: float
    road: str | None = None
    state: str | None = None
    road_access: str | None = None  # the access mode of the stretch's state
    statement: str | None = None  # "driver": allowed only on the driver's own statement
    # What the wording needs, so no one parses ``message``: the highway's class
    # ("motorway"/"trunk"), a speed_cap stretch's posted limit and cap, an unreachable end's gap.
    road_class: str | None = None
    limit_mph: int | None = None
    cap_mph: int | None = None
    gap_m: float | None = None


@dataclass
class RouteReport:
    distance_m: float
    duration_s: float
    geometry: list[tuple[float, float]]
    states: list[StateReport]
    warnings: list[RouteWarning]

    @property
    def kei_legal(self) -> bool:
        """No warning that makes the route illegal or unusable for a Kei vehicle."""
        hard = {WarningKind.HIGHWAY, WarningKind.SPEED_CAP, WarningKind.UNREACHABLE, *HARD_KINDS}
        return not any(w.kind in hard for w in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "geometry": [[round(lat, 6), round(lon, 6)] for lat, lon in self.geometry],
            "states": [asdict(s) for s in self.states],
            "warnings": [asdict(w) for w in self.warnings],
        }


# --- rules (duck-typed on kei_drive.core.rules.RuleBook / KeiRule) -------------------------


def rule_in_force(rules: Any, state: str | None, on: date | None) -> Any:
    """The state's rule on ``on``, or None (no rule book, no state, or no such state)."""
    if rules is None or not state:
        return None
    try:
        return rules.rule_for(state, on=on)
    except (KeyError, ValueError):
        return None


def _sources(rule: Any) -> list[str]:
    return [str(src) for src in getattr(rule, "sources", None) or ()]


# --- helpers ----------------------------------------------------------------------------


def _miles(m: float) -> str:
    mi = m / METERS_PER_MILE
    return f"{mi:.1f} mi" if mi >= 0.1 else f"{m:.0f} m"


def _where(from_m: float, to_m: float, start_m: float = 0.0) -> str:
    """ "1.2 mi at mile 3.4": the mile counted from the whole track's start (``start_m`` is
    where this piece of a cut track begins)."""
    return f"{_miles(to_m - from_m)} at mile {(from_m + start_m) / METERS_PER_MILE:.1f}"


def _runs(keys: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end_exclusive, key) for runs of equal keys >= 0."""
    return [run for run in runs_of_equal(keys) if run[2] >= 0]


SHOWN_ROADS = 4  # a stretch names at most this many roads, the longest, in route order


def _road_names(
    seg_edge: np.ndarray, start: int, end: int, edges: Sequence[RoadEdge], cum: np.ndarray
) -> str | None:
    """The roads of segments start..end, in route order: the ``SHOWN_ROADS`` longest of
    them and how many more (the first four named a 4.7 mi stretch by 1.5 km of it)."""
    ids = seg_edge[start:end]
    lengths = np.diff(cum[start : end + 1])[ids >= 0]
    ids = ids[ids >= 0]
    if ids.size == 0:
        return None
    metres: dict[str, float] = {}  # first name of each road, in route order, and its length
    for k, length in zip(ids.tolist(), lengths.tolist(), strict=True):
        ename = edges[k].names
        if ename:
            metres[ename[0]] = metres.get(ename[0], 0.0) + length
    return _named(metres)


def _named(metres: dict[str, float]) -> str | None:
    if not metres:
        return None
    longest = set(sorted(metres, key=lambda name: -metres[name])[:SHOWN_ROADS])
    shown = ", ".join(name for name in metres if name in longest)
    rest = len(metres) - len(longest)
    return f"{shown} and {rest} more" if rest else shown


def highway_classes(edges: Sequence[RoadEdge]) -> list[str]:
    """Per edge: "motorway", "trunk" or "" — counting ramps as the highway they serve.

    For a Kei a ramp onto an interstate is the interstate: a run of ramp edges that
    touches a motorway edge (before or after it along the route) is motorway, else one
    touching a trunk is trunk; ``motorway_link`` / ``trunk_link`` classes map directly.
    """
    out = [
        ""
        if _town_trunk(e)
        else e.road_class
        if e.road_class in HIGHWAY_CLASSES
        else LINK_CLASSES.get(e.road_class, "")
        for e in edges
    ]
    k = 0
    while k < len(edges):
        if edges[k].use != "ramp" or out[k]:
            k += 1
            continue
        end = k
        while end < len(edges) and edges[end].use == "ramp" and not out[end]:
            end += 1
        around = {out[k - 1] if k else "", out[end] if end < len(edges) else ""}
        cls = "motorway" if "motorway" in around else "trunk" if "trunk" in around else ""
        out[k:end] = [cls] * (end - k)
        k = end
    return out


def town_trunk(road_class: str, speed_limit_kmh: float | None) -> bool:
    """A trunk posted ``TOWN_TRUNK_MAX_MPH`` or less: a US route through a town's main
    street, or a city street mapped trunk (Baltimore's President Street, posted 30 mph),
    not a fast divided road: an ordinary road, whose posted limit the caps are checked
    against (the audit's and the Drive screen's "road now" reading alike). Motorways stay
    motorways whatever their posted limit."""
    return (
        road_class in ("trunk", "trunk_link")
        and speed_limit_kmh is not None
        and 0 < speed_limit_kmh <= TOWN_TRUNK_MAX_KMH
    )


def _town_trunk(edge: RoadEdge) -> bool:
    return town_trunk(edge.road_class, edge.speed_limit_kmh)


def _is_ramp(edge: RoadEdge) -> bool:
    return edge.use == "ramp" or edge.road_class in LINK_CLASSES


def lone_ramp_runs(edges: Sequence[RoadEdge]) -> list[tuple[int, int]]:
    """[first, end) edge ranges of unnamed highway ramps with no named highway before or
    after them along the route (a track that drives only a ramp): the audit can only call
    them "ramp"; an adapter with a map may find the road they serve."""
    classes = highway_classes(edges)
    runs: list[tuple[int, int]] = []
    k = 0
    while k < len(edges):
        if not (classes[k] and _is_ramp(edges[k]) and not edges[k].names):
            k += 1
            continue
        end = k
        while end < len(edges) and classes[end] and _is_ramp(edges[end]) and not edges[end].names:
            end += 1
        around = [edges[k - 1]] if k else []
        around += [edges[end]] if end < len(edges) else []
        if not any(e.names and e.road_class in HIGHWAY_CLASSES for e in around):
            runs.append((k, end))
        k = end
    return runs


def _with_ramp_names(edges: Sequence[RoadEdge], classes: Sequence[str]) -> list[RoadEdge]:
    """Unnamed highway ramps named after the road they lead to ("ramp to I 83") or, for an
    exit, come from ("ramp from I 83")."""
    out = list(edges)
    ramp = [_is_ramp(e) for e in edges]
    # nearest non-ramp edge before / after each edge (one pass each way, not a scan per ramp)
    prev: list[RoadEdge | None] = []
    last: RoadEdge | None = None
    for e, r in zip(edges, ramp, strict=True):
        prev.append(last)
        last = last if r else e
    nxt: list[RoadEdge | None] = [None] * len(edges)
    last = None
    for k in range(len(edges) - 1, -1, -1):
        nxt[k] = last
        last = last if ramp[k] else edges[k]
    for k, e in enumerate(edges):
        if e.names or not ramp[k] or not classes[k]:
            continue
        after, before = nxt[k], prev[k]
        if after is not None and after.names and after.road_class in HIGHWAY_CLASSES:
            out[k] = replace(e, names=(f"ramp to {after.names[0]}",))
        elif before is not None and before.names and before.road_class in HIGHWAY_CLASSES:
            out[k] = replace(e, names=(f"ramp from {before.names[0]}",))
        else:
            out[k] = replace(e, names=("ramp",))
    return out


def _close_runs(runs: list[tuple[int, int, int]], cum: np.ndarray) -> list[tuple[int, int]]:
    """Segment runs of one key (state, map data or none) closer than ``MERGE_GAP_M`` along
    the route, as one: a junction's few metres of known limit do not split a stretch. (Its
    roads are named from the whole, not joined as text: "Dundalk Avenue, Dundalk Avenue,
    Eastern Avenue" came of that.)"""
    out: list[tuple[int, int, int]] = []
    for s, e, key in runs:
        if out and out[-1][2] == key and cum[s] - cum[out[-1][1]] <= MERGE_GAP_M:
            out[-1] = (out[-1][0], e, key)
        else:
            out.append((s, e, key))
    return [(s, e) for s, e, _key in out]


def _unknown_message(
    road: str | None, from_m: float, to_m: float, state: str | None, start_m: float = 0.0
) -> str:
    what = f"Speed limit unknown on {road}" if road else "Road type and speed limit unknown"
    return f"{what} for {_where(from_m, to_m, start_m)} in {state or 'unknown state'}"


# --- the audit --------------------------------------------------------------------------


def _segment_edges(edges: Sequence[RoadEdge], n_seg: int) -> np.ndarray:
    """Per geometry segment, the index of the edge covering it (-1: none; a later edge
    wins where edges overlap)."""
    seg_edge = np.full(n_seg, -1, dtype=np.int64)
    if not edges or not n_seg:
        return seg_edge
    # np.minimum/np.maximum: np.clip's Python wrapper costs ~3x on arrays this small
    begin = np.minimum(np.maximum(np.array([e.begin_index for e in edges], np.int64), 0), n_seg)
    end = np.minimum(np.maximum(np.array([e.end_index for e in edges], np.int64), 0), n_seg)
    if (begin[1:] >= end[:-1]).all():  # in order, no overlap (a route's edges): at once
        length = np.maximum(end - begin, 0)
        at = np.repeat(begin - np.cumsum(length) + length, length) + np.arange(length.sum())
        seg_edge[at] = np.repeat(np.arange(len(edges)), length)
        return seg_edge
    for k, (b, e) in enumerate(zip(begin.tolist(), end.tolist(), strict=True)):
        if e > b:
            seg_edge[b:e] = k
    return seg_edge


def _coded(values: list[str], seg_edge: np.ndarray) -> tuple[dict[str, int], np.ndarray]:
    """({value: code}, each segment's code) for per-edge strings; a segment with no edge
    (-1) gets the code of "" (as an edge with no value)."""
    codes = {v: k for k, v in enumerate(dict.fromkeys(["", *values]))}
    per_edge = np.fromiter((codes[v] for v in values), dtype=np.int16, count=len(values))
    return codes, np.append(per_edge, np.int16(0))[seg_edge]


def audit_route(
    geometry: Sequence[tuple[float, float]],
    edges: Sequence[RoadEdge],
    rules: Any = None,
    *,
    on: date | None = None,
    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH,
    requested_start: tuple[float, float] | None = None,
    requested_end: tuple[float, float] | None = None,
    permits: Sequence[Any] = (),
    start_m: float = 0.0,
    engine_time_s: float | None = None,
) -> RouteReport:
    """Audit a route. ``rules`` is a RuleBook (``rule_for(state, on=)``) or None;
    ``permits`` are the driver's local permissions (``core.local_permits``); ``start_m``:
    where this geometry begins along a longer track cut into pieces (positions stay
    relative to the piece; messages count miles from the track's start);
    ``engine_time_s``: the routing engine's own time for the route, whose part beyond its
    edges' running time (turns, traffic signals) the Kei's time includes too."""
    from kei_drive.core.geo import states_along

    pts = np.asarray(geometry, dtype=float).reshape(-1, 2)
    n_seg = max(len(pts) - 1, 0)
    seg_len = segment_lengths_m(pts[:, 0], pts[:, 1])
    cum = np.concatenate(([0.0], np.cumsum(seg_len)))
    distance = float(cum[-1])

    # Per-segment edge attributes.
    seg_edge = _segment_edges(edges, n_seg)
    speeds = np.array([e.speed_kmh or UNKNOWN_ROAD_SPEED_KMH for e in edges] + [0.0])[seg_edge]
    speeds = np.where(seg_edge < 0, UNKNOWN_ROAD_SPEED_KMH, speeds)
    top_kmh = mph_to_kmh(top_speed_mph)
    engine_kmh = np.minimum(np.maximum(speeds, 1.0), top_kmh)  # the engine costs it so too
    posted = np.array([e.speed_limit_kmh or np.inf for e in edges] + [np.inf])[seg_edge]

    # States along the route and their rules.
    spans = states_along(pts) if len(pts) else []
    states: list[StateReport] = []
    rule_of: dict[str, Any] = {}
    for sp in spans:
        rule = rule_of.setdefault(sp.state, rule_in_force(rules, sp.state, on))
        states.append(
            StateReport(
                state=sp.state,
                name=sp.name,
                from_m=round(sp.from_m, 1),
                to_m=round(sp.to_m, 1),
                km=round((sp.to_m - sp.from_m) / 1000, 3),
                status=getattr(rule, "status", None) or "unknown",
                max_road_speed_mph=getattr(rule, "max_road_speed_mph", None),
                interstate_forbidden=getattr(rule, "interstate_forbidden", None),
                advice=rule.advice() if rule is not None else "",
                sources=_sources(rule) if rule is not None else [],
                road_access=getattr(rule, "road_access", None),
                visitors=(getattr(rule, "visitors", None) or {}).get("rule"),
            )
        )
    # Segment -> index into `states` (by midpoint distance), -1 outside every state.
    seg_state = np.full(n_seg, -1, dtype=np.int64)
    if spans and n_seg:
        mids = cum[:-1] + seg_len / 2
        starts = np.array([s.from_m for s in spans])
        ends = np.array([s.to_m for s in spans])
        k = np.searchsorted(starts, mids, side="right") - 1
        ok = (k >= 0) & (mids <= ends[np.maximum(k, 0)] + 1e-6)
        seg_state = np.where(ok, k, -1)
    state_codes = [s.state for s in states] + [""]
    caps = np.array([s.max_road_speed_mph or 0 for s in states] + [0], dtype=float)[seg_state]
    # Road access per state stretch (core/access.py); the driver's permits may set caps.
    seg_mid = (pts[:-1] + pts[1:]) / 2 if n_seg else np.zeros((0, 2))
    stretches, permit_caps = access_stretches(
        states, [rule_of.get(s.state) for s in states], seg_state, seg_mid, cum, permits
    )
    caps = np.where(permit_caps > 0, permit_caps, caps)
    for k, report in enumerate(states):  # so the time's label can name the caps it used
        set_here = permit_caps[seg_state == k]
        report.permit_caps_mph = sorted({int(c) for c in set_here[set_here > 0]})
    # a Kei keeps to the posted limit, to its own top speed, and where a state lets it on
    # roads posted up to N mph only, to N (a 35 mph state's route read 41.5 mph on average)
    cap_kmh = np.where(caps > 0, mph_to_kmh(1) * caps, np.inf)
    kei_kmh = np.minimum(np.minimum(engine_kmh, posted), cap_kmh)
    duration = float(np.sum(seg_len / (kei_kmh / 3.6))) if n_seg else 0.0
    if engine_time_s is not None and n_seg:  # the engine's time beyond its edges': turns
        duration += max(0.0, engine_time_s - float(np.sum(seg_len / (engine_kmh / 3.6))))
    # Where no stretch has a cap, posted and unknown limits cannot matter: those checks
    # (most of the audit's per-segment work) find nothing and are skipped.
    has_caps = bool(caps.any())

    warnings: list[RouteWarning] = []

    def pos(s: int, e: int) -> tuple[float, float]:
        return round(float(cum[s]), 1), round(float(cum[e]), 1)

    # Motorway / trunk stretches, ramps included (one per class and state stretch); none
    # without a motorway, trunk or link edge (ramps are highway only next to one).
    has_hw = not _HIGHWAY_OR_LINK.isdisjoint([e.road_class for e in edges])
    edge_hw = highway_classes(edges) if has_hw else []
    hw_runs = []
    if any(edge_hw):
        named = _with_ramp_names(edges, edge_hw)
        hw_of, seg_hw = _coded(edge_hw, seg_edge)
        hw_key = np.full(n_seg, -1, dtype=np.int64)
        for ci, cls in enumerate(HIGHWAY_CLASSES):
            hw_key = np.where(seg_hw == hw_of.get(cls, -2), ci * 1000 + seg_state + 1, hw_key)
        hw_runs = _runs(hw_key)
        interstate_ban = np.array(
            [bool(s.interstate_forbidden) for s in states] + [False], dtype=bool
        )[seg_state]
    for s, e, key in hw_runs:
        cls = HIGHWAY_CLASSES[key // 1000]
        st = state_codes[seg_state[s]] or None
        road = _road_names(seg_edge, s, e, named, cum)
        a, b = pos(s, e)
        label = "Motorway" if cls == "motorway" else "Trunk road"
        msg = f"{label} {road or '(unnamed)'} for {_where(a, b, start_m)} — {HIGHWAY_WORDS[cls]}"
        if cls == "motorway" and interstate_ban[s]:
            msg += f"; {st} explicitly forbids Kei vehicles on interstates"
        warnings.append(RouteWarning(WarningKind.HIGHWAY, msg, a, b, road, st, road_class=cls))

    # Tagged limits above the state's Kei cap.
    cap_runs = []
    if has_caps:
        limit_kmh = np.array([e.speed_limit_kmh or 0.0 for e in edges] + [0.0], dtype=float)
        limits = np.round(limit_kmh / mph_to_kmh(1))[seg_edge]  # RoadEdge.speed_limit_mph
        over = (limits > 0) & (caps > 0) & (limits > caps)
        cap_runs = _runs(np.where(over, seg_state, -1))
    for s, e, _k in cap_runs:
        st = state_codes[seg_state[s]]
        road = _road_names(seg_edge, s, e, edges, cum)
        a, b = pos(s, e)
        top = int(limits[s:e].max())
        msg = (
            f"{road or 'Road'} is posted {top} mph, above the {int(caps[s])} mph Kei cap "
            f"in {st}, for {_where(a, b, start_m)}"
        )
        warnings.append(
            RouteWarning(
                WarningKind.SPEED_CAP, msg, a, b, road, st, limit_mph=top, cap_mph=int(caps[s])
            )
        )

    # Unknown limits where they matter (see module docstring); per edge, then per segment.
    no_data = seg_edge < 0
    unknown = no_data
    if has_caps:
        classes = [e.road_class for e in edges] + [""]  # seg_edge -1 picks the trailing ""
        cls_unknown = np.array([c in UNKNOWN_LIMIT_CLASSES for c in classes], dtype=bool)
        is_local = np.array([c in LOCAL_CLASSES for c in classes], dtype=bool)[seg_edge]
        local_low_cap = is_local & (caps < ASSUMED_LOCAL_LIMIT_MPH)
        unknown = (limits == 0) & (caps > 0) & (cls_unknown[seg_edge] | local_low_cap)
        unknown |= no_data
    unk_runs = []
    if unknown.any():
        # Stretches with no map data stay apart from untagged roads (different message).
        unk_key = np.where(unknown, seg_state + 1 + np.where(no_data, 100_000, 0), -1)
        unk_runs = _runs(unk_key)
    for s, e in _close_runs(unk_runs, cum):
        st = state_codes[seg_state[s]] or None
        road = _road_names(np.where(unknown, seg_edge, -1), s, e, edges, cum)
        a, b = pos(s, e)
        if b - a <= 0:
            continue
        warnings.append(
            RouteWarning(
                WarningKind.UNKNOWN_SPEED_LIMIT,
                _unknown_message(road, a, b, st, start_m),
                a,
                b,
                road,
                st,
            )
        )

    for st in stretches:
        warnings.append(
            RouteWarning(
                st.kind, st.message, st.from_m, st.to_m, None, st.state, statement=st.statement
            )
        )

    # The route must start and end where asked (Valhalla may snap far away).
    for which, req, idx in (("start", requested_start, 0), ("end", requested_end, -1)):
        if req is None or not len(pts):
            continue
        gap = great_circle_m(req[0], req[1], float(pts[idx, 0]), float(pts[idx, 1]))
        if gap > UNREACHABLE_GAP_M:
            where = "destination" if which == "end" else "starting point"
            msg = (
                f"No road route reaches the {where}: the route {which}s {_miles(gap)} from it "
                f"({req[0]:.5f}, {req[1]:.5f})"
            )
            at = 0.0 if which == "start" else round(distance, 1)
            warnings.append(
                RouteWarning(WarningKind.UNREACHABLE, msg, at, at, None, None, gap_m=round(gap, 1))
            )

    access_of = {s.state: s.road_access for s in states}
    for w in warnings:  # every warning carries its stretch's access mode
        w.road_access = access_of.get(w.state or "")
    warnings.sort(key=lambda w: (w.from_m, KIND_ORDER.index(w.kind)))
    return RouteReport(
        distance_m=distance,
        duration_s=duration,
        geometry=list(map(tuple, pts.tolist())),
        states=states,
        warnings=warnings,
    )
