"""Reads and writes for background loggers: devices, their fix log, their trips' spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kei_drive.core.vocabulary import RecordingState
from kei_drive.db.models import (
    DeletedSpan,
    DeviceFix,
    IngestDevice,
    TrackPointRow,
    Trip,
    Vehicle,
    utcnow,
)
from kei_drive.db.queries import PointIn, _insert

DEVICE_NAME_MAX = 120


class Unchanged:
    """An argument left as it is (None has a meaning of its own)."""


UNCHANGED = Unchanged()
MIN_GAP_S, MAX_GAP_S = 60.0, 24 * 3600.0
MIN_STOP_S, MAX_STOP_S = 60.0, 24 * 3600.0


@dataclass(frozen=True)
class FixRow:
    t_ms: int
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    altitude_m: float | None


def device_for(session: Session, user_id: int, name: str, source: str) -> IngestDevice:
    """The user's device of this name, created on first use (insert-or-ignore, so two
    first requests at once both succeed). Locked for this transaction on PostgreSQL so
    that one device's batches are cut into trips one at a time."""
    name = name.strip()[:DEVICE_NAME_MAX] or "device"
    table = IngestDevice.__table__
    session.execute(
        _insert(session)(table)
        .values(
            user_id=user_id,
            name=name,
            source=source,
            gap_s=300.0,
            stop_s=300.0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "name"])
    )
    stmt = select(IngestDevice).where(IngestDevice.user_id == user_id, IngestDevice.name == name)
    device = session.exec(stmt.with_for_update()).one()
    device.source, device.last_seen_at = source, utcnow()
    session.add(device)
    return device


def list_devices(session: Session, user_id: int) -> list[IngestDevice]:
    stmt = select(IngestDevice).where(IngestDevice.user_id == user_id).order_by(IngestDevice.id)
    return list(session.exec(stmt))


def _named_device(session: Session, user_id: int, name: str) -> IngestDevice:
    """The account's device of this name, or of this token's name when one phone sent with
    it: OwnTracks and GPSLogger (``ser=``) add the phone's own ("Sambar phone · pixel7"),
    and ``devices set "Sambar phone"`` found nothing. Raises LookupError naming the devices."""
    devices = list(session.exec(select(IngestDevice).where(IngestDevice.user_id == user_id)))
    exact = [d for d in devices if d.name == name]
    phones = [d for d in devices if d.name.startswith(f"{name} · ")]
    if exact or len(phones) == 1:
        return (exact or phones)[0]
    if phones:
        names = ", ".join(repr(d.name) for d in phones)
        raise LookupError(f"{len(phones)} devices send with the token {name!r}: {names}; name one")
    known = ", ".join(repr(d.name) for d in devices) or "none yet"
    raise LookupError(
        f"no device named {name!r} (a device appears with its first fix); "
        f"this account's devices: {known}"
    )


def set_device_rules(
    session: Session,
    user_id: int,
    name: str,
    gap_s: float | None = None,
    stop_s: float | None = None,
    vehicle_id: int | None | Unchanged = UNCHANGED,
) -> IngestDevice:
    """Tune when this device's trips split (``gap_s``) and end (``stop_s``), and the vehicle
    its trips from now on are driven in (``vehicle_id``; None: the account's only one).
    Raises LookupError for an unknown device, ValueError for an unknown vehicle."""
    device = _named_device(session, user_id, name)
    if gap_s is not None:
        if not MIN_GAP_S <= gap_s <= MAX_GAP_S:
            raise ValueError(f"the gap must be between {MIN_GAP_S:.0f} s and 24 h")
        device.gap_s = float(gap_s)
    if stop_s is not None:
        if not MIN_STOP_S <= stop_s <= MAX_STOP_S:
            raise ValueError(f"the standing time must be between {MIN_STOP_S:.0f} s and 24 h")
        device.stop_s = float(stop_s)
    if not isinstance(vehicle_id, Unchanged):
        if vehicle_id is not None:
            vehicle = session.get(Vehicle, vehicle_id)
            if vehicle is None or vehicle.user_id != user_id:
                raise ValueError(f"no vehicle with id {vehicle_id}")
        device.vehicle_id = vehicle_id
    session.add(device)
    session.flush()
    return device


