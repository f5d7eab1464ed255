"""Why part of a track was not matched to a road, in check-route's ``unmatched`` and notes.

A run of unmatched fixes is either beyond the installed map data (no tile there) or inside
it with no mapped road within the matcher's reach: off-road (a field, a farm track), a
road the map lacks, or fixes too far off their road. A remote engine cannot say which tiles
it holds, so there the run is reported as before: "outside_map_data", with a hedged note.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTSIDE = "outside_map_data"
NO_ROAD = "no_road_nearby"

UnmatchedRun = tuple[float, float, float]  # (lat, lon) of a fix in the run, its metres


def unmatched_runs(
    lat: np.ndarray, lon: np.ndarray, seg: np.ndarray, ok: np.ndarray
) -> list[UnmatchedRun]:
    """Each run of segments with an unmatched fix at either end (``ok``: per fix)."""
    bad = ~(ok[:-1] & ok[1:])
    flips = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(flips == 1), np.flatnonzero(flips == -1)
    return [
        (float(lat[(a + b) // 2]), float(lon[(a + b) // 2]), float(seg[a:b].sum()))
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
    ]


def reasons(router: Any, runs: list[UnmatchedRun], longest_m: float) -> list[dict[str, Any]]:
    """``unmatched`` entries, one per reason: length and longest run (``longest_m``, the
    longest with wholly unmatched parts in a row joined, when there is one reason)."""
    covers = getattr(router, "covers", None)
    groups: dict[str, list[float]] = {}
    for lat, lon, metres in runs:
        reason = NO_ROAD if covers is not None and covers(lat, lon) else OUTSIDE
        groups.setdefault(reason, []).append(metres)
    return [
        {
            "reason": reason,
            "length_m": round(sum(metres), 1),
            "longest_m": round(longest_m if len(groups) == 1 else max(metres), 1),
        }
        for reason, metres in groups.items()
    ]


def notes(router: Any, entries: list[dict[str, Any]], gps_m: float, pct: Any) -> list[str]:
    """What the driver reads about the unmatched stretches (``pct`` formats a share)."""
    known = getattr(router, "covers", None) is not None
    out = []
    for entry in entries:
        share = entry["length_m"] / gps_m if gps_m > 0 else 1.0
        if entry["reason"] == NO_ROAD:
            out.append(
                f"Part of the track ({pct(share)}) is not near any mapped road (off-road, a "
                "road the map lacks, or GPS error): road types and speed limits there are "
                "unknown."
            )
        elif share >= 1.0 - 1e-9 and len(entries) == 1:
            out.append(
                "The track lies outside the installed map data: road types and speed limits "
                "are unknown."
            )
        elif known:
            out.append(
                f"Part of the track ({pct(share)}) lies outside the installed map data: road "
                "types and speed limits there are unknown."
            )
        else:
            out.append(
                f"Part of the track ({pct(share)}) could not be matched to the road map "
                "(outside the installed map data?): road types and speed limits there are unknown."
            )
    return out
