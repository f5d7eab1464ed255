"""Did a recorded or imported trip use a motorway or trunk road? (``Trip.highway_use``)

The track is map-matched on the routing tiles and audited (``check_track``: glitches are
dropped and the track is cut at jumps, so one bad fix cannot hide an interstate drive).
Yes when a sustained highway stretch was found; no only when nothing longer than
``HIGHWAY_USE_MAX_UNMATCHED_M`` stayed unmatched, since GPS alone cannot tell a highway from
the frontage road beside it; otherwise (or without tiles) unknown (None).
"""

from __future__ import annotations

from collections.abc import Sequence

from kei_drive.core.trips import TrackArrays
from kei_drive.routing.base import RoutingError
from kei_drive.routing.planner import HIGHWAY_USE_MAX_UNMATCHED_M, check_track


def highway_use(points: Sequence[tuple[float, float]] | TrackArrays, rules=None) -> bool | None:
    if len(points) < 2:
        return None
    try:
        result = check_track(points, rules=rules)
    except (RoutingError, ValueError):
        return None
    if any(w.kind == "highway" for w in result.warnings):
        return True
    if result.matched_share and result.longest_unmatched_m <= HIGHWAY_USE_MAX_UNMATCHED_M:
        return False
    return None
