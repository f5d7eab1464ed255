"""Trip jobs shared by the API, the CLI and the trip pages: import a GPX file, finish a
recorded trip, export one. Each marks highway use where the routing tiles allow it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from kei_drive import config
from kei_drive.core.gap_roads import GapKey, with_roads_across_gaps
from kei_drive.core.gpx import GpxError, GpxSource, GpxTrack
from kei_drive.core.memory import trim_heap
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import HIGHWAY_RULES, TripStats
from kei_drive.core.vocabulary import HIGHWAY_CHECK_PENDING, HighwayUse, RecordingState
from kei_drive.db import queries as q
from kei_drive.db import trip_export, trip_import
from kei_drive.db.engine import begin_write
from kei_drive.db.models import Trip
from kei_drive.presenters.exports import ExportFormat, trip_filename
from kei_drive.presenters.trips import default_trip_name

MATCH = object()  # finish_trip's default: map-match the track there and then
LATER = object()  # ...or leave the engine's part to the caller, after its commit (``engine_facts``)
PENDING_NOTE = HIGHWAY_CHECK_PENDING  # a trip whose engine's part is due (``LATER``)


def highway_use_of(session: Session, trip_id: int) -> HighwayUse:
    """Whether the trip's map-matched track used a highway (None: unknown: no tiles, or
    part of the track outside them), and why unknown. Reads only, so callers can do it
    before taking SQLite's write lock."""
    from kei_drive.routing.highway_use import highway_use_and_note  # the router loads late

    return highway_use_and_note(q.trip_arrays(session, trip_id))  # times, accuracy help


def set_highway_use(session: Session, trip: Trip, use: HighwayUse) -> None:
    """Store a trip's highway use; why it is unknown goes with its statistics
    (``stats["highway_use_note"]``, shown by ``trips show``), and the rules that judged it
    (``core.trips.HIGHWAY_RULES``; None when no engine looked, so the sweeper asks again)."""
    trip.highway_use, note = use.answer, use.note
    trip.highway_rules = HIGHWAY_RULES if use.judged else None
    stats = {k: v for k, v in (trip.stats or {}).items() if k != "highway_use_note"}
    trip.stats = stats | ({"highway_use_note": note} if note else {})
    session.add(trip)


def mark_highway_use(session: Session, trip: Trip) -> bool | None:
    """Set ``trip.highway_use`` from its map-matched track (None stays "unknown")."""
    set_highway_use(session, trip, highway_use_of(session, trip.id))  # type: ignore[arg-type]
    return trip.highway_use


def finish_trip(
    session: Session,
    trip: Trip,
    ended_at: datetime | None = None,
    highway_use: Any = MATCH,
    zone: tzinfo | None = None,
    gap_roads: Any = MATCH,
) -> TripStats:
    """Stop recording: final statistics, a default name if it has none (its start in
    ``zone``, the driver's time zone; UTC without one), highway use.

    ``highway_use``: the answer of ``highway_use_of`` when the caller matched the track
    beforehand, outside the write lock (the API); by default it is matched here. Likewise
    ``gap_roads``: the answer of ``gap_roads_of`` (gaps along the road).
    """
    stats = q.close_trip(session, trip, ended_at)
    if gap_roads is not LATER:
        stats = measure_gaps_on_roads(trip, stats, None if gap_roads is MATCH else gap_roads)
    if not trip.name:
        trip.name = default_trip_name(trip, zone)
    if trip.time_zone is None:  # kept from the first finish, as its name is
        trip.time_zone = zone_name(zone)
    if highway_use is MATCH:
        mark_highway_use(session, trip)
    elif highway_use is LATER:  # an answer about the fixes before is no answer now
        set_highway_use(session, trip, HighwayUse(None, PENDING_NOTE, judged=False))
    else:
        set_highway_use(session, trip, highway_use)
    session.add(trip)
    session.flush()
    return stats


def zone_name(zone: tzinfo | None) -> str | None:
    """The IANA name of a time zone ("America/Denver"); None for a bare UTC offset, which
    names no place's daylight saving time."""
    return zone.key if isinstance(zone, ZoneInfo) else None


TripMark = tuple[int, Any, Any]  # a finished trip's fixes as read: count, first and last time


@dataclass(frozen=True)
class EngineFacts:
    """What the routing engine says about a finished trip's fixes: asked with no database
    session open (``engine_facts``), stored in a short write (``store_engine_facts``)."""

    trip_id: int
    mark: TripMark  # the fixes it was asked about (a trip changed since is not touched)
    highway_use: HighwayUse
    gap_roads: dict[GapKey, float]


