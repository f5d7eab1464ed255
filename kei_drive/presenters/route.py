"""A planned or checked route (``RouteResult.to_dict()``) as the Plan page shows it: one
``PlanResult`` with the verdict, texts, typed rows and map layers.

Pure functions, no Reflex; the Plan page's state holds the ``PlanResult`` as it is.
Warning kinds and their order come from ``kei_drive.core.audit.WarningKind``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import numpy as np

from kei_drive.core.access import KIND_OF_LEVEL
from kei_drive.core.audit import rule_in_force
from kei_drive.core.distance import cumulative_m
from kei_drive.core.rules_vocab import Severity, severity_level
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.core.vocabulary import WARNING_DISPLAY_ORDER, WarningKind
from kei_drive.presenters.format import (
    LegendItem,
    distance_text,
    duration_text,
    short_distance,
    span_text,
)

OK_COLOR = "#38bdf8"
START_COLOR = "#22c55e"
END_COLOR = "#f5a623"
# Route colour per warning kind; later kinds in this order win where warnings overlap.
KIND_COLORS = {
    WarningKind.UNVERIFIED: "#a3a3a3",
    WarningKind.ROAD_ACCESS: "#c026d3",
    WarningKind.BANNED_STATE: "#d946ef",
    WarningKind.UNKNOWN_SPEED_LIMIT: "#eab308",
    WarningKind.SPEED_CAP: "#f97316",
    WarningKind.HIGHWAY: "#ef4444",
}
# A state's rule in words, by its severity (core/rules_vocab.py): the label of the state in
# "States crossed" and of its stretch warnings is the same word (core/access.py KIND_OF_LEVEL).
SEVERITY_LABELS = {
    Severity.LEGAL: "Legal under ordinary rules",
    Severity.RESTRICTED: "Restricted state",
    Severity.UNCLEAR: "Rules unverified",
    Severity.LOCAL_ONLY: "Only where locally allowed",
    Severity.BANNED: "Banned state",
}
KIND_LABELS = {
    WarningKind.HIGHWAY: "Highway",
    WarningKind.SPEED_CAP: "Above Kei speed cap",
    WarningKind.UNKNOWN_SPEED_LIMIT: "Speed limit unknown",
    **{kind: SEVERITY_LABELS[level] for level, kind in KIND_OF_LEVEL.items() if kind},
    WarningKind.LOCAL_PERMIT: "Your local permission",
    WarningKind.UNREACHABLE: "Unreachable",
}
# Kinds that leave a route Kei-legal but need reading.
CONDITION_KINDS = frozenset(
    {
        WarningKind.RESTRICTED_STATE,
        WarningKind.UNKNOWN_SPEED_LIMIT,
        WarningKind.UNVERIFIED,
        WarningKind.LOCAL_PERMIT,
    }
)


LEGEND = [
    LegendItem("OK", OK_COLOR),
    LegendItem("Highway", KIND_COLORS[WarningKind.HIGHWAY]),
    LegendItem("Above cap", KIND_COLORS[WarningKind.SPEED_CAP]),
    LegendItem("Limit unknown", KIND_COLORS[WarningKind.UNKNOWN_SPEED_LIMIT]),
    LegendItem("Banned state", KIND_COLORS[WarningKind.BANNED_STATE]),
    LegendItem("Only locally allowed", KIND_COLORS[WarningKind.ROAD_ACCESS]),
    LegendItem("Rules unverified", KIND_COLORS[WarningKind.UNVERIFIED]),
]


# --- rows -------------------------------------------------------------------------------


@dataclass
class SourceLink:
    url: str
    label: str  # the host, e.g. "pa.gov"


@dataclass
class WarningRow:
    kind: str  # a WarningKind value
    label: str
    road: str
    state: str
    where: str
    message: str
    sources: list[SourceLink] = field(default_factory=list)
    source_label: str = ""
    confidence: str = ""


@dataclass
class StateRow:
    code: str
    name: str
    status: str  # the rule's status code ("unclear")
    label: str  # its words, as the warnings say them ("Rules unverified")
    severity: str  # a Severity value (the pill's colour)
    distance: str
    limits: str
    advice: str
    sources: list[SourceLink] = field(default_factory=list)
    source_label: str = ""
    confidence: str = ""


@dataclass
class ManeuverRow:
    instruction: str
    distance: str


@dataclass
class PlanResult:
    """Everything the Plan page shows for one planned or checked route."""

    title: str = ""
    verdict: str = ""
    legal: bool = True  # False when not legal or not told (then verdict_mark is "? ")
    verdict_mark: str = "✓ "
    verdict_class: str = "kp-verdict kp-legal"
    notes: list[str] = field(default_factory=list)
    distance: str = ""
    duration: str = ""
    duration_label: str = ""
    engine: str = ""
    warnings: list[WarningRow] = field(default_factory=list)
    states: list[StateRow] = field(default_factory=list)
    maneuvers: list[ManeuverRow] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)  # for kei_map
    map_states: dict[str, str] = field(default_factory=dict)  # USPS code -> status to fill


# --- map --------------------------------------------------------------------------------


def segment_colors(geometry: Sequence[Sequence[float]], warnings: Sequence[dict]) -> list[str]:
    """One colour per geometry segment: the strongest warning covering its midpoint."""
    pts = np.asarray(geometry, dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        return []
    cum = cumulative_m(pts[:, 0], pts[:, 1])
    mids = (cum[:-1] + cum[1:]) / 2
    rank = np.zeros(len(mids), dtype=np.int64)  # 0 = ok, else 1 + index in KIND_COLORS
    kinds = list(KIND_COLORS)
    for w in warnings:
        if w.get("kind") not in KIND_COLORS:
            continue
        r = kinds.index(w["kind"]) + 1
        a, b = float(w.get("from_m", 0)), float(w.get("to_m", 0))
        hit = (mids >= a) & (mids <= b)
        if b <= a:  # a point-like warning still colours the segment it sits on
            hit = (cum[:-1] <= a) & (cum[1:] >= a)
        rank = np.where(hit & (r > rank), r, rank)
    palette = [OK_COLOR, *KIND_COLORS.values()]
    return [palette[int(r)] for r in rank]


def route_features(geometry: Sequence[Sequence[float]], warnings: Sequence[dict]) -> list[dict]:
    """LineString features (GeoJSON lon/lat) for runs of equally coloured segments.

    Neighbouring runs share their boundary vertex so the drawn line has no gaps.
    """
    colors = segment_colors(geometry, warnings)
    features: list[dict] = []
    start = 0
    for i in range(1, len(colors) + 1):
        if i == len(colors) or colors[i] != colors[start]:
            coords = [[float(lon), float(lat)] for lat, lon in geometry[start : i + 1]]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {"color": colors[start]},
                }
            )
            start = i
    return features


def point_feature(lat: float, lon: float, color: str, label: str) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
        "properties": {"color": color, "label": label},
    }


def map_layers(
    geometry: Sequence[Sequence[float]],
    warnings: Sequence[dict],
    start_label: str = "Start",
    end_label: str = "Destination",
) -> list[dict]:
    """Layers for ``kei_map``: the coloured route, then start/end markers."""
    if len(geometry) < 2:
        return []
    route = {"type": "FeatureCollection", "features": route_features(geometry, warnings)}
    marks = {
        "type": "FeatureCollection",
        "features": [
            point_feature(*geometry[0], START_COLOR, start_label),
            point_feature(*geometry[-1], END_COLOR, end_label),
        ],
    }
    return [
        {"id": "route", "geojson": route, "property": "color", "color": OK_COLOR, "weight": 6},
        {"id": "ends", "geojson": marks, "color": "#ffffff", "weight": 2},
    ]


# --- rows -------------------------------------------------------------------------------

_SOURCE_SUFFIX = re.compile(r"\s*Source: \S+\s*$")


def source_links(urls: Sequence[str]) -> list[SourceLink]:
    """Links with the host as a short label ("pa.gov")."""
    return [SourceLink(url, urlparse(url).netloc.removeprefix("www.") or url[:40]) for url in urls]


@dataclass
class _RuleInfo:
    sources: list[str] = field(default_factory=list)
    source_label: str = ""
    confidence: str = ""
    interstate_forbidden: bool = False


def _rule_info(rules: Any, state: str | None, on: date | None) -> _RuleInfo:
    """Source links, label and confidence of a state's rule (empty when unknown)."""
    rule = rule_in_force(rules, state, on)
    if rule is None:
        return _RuleInfo()
    return _RuleInfo(
        sources=list(rule.sources),
        source_label=rule.source_label(),
        confidence=rule.confidence,
        interstate_forbidden=bool(rule.interstate_forbidden),
    )


