"""Turn a route result (``RouteResult.to_dict()``) into what the Plan page shows.

Pure functions, no Reflex: map layers (the route split into coloured stretches by warning),
warning / state / turn rows with their wording, distance and time texts. The rows are plain
dicts of strings so a page can render them with ``rx.foreach``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlparse

import numpy as np

from kei_drive.core.distance import cumulative_m
from kei_drive.core.units import METERS_PER_MILE

OK_COLOR = "#38bdf8"
START_COLOR = "#22c55e"
END_COLOR = "#f5a623"
# Route colour per warning kind; later kinds in this order win where warnings overlap.
KIND_COLORS = {
    "unverified": "#a3a3a3",
    "road_access": "#c026d3",
    "banned_state": "#d946ef",
    "unknown_speed_limit": "#eab308",
    "speed_cap": "#f97316",
    "highway": "#ef4444",
}
KIND_LABELS = {
    "highway": "Highway",
    "speed_cap": "Above Kei speed cap",
    "unknown_speed_limit": "Speed limit unknown",
    "banned_state": "Banned state",
    "road_access": "Only where locally allowed",
    "unverified": "Rules unverified",
    "restricted_state": "Restricted state",
    "local_permit": "Your local permission",
    "unreachable": "Unreachable",
}
KIND_BADGE = {  # Radix colour names for the warning badges
    "highway": "red",
    "speed_cap": "orange",
    "unknown_speed_limit": "yellow",
    "banned_state": "crimson",
    "road_access": "crimson",
    "unverified": "gray",
    "restricted_state": "amber",
    "local_permit": "blue",
    "unreachable": "red",
}
STATUS_BADGE = {
    "legal": "green",
    "restricted": "amber",
    "banned": "red",
    "unclear": "gray",
    "unknown": "gray",
}
LEGEND = [
    {"label": "OK", "color": OK_COLOR},
    {"label": "Highway", "color": KIND_COLORS["highway"]},
    {"label": "Above cap", "color": KIND_COLORS["speed_cap"]},
    {"label": "Limit unknown", "color": KIND_COLORS["unknown_speed_limit"]},
    {"label": "Banned state", "color": KIND_COLORS["banned_state"]},
    {"label": "Only locally allowed", "color": KIND_COLORS["road_access"]},
    {"label": "Rules unverified", "color": KIND_COLORS["unverified"]},
]


# --- texts ------------------------------------------------------------------------------


def distance_text(meters: float) -> str:
    """'12.3 mi (19.8 km)'; short distances in feet-free metres: '0.1 mi (150 m)'."""
    mi = meters / METERS_PER_MILE
    km = meters / 1000
    metric = f"{km:.1f} km" if km >= 1 else f"{meters:.0f} m"
    return f"{mi:.1f} mi ({metric})"


def short_distance(meters: float) -> str:
    """Turn-by-turn lengths: '0.4 mi' or '350 ft' below a tenth of a mile."""
    mi = meters / METERS_PER_MILE
    return f"{mi:.1f} mi" if mi >= 0.1 else f"{meters * 3.28084:.0f} ft"


def duration_text(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 1:
        return "under 1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def span_text(from_m: float, to_m: float) -> str:
    """Where a warning sits: 'km 0.6–5.1 (mi 0.4–3.2)'."""
    return (
        f"km {from_m / 1000:.1f}–{to_m / 1000:.1f} "
        f"(mi {from_m / METERS_PER_MILE:.1f}–{to_m / METERS_PER_MILE:.1f})"
    )


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


SEVERITY = (  # warnings are listed most serious first, then by position
    "unreachable",
    "banned_state",
    "road_access",
    "highway",
    "speed_cap",
    "unverified",
    "restricted_state",
    "local_permit",
    "unknown_speed_limit",
)
_SOURCE_SUFFIX = re.compile(r"\s*Source: \S+\s*$")


def source_links(urls: Sequence[str]) -> list[dict[str, str]]:
    """[{"url", "label"}] with the host as a short label ("pa.gov")."""
    out = []
    for url in urls:
        host = urlparse(url).netloc.removeprefix("www.") or url[:40]
        out.append({"url": url, "label": host})
    return out


def _rule_info(rules: Any, state: str | None, on: date | None) -> dict[str, Any]:
    """Source links, label and confidence of a state's rule (empty when unknown)."""
    rule = None
    if rules is not None and state:
        try:
            rule = rules.rule_for(state, on=on)
        except (KeyError, ValueError):
            rule = None
    if rule is None:
        return {"sources": [], "source_label": "", "confidence": "", "citation": ""}
    return {
        "interstate_forbidden": bool(rule.interstate_forbidden),
        "sources": list(rule.sources),
        "source_label": rule.source_label(),
        "confidence": rule.confidence,
        "citation": rule.citation,
    }


