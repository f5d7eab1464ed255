"""Road facts about stored trips that need the routing engine (kept out of the db layer)."""

from __future__ import annotations

from sqlmodel import Session

from kei_drive.db import queries as q
from kei_drive.db.models import Trip
from kei_drive.routing.highway_use import highway_use


def highway_use_of(session: Session, trip_id: int) -> bool | None:
    """Whether the trip's map-matched track used a highway (None: unknown). Reads only, so
    callers can do it before taking SQLite's write lock."""
    return highway_use(q.trip_arrays(session, trip_id))  # times and accuracy help matching


def mark_highway_use(session: Session, trip: Trip) -> bool | None:
    """Set ``trip.highway_use`` from its map-matched track (None stays "unknown")."""
    trip.highway_use = highway_use_of(session, trip.id)  # type: ignore[arg-type]
    session.add(trip)
    return trip.highway_use