def warning_rows(
    warnings: Sequence[dict], rules: Any = None, on: date | None = None
) -> list[WarningRow]:
    """Most serious first (``core.vocabulary.WARNING_DISPLAY_ORDER``), then by position."""
    order = {k: i for i, k in enumerate(WARNING_DISPLAY_ORDER)}
    ranked = sorted(warnings, key=lambda w: (order.get(w.get("kind"), 99), w.get("from_m", 0)))
    rows = []
    for w in ranked:
        kind = w.get("kind", "")
        info = _rule_info(rules, w.get("state"), on)
        if kind == WarningKind.HIGHWAY and not info.interstate_forbidden:
            # Only a state rule that forbids interstates is a source for this warning.
            info = _RuleInfo()
        rows.append(
            WarningRow(
                kind=str(kind),
                label=KIND_LABELS.get(kind, kind),
                road=w.get("road") or "",
                state=w.get("state") or "",
                where=span_text(float(w.get("from_m", 0)), float(w.get("to_m", 0))),
                # The links carry the source; the message need not spell the URL.
                message=_SOURCE_SUFFIX.sub("", w.get("message", "")),
                sources=source_links(info.sources),
                source_label=info.source_label,
                confidence=info.confidence,
            )
        )
    return rows


def state_severity(state: dict, rules: Any = None, on: date | None = None) -> Severity:
    """Where a crossed state's rule sits in the one severity order: from the rule book
    when there is one, else from the status and road access the route report carries."""
    rule = rule_in_force(rules, state.get("state"), on)
    if rule is None and state.get("status") not in (None, "unknown"):
        rule = SimpleNamespace(status=state.get("status"), road_access=state.get("road_access"))
    return severity_level(rule)


