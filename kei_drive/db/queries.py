"""The queries the app needs (pages, API, CLI); a GPX file's import is ``db.trip_import``,
a trip's export ``db.trip_export``.

Reads and writes only: rows and numbers go out, words are made by ``kei_drive.presenters``
and multi-step jobs (import a GPX file, finish a trip) live in ``kei_drive.services``.
Every function takes an open ``Session`` (see ``kei_drive.db.app_session``) and works for
the user ``user_id``. Without one it works for the only account (``accounts.default_user``:
command line and single-user serving); with several accounts that raises ``NoSuchUser``
rather than guess, so a caller that forgets the user fails closed.
"""

from __future__ import annotations

import math
import uuid as uuidlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from kei_drive.core.gap_roads import stored_roads, with_roads_across_gaps
from kei_drive.core.gpx import (
    TrackPoint,
)
from kei_drive.core.times import as_utc, place_zone
from kei_drive.core.track import (
    TrackArrays,
)
from kei_drive.core.trips import (
    HIGHWAY_RULES,
    NO_MOVEMENT_M,
    STATS_RULES,
    TripStats,
    compute_stats,
)
from kei_drive.core.units import mph_to_mps
from kei_drive.core.vehicles import (
    VEHICLE_FIELDS,
    check_home_state,
    check_model_year,
    check_speed_cap,
    parse_month,
)
from kei_drive.core.vocabulary import HIGHWAY_CHECK_PENDING, RecordingState, TripSource
from kei_drive.core.xmltext import clean_text
from kei_drive.db.engine import begin_write
from kei_drive.db.models import DeletedSpan, DeviceFix, TrackPointRow, Trip, User, Vehicle, utcnow

LOCAL_USERNAME = "local"
_INSERT_CHUNK = 1000  # rows per INSERT (SQLite allows 32766 bound parameters)


class NotFound(LookupError):
    """No such trip or vehicle (for this user)."""


# ------------------------------------------------------------------------------ users


def local_user(session: Session) -> User:
    """The only user (the pre-accounts placeholder is created on first use)."""
    from kei_drive.db.accounts import default_user

    return default_user(session)


def _uid(session: Session, user_id: int | None) -> int:
    return user_id if user_id is not None else local_user(session).id  # type: ignore[return-value]


# --------------------------------------------------------------------------- vehicles


