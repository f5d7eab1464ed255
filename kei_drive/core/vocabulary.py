"""The app's vocabularies: the codes stored in tables, sent by the API and worded by the
presenters. Kept free of heavy imports so the tables (``db/models.py``) can use them.

Kei rule statuses and confidence live with the rules schema (``core/rules_schema.py``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class RecordingState(StrEnum):
    """``Trip.recording_state``: fixes still arriving, or the statistics are final."""

    RECORDING = "recording"
    FINISHED = "finished"


class TripSource(StrEnum):
    """``Trip.source``: the Drive screen, a GPX file, or a background logger."""

    RECORDED = "recorded"
    IMPORTED = "imported"
    OWNTRACKS = "owntracks"
    OVERLAND = "overland"
    GPSLOGGER = "gpslogger"


class TripFlag(StrEnum):
    """What the trip list points out about a trip (worded in ``presenters.trips``)."""

    OVER_CAP = "over_cap"  # at least OVER_CAP_FLAG_S above the vehicle's cap
    GAPS = "gaps"  # gaps in recording
    HIGHWAY_USE = "highway_use"  # map-matching found a motorway or trunk road
    RECORDING = "recording"  # not finished yet
    NO_MOVEMENT = "no_movement"  # finished, and never left one spot (core.trips.no_movement)


# ``stats["highway_use_note"]`` of a logger's trip finished before the routing engine was
# asked (services.ingest: the engine works after the ingest transaction commits)
HIGHWAY_CHECK_PENDING = (
    "Not checked against the map yet: the check runs right after the trip is stored."
)


class HighwayUse(NamedTuple):
    """A trip's highway use as the routing engine judged it: ``Trip.highway_use`` (None:
    unknown) and why unknown (``stats["highway_use_note"]``). ``judged`` is False when no
    engine looked at the fixes (no tiles, the routing server unreachable, the check still
    to come): such an answer is asked again once an engine is there."""

    answer: bool | None
    note: str | None = None
    judged: bool = True


OVER_CAP_FLAG_S = 30.0  # shorter stretches above the cap are GPS noise, not worth a flag


class WarningKind(StrEnum):
    """What a route warning is about (``core.audit.RouteWarning.kind``). The state-rule
    kinds come from ``core.access`` (its stretches), in the rules' severity order."""

    UNREACHABLE = "unreachable"  # the route ends far from where the driver asked
    BANNED_STATE = "banned_state"
    ROAD_ACCESS = "road_access"  # only where locally allowed
    UNVERIFIED = "unverified"  # the state's rules are unverified
    RESTRICTED_STATE = "restricted_state"
    LOCAL_PERMIT = "local_permit"  # the driver's own local permission
    HIGHWAY = "highway"  # motorway or trunk road
    SPEED_CAP = "speed_cap"  # road posted above the state's Kei cap
    UNKNOWN_SPEED_LIMIT = "unknown_speed_limit"


# How the Plan page lists route warnings: most serious first, then by position.
WARNING_DISPLAY_ORDER = (
    WarningKind.UNREACHABLE,
    WarningKind.BANNED_STATE,
    WarningKind.ROAD_ACCESS,
    WarningKind.HIGHWAY,
    WarningKind.SPEED_CAP,
    WarningKind.UNVERIFIED,
    WarningKind.RESTRICTED_STATE,
    WarningKind.LOCAL_PERMIT,
    WarningKind.UNKNOWN_SPEED_LIMIT,
)