def add_fixes(session: Session, device_id: int, points: Sequence[PointIn]) -> int:
    """Store fixes in the device's log, once per timestamp; returns how many were new."""
    rows = {
        p.time_ms: {
            "device_id": device_id,
            "time_ms": p.time_ms,
            "lat": p.lat,
            "lon": p.lon,
            "accuracy_m": p.accuracy_m,
            "speed_mps": p.speed_mps,
            "heading_deg": p.heading_deg,
            "altitude_m": p.altitude_m,
        }
        for p in points
        if p.time_ms is not None
    }
    if not rows:
        return 0
    table = DeviceFix.__table__
    # one statement executed for many rows: compiled once and cached, unlike a VALUES
    # list of a different length every time
    stmt = (
        _insert(session)(table)
        .on_conflict_do_nothing(index_elements=["device_id", "time_ms"])
        .returning(table.c.id)
    )
    return len(session.execute(stmt, list(rows.values())).all())


def copy_points(session: Session, trip_id: int, device_id: int, fixes: Sequence[FixRow]) -> None:
    """Copy fixes of the device's log into a trip (ids ``<device id>:<epoch ms>``; a fix
    the trip already has is left alone)."""
    if not fixes:
        return
    table = TrackPointRow.__table__
    stmt = _insert(session)(table).on_conflict_do_nothing(index_elements=["trip_id", "client_id"])
    session.execute(
        stmt,
        [
            {
                "trip_id": trip_id,
                "client_id": point_id(device_id, f.t_ms),
                "seq": f.t_ms,
                "time_ms": f.t_ms,
                "lat": f.lat,
                "lon": f.lon,
                "accuracy_m": f.accuracy_m,
                "speed_mps": f.speed_mps,
                "heading_deg": f.heading_deg,
                "altitude_m": f.altitude_m,
            }
            for f in fixes
        ],
    )


def point_id(device_id: int, t_ms: int) -> str:
    """A fix's id in its trip: the device and the fix time, so a resent fix is the same."""
    return f"{device_id}:{t_ms}"


def fixes_between(session: Session, device_id: int, lo_ms: int, hi_ms: int) -> list[FixRow]:
    c = DeviceFix.__table__.c
    stmt = (
        sa.select(c.time_ms, c.lat, c.lon, c.accuracy_m, c.speed_mps, c.heading_deg, c.altitude_m)
        .where(c.device_id == device_id, c.time_ms >= lo_ms, c.time_ms <= hi_ms)
        .order_by(c.time_ms)
    )
    return [FixRow(*row) for row in session.execute(stmt).all()]


DELETED_SPAN_DAYS = 30  # a phone's backlog of a deleted drive arriving later than this: a trip


def deleted_spans(session: Session, device_id: int, lo_ms: int, hi_ms: int) -> list[DeletedSpan]:
    """The device's deleted trips' spans reaching into ``[lo_ms, hi_ms]``, in time order."""
    return list(
        session.exec(
            select(DeletedSpan)
            .where(
                DeletedSpan.device_id == device_id,
                DeletedSpan.from_ms <= hi_ms,
                DeletedSpan.to_ms >= lo_ms,
            )
            .order_by(DeletedSpan.from_ms)  # type: ignore[arg-type]
        ).all()
    )


def purge_deleted_spans(session: Session, now: datetime | None = None) -> int:
    """Forget spans deleted over ``DELETED_SPAN_DAYS`` ago; how many."""
    before = (now or utcnow()) - timedelta(days=DELETED_SPAN_DAYS)
    stmt = sa.delete(DeletedSpan).where(DeletedSpan.deleted_at < before)  # type: ignore[arg-type]
    return session.execute(stmt).rowcount or 0


def fixes_up_to(session: Session, device_id: int, until_ms: int, limit: int) -> list[FixRow]:
    """The device's last ``limit`` fixes up to ``until_ms``, in time order."""
    c = DeviceFix.__table__.c
    stmt = (
        sa.select(c.time_ms, c.lat, c.lon, c.accuracy_m, c.speed_mps, c.heading_deg, c.altitude_m)
        .where(c.device_id == device_id, c.time_ms <= until_ms)
        .order_by(c.time_ms.desc())
        .limit(limit)
    )
    return [FixRow(*row) for row in reversed(session.execute(stmt).all())]


def _ms(value: datetime | None) -> int | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return round(value.timestamp() * 1000)


