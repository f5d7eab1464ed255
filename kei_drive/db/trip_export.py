"""A stored trip as GPX or GeoJSON text, streamed from the database in pieces."""

from __future__ import annotations

import json
from collections.abc import Iterator

import sqlalchemy as sa
from sqlmodel import Session

from kei_drive.core.track_export import iter_geojson, iter_gpx
from kei_drive.db.models import TrackPointRow
from kei_drive.db.queries import (
    count_points,
    get_trip,
    iter_trip_points,
)


def _all_have_altitude(session: Session, trip_id: int) -> bool:
    c = TrackPointRow.__table__.c
    missing = session.execute(
        sa.select(sa.func.count()).where(c.trip_id == trip_id, c.altitude_m.is_(None))
    ).scalar_one()
    return missing == 0 and count_points(session, trip_id) > 0


def export_gpx_stream(
    session: Session, ref: int | str, user_id: int | None = None
) -> Iterator[str]:
    """The trip as GPX text, in pieces (the session must stay open while iterating).
    ``NotFound`` is raised at once, before the first piece."""
    trip = get_trip(session, ref, user_id)
    return iter_gpx(iter_trip_points(session, trip.id), name=trip.name or None)  # type: ignore[arg-type]


def export_geojson_stream(
    session: Session, ref: int | str, user_id: int | None = None
) -> Iterator[str]:
    """The trip as GeoJSON text, in pieces (three passes over the fixes, none held)."""
    trip = get_trip(session, ref, user_id)
    trip_id: int = trip.id  # type: ignore[assignment]
    return iter_geojson(
        lambda: iter_trip_points(session, trip_id),
        name=trip.name or None,
        properties={"uuid": trip.uuid, "stats": trip.stats},
        with_elevation=_all_have_altitude(session, trip_id),
    )


def export_gpx(session: Session, ref: int | str, user_id: int | None = None) -> str:
    return "".join(export_gpx_stream(session, ref, user_id))


def export_geojson(session: Session, ref: int | str, user_id: int | None = None) -> dict:
    return json.loads("".join(export_geojson_stream(session, ref, user_id)))
