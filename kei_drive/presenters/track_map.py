"""A trip's track for the detail page: map layers coloured by speed or by the cap, the
gaps in recording, and the speed-over-time chart.

Plain Python (no Reflex, no database) so it is unit-tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kei_drive.core.gpx import TrackPoint
from kei_drive.core.trips import TrackAnalysis, analyze_track
from kei_drive.core.units import MPS_PER_MPH
from kei_drive.presenters.format import LegendItem, fmt_duration

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


START_COLOR = "#22c55e"
END_COLOR = "#ef4444"


SPEED_LEGEND = [LegendItem(label, color) for _, color, label in SPEED_BANDS]


def track_legend(mode: str, cap_mph: float, has_gaps: bool) -> list[LegendItem]:
    """The legend under the map for colouring by "speed" or by "cap"."""
    gap = [LegendItem("gap: no fixes (straight line)", GAP_COLOR)] if has_gaps else []
    if mode == "speed":
        return [*SPEED_LEGEND, LegendItem("speed unknown", NO_SPEED_COLOR), *gap]
    if cap_mph <= 0:
        return [LegendItem("no speed cap set for this trip", NO_SPEED_COLOR), *gap]
    cap = f"{cap_mph:.0f} mph"
    return [
        LegendItem(f"at or under cap ({cap})", UNDER_CAP_COLOR),
        LegendItem(f"above cap ({cap})", OVER_CAP_COLOR),
        *gap,
    ]


def _feature_collection(features: list[dict]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


EMPTY_FC: dict[str, Any] = _feature_collection([])


def analyze(
    points: Sequence[TrackPoint], cap_mps: float | None, with_states: bool
) -> TrackAnalysis | None:
    """``analyze_track`` when there is a track to analyse (two fixes or more)."""
    return analyze_track(points, cap_mps, with_states=with_states) if len(points) >= 2 else None


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

    return [point(0, START_COLOR, "Start"), point(lat.size - 1, END_COLOR, "End")]


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


@dataclass
class TrackView:
    """A trip's map layers (GeoJSON) and speed chart series."""

    speed_geojson: dict[str, Any] = field(default_factory=lambda: _feature_collection([]))
    cap_geojson: dict[str, Any] = field(default_factory=lambda: _feature_collection([]))
    gaps_geojson: dict[str, Any] = field(default_factory=lambda: _feature_collection([]))
    chart: list[dict[str, Any]] = field(default_factory=list)


def track_view(
    points: Sequence[TrackPoint], cap_mps: float | None, analysis: TrackAnalysis | None = None
) -> TrackView:
    """Map layers (by speed and by cap), chart series and legends for one trip.

    The line is cut after every recording gap or implausible jump (``breaks_after``), so
    a gap shows as a gap; fixes the statistics rejected are not drawn.
    """
    if len(points) < 2:
        return TrackView()
    analysis = analysis or analyze_track(points, cap_mps, with_states=False)
    used = np.flatnonzero(analysis.used)
    if used.size < 2:
        return TrackView()
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
    return TrackView(
        speed_geojson=_feature_collection(speed_features + markers),
        cap_geojson=_feature_collection(cap_features + markers),
        gaps_geojson=_feature_collection(_gap_features(points, used, breaks)),
        chart=speed_chart(points, used, mph, breaks),
    )


def speed_chart(
    points: Sequence[TrackPoint], used: np.ndarray, mph: np.ndarray, breaks: np.ndarray
) -> list[dict[str, Any]]:
    """Speed over time for ``rx.recharts``: ``{"min": minutes since start, "mph"}``.

    Long trips are reduced to at most ``MAX_CHART_POINTS`` buckets keeping each bucket's
    highest speed (so the chart never hides time above the cap); a gap in recording
    becomes a ``None`` speed, which the chart draws as a break.
    """
    times = [points[i].time for i in used]
    timed = np.array([tt is not None for tt in times], dtype=bool)
    if timed.sum() < 2 or not np.isfinite(mph[timed]).any():
        return []
    if not timed.all():  # a fix written without a time: charted without it (it emptied the chart)
        keep = np.flatnonzero(timed)
        run_all = np.concatenate(([0], np.cumsum(breaks)))
        breaks = run_all[keep[1:]] != run_all[keep[:-1]]  # a break between kept fixes stays
        used, mph = used[keep], mph[keep]
        times = [times[i] for i in keep]
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