def trip_spans(
    session: Session, device_id: int, lo_ms: int, hi_ms: int, margin_s: float = 3600.0
) -> dict[int, tuple[int, int]]:
    """``{trip id: (first fix ms, last fix ms)}`` for the device's trips whose fixes reach
    into ``[lo_ms, hi_ms]``. Start/end columns pre-filter (with a margin: statistics may
    have trimmed a stray end fix); the exact span comes from the trip's points."""
    margin = timedelta(seconds=margin_s)
    lo = datetime.fromtimestamp(lo_ms / 1000, UTC) - margin
    hi = datetime.fromtimestamp(hi_ms / 1000, UTC) + margin
    ids = session.exec(
        select(Trip.id).where(
            Trip.device_id == device_id,
            sa.or_(Trip.started_at.is_(None), Trip.started_at <= hi),  # type: ignore[union-attr]
            sa.or_(Trip.ended_at.is_(None), Trip.ended_at >= lo),  # type: ignore[union-attr]
        )
    ).all()
    if not ids:
        return {}
    c = TrackPointRow.__table__.c
    stmt = (
        sa.select(c.trip_id, sa.func.min(c.time_ms), sa.func.max(c.time_ms))
        .where(c.trip_id.in_(ids))
        .group_by(c.trip_id)
    )
    return {
        tid: (first, last)
        for tid, first, last in session.execute(stmt).all()
        if first is not None and last >= lo_ms and first <= hi_ms
    }


def last_trip_end_before(session: Session, device_id: int, t_ms: int) -> int | None:
    """The last fix time of the device's latest trip that ended before ``t_ms``."""
    before = datetime.fromtimestamp(t_ms / 1000, UTC)
    trip = session.exec(
        select(Trip)
        .where(Trip.device_id == device_id, Trip.ended_at < before)  # type: ignore[operator]
        .order_by(Trip.ended_at.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
    return _ms(trip.ended_at) if trip is not None else None


def point_times(
    session: Session, trip_ids: Sequence[int], since_ms: int | None = None
) -> dict[int, set[int]]:
    """The fix times of each trip (from ``since_ms`` on)."""
    out: dict[int, set[int]] = {tid: set() for tid in trip_ids}
    if not trip_ids:
        return out
    c = TrackPointRow.__table__.c
    stmt = sa.select(c.trip_id, c.time_ms).where(c.trip_id.in_(list(trip_ids)))
    if since_ms is not None:
        stmt = stmt.where(c.time_ms >= since_ms)
    for tid, t in session.execute(stmt).all():
        out[tid].add(t)
    return out


def remove_points(session: Session, trip_id: int, times: Sequence[int]) -> None:
    c = TrackPointRow.__table__.c
    times = list(times)
    for start in range(0, len(times), 1000):
        session.execute(
            sa.delete(TrackPointRow.__table__).where(
                c.trip_id == trip_id, c.time_ms.in_(times[start : start + 1000])
            )
        )


def open_device_trips(
    session: Session, device_id: int | None = None
) -> list[tuple[Trip, IngestDevice]]:
    """Trips of background loggers (or of one) still recording, with their device."""
    stmt = (
        select(Trip, IngestDevice)
        .join(IngestDevice, Trip.device_id == IngestDevice.id)  # type: ignore[arg-type]
        .where(Trip.recording_state == RecordingState.RECORDING.value)
    )
    if device_id is not None:
        stmt = stmt.where(Trip.device_id == device_id)
    return list(session.exec(stmt).all())


def vehicle_by_name(session: Session, user_id: int, name: str) -> Vehicle:
    """The account's vehicle of this nickname (as the Garage shows it, any case) or id."""
    vehicles = session.exec(select(Vehicle).where(Vehicle.user_id == user_id)).all()
    wanted = name.strip().casefold()
    for vehicle in vehicles:
        if vehicle.nickname.casefold() == wanted or str(vehicle.id) == wanted:
            return vehicle
    names = ", ".join(repr(v.nickname) for v in vehicles) or "none yet (add one in the Garage)"
    raise ValueError(f"no vehicle named {name!r}; the account's vehicles: {names}")


def trip_vehicle_id(session: Session, device: IngestDevice) -> int | None:
    """The vehicle a device's new trip is driven in: the device's, else the account's only
    vehicle (its speed cap measures the trip), else none."""
    if device.vehicle_id is not None:
        return device.vehicle_id
    ids = session.exec(select(Vehicle.id).where(Vehicle.user_id == device.user_id).limit(2)).all()
    return int(ids[0]) if len(ids) == 1 else None
