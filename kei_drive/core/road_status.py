"""The road the truck is on, as the Drive screen shows it ("road now").

Plain data in, plain data out: the routing adapter says which road edge the latest fixes
match (``MatchedRoad``), the geography says which state the latest fix is in, the rule book
gives that state's Kei cap. The answer is the ``road`` object of a points batch (the shared
contract of issue #13)::

    {"status": "matched", "name", "class", "ramp", "motorway", "town_trunk",
     "posted_limit_mph", "cap_mph", "cap_permit", "above_cap", "state", "fix_time_ms"}
    {"status": "unknown", "reason", "detail", "fix_time_ms"}

Never a guess: without a match the answer is "unknown" with its reason. ``motorway`` is
true on a motorway and on a motorway ramp (for a Kei a ramp onto an interstate is the
interstate); ``town_trunk`` is true on a trunk posted 35 mph or less, which the route audit
counts as an ordinary road (``audit.town_trunk``); ``above_cap`` needs both a tagged limit
and a cap. ``cap_permit`` names the
driver's local permit whose cap replaces the state's here (None: the state's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kei_drive.core.audit import town_trunk
from kei_drive.core.units import mph_to_kmh


class RoadUnknown(StrEnum):
    """Why the road is not known (the ``reason`` of an "unknown" answer)."""

    NO_TILES = "no_tiles"  # no routing tiles installed on the server
    OUTSIDE_MAP = "outside_map"  # the fixes are outside the installed map data
    OFF_ROAD = "off_road"  # the latest fix is on no mapped road
    TOO_FEW_FIXES = "too_few_fixes"
    NOT_MOVING = "not_moving"  # standing still: the fixes cannot tell one road from another
    OLD_FIXES = "old_fixes"  # the batch holds only fixes from a while ago (a backlog)
    ENGINE_ERROR = "engine_error"
    TIMEOUT = "timeout"  # the engine took longer than the batch may wait
    BUSY = "busy"  # other phones' road checks are running


UNKNOWN_TEXT = {
    RoadUnknown.NO_TILES: "no road map is installed on the server",
    RoadUnknown.OUTSIDE_MAP: "no road map data for this area",
    RoadUnknown.OFF_ROAD: "the latest position is on no mapped road",
    RoadUnknown.TOO_FEW_FIXES: "too few recent positions to tell the road",
    RoadUnknown.NOT_MOVING: "standing still: the road cannot be told apart",
    RoadUnknown.OLD_FIXES: "these positions are from a while ago",
    RoadUnknown.ENGINE_ERROR: "the road map could not be read",
    RoadUnknown.TIMEOUT: "the road check took too long",
    RoadUnknown.BUSY: "the server is busy; the road is checked again with the next positions",
}

# Ramps: what the ramp leads to or comes from ("motorway", "trunk" or "" for neither).
RAMP_CLASS = {"motorway": "motorway_link", "trunk": "trunk_link", "": "link"}


@dataclass(frozen=True)
class MatchedRoad:
    """The edge the latest fix lies on, as the routing engine describes it."""

    road_class: str  # motorway|trunk|primary|secondary|tertiary|unclassified|residential|...
    names: tuple[str, ...] = ()
    speed_limit_kmh: float | None = None  # tagged limit only
    ramp: bool = False
    ramp_serves: str = ""  # for a ramp: "motorway", "trunk" or "" (the road it joins)
    ramp_serves_name: str = ""  # that road's name ("I 99")


def posted_limit_mph(speed_limit_kmh: float | None) -> int | None:
    """A tagged limit in whole mph (Valhalla stores "55 mph" as 89 km/h: 55.3 -> 55)."""
    if not speed_limit_kmh or speed_limit_kmh <= 0:
        return None
    return round(speed_limit_kmh / mph_to_kmh(1))


def unknown(reason: RoadUnknown, fix_time_ms: int | None = None, detail: str = "") -> dict:
    return {
        "status": "unknown",
        "reason": str(reason),
        "detail": detail or UNKNOWN_TEXT[reason],
        "fix_time_ms": fix_time_ms,
    }


def road_status(
    road: MatchedRoad,
    state: str | None,
    cap_mph: float | None,
    fix_time_ms: int | None = None,
    cap_permit: str | None = None,
) -> dict[str, Any]:
    """The "matched" answer for ``road`` in ``state`` whose Kei cap is ``cap_mph`` (set by
    the driver's permit labelled ``cap_permit``, if any)."""
    if road.ramp:
        serves = road.ramp_serves if road.ramp_serves in RAMP_CLASS else ""
        if road.road_class in ("motorway", "trunk") and not serves:
            serves = road.road_class  # an engine that keeps the link's own class
        cls = RAMP_CLASS[serves]
        motorway = serves == "motorway"
        if road.names:
            name = road.names[0]
        elif road.ramp_serves_name:
            name = f"{road.ramp_serves_name} ramp"
        else:
            name = "ramp"
    else:
        cls = road.road_class or "road"
        motorway = cls == "motorway"
        name = road.names[0] if road.names else ""
    limit = posted_limit_mph(road.speed_limit_kmh)
    cap = int(cap_mph) if cap_mph else None
    return {
        "status": "matched",
        "name": name,
        "names": list(road.names),
        "class": cls,
        "ramp": road.ramp,
        "motorway": motorway,
        "town_trunk": cls == "trunk" and town_trunk(cls, road.speed_limit_kmh),
        "posted_limit_mph": limit,
        "cap_mph": cap,
        "cap_permit": cap_permit,
        "above_cap": bool(limit is not None and cap is not None and limit > cap),
        "state": state,
        "reason": None,
        "fix_time_ms": fix_time_ms,
    }
