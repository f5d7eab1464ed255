"""Fewer vertices for drawing a long track: a map never needs 928,000 of them.

Statistics are computed from every fix first (``analyze_track``); only what is drawn is
thinned. The kept fixes are evenly spread over the used ones, plus every fix where the
line is cut (gaps, jumps) or the over-cap colour changes, so the drawing keeps its breaks
and its colour boundaries.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.gpx import TrackPoint
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import TrackAnalysis

MAX_DRAWN_POINTS = 4000


def display_indices(analysis: TrackAnalysis, max_points: int = MAX_DRAWN_POINTS) -> NDArray:
    """Input indices of the used fixes to draw, in order (all of them when few enough)."""
    used = np.flatnonzero(analysis.used)
    if used.size <= max_points:
        return used
    stride = int(np.ceil(used.size / max_points))
    keep = np.zeros(used.size, dtype=bool)
    keep[::stride] = True
    keep[-1] = True
    # both ends of every cut, and the fixes where over-cap starts or stops
    cut_after = np.zeros(analysis.used.size, dtype=bool)
    cut_after[analysis.breaks_after] = True
    cum_cut = np.concatenate(([0], np.cumsum(cut_after)))
    cut = (cum_cut[used[1:]] - cum_cut[used[:-1]]) > 0
    flip = analysis.over_cap[used[1:]] != analysis.over_cap[used[:-1]]
    edge = np.flatnonzero(cut | flip)
    keep[edge] = True
    keep[edge + 1] = True
    return used[keep]


def thin_for_display(
    track: TrackArrays, analysis: TrackAnalysis, max_points: int = MAX_DRAWN_POINTS
) -> tuple[list[TrackPoint], TrackAnalysis]:
    """The drawn fixes as ``TrackPoint``s with the matching slice of ``analysis`` (the
    stats stay those of the whole track)."""
    idx = display_indices(analysis, max_points)
    cut_after = np.zeros(analysis.used.size, dtype=bool)
    cut_after[analysis.breaks_after] = True
    cum_cut = np.concatenate(([0], np.cumsum(cut_after)))
    breaks = np.flatnonzero((cum_cut[idx[1:]] - cum_cut[idx[:-1]]) > 0)
    points = [
        TrackPoint(
            lat=float(track.lat[i]),
            lon=float(track.lon[i]),
            time=datetime.fromtimestamp(track.t[i], UTC) if np.isfinite(track.t[i]) else None,
            speed_mps=float(track.speed[i]) if np.isfinite(track.speed[i]) else None,
            accuracy_m=float(track.accuracy[i]) if np.isfinite(track.accuracy[i]) else None,
        )
        for i in idx
    ]
    thinned = replace(
        analysis,
        used=np.ones(idx.size, dtype=bool),
        moving=analysis.moving[idx],
        speed_mps=analysis.speed_mps[idx],
        over_cap=analysis.over_cap[idx],
        breaks_after=breaks.astype(np.intp),
    )
    return points, thinned