def finished_track(session: Session, trip_id: int) -> tuple[TrackArrays, TripMark] | None:
    """A finished trip's fixes and their mark (reads only); None when it is gone or open."""
    trip = session.get(Trip, trip_id)
    if trip is None or trip.recording_state != RecordingState.FINISHED:
        return None
    return q.trip_arrays(session, trip_id), trip_mark(trip)


def engine_facts(trip_id: int, fixes: TrackArrays, mark: TripMark) -> EngineFacts:
    """Highway use and the roads across the gaps of a trip's fixes (the engine only)."""
    from kei_drive.core.trips import compute_stats
    from kei_drive.routing.gap_roads import roads_across_gaps  # the router loads late
    from kei_drive.routing.highway_use import highway_use_and_note

    gaps = compute_stats(fixes, with_states=False).to_measure
    roads = roads_across_gaps(gaps) if gaps else {}
    return EngineFacts(trip_id, mark, highway_use_and_note(fixes), roads)


def store_engine_facts(session: Session, facts: EngineFacts) -> bool:
    """Store ``engine_facts`` on the trip (its row locked on PostgreSQL) unless it changed
    meanwhile (reopened, grown, merged: its next finish asks again). The statistics are
    computed anew from the fixes and the trip's cap as they stand, so a vehicle changed
    meanwhile keeps its cap; only the engine's answers are added."""
    trip = session.get(Trip, facts.trip_id, with_for_update=True)
    if trip is None or trip.recording_state != RecordingState.FINISHED:
        return False
    if trip_mark(trip) != facts.mark:
        return False
    measure_gaps_on_roads(trip, q.refresh_stats(session, trip), facts.gap_roads)
    set_highway_use(session, trip, facts.highway_use)
    session.flush()
    return True


def trips_pending_engine(session: Session, finished_before: datetime) -> list[int]:
    """Trips finished before ``finished_before`` whose engine's part never came (the server
    stopped between the two transactions), oldest first, 20 at a time."""
    from sqlmodel import col, select

    note = col(Trip.stats)["highway_use_note"].as_string()
    rows = session.exec(
        select(Trip.id)
        .where(
            Trip.recording_state == RecordingState.FINISHED.value,
            col(Trip.highway_use).is_(None),
            note == PENDING_NOTE,
            Trip.updated_at < finished_before,
        )
        .order_by(col(Trip.updated_at))
        .limit(20)
    )
    return [int(tid) for tid in rows]


def trip_mark(trip: Trip) -> TripMark:
    """What tells a finished trip's fixes changed: their count, first and last time."""
    return (trip.point_count, trip.started_at, trip.ended_at)


def gap_roads_of(session: Session, trip_id: int) -> dict[GapKey, float]:
    """The roads across the trip's gaps in recording as its fixes stand (``finish_trip``'s
    ``gap_roads``). Reads only, so callers can ask the engine before taking the write lock;
    a gap that late fixes change is simply not found again and keeps its straight line."""
    from kei_drive.core.trips import compute_stats
    from kei_drive.routing.gap_roads import roads_across_gaps  # the router loads late

    stats = compute_stats(q.trip_arrays(session, trip_id), with_states=False)
    return roads_across_gaps(stats.to_measure) if stats.to_measure else {}


def measure_gaps_on_roads(
    trip: Trip, stats: TripStats, roads: dict[GapKey, float] | None = None
) -> TripStats:
    """Count the trip's gaps in recording along the shortest drivable road where the
    routing engine finds one (``core.gap_roads``; ``roads``: already asked for), and store
    the statistics so measured. Without tiles the straight lines stay."""
    if roads is None:
        if not stats.to_measure:
            return stats
        from kei_drive.routing.gap_roads import roads_across_gaps  # the router loads late

        roads = roads_across_gaps(stats.to_measure)
    if not roads:
        return stats
    return q.store_stats(trip, with_roads_across_gaps(stats, roads))


