"""Display data for the trip pages: formatted rows, coloured track features, chart series.

Plain Python (no Reflex, no database) so it is unit-tested directly; the pages put the
results into their state as plain lists and dicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kei_drive.core.gpx import TrackPoint
from kei_drive.core.trips import TrackAnalysis, analyze_track
from kei_drive.core.units import METERS_PER_MILE, MPS_PER_MPH

# Speed bands (mph upper bounds) and their colours, slow (blue) to fast (red).
SPEED_BANDS: tuple[tuple[float, str, str], ...] = (
    (15, "#60a5fa", "under 15 mph"),
    (30, "#22c55e", "15–30 mph"),
    (45, "#facc15", "30–45 mph"),
    (55, "#f97316", "45–55 mph"),
    (math.inf, "#ef4444", "55 mph and over"),
)
NO_SPEED_COLOR = "#a1a1aa"  # untimed fixes: no speed to colour by
GAP_COLOR = "#6b7280"  # thin straight connector across a gap in recording
UNDER_CAP_COLOR = "#22c55e"
OVER_CAP_COLOR = "#ef4444"
MAX_MAP_POINTS = 4000  # per trip, so a long drive stays light in the browser
MAX_CHART_POINTS = 600


# ------------------------------------------------------------------------------ text


def fmt_distance(meters: float | None) -> str:
    if meters is None:
        return "–"
    return f"{meters / METERS_PER_MILE:.1f} mi · {meters / 1000:.1f} km"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def fmt_speed(mps: float | None) -> str:
    if mps is None:
        return "–"
    return f"{mps / MPS_PER_MPH:.0f} mph"


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def fmt_when(value: str | None) -> str:
    """UTC text: the tooltip of the local time the browser shows (``local_time``)."""
    when = parse_iso(value)
    return when.strftime("%a %Y-%m-%d %H:%M UTC") if when else "Undated"


def iso_utc(value: str | None) -> str:
    """``...Z`` ISO text for the browser to format in its own zone ("" when unknown)."""
    when = parse_iso(value)
    return when.isoformat().replace("+00:00", "Z") if when else ""


def fmt_month(key: str) -> str:
    try:
        return datetime.strptime(key, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return key


def trip_row(trip: dict[str, Any]) -> dict[str, Any]:
    """One line of the trips list from ``queries.trip_dict``."""
    stats = trip.get("stats") or {}
    recording = trip.get("recording_state") == "recording"
    warnings = [w for w in trip.get("warnings") or [] if w != "still recording"]
    distance = fmt_distance(stats.get("distance_m") if stats else None)
    if recording and not stats:  # statistics come when the trip is stopped
        distance = f"{trip.get('point_count') or 0} points so far"
    return {
        "id": str(trip["id"]),
        "href": f"/trips/{trip['id']}",
        "name": trip.get("name") or "Unnamed trip",
        "when": fmt_when(trip.get("started_at")),
        "started_at": iso_utc(trip.get("started_at")),
        "vehicle": trip.get("vehicle") or "No vehicle",
        "distance": distance,
        "duration": fmt_duration(stats.get("elapsed_s")),
        "moving": fmt_duration(stats.get("moving_s")),
        "avg": fmt_speed(stats.get("avg_moving_speed_mps")),
        "max": fmt_speed(stats.get("max_speed_mps")),
        "states": ", ".join(stats.get("states") or []) or "–",
        "points": str(trip.get("point_count") or 0),
        "warnings": warnings,
        "recording": recording,
        "imported": trip.get("source") == "imported",
        "source": source_text(trip.get("source") or "", trip.get("device")),
    }


SOURCE_LABELS = {
    "recorded": "Drive screen",
    "imported": "GPX import",
    "owntracks": "OwnTracks",
    "overland": "Overland",
    "gpslogger": "GPSLogger",
}


def source_text(source: str, device: str | None) -> str:
    """Where a trip came from, and which device: "OwnTracks · Sambar phone"."""
    label = SOURCE_LABELS.get(source, source)
    return f"{label} · {device}" if device else label


def totals_row(totals: Any) -> dict[str, str]:
    """A ``queries.Totals`` as display text."""
    return {
        "key": totals.key,
        "label": fmt_month(totals.key) if totals.vehicle_id is None else totals.key,
        "trips": str(totals.trips),
        "distance": fmt_distance(totals.distance_m),
        "moving": fmt_duration(totals.moving_s),
        "over_cap": fmt_duration(totals.over_cap_s) if totals.over_cap_s else "–",
    }


def stats_rows(trip: dict[str, Any]) -> list[dict[str, str]]:
    """Label/value pairs for the detail page's stats panel."""
    s = trip.get("stats") or {}
    gaps = s.get("gaps") or []
    lost = sum(g.get("duration_s", 0) for g in gaps)
    cap = s.get("cap_mps")
    rejected = s.get("rejected_points") or 0
    points = f"{s.get('points', trip.get('point_count') or 0)}"
    if rejected:
        points += f" ({rejected} rejected as inaccurate or glitches)"
    return [
        {"label": "Distance", "value": fmt_distance(s.get("distance_m"))},
        {"label": "Elapsed time", "value": fmt_duration(s.get("elapsed_s"))},
        {"label": "Moving time", "value": fmt_duration(s.get("moving_s"))},
        {"label": "Max speed (moving)", "value": fmt_speed(s.get("max_speed_mps"))},
        {"label": "Average moving speed", "value": fmt_speed(s.get("avg_moving_speed_mps"))},
        {
            "label": f"Time above cap ({fmt_speed(cap)})" if cap else "Time above cap",
            "value": fmt_duration(s.get("over_cap_s") or 0.0) if cap else "no cap set",
        },
        {"label": "States visited", "value": ", ".join(s.get("states") or []) or "–"},
        {"label": "Points", "value": points},
        {
            "label": "Gaps in recording",
            "value": f"{len(gaps)} ({fmt_duration(lost)})" if gaps else "none",
        },
    ]


