"""Did a recorded or imported trip use a motorway or trunk road? (``Trip.highway_use``)

The track is map-matched on the routing tiles (``track_uses_highway``: glitches are
dropped and the track is cut at jumps, so one bad fix cannot hide an interstate drive).
Yes as soon as a sustained highway stretch is found; no only when nothing longer than
``HIGHWAY_USE_MAX_UNMATCHED_M`` stayed unmatched, since GPS alone cannot tell a highway from
the frontage road beside it; otherwise (or without tiles) unknown (None).
"""

from __future__ import annotations

from collections.abc import Sequence

from kei_drive.core.track import TrackArrays
from kei_drive.core.vocabulary import HighwayUse
from kei_drive.routing.base import (
    Router,
    RouterUnavailableError,
    RoutingError,
    TilesDamagedError,
    TilesMissingError,
)
from kei_drive.routing.track_check import track_uses_highway

NO_TILES_NOTE = "No routing tiles are installed (kei-drive tiles build): not checked."


def highway_use(points: Sequence[tuple[float, float]] | TrackArrays) -> bool | None:
    return highway_use_and_note(points).answer


def highway_use_and_note(
    points: Sequence[tuple[float, float]] | TrackArrays, router: Router | None = None
) -> HighwayUse:
    """``highway_use`` (on ``router``, default the installed engine) and, when it is
    unknown, why (for the driver: ``trips show``). Not ``judged`` when no engine could look
    (no tiles, the routing server unreachable)."""
    why: list[str] = []
    try:
        use = track_uses_highway(points, router, why_out=why)
    except TilesDamagedError as exc:  # asked again once the tiles are sound
        return HighwayUse(None, f"Not checked: {exc}.", judged=False)
    except TilesMissingError:
        return HighwayUse(None, NO_TILES_NOTE, judged=False)
    except RouterUnavailableError as exc:
        return HighwayUse(None, f"The routing server could not be reached: {exc}", judged=False)
    except (RoutingError, ValueError) as exc:
        return HighwayUse(None, f"The routing engine could not check the track: {exc}")
    if use is not None:
        return HighwayUse(use)
    return HighwayUse(None, " ".join(why) or None)
