"""A drawn route's roads. A GPX route (``<rte>``) from a route planner often holds a point
at each turn, or every Nth vertex of its line, and leaves the roads between them to the
driver: a straight chord across the blocks between two turns lands off-road or on a
motorway it crosses (a Kei-legal turn list read "I 95 North for 0.2 mi"; 2.6 mi of I 95
through a tunnel read 0.2 mi). Each long step is replaced by the shortest road between its
points (any road: what the route drives, not what a Kei may) before the route is matched,
unless that road is a detour the drawing did not mean (then the chord stays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kei_drive.core.distance import haversine_m
from kei_drive.routing.base import RouterUnavailableError, RoutingError
from kei_drive.routing.polyline import decode

DRAWN_STEP_MIN_M = 100.0  # shorter steps are drawn along their road already
DRAWN_ROAD_MAX_RATIO = 2.0  # a road longer than this times the chord (+ the slack) is a
DRAWN_ROAD_SLACK_M = 300.0  # detour (a one-way street's loop, a point off the map)
DRAWN_STEPS_MAX = 2_000  # route requests at most for one route (~5 ms each)
# A drawn point lies on its road: one farther than this from any road is off the map (the
# engine would take the nearest road up to 35 km away: an end past the extract's edge was
# routed onto I 95)
DRAWN_SNAP_CUTOFF_M = 100


def _shortest_request(a: tuple[float, float], b: tuple[float, float]) -> dict:
    return {
        "locations": [
            {"lat": p[0], "lon": p[1], "type": "break", "search_cutoff": DRAWN_SNAP_CUTOFF_M}
            for p in (a, b)
        ],
        "costing": "auto",
        "costing_options": {"auto": {"shortest": True}},
        "units": "kilometers",
        "directions_type": "none",
    }


@dataclass(frozen=True)
class FollowedRoute:
    """A drawn route's points with its long steps followed along their roads."""

    lat: np.ndarray
    lon: np.ndarray
    followed: int = 0  # steps replaced by their road
    past_limit: int = 0  # long steps past ``DRAWN_STEPS_MAX``, left as drawn


def roads_between(router, lat: np.ndarray, lon: np.ndarray) -> FollowedRoute:
    """The drawn route with each step longer than ``DRAWN_STEP_MIN_M`` followed along the
    shortest road between its points where there is one and it is no detour (the first
    ``DRAWN_STEPS_MAX`` of them). Without an answer from the engine a step keeps its chord."""
    if lat.size < 2:
        return FollowedRoute(lat, lon)
    chord = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    every_long = np.flatnonzero(chord > DRAWN_STEP_MIN_M)
    long = every_long[:DRAWN_STEPS_MAX]
    past_limit = int(every_long.size - long.size)
    covers = getattr(router, "covers", None)  # local tiles know where their map ends
    roads: dict[int, np.ndarray] = {}
    for i in long.tolist():
        a, b = (float(lat[i]), float(lon[i])), (float(lat[i + 1]), float(lon[i + 1]))
        if covers is not None and not (covers(*a) and covers(*b)):
            continue  # an end beyond the map: the chord, and "not near any mapped road"
        try:
            answer = router.route(_shortest_request(a, b))
        except RouterUnavailableError:
            break  # a server that does not answer: the rest would wait for it too
        except RoutingError:
            continue  # no road between them (or outside the tiles): the chord
        leg = answer["trip"]["legs"][0]
        length_m = float(leg["summary"]["length"]) * 1000.0
        if length_m <= DRAWN_ROAD_MAX_RATIO * float(chord[i]) + DRAWN_ROAD_SLACK_M:
            roads[i] = np.asarray(decode(leg["shape"]), dtype=float).reshape(-1, 2)
    if not roads:
        return FollowedRoute(lat, lon, 0, past_limit)
    parts: list[np.ndarray] = []
    for i in range(lat.size):
        # a followed step's road starts and ends at its points (as the engine placed them
        # on the road): the drawn point beside it would be a second, off-road vertex there
        if i not in roads and i - 1 not in roads:
            parts.append(np.array([[lat[i], lon[i]]]))
        if i in roads:
            road = roads[i]
            parts.append(road[1:] if i - 1 in roads else road)
    out = np.concatenate(parts)
    return FollowedRoute(out[:, 0].copy(), out[:, 1].copy(), len(roads), past_limit)


def followed_note(route: FollowedRoute, steps: int) -> str | None:
    """The note on steps of a drawn route followed along their roads (``steps``: the
    route's), and on long steps past the limit left as straight lines."""
    notes = []
    if route.followed:
        notes.append(
            f"{route.followed} of the route's {steps} steps between its points were followed "
            "along the shortest road between them: a route of a point at each turn leaves the "
            "roads to the driver, and a straight line across the blocks would cross other roads."
        )
    if route.past_limit:
        notes.append(
            f"{route.past_limit} steps over {DRAWN_STEP_MIN_M:.0f} m after the first "
            f"{DRAWN_STEPS_MAX:,} were left as straight lines (a limit on the work for one "
            "route): the audit of that part may miss or invent roads; check it in parts."
        )
    return " ".join(notes) or None
