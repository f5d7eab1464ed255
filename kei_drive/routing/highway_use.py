"""Did a recorded or imported trip use a motorway or trunk road? (``Trip.highway_use``)

The track is map-matched on the routing tiles and audited; the answer stays unknown
(None) when there are no tiles or part of the track lies outside them, since GPS alone
cannot tell a highway from the frontage road beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from kei_drive.routing.base import RoutingError
from kei_drive.routing.planner import check_track


def highway_use(points: Sequence[tuple[float, float]], rules=None) -> bool | None:
    if len(points) < 2:
        return None
    try:
        result = check_track(points, rules=rules)
    except (RoutingError, ValueError):
        return None
    if any(w.kind == "highway" for w in result.warnings):
        return True
    return False if result.unmatched_share == 0 else None
