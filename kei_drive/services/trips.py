"""Trip jobs shared by the API, the CLI and the trip pages: import a GPX file, finish a
recorded trip, export one. Each marks highway use where the routing tiles allow it."""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from kei_drive import config
from kei_drive.core.gpx import GpxError, GpxSource, TrackPoint, read_gpx_tracks
from kei_drive.core.trips import TripStats, compute_stats, split_on_gaps
from kei_drive.core.units import mph_to_mps
from kei_drive.core.vocabulary import RecordingState, TripSource
from kei_drive.db import queries as q
from kei_drive.db.models import Trip
from kei_drive.presenters.exports import ExportFormat, trip_filename
from kei_drive.presenters.trips import default_trip_name

IMPORT_SPLIT_GAP_S = 1800.0  # imported fixes more than 30 min apart are separate trips
IMPORT_COMMIT_ROWS = 5000  # a big import commits this many fixes at a time
MATCH = object()  # finish_trip's default: map-match the track there and then


def highway_use_of(session: Session, trip_id: int) -> bool | None:
    """Whether the trip's map-matched track used a highway (None: unknown: no tiles, or
    part of the track outside them). Reads only, so callers can do it before taking
    SQLite's write lock."""
    from kei_drive.routing.highway_use import highway_use  # the router loads on first use

    track = q.trip_arrays(session, trip_id)
    return highway_use(np.column_stack((track.lat, track.lon)).tolist())


def mark_highway_use(session: Session, trip: Trip) -> bool | None:
    """Set ``trip.highway_use`` from its map-matched track (None stays "unknown")."""
    trip.highway_use = highway_use_of(session, trip.id)  # type: ignore[arg-type]
    session.add(trip)
    return trip.highway_use


def finish_trip(
    session: Session, trip: Trip, ended_at: datetime | None = None, highway_use: Any = MATCH
) -> TripStats:
    """Stop recording: final statistics, a default name if it has none, highway use.

    ``highway_use``: the answer of ``highway_use_of`` when the caller matched the track
    beforehand, outside the write lock (the API); by default it is matched here.
    """
    stats = q.close_trip(session, trip, ended_at)
    if not trip.name:
        trip.name = default_trip_name(trip)
    if highway_use is MATCH:
        mark_highway_use(session, trip)
    else:
        trip.highway_use = highway_use
        session.add(trip)
    session.flush()
    return stats


def _segments_to_trips(
    tracks: Iterable[tuple[str | None, list[list[TrackPoint]]]], split_gap_s: float
) -> list[tuple[str | None, list[TrackPoint]]]:
    """One trip per run of fixes without a gap longer than ``split_gap_s``; consecutive
    segments of a track closer in time than that are joined. Single fixes make no trip."""
    out: list[tuple[str | None, list[TrackPoint]]] = []
    for name, segments in tracks:
        fixes = [p for seg in segments for p in seg]
        parts = [part for part in split_on_gaps(fixes, split_gap_s) if len(part) >= 2]
        for i, part in enumerate(parts, 1):
            label = name if len(parts) == 1 or not name else f"{name} ({i}/{len(parts)})"
            out.append((label, part))
    return out


def _points_in(fixes: list[TrackPoint], first: int = 0) -> list[q.PointIn]:
    """Imported fixes to store; ``first`` numbers them on from an earlier chunk."""
    return [
        q.PointIn(
            client_id=f"gpx-{j}",
            time_ms=round(p.time.timestamp() * 1000) if p.time else None,
            lat=p.lat,
            lon=p.lon,
            accuracy_m=p.accuracy_m,
            speed_mps=p.speed_mps,
            heading_deg=p.course,
            altitude_m=p.elevation,
            seq=j,
        )
        for j, p in enumerate(fixes, first)
    ]


def import_gpx(
    session: Session,
    source: GpxSource,
    vehicle_id: int | None = None,
    name: str | None = None,
    split_gap_s: float = IMPORT_SPLIT_GAP_S,
    user_id: int | None = None,
) -> list[tuple[Trip, TripStats]]:
    """Import a GPX file as finished trips with their statistics and highway use.

    Each track (and route) becomes one trip, cut into several wherever fixes are more
    than ``split_gap_s`` apart; a piece of a single fix makes no trip. Untimed fixes are
    kept (they give distance, not time). Raises ``GpxError`` before touching the database
    when the file is unusable (or, given as bytes, over ``config.MAX_GPX_BYTES``); an
    import that fails half-way leaves nothing behind. The trips are committed before the
    map matching (which only reads), so SQLite's write lock is not held meanwhile.
    """
    if isinstance(source, bytes) and len(source) > config.MAX_GPX_BYTES:
        raise GpxError(f"the file is larger than {config.MAX_GPX_BYTES // (1024 * 1024)} MB")
    tracks = read_gpx_tracks(source)  # validates everything first
    uid = user_id if user_id is not None else q.local_user(session).id
    cap = None
    if vehicle_id is not None:
        vehicle = q.get_vehicle(session, vehicle_id, uid)
        cap = mph_to_mps(vehicle.speed_cap_mph) if vehicle.speed_cap_mph else None
    pieces = _segments_to_trips(tracks, split_gap_s)
    created: list[tuple[Trip, TripStats]] = []
    try:
        for i, (label, fixes) in enumerate(pieces, 1):
            stats = compute_stats(fixes, cap)
            trip, _ = q.ensure_trip(
                session,
                str(uuidlib.uuid4()),
                vehicle_id=vehicle_id,
                source=TripSource.IMPORTED,
                user_id=uid,
            )
            created.append((trip, stats))
            _add_in_chunks(session, trip, fixes)
            q.store_stats(trip, stats)
            trip.recording_state = RecordingState.FINISHED.value
            trip.point_count = len(fixes)
            if name:
                trip.name = name if len(pieces) == 1 else f"{name} ({i}/{len(pieces)})"
            else:
                trip.name = label or default_trip_name(trip)
            session.add(trip)
            session.flush()
    except BaseException:
        _remove_partial_import(session, [trip for trip, _ in created])
        raise
    if created:
        session.commit()  # the trips are stored: map matching below only reads
        for trip, _stats in created:
            mark_highway_use(session, trip)
        session.flush()
    return created


def _add_in_chunks(session: Session, trip: Trip, fixes: list[TrackPoint]) -> None:
    """Store an imported trip's fixes, committing every ``IMPORT_COMMIT_ROWS`` so that a
    big import holds SQLite's single write lock for a moment at a time, not for minutes
    (phones' uploads wait in between, not until the end)."""
    for start in range(0, len(fixes), IMPORT_COMMIT_ROWS):
        q.add_points(session, trip, _points_in(fixes[start : start + IMPORT_COMMIT_ROWS], start))
        if len(fixes) > IMPORT_COMMIT_ROWS:
            session.commit()


def _remove_partial_import(session: Session, trips: list[Trip]) -> None:
    """An import that failed half-way leaves nothing behind (its chunks were committed)."""
    session.rollback()
    q.delete_trips(session, [trip.id for trip in trips if trip.id is not None])
    session.commit()


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
        text = q.export_gpx(session, trip.id, trip.user_id)  # type: ignore[arg-type]
    else:
        geojson = q.export_geojson(session, trip.id, trip.user_id)  # type: ignore[arg-type]
        text = json.dumps(geojson, indent=indent)
    filename = trip_filename(trip.uuid, fmt, file_name)
    return TripExport(text, filename, fmt.mime_type)
