"""Why part of a track was not matched to a road, in check-route's ``unmatched`` and notes.

A run of unmatched fixes is either beyond the installed map data (no tile there, or no
mapped road within ``FAR_FROM_ROADS_M``: past the edge of an extract whose last tile
reaches further than its roads) or inside it with no mapped road within the matcher's
reach: off-road (a field, a farm track), a road the map lacks, or fixes too far off their
road; or, with a road within ``ON_ROAD_M``, fixes the matcher could not join (minutes apart
on an interstate, or a way the map lacks between them): ``fixes_not_joined``. The engine's
``locate`` finds the nearest road; a remote engine cannot say which tiles it holds, so
without an answer from it a run is "outside_map_data", with a hedged note.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTSIDE = "outside_map_data"
NO_ROAD = "no_road_nearby"
NOT_JOINED = "fixes_not_joined"
ON_ROAD_M = 25.0  # a fix this near a mapped road is on it as far as GPS can tell
FAR_FROM_ROADS_M = 2000.0  # farther than this from any mapped road: beyond the map data
MAX_LOCATES = 50  # nearest-road lookups per track (runs beyond these: by tiles alone)

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
    from kei_drive.routing.base import RouterUnavailableError

    groups: dict[str, list[float]] = {}
    answering = True  # a server that stopped answering is not asked again for this track
    for k, (lat, lon, metres) in enumerate(runs):
        try:
            reason = _reason(router, lat, lon, answering and k < MAX_LOCATES)
        except RouterUnavailableError:
            answering = False
            reason = _reason(router, lat, lon, False)
        groups.setdefault(reason, []).append(metres)
    return [
        {
            "reason": reason,
            "length_m": round(sum(metres), 1),
            "longest_m": round(longest_m if len(groups) == 1 else max(metres), 1),
        }
        for reason, metres in groups.items()
    ]


def _reason(router: Any, lat: float, lon: float, locate: bool) -> str:
    covers = getattr(router, "covers", None)
    if covers is not None and not covers(lat, lon):
        return OUTSIDE
    nearest = nearest_road_m(router, lat, lon) if locate else None
    if nearest is None:
        return NO_ROAD if covers is not None else OUTSIDE
    if nearest > FAR_FROM_ROADS_M:
        return OUTSIDE
    return NOT_JOINED if nearest <= ON_ROAD_M else NO_ROAD


def nearest_road_m(router: Any, lat: float, lon: float) -> float | None:
    """Metres to the nearest road the engine knows (inf: none within its search; None: it
    could not say)."""
    from kei_drive.core.distance import haversine_m
    from kei_drive.routing.base import RouterUnavailableError, RoutingError

    locate = getattr(router, "locate", None)
    if locate is None:
        return None
    try:
        answer = locate({"locations": [{"lat": lat, "lon": lon}], "costing": "auto"})
    except RouterUnavailableError:
        raise
    except RoutingError:
        return None
    edges = (answer[0].get("edges") if answer else None) or []
    found = [
        haversine_m(lat, lon, e["correlated_lat"], e["correlated_lon"])
        for e in edges
        if "correlated_lat" in e and "correlated_lon" in e
    ]
    return min(found) if found else float("inf")


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
        elif entry["reason"] == NOT_JOINED:
            out.append(
                f"Part of the track ({pct(share)}) lies on mapped roads, but its fixes could not "
                "be joined into a drive along them (too far apart, or a road the map lacks "
                "between them): road types and speed limits there are unknown."
            )
        elif share > 0.999 and len(entries) == 1:  # length_m is rounded to 0.1 m
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