def warning_rows(warnings: Sequence[dict], rules: Any = None, on: date | None = None) -> list:
    rows = []
    order = {k: i for i, k in enumerate(SEVERITY)}
    ranked = sorted(warnings, key=lambda w: (order.get(w.get("kind"), 99), w.get("from_m", 0)))
    for w in ranked:
        kind = w.get("kind", "")
        info = _rule_info(rules, w.get("state"), on)
        if kind == "highway" and not info.get("interstate_forbidden"):
            # Only a state rule that forbids interstates is a source for this warning.
            info = _rule_info(None, None, None)
        rows.append(
            {
                "kind": kind,
                "label": KIND_LABELS.get(kind, kind),
                "badge": KIND_BADGE.get(kind, "gray"),
                "road": w.get("road") or "",
                "state": w.get("state") or "",
                "where": span_text(float(w.get("from_m", 0)), float(w.get("to_m", 0))),
                # The links below carry the source; the message need not spell the URL.
                "message": _SOURCE_SUFFIX.sub("", w.get("message", "")),
                "sources": source_links(info["sources"]),
                "source_label": info["source_label"],
                "confidence": info["confidence"],
            }
        )
    return rows


def state_rows(states: Sequence[dict], rules: Any = None, on: date | None = None) -> list:
    rows = []
    for s in states:
        info = _rule_info(rules, s.get("state"), on)
        cap = s.get("max_road_speed_mph")
        limits = [f"roads posted ≤ {cap} mph" if cap else "no posted-speed cap known"]
        if s.get("interstate_forbidden"):
            limits.append("no interstates")
        status = s.get("status") or "unknown"
        rows.append(
            {
                "code": s.get("state", ""),
                "name": s.get("name", ""),
                "status": status,
                "badge": STATUS_BADGE.get(status, "gray"),
                "distance": distance_text(float(s.get("to_m", 0)) - float(s.get("from_m", 0))),
                "limits": ", ".join(limits),
                "advice": s.get("advice", ""),
                "sources": source_links(s.get("sources") or info["sources"]),
                "source_label": info["source_label"],
                "confidence": info["confidence"] or "unknown",
            }
        )
    return rows


def maneuver_rows(maneuvers: Sequence[dict]) -> list[dict[str, str]]:
    rows = []
    for i, m in enumerate(maneuvers, start=1):
        length = float(m.get("distance_m", 0))
        rows.append(
            {
                "n": str(i),
                "instruction": m.get("instruction", ""),
                "distance": short_distance(length) if length > 0 else "",
            }
        )
    return rows


def state_status(states: Sequence[dict]) -> dict[str, str]:
    """Map fill for the banned states crossed (the map's fill is strong: other states stay
    clear so the road map shows through; their status is in the list)."""
    return {
        s["state"]: s["status"] for s in states if s.get("state") and s.get("status") == "banned"
    }


def present(
    result: dict[str, Any],
    *,
    rules: Any = None,
    on: date | None = None,
    top_speed_mph: float = 45.0,
    start_label: str = "Start",
    end_label: str = "Destination",
) -> dict[str, Any]:
    """Everything the page shows for one planned or checked route."""
    warnings = result.get("warnings") or []
    legal = bool(result.get("legal", True))
    kinds = {w.get("kind") for w in warnings}
    if legal and kinds & {"restricted_state", "unknown_speed_limit", "unverified", "local_permit"}:
        verdict = "Kei-legal roads, with conditions: read the warnings"
    elif legal:
        verdict = "Kei-legal as far as the map data and rules tell"
    elif "unreachable" in kinds:
        verdict = "Not Kei-legal: the route does not reach where you asked"
    else:
        verdict = "Not Kei-legal: read the warnings"
    return {
        "distance": distance_text(float(result.get("distance_m", 0))),
        "duration": duration_text(float(result.get("duration_s", 0))),
        "duration_label": f"at Kei speeds (≤ {top_speed_mph:g} mph)",
        "legal": legal,
        "verdict": verdict,
        "notes": list(result.get("notes") or []),
        "warnings": warning_rows(warnings, rules, on),
        "states": state_rows(result.get("states") or [], rules, on),
        "maneuvers": maneuver_rows(result.get("maneuvers") or []),
        "layers": map_layers(result.get("geometry") or [], warnings, start_label, end_label),
        "state_status": state_status(result.get("states") or []),
        "engine": result.get("engine", ""),
    }