# -------------------------------------------------------------------------- map/chart


def _feature_collection(features: list[dict]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _runs(keys: np.ndarray, breaks: np.ndarray) -> list[tuple[int, int, int]]:
    """(first point, last point, key) for runs of equal segment keys; a break (segment
    key -1) ends a run without drawing the segment."""
    out = []
    n_seg = keys.size
    i = 0
    while i < n_seg:
        if breaks[i]:
            i += 1
            continue
        j = i
        while j + 1 < n_seg and not breaks[j + 1] and keys[j + 1] == keys[i]:
            j += 1
        out.append((i, j + 1, int(keys[i])))
        i = j + 1
    return out


def _line_features(
    lat: np.ndarray,
    lon: np.ndarray,
    seg_keys: np.ndarray,
    breaks: np.ndarray,
    colors: Sequence[str],
    labels: Sequence[str],
    stride: int,
) -> list[dict]:
    features = []
    for a, b, key in _runs(seg_keys, breaks):
        idx = np.arange(a, b + 1, stride)
        if idx[-1] != b:
            idx = np.append(idx, b)
        coords = np.column_stack((np.round(lon[idx], 6), np.round(lat[idx], 6))).tolist()
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"color": colors[key], "label": labels[key]},
            }
        )
    return features


def _end_markers(lat: np.ndarray, lon: np.ndarray) -> list[dict]:
    def point(i: int, color: str, label: str) -> dict:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
            "properties": {"color": color, "label": label},
        }

    return [point(0, "#22c55e", "Start"), point(lat.size - 1, "#ef4444", "End")]


def _gap_features(points: Sequence[TrackPoint], used: np.ndarray, breaks: np.ndarray) -> list[dict]:
    """A thin straight line across each break, labelled with how long no fixes came."""
    out = []
    for k in np.flatnonzero(breaks):
        a, b = points[used[k]], points[used[k + 1]]
        if a.time and b.time:
            label = (
                f"gap in recording: no fixes for {fmt_duration((b.time - a.time).total_seconds())}"
            )
        else:
            label = "gap in recording"
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[a.lon, a.lat], [b.lon, b.lat]]},
                "properties": {"color": GAP_COLOR, "label": label},
            }
        )
    return out


def speed_band(mph: np.ndarray) -> np.ndarray:
    """Index into ``SPEED_BANDS`` (len(SPEED_BANDS) for unknown speed)."""
    bounds = np.array([b[0] for b in SPEED_BANDS[:-1]])
    band = np.searchsorted(bounds, np.nan_to_num(mph, nan=0.0), side="right")
    return np.where(np.isnan(mph), len(SPEED_BANDS), band)


