"""Routing adapters: Valhalla in-process or over HTTP, Kei costing, tiles, planning.

Public API (what the Plan page and the CLI call)::

    from kei_drive.routing import get_router, plan_route, check_track, KeiOptions
    result = plan_route((lat, lon), (lat, lon), options=KeiOptions(avoid_banned_states=True))
    result.to_dict()  # distance_m, duration_s, geometry, states, warnings, maneuvers, legal, notes
"""

from __future__ import annotations

from pathlib import Path

from kei_drive import config
from kei_drive.routing.base import (
    NoRouteError,
    Router,
    RouterUnavailableError,
    RoutingError,
    TilesDamagedError,
    TilesMissingError,
)
from kei_drive.routing.kei_costing import KeiOptions
from kei_drive.routing.planner import Maneuver, RouteResult, plan_route
from kei_drive.routing.track_check import check_track


def get_router(tiles_dir: Path | str | None = None, url: str | None = None) -> Router:
    """The configured engine: a Valhalla server if ``url`` / KEI_DRIVE_VALHALLA_URL is set
    (and no explicit ``tiles_dir``), else the in-process engine on ``tiles_dir`` /
    ``config.tiles_dir()``. Raises TilesMissingError if there are no tiles."""
    if tiles_dir is None:
        url = url or config.valhalla_url()
        if url:
            from kei_drive.routing.valhalla_http import HttpValhallaRouter

            return HttpValhallaRouter(url)
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    return LocalValhallaRouter(Path(tiles_dir) if tiles_dir else config.tiles_dir())


__all__ = [
    "KeiOptions",
    "Maneuver",
    "NoRouteError",
    "RouteResult",
    "Router",
    "RouterUnavailableError",
    "RoutingError",
    "TilesDamagedError",
    "TilesMissingError",
    "check_track",
    "get_router",
    "plan_route",
]
