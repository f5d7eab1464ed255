"""The upload path's queries: a phone's batch of fixes in as few statements as possible.

Core statements on the trip's row (no ORM objects to build and track) and one prepared
``executemany`` of plain tuples for the fixes: the batch is small and comes every second
from every phone, so per-statement overhead is what counts. ``queries.add_points`` stays
the general entry point (background loggers, tests); both store identical rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from kei_drive.core.times import as_utc
from kei_drive.db.models import Trip, utcnow
from kei_drive.db.queries import PointIn, add_points, get_trip

_trips = Trip.__table__.c
_POINT_COLUMNS = (
    "trip_id, client_id, seq, time_ms, lat, lon, accuracy_m, speed_mps, heading_deg, altitude_m"  # noqa: E501
)
_INSERT_SQLITE = (
    f"INSERT INTO track_points ({_POINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (trip_id, client_id) DO NOTHING"
)


@dataclass(frozen=True)
class TripHead:
    """What storing a batch needs to know of its trip."""

    id: int
    user_id: int
    started_at: datetime | None
    point_count: int
    recording_state: str

    @property
    def start_ms(self) -> int | None:
        started = as_utc(self.started_at)
        return int(started.timestamp() * 1000) if started is not None else None


# Built once: SQLAlchemy then skips most of its per-statement work (a quarter the CPU).
_HEAD = sa.select(
    _trips.id, _trips.user_id, _trips.started_at, _trips.point_count, _trips.recording_state
).where(_trips.uuid == sa.bindparam("trip_uuid"))
_COUNT = (
    sa.update(Trip.__table__)
    .where(_trips.id == sa.bindparam("trip_id"))
    .values(point_count=_trips.point_count + sa.bindparam("added"), updated_at=sa.bindparam("now"))
)


def trip_head(session: Session, trip_uuid: str) -> TripHead | None:
    """The trip with this (normalised) UUID, whoever owns it; None when there is none."""
    row = session.connection().execute(_HEAD, {"trip_uuid": trip_uuid}).first()
    return TripHead(*row) if row is not None else None


def store_fixes(session: Session, trip: TripHead, fixes: Sequence[PointIn]) -> int:
    """Store the fixes whose client id the trip does not have yet; fill an empty start
    time from the earliest fix; keep ``point_count``. Returns how many were stored."""
    if trip.started_at is None:
        first = min((p.time_ms for p in fixes if p.time_ms is not None), default=None)
        if first is not None:
            started = datetime.fromtimestamp(first / 1000, UTC)
            _update_trip(session, trip.id, started_at=started)
    if session.get_bind().dialect.name != "sqlite":  # PostgreSQL: the general path
        return add_points(session, get_trip(session, trip.id, trip.user_id), fixes)[0]
    if not fixes:
        return 0
    rows = [
        (
            trip.id,
            p.client_id,
            p.seq if p.seq is not None else (p.time_ms or 0),
            p.time_ms,
            p.lat,
            p.lon,
            p.accuracy_m,
            p.speed_mps,
            p.heading_deg,
            p.altitude_m,
        )
        for p in fixes
    ]
    cursor = session.connection().exec_driver_sql(_INSERT_SQLITE, rows)
    accepted = max(0, cursor.rowcount)  # SQLite counts the rows inserted, not the ignored
    if accepted:
        session.connection().execute(
            _COUNT, {"trip_id": trip.id, "added": accepted, "now": utcnow()}
        )
    return accepted


def _update_trip(session: Session, trip_id: int, **values) -> None:
    session.execute(sa.update(Trip.__table__).where(_trips.id == trip_id).values(**values))