def state_rows(states: Sequence[dict], rules: Any = None, on: date | None = None) -> list[StateRow]:
    rows = []
    for s in states:
        info = _rule_info(rules, s.get("state"), on)
        level = state_severity(s, rules, on)
        cap = s.get("max_road_speed_mph")
        limits = [f"roads posted ≤ {cap} mph" if cap else "no posted-speed cap known"]
        if s.get("interstate_forbidden"):
            limits.append("no interstates")
        rows.append(
            StateRow(
                code=s.get("state", ""),
                name=s.get("name", ""),
                status=s.get("status") or "unknown",
                label=SEVERITY_LABELS[level],
                severity=level.value,
                distance=distance_text(float(s.get("to_m", 0)) - float(s.get("from_m", 0))),
                limits=", ".join(limits),
                advice=s.get("advice", ""),
                sources=source_links(s.get("sources") or info.sources),
                source_label=info.source_label,
                confidence=info.confidence or "unknown",
            )
        )
    return rows


ARRIVAL_TYPES = (4, 5, 6)  # Valhalla's kDestination* maneuvers


def end_gap_m(warnings: Sequence[dict]) -> float | None:
    """How far short of the destination the route ends (None: it reaches it)."""
    for w in warnings:
        if w.get("kind") == WarningKind.UNREACHABLE and float(w.get("from_m") or 0) > 0:
            return float(w.get("gap_m") or 0)
    return None


def maneuver_rows(maneuvers: Sequence[dict], warnings: Sequence[dict] = ()) -> list[ManeuverRow]:
    """The turn list; a route that stops short of the destination never says "arrived"."""
    rows = []
    gap = end_gap_m(warnings)
    for k, m in enumerate(maneuvers):
        length = float(m.get("distance_m", 0))
        text = m.get("instruction", "")
        if gap is not None and k == len(maneuvers) - 1 and m.get("type") in ARRIVAL_TYPES:
            text = f"The route ends here, {short_of(gap)}: no road route reaches it."
        rows.append(ManeuverRow(text, short_distance(length) if length > 0 else ""))
    return rows