def import_gpx(
    session: Session,
    source: GpxSource | list[GpxTrack],
    vehicle_id: int | None = None,
    name: str | None = None,
    split_gap_s: float = trip_import.IMPORT_SPLIT_GAP_S,
    user_id: int | None = None,
    skipped_out: list[int] | None = None,
    notes_out: list[str] | None = None,
    lanes: int = 1,
    zone: tzinfo | None = None,
) -> list[tuple[Trip, TripStats]]:
    """Import a GPX file as finished trips: statistics, names, highway use (``skipped_out``
    receives the ids of trips stored before that the file repeats, ``notes_out`` a note on
    points of the file left out and one on planned routes set aside beside a track). A file
    of many trips (a tracker's year) is judged on ``lanes`` engines side by side: the CLI
    asks for two; the server keeps to its one (memory counts more there than seconds).
    A trip without a name of its own is named by its start in ``zone`` (the importer's time
    zone: the browser's on the Trips page), else in UTC.

    Storing is ``trip_import.import_gpx`` (one trip per track piece, bulk insert committed in
    chunks, nothing left behind on failure, ``AlreadyImported`` for the same fixes again);
    bytes over ``config.MAX_GPX_BYTES`` are refused first. The trips are committed before
    the map matching (which only reads), so SQLite's write lock is not held meanwhile.
    """
    if isinstance(source, bytes) and len(source) > config.MAX_GPX_BYTES:
        raise GpxError(f"the file is larger than {config.MAX_GPX_BYTES // (1024 * 1024)} MB")
    fixes: list[TrackArrays] = []  # each trip's fixes, matched below without reading them back
    created = trip_import.import_gpx(
        session,
        source,
        vehicle_id=vehicle_id,
        name=name,
        split_gap_s=split_gap_s,
        user_id=user_id,
        fixes_out=fixes,
        skipped_out=skipped_out,
        notes_out=notes_out,
    )
    for trip, _stats in created:
        if not trip.name:
            trip.name = default_trip_name(trip, zone)
        trip.time_zone = zone_name(zone)
        session.add(trip)
    if created:
        session.commit()  # the trips are stored: map matching below only reads
        # (no lock held meanwhile)
        judged = _judged_on_roads(fixes, [stats for _trip, stats in created], lanes)
        begin_write(session)  # then a short write (in turns with the uploads)
        measured = []
        for (trip, stats), (use, across) in zip(created, judged, strict=True):
            stats = measure_gaps_on_roads(trip, stats, across)
            set_highway_use(session, trip, use)
            measured.append((trip, stats))
        created = measured
        session.flush()
    return created


def _judged_on_roads(
    tracks: list[TrackArrays], stats: list[TripStats], lanes: int
) -> list[tuple[HighwayUse, dict[GapKey, float]]]:
    """Each trip's highway use and the roads across its gaps and sparse steps; many trips
    on ``lanes`` engines of their own side by side (``routing.lanes``), when the installed
    engine has them."""
    from kei_drive.routing import get_router  # the router loads late
    from kei_drive.routing.base import RoutingError
    from kei_drive.routing.gap_roads import roads_across_gaps
    from kei_drive.routing.highway_use import highway_use_and_note
    from kei_drive.routing.lanes import in_lanes

    def judge(router: Any, job: tuple[TrackArrays, TripStats]) -> Any:
        track, trip_stats = job
        return highway_use_and_note(track, router), roads_across_gaps(trip_stats.to_measure, router)

    jobs = list(zip(tracks, stats, strict=True))
    trim_heap()  # the parse's and the statistics' freed memory, before engines take theirs
    router = None
    if lanes > 1 and len(jobs) > 1:
        try:
            router = get_router()
        except RoutingError:
            router = None  # no engine: each job says so, as one by one
    if router is None:
        return [(highway_use_and_note(track), roads_across_gaps(s.to_measure)) for track, s in jobs]
    return list(in_lanes(router, judge, jobs, lanes))


@dataclass(frozen=True)
class TripExport:
    text: str
    filename: str
    mime_type: str


def export_trip(
    session: Session,
    ref: int | str,
    fmt: ExportFormat,
    file_name: str = "",
    indent: int | None = None,
    user_id: int | None = None,
) -> TripExport:
    """A trip as a GPX or GeoJSON file, named after ``file_name`` (the trip page passes
    the name it shows) or else the trip's UUID (the API)."""
    trip = q.get_trip(session, ref, user_id)
    if fmt is ExportFormat.GPX:
        text = trip_export.export_gpx(session, trip.id, trip.user_id)  # type: ignore[arg-type]
    else:
        geojson = trip_export.export_geojson(session, trip.id, trip.user_id)  # type: ignore[arg-type]
        text = json.dumps(geojson, indent=indent)
    filename = trip_filename(trip.uuid, fmt, file_name)
    return TripExport(text, filename, fmt.mime_type)