def track_view(
    points: Sequence[TrackPoint], cap_mps: float | None, analysis: TrackAnalysis | None = None
) -> dict[str, Any]:
    """Map layers (by speed and by cap), chart series and legends for one trip.

    The line is cut after every recording gap or implausible jump (``breaks_after``), so
    a gap shows as a gap; fixes the statistics rejected are not drawn.
    """
    empty = {
        "speed_geojson": _feature_collection([]),
        "cap_geojson": _feature_collection([]),
        "gaps_geojson": _feature_collection([]),
        "chart": [],
        "has_speed": False,
    }
    if len(points) < 2:
        return empty
    analysis = analysis or analyze_track(points, cap_mps, with_states=False)
    used = np.flatnonzero(analysis.used)
    if used.size < 2:
        return empty
    lat = np.array([points[i].lat for i in used])
    lon = np.array([points[i].lon for i in used])
    mph = analysis.speed_mps[used] / MPS_PER_MPH
    over = analysis.over_cap[used]
    # segment k joins used[k] and used[k+1]; break it when a cut lies between them
    cut_after = np.zeros(len(points), dtype=bool)
    cut_after[analysis.breaks_after] = True
    cum_cut = np.concatenate(([0], np.cumsum(cut_after)))
    breaks = (cum_cut[used[1:]] - cum_cut[used[:-1]]) > 0

    seg_mph = np.fmax(mph[:-1], mph[1:])  # NaN only when both ends are unknown
    speed_keys = speed_band(seg_mph)
    speed_colors = [b[1] for b in SPEED_BANDS] + [NO_SPEED_COLOR]
    speed_labels = [b[2] for b in SPEED_BANDS] + ["speed unknown"]
    if cap_mps is None:
        cap_keys = np.zeros(seg_mph.size, dtype=int)
        cap_colors, cap_labels = [NO_SPEED_COLOR], ["no cap set"]
    else:
        cap_keys = (over[:-1] & over[1:]).astype(int)
        cap_colors = [UNDER_CAP_COLOR, OVER_CAP_COLOR]
        cap_labels = ["at or under cap", "above cap"]
    stride = max(1, math.ceil(used.size / MAX_MAP_POINTS))
    markers = _end_markers(lat, lon)
    speed_features = _line_features(
        lat, lon, speed_keys, breaks, speed_colors, speed_labels, stride
    )
    cap_features = _line_features(lat, lon, cap_keys, breaks, cap_colors, cap_labels, stride)
    return {
        "speed_geojson": _feature_collection(speed_features + markers),
        "cap_geojson": _feature_collection(cap_features + markers),
        "gaps_geojson": _feature_collection(_gap_features(points, used, breaks)),
        "chart": speed_chart(points, used, mph, breaks),
        "has_speed": bool(np.isfinite(mph).any()),
    }


def speed_chart(
    points: Sequence[TrackPoint], used: np.ndarray, mph: np.ndarray, breaks: np.ndarray
) -> list[dict[str, Any]]:
    """Speed over time for ``rx.recharts``: ``{"min": minutes since start, "mph"}``.

    Long trips are reduced to at most ``MAX_CHART_POINTS`` buckets keeping each bucket's
    highest speed (so the chart never hides time above the cap); a gap in recording
    becomes a ``None`` speed, which the chart draws as a break.
    """
    times = [points[i].time for i in used]
    if any(t is None for t in times) or not np.isfinite(mph).any():
        return []
    t = np.array([tt.timestamp() for tt in times])  # type: ignore[union-attr]
    minutes = (t - t[0]) / 60.0
    run = np.concatenate(([0], np.cumsum(breaks)))
    if used.size <= MAX_CHART_POINTS:
        bucket = np.arange(used.size)
    else:
        span = max(float(minutes[-1]), 1e-9)
        bucket = np.minimum((minutes / span * MAX_CHART_POINTS).astype(int), MAX_CHART_POINTS - 1)
    out: list[dict[str, Any]] = []
    key = bucket * (int(run[-1]) + 1) + run  # a bucket never spans a break
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    ends = np.concatenate((starts[1:], [used.size]))
    last_run = 0
    for a, b in zip(starts, ends, strict=True):
        if run[a] != last_run:
            out.append({"min": round(float(minutes[a - 1]) + 0.01, 2), "mph": None})
            last_run = int(run[a])
        chunk = mph[a:b]
        value = float(np.nanmax(chunk)) if np.isfinite(chunk).any() else None
        out.append({"min": round(float(minutes[a]), 2), "mph": _round1(value)})
    return out


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