def short_of(gap_m: float) -> str:
    return f"{short_distance(gap_m)} short of your destination" if gap_m else (
        "short of your destination"
    )  # fmt: skip


def banned_state_fill(states: Sequence[dict]) -> dict[str, str]:
    """Map fill for the banned states crossed (the map's fill is strong: other states stay
    clear so the road map shows through; their status is in the list)."""
    return {
        s["state"]: s["status"] for s in states if s.get("state") and s.get("status") == "banned"
    }


UNKNOWN_VERDICT = (
    "Kei-legal or not cannot be told: no warning, but the notes name what the check could not cover"
)


def verdict(legal: bool | None, kinds: set[str], gap_m: float | None = None) -> str:
    if gap_m is not None:  # before legality: this route does not go where the driver asked
        return f"Destination unreachable: the route ends {short_of(gap_m)}"
    if WarningKind.UNREACHABLE in kinds:
        return "Start unreachable: the route starts away from where you asked"
    if legal is None:
        return UNKNOWN_VERDICT
    if legal and kinds & CONDITION_KINDS:
        return "Kei-legal roads, with conditions: read the warnings"
    if legal:
        return "Kei-legal as far as the map data and rules tell"
    return "Not Kei-legal: read the warnings"


def verdict_mark(legal: bool | None) -> tuple[str, str]:
    """The verdict's sign and its class: passed, failed, or not told."""
    if legal is None:
        return "? ", "kp-verdict kp-unknown"
    return ("✓ ", "kp-verdict kp-legal") if legal else ("✗ ", "kp-verdict kp-illegal")


def kei_speeds_label(top_speed_mph: float, states: list[dict]) -> str:
    """ "at Kei speeds (≤ 45 mph)", with each cap lower than that the time keeps to: a
    state's ("; 35 mph in MD"), and those a driver's permits set there ("(45 mph under your
    permit)"). A state entered twice is named once."""
    state_cap: dict[str, float | None] = {}
    permit_caps: dict[str, set[float]] = {}
    for s in states:
        state = str(s.get("state"))
        state_cap.setdefault(state, s.get("max_road_speed_mph"))
        permit_caps.setdefault(state, set()).update(s.get("permit_caps_mph") or [])
    parts = []
    for state, cap in state_cap.items():
        permits = sorted({min(c, top_speed_mph) for c in permit_caps[state] if c != cap})
        under = "/".join(f"{c:g}" for c in permits)
        under += " mph under your permits" if len(permits) > 1 else " mph under your permit"
        if cap and cap < top_speed_mph:
            parts.append(
                f"{cap:g} mph in {state} ({under})" if permits else f"{cap:g} mph in {state}"
            )
        elif permits and permits[0] < top_speed_mph:
            parts.append(f"{under} in {state}")
    return f"at Kei speeds (≤ {top_speed_mph:g} mph{''.join('; ' + p for p in parts)})"


def present(
    result: dict[str, Any],
    *,
    title: str = "",
    rules: Any = None,
    on: date | None = None,
    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH,
    start_label: str = "Start",
    end_label: str = "Destination",
) -> PlanResult:
    """Everything the page shows for one planned or checked route."""
    warnings = result.get("warnings") or []
    legal = result.get("legal", True)
    legal = None if legal is None else bool(legal)
    states = result.get("states") or []
    mark, mark_class = verdict_mark(legal)
    return PlanResult(
        title=title,
        verdict=verdict(legal, {w.get("kind") for w in warnings}, end_gap_m(warnings)),
        legal=bool(legal),
        verdict_mark=mark,
        verdict_class=mark_class,
        notes=list(result.get("notes") or []),
        distance=distance_text(float(result.get("distance_m", 0))),
        duration=duration_text(float(result.get("duration_s", 0))),
        duration_label=kei_speeds_label(top_speed_mph, states),
        engine=result.get("engine", ""),
        warnings=warning_rows(warnings, rules, on),
        states=state_rows(states, rules, on),
        maneuvers=maneuver_rows(result.get("maneuvers") or [], warnings),
        layers=map_layers(result.get("geometry") or [], warnings, start_label, end_label),
        map_states=banned_state_fill(states),
    )