def _check_vehicle_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(VEHICLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown vehicle field(s): {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "nickname" in out and not (out["nickname"] or "").strip():
        raise ValueError("a vehicle needs a nickname")
    if out.get("manufacture_month"):
        year, month = parse_month(out["manufacture_month"])
        out["manufacture_month"] = f"{year:04d}-{month:02d}"
    if out.get("model_year") is not None:
        out["model_year"] = check_model_year(int(out["model_year"]))
    if out.get("speed_cap_mph") is not None:
        out["speed_cap_mph"] = check_speed_cap(float(out["speed_cap_mph"]))
    if out.get("home_state"):
        out["home_state"] = check_home_state(out["home_state"])
    return out


def create_vehicle(
    session: Session, nickname: str, user_id: int | None = None, **fields
) -> Vehicle:
    values = _check_vehicle_fields({"nickname": nickname, **fields})
    vehicle = Vehicle(user_id=_uid(session, user_id), **values)
    session.add(vehicle)
    session.flush()
    return vehicle


def get_vehicle(session: Session, vehicle_id: int, user_id: int | None = None) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.user_id != _uid(session, user_id):
        raise NotFound(f"no vehicle with id {vehicle_id}")
    return vehicle


def update_vehicle(
    session: Session, vehicle_id: int, user_id: int | None = None, **fields
) -> Vehicle:
    """Change a vehicle's fields; a new speed cap marks its trips' statistics outdated (their
    time above the cap is measured again by the sweeper, or ``trips recheck``)."""
    vehicle = get_vehicle(session, vehicle_id, user_id)
    cap_before = vehicle.speed_cap_mph
    for key, value in _check_vehicle_fields(fields).items():
        setattr(vehicle, key, value)
    if vehicle.speed_cap_mph != cap_before:
        _stats_outdated(session, vehicle.id)  # type: ignore[arg-type]
    session.add(vehicle)
    session.flush()
    return vehicle


def _stats_outdated(session: Session, vehicle_id: int) -> None:
    """The vehicle's trips were measured against a cap it no longer has."""
    session.execute(sa.update(Trip).where(Trip.vehicle_id == vehicle_id).values(stats_rules=None))


def delete_vehicle(session: Session, vehicle_id: int, user_id: int | None = None) -> None:
    """Delete a vehicle; its trips stay, without a vehicle (nor its cap: their statistics are
    measured again)."""
    vehicle = get_vehicle(session, vehicle_id, user_id)
    session.execute(
        sa.update(Trip)
        .where(Trip.vehicle_id == vehicle.id)
        .values(vehicle_id=None, stats_rules=None)
    )
    session.delete(vehicle)
    session.flush()


def list_vehicles(session: Session, user_id: int | None = None) -> list[Vehicle]:
    uid = _uid(session, user_id)
    return list(session.exec(select(Vehicle).where(Vehicle.user_id == uid).order_by(Vehicle.id)))


# ------------------------------------------------------------------------------ trips


def normalize_trip_uuid(value: str) -> str:
    """Canonical lower-case UUID text; ``ValueError`` when ``value`` is not a UUID."""
    try:
        return str(uuidlib.UUID(str(value).strip()))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"trip id must be a UUID, got {value!r}") from exc


def get_trip(session: Session, ref: int | str, user_id: int | None = None) -> Trip:
    """A trip by numeric id or UUID (``NotFound`` otherwise)."""
    uid = _uid(session, user_id)
    trip: Trip | None = None
    text = str(ref).strip()
    if text.isdigit():
        trip = session.get(Trip, int(text))
    else:
        try:
            key = normalize_trip_uuid(text)
        except ValueError:
            key = None
        if key:
            trip = session.exec(select(Trip).where(Trip.uuid == key)).first()
    if trip is None or trip.user_id != uid:
        raise NotFound(f"no trip {ref}")
    return trip


def ensure_trip(
    session: Session,
    trip_uuid: str,
    *,
    vehicle_id: int | None = None,
    started_at: datetime | None = None,
    name: str | None = None,
    source: TripSource = TripSource.RECORDED,
    user_id: int | None = None,
) -> tuple[Trip, bool]:
    """Create the trip with this client UUID, or return the existing one (idempotent).

    On an existing trip, only empty fields are filled in (a retried create never
    overwrites). Returns ``(trip, created)``.
    """
    key = normalize_trip_uuid(trip_uuid)
    uid = _uid(session, user_id)
    if vehicle_id is not None:
        get_vehicle(session, vehicle_id, uid)
    trip = session.exec(select(Trip).where(Trip.uuid == key)).first()
    if trip is not None:
        if trip.user_id != uid:
            raise NotFound(f"no trip {trip_uuid}")
        changed = False
        for attr, value in (("vehicle_id", vehicle_id), ("started_at", started_at)):
            if value is not None and getattr(trip, attr) is None:
                setattr(trip, attr, value)
                changed = True
        if name and not trip.name:
            trip.name, changed = name, True
        if changed:
            trip.updated_at = utcnow()
            session.add(trip)
            session.flush()
        return trip, False
    now = utcnow()
    values = {
        "uuid": key,
        "user_id": uid,
        "vehicle_id": vehicle_id,
        "started_at": as_utc(started_at),
        "name": name or "",
        "source": TripSource(source).value,
        "recording_state": RecordingState.RECORDING.value,
        "distance_m": 0.0,
        "states": [],
        "point_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    # insert-or-ignore: two concurrent first requests for one trip both succeed
    table = Trip.__table__
    stmt = (
        _insert(session)(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["uuid"])
        .returning(table.c.id)
    )
    created = session.execute(stmt).first() is not None
    trip = session.exec(select(Trip).where(Trip.uuid == key)).one()
    if not created:
        return ensure_trip(
            session, key, vehicle_id=vehicle_id, started_at=started_at, name=name, user_id=uid
        )
    return trip, True


@dataclass(frozen=True)
class PointIn:
    """A validated fix to store."""

    client_id: str
    time_ms: int | None
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    seq: int | None = None  # order key; defaults to time_ms


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"insert-or-ignore is not implemented for {dialect}")


_POINT_COLUMNS = (
    "trip_id",
    "client_id",
    "seq",
    "time_ms",
    "lat",
    "lon",
    "accuracy_m",
    "speed_mps",
    "heading_deg",
    "altitude_m",
)
_BULK_ROWS = 20_000  # rows built and sent at a time (bounded memory for any file size)


def insert_track_columns(
    session: Session,
    trip: Trip,
    track: TrackArrays,
    heading: np.ndarray | None = None,
    altitude: np.ndarray | None = None,
    *,
    chunk_rows: int = _BULK_ROWS,
    commit_chunks: bool = False,
) -> int:
    """Store a new trip's fixes in bulk (an import: the trip has none yet, so no conflict
    handling): COPY on PostgreSQL, one prepared executemany per 20,000 rows on SQLite.
    Client ids are ``gpx-<index>``, the order key is the index. ``commit_chunks`` commits
    every ``chunk_rows`` on SQLite: a big import holds its write lock a moment at a time,
    and takes it only once the chunk's rows are built (``engine.begin_write``: in turns
    with the phones' uploads); PostgreSQL locks rows, not the database, so it copies
    20,000 rows at a time with one commit.
    Returns the number stored."""
    n = len(track)
    columns = [
        track.lat,
        track.lon,
        track.accuracy,
        track.speed,
        np.full(n, np.nan) if heading is None else heading,
        np.full(n, np.nan) if altitude is None else altitude,
    ]
    t_ms = np.round(track.t * 1000.0)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # no database-wide write lock to share: fewer, bigger COPYs, one commit
        chunk_rows, commit_chunks = max(chunk_rows, _BULK_ROWS), False
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        # Rows are zipped from whole columns (NaN -> None in numpy): no Python step per value.
        times = _nullable(t_ms[start:stop], integer=True)
        parts = [_nullable(c[start:stop]) for c in columns]
        index = range(start, stop)
        rows = list(
            zip(
                [trip.id] * (stop - start),
                [f"gpx-{j}" for j in index],
                index,
                times,
                *parts,
                strict=True,
            )
        )
        if commit_chunks:  # commit the previous chunk, then take the lock for this one
            begin_write(session)
        _insert_point_rows(session, rows, postgres)
    trip.point_count = n
    trip.updated_at = utcnow()
    session.add(trip)
    session.flush()
    return n


def _nullable(values: np.ndarray, integer: bool = False) -> list:
    """Python numbers with None for NaN (ints for ``integer``), converted as a whole column."""
    missing = np.isnan(values)
    clean = np.where(missing, 0, values)
    out = (clean.astype(np.int64) if integer else clean).astype(object)
    out[missing] = None
    return out.tolist()


def _insert_point_rows(session: Session, rows: list[tuple], postgres: bool) -> None:
    if postgres:
        _copy_rows(session, rows)
        return
    marks = ", ".join("?" * len(_POINT_COLUMNS))
    session.connection().exec_driver_sql(  # one executemany: SQLite's fastest path
        f"INSERT INTO track_points ({', '.join(_POINT_COLUMNS)}) VALUES ({marks})", rows
    )


def _copy_rows(session: Session, rows: list[tuple]) -> None:
    """PostgreSQL COPY of track point rows through the session's own connection."""
    raw = session.connection().connection.driver_connection
    columns = ", ".join(_POINT_COLUMNS)
    with raw.cursor() as cur, cur.copy(f"COPY track_points ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def add_points(session: Session, trip: Trip, points: Sequence[PointIn]) -> tuple[int, int]:
    """Store fixes, ignoring any whose client id the trip already has.

    Returns ``(accepted, duplicates)``. Insert-or-ignore on the (trip, client id) unique
    constraint makes retries and concurrent duplicates harmless (SQLite and PostgreSQL).
    """
    unique: dict[str, PointIn] = {}
    for p in points:
        unique.setdefault(p.client_id, p)
    rows = [
        {
            "trip_id": trip.id,
            "client_id": p.client_id,
            "seq": p.seq if p.seq is not None else (p.time_ms or 0),
            "time_ms": p.time_ms,
            "lat": p.lat,
            "lon": p.lon,
            "accuracy_m": p.accuracy_m,
            "speed_mps": p.speed_mps,
            "heading_deg": p.heading_deg,
            "altitude_m": p.altitude_m,
        }
        for p in unique.values()
    ]
    if not rows:
        return 0, len(points)
    table = TrackPointRow.__table__
    # One statement run for every row (executemany): compiling a multi-row VALUES costs
    # ~2 ms per row in SQLAlchemy, which held SQLite's write lock for seconds.
    stmt = _insert(session)(table).on_conflict_do_nothing(index_elements=["trip_id", "client_id"])
    if session.get_bind().dialect.name == "sqlite":  # its row count leaves ignored rows out
        accepted = session.execute(stmt, rows).rowcount  # type: ignore[attr-defined]
        after = (trip.point_count or 0) + accepted  # the trip row was read under the lock
    else:  # PostgreSQL's executemany reports no row count: count around it
        before = count_points(session, trip.id)  # type: ignore[arg-type]
        session.execute(stmt, rows)
        after = count_points(session, trip.id)  # type: ignore[arg-type]
        accepted = after - before
    if accepted:
        trip.point_count = after
        trip.updated_at = utcnow()
        session.add(trip)
        session.flush()
    return accepted, len(points) - accepted


def count_points(session: Session, trip_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(TrackPointRow).where(TrackPointRow.trip_id == trip_id)
    ).one()


def _points_query(trip_id: int):
    """lat, lon, time_ms, accuracy, speed, heading, altitude of the trip's fixes in order."""
    c = TrackPointRow.__table__.c
    return (
        sa.select(c.lat, c.lon, c.time_ms, c.accuracy_m, c.speed_mps, c.heading_deg, c.altitude_m)
        .where(c.trip_id == trip_id)
        .order_by(c.seq, c.id)
    )


def _point_rows(session: Session, trip_id: int) -> list[tuple]:
    # plain tuples: numpy probes a SQLAlchemy Row for array attributes (~0.3 ms a row)
    return [tuple(row) for row in session.execute(_points_query(trip_id))]


def recent_fixes(
    session: Session, trip_id: int, until_ms: int, window_ms: int, limit: int = 60
) -> list[tuple[float, float, float | None]]:
    """(lat, lon, accuracy_m) of the trip's fixes timed within ``window_ms`` up to
    ``until_ms``, oldest first, at most the newest ``limit`` (uses the trip/time index)."""
    c = TrackPointRow.__table__.c
    query = (
        sa.select(c.lat, c.lon, c.accuracy_m)
        .where(c.trip_id == trip_id, c.time_ms >= until_ms - window_ms, c.time_ms <= until_ms)
        .order_by(c.time_ms.desc(), c.seq.desc())
        .limit(limit)
    )
    return [tuple(row) for row in reversed(session.execute(query).all())]  # type: ignore[misc]


def trip_arrays(session: Session, trip_id: int) -> TrackArrays:
    """The trip's fixes as numpy columns, in track order (fast path for stats)."""
    rows = _point_rows(session, trip_id)
    if not rows:
        return TrackArrays.from_columns([], [])
    cols = np.array(rows, dtype=float).T  # None -> NaN
    verdict = session.exec(select(Trip.speed_verdict).where(Trip.id == trip_id)).first()
    return TrackArrays(cols[0], cols[1], cols[2] / 1000.0, cols[3], cols[4], verdict)


STREAM_ROWS = 2000  # rows fetched at a time when streaming a trip's fixes


def iter_trip_points(session: Session, trip_id: int) -> Iterator[TrackPoint]:
    """The trip's fixes in track order, fetched ``STREAM_ROWS`` at a time (constant memory)."""
    stmt = _points_query(trip_id).execution_options(yield_per=STREAM_ROWS)
    for lat, lon, t, acc, speed, heading, alt in session.execute(stmt):
        yield TrackPoint(
            lat=lat,
            lon=lon,
            time=datetime.fromtimestamp(t / 1000.0, UTC) if t is not None else None,
            elevation=alt,
            speed_mps=speed,
            course=heading,
            accuracy_m=acc,
        )


def trip_points(session: Session, trip_id: int) -> list[TrackPoint]:
    """The trip's fixes as core ``TrackPoint``s, in track order."""
    return list(iter_trip_points(session, trip_id))


def trip_cap_mps(session: Session, trip: Trip) -> float | None:
    if trip.vehicle_id is None:
        return None
    vehicle = session.get(Vehicle, trip.vehicle_id)
    if vehicle is None or vehicle.speed_cap_mph is None:
        return None
    return mph_to_mps(vehicle.speed_cap_mph)


def store_stats(trip: Trip, stats: TripStats) -> TripStats:
    """Copy computed statistics onto the trip row (the caller adds and flushes it); gaps
    measured along the road before keep that length (``core.gap_roads``). Returns the
    statistics as stored."""
    stats = with_roads_across_gaps(stats, stored_roads(trip.stats))
    trip.distance_m = stats.distance_m
    trip.elapsed_s = stats.elapsed_s
    trip.moving_s = stats.moving_s
    trip.max_speed_mps = stats.max_speed_mps
    trip.avg_moving_speed_mps = stats.avg_moving_speed_mps
    trip.over_cap_s = stats.over_cap_s
    trip.cap_mps = stats.cap_mps
    trip.states = list(stats.states)
    trip.stats_rules = STATS_RULES
    note = (trip.stats or {}).get("highway_use_note")  # the map matching's, not the stats'
    trip.stats = stats.to_dict() | ({"highway_use_note": note} if note else {})
    if stats.started_at is not None:
        trip.started_at = stats.started_at
        trip.ended_at = stats.ended_at
    return stats


def outdated_stats(session: Session, max_fixes: int) -> list[int]:
    """Finished trips whose statistics older rules computed (``core.trips.STATS_RULES``),
    oldest first, up to ``max_fixes`` fixes in all (one trip at least)."""
    return _outdated(session, Trip.stats_rules, STATS_RULES, max_fixes, 1000)


def outdated_highway_use(session: Session, max_fixes: int, limit: int = 1000) -> list[int]:
    """Finished trips whose highway use older rules judged, or no engine yet
    (``core.trips.HIGHWAY_RULES``), oldest first, up to ``max_fixes`` fixes in all (one trip
    at least). Trips waiting for the engine's part of finishing (``HIGHWAY_CHECK_PENDING``)
    are left to that."""
    note = col(Trip.stats)["highway_use_note"].as_string()
    waiting = sa.and_(note.is_not(None), note == HIGHWAY_CHECK_PENDING)
    rules = Trip.highway_rules
    return _outdated(session, rules, HIGHWAY_RULES, max_fixes, limit, sa.not_(waiting))


def _outdated(
    session: Session, rules_column: Any, rules: int, max_fixes: int, limit: int, *also: Any
) -> list[int]:
    rows = session.exec(
        select(Trip.id, Trip.point_count)
        .where(
            Trip.recording_state == RecordingState.FINISHED.value,
            sa.or_(rules_column.is_(None), rules_column < rules),
            *also,
        )
        .order_by(Trip.id)
        .limit(limit)
    ).all()
    out, fixes = [], 0
    for trip_id, count in rows:
        if out and fixes + count > max_fixes:
            break
        out.append(int(trip_id))
        fixes += count
    return out


def refresh_stats(session: Session, trip: Trip) -> TripStats:
    """Compute the trip's statistics from its stored fixes and store them."""
    stats = compute_stats(trip_arrays(session, trip.id), trip_cap_mps(session, trip))  # type: ignore[arg-type]
    stats = store_stats(trip, stats)
    trip.point_count = stats.points
    trip.updated_at = utcnow()
    session.add(trip)
    session.flush()
    return stats


def close_trip(session: Session, trip: Trip, ended_at: datetime | None = None) -> TripStats:
    """Mark the trip finished and store its final statistics (``services.trips.finish_trip``
    also names it and marks highway use)."""
    trip.recording_state = RecordingState.FINISHED.value
    stats = refresh_stats(session, trip)
    if ended_at is not None and (trip.ended_at is None or as_utc(ended_at) > as_utc(trip.ended_at)):
        trip.ended_at = as_utc(ended_at)
    session.add(trip)
    session.flush()
    return stats


def rename_trip(session: Session, ref: int | str, name: str, user_id: int | None = None) -> Trip:
    name = clean_text(name or "")
    if not name:
        raise ValueError("a trip name cannot be empty")
    if len(name) > 200:
        raise ValueError("a trip name is at most 200 characters")
    trip = get_trip(session, ref, user_id)
    trip.name, trip.updated_at = name, utcnow()
    session.add(trip)
    session.flush()
    return trip


def set_trip_vehicle(
    session: Session, ref: int | str, vehicle_id: int | None, user_id: int | None = None
) -> Trip:
    """Move a trip to another vehicle (or none) and recompute its over-cap time."""
    trip = get_trip(session, ref, user_id)
    if vehicle_id is not None:
        get_vehicle(session, vehicle_id, trip.user_id)
    trip.vehicle_id = vehicle_id
    if trip.recording_state == RecordingState.FINISHED:
        refresh_stats(session, trip)
    session.add(trip)
    session.flush()
    return trip


def delete_trip(session: Session, ref: int | str, user_id: int | None = None) -> None:
    """Delete a trip and all its fixes (a logger's trip: from its device's log too, so
    that the log is never cut into that trip again, and its span is kept a while, so that
    fixes of that drive arriving later are dropped: ``models.DeletedSpan``)."""
    trip = get_trip(session, ref, user_id)
    if trip.device_id is not None:
        _forget_device_fixes(session, trip)
    session.execute(sa.delete(TrackPointRow).where(TrackPointRow.trip_id == trip.id))
    session.delete(trip)
    session.flush()


def _forget_device_fixes(session: Session, trip: Trip) -> None:
    c = TrackPointRow.__table__.c
    first, last = session.execute(
        sa.select(sa.func.min(c.time_ms), sa.func.max(c.time_ms)).where(c.trip_id == trip.id)
    ).one()
    if first is not None:
        forget_device_fixes(session, trip.device_id, first, last)  # type: ignore[arg-type]
        session.add(DeletedSpan(device_id=trip.device_id, from_ms=first, to_ms=last))


def forget_device_fixes(session: Session, device_id: int, lo_ms: int, hi_ms: int) -> None:
    """Drop a logger's fixes in ``[lo_ms, hi_ms]`` from its log."""
    f = DeviceFix.__table__.c
    session.execute(
        sa.delete(DeviceFix.__table__).where(
            f.device_id == device_id, f.time_ms >= lo_ms, f.time_ms <= hi_ms
        )
    )


# ------------------------------------------------------------------------ history views


@dataclass
class TripPage:
    items: list[tuple[Trip, Vehicle | None]]  # each trip with its vehicle
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_trips(
    session: Session,
    page: int = 1,
    per_page: int = 20,
    vehicle_id: int | None = None,
    user_id: int | None = None,
) -> TripPage:
    """Trips newest first (by start time, then creation), with their vehicle."""
    uid = _uid(session, user_id)
    page, per_page = max(1, int(page)), max(1, min(200, int(per_page)))
    where = [Trip.user_id == uid]
    if vehicle_id is not None:
        where.append(Trip.vehicle_id == vehicle_id)
    total = session.exec(select(func.count()).select_from(Trip).where(*where)).one()
    started = sa.func.coalesce(Trip.started_at, Trip.created_at)
    rows = session.exec(
        select(Trip, Vehicle)
        .join(Vehicle, Trip.vehicle_id == Vehicle.id, isouter=True)
        .where(*where)
        .order_by(started.desc(), Trip.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return TripPage([(t, v) for t, v in rows], total, page, per_page)


@dataclass(frozen=True)
class Totals:
    key: str  # vehicle nickname ("No vehicle") or "YYYY-MM"
    vehicle_id: int | None
    trips: int
    distance_m: float
    moving_s: float
    over_cap_s: float


def _counted_in_totals():
    """Totals leave out trips that never left one spot (``core.trips.no_movement``: a
    logger's parked fixes, a recording stopped where it began), which the list marks."""
    return col(Trip.distance_m).is_(None) | (col(Trip.distance_m) >= NO_MOVEMENT_M)


def _totals_rows(session: Session, uid: int):
    return session.exec(
        select(
            Trip.started_at,
            Trip.created_at,
            Trip.distance_m,
            Trip.moving_s,
            Trip.over_cap_s,
            Trip.time_zone,
        ).where(Trip.user_id == uid, _counted_in_totals())
    ).all()


def totals_per_vehicle(session: Session, user_id: int | None = None) -> list[Totals]:
    uid = _uid(session, user_id)
    stmt = (
        select(
            Trip.vehicle_id,
            func.count(Trip.id),
            func.coalesce(func.sum(Trip.distance_m), 0.0),
            func.coalesce(func.sum(Trip.moving_s), 0.0),
            func.coalesce(func.sum(Trip.over_cap_s), 0.0),
        )
        .where(Trip.user_id == uid, _counted_in_totals())
        .group_by(Trip.vehicle_id)
    )
    names = {v.id: v.nickname for v in list_vehicles(session, uid)}
    out = [
        Totals(names.get(vid, "No vehicle"), vid, n, float(d), float(m), float(o))
        for vid, n, d, m, o in session.exec(stmt).all()
    ]
    return sorted(out, key=lambda t: -t.distance_m)


def totals_per_month(
    session: Session, user_id: int | None = None, zone: tzinfo | None = None
) -> list[Totals]:
    """Totals per calendar month of the start time in the trip's own zone (where it was
    named, as its times are shown), else in ``zone`` (the viewer's; UTC without one): a
    Friday-evening drive in California is June's, not July's. Newest month first."""
    uid = _uid(session, user_id)
    months: dict[str, list[float]] = {}
    for started, created, dist, moving, over, own_zone in _totals_rows(session, uid):
        when = as_utc(started or created)
        shown_in = place_zone(own_zone) or zone
        when = when.astimezone(shown_in) if shown_in is not None else when  # type: ignore[union-attr]
        acc = months.setdefault(when.strftime("%Y-%m"), [0, 0.0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += dist or 0.0
        acc[2] += moving or 0.0
        acc[3] += over or 0.0
    return [
        Totals(k, None, int(v[0]), v[1], v[2], v[3])
        for k, v in sorted(months.items(), reverse=True)
    ]


def trip_vehicle(session: Session, trip: Trip) -> Vehicle | None:
    return session.get(Vehicle, trip.vehicle_id) if trip.vehicle_id else None


def delete_trips(session: Session, trip_ids: Sequence[int]) -> None:
    """Delete trips by id with their fixes, for any user (a failed import cleaning up)."""
    if trip_ids:
        session.execute(sa.delete(TrackPointRow).where(TrackPointRow.trip_id.in_(trip_ids)))
        session.execute(sa.delete(Trip).where(Trip.id.in_(trip_ids)))
