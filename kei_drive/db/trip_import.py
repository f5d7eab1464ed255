"""Storing a GPX file as trips (``import_gpx``): cut into drives, the fixes stored trips
hold already recognised (the same file, a copy, a part of it), the rest stored in bulk.
Reads and writes only; ``services.trips.import_gpx`` is the whole job."""

from __future__ import annotations

import math
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from kei_drive.core.device_logs import separate_logs
from kei_drive.core.distance import haversine_m
from kei_drive.core.glitches import repaired_times
from kei_drive.core.gpx import (
    GpxError,
    GpxSource,
    GpxTrack,
    read_gpx_columns,
)
from kei_drive.core.gpx import fingerprint as gpx_fingerprint
from kei_drive.core.long_stops import (
    LongStop,
    between_stops,
    long_stops,
    moved_away,
    parked_fixes,
)
from kei_drive.core.same_log import SAME_FIX_M, repeated_parts, runs_outside, shared_span
from kei_drive.core.time_order import split_on_time_gaps
from kei_drive.core.track import (
    TrackArrays,
    continued_tracks,
    drives_only,
    exact_route_points,
    from_segments,
)
from kei_drive.core.trips import (
    TrackAnalysis,
    TripStats,
    analyze_track,
    compute_stats,
    no_movement,
)
from kei_drive.core.units import mph_to_mps
from kei_drive.core.vocabulary import RecordingState, TripSource
from kei_drive.db.engine import begin_write
from kei_drive.db.models import TrackPointRow, Trip
from kei_drive.db.queries import (
    _uid,
    delete_trips,
    ensure_trip,
    get_vehicle,
    insert_track_columns,
    store_stats,
)

IMPORT_SPLIT_GAP_S = 1800.0  # imported fixes more than 30 min apart are separate trips
IMPORT_COMMIT_ROWS = 2000  # a big import commits this many fixes at a time (~20 ms)


def trip_ids_with_fingerprint(session: Session, user_id: int, fingerprint: str) -> list[int]:
    """The user's trips imported from a file with this content fingerprint."""
    stmt = (
        select(Trip.id)
        .where(Trip.user_id == user_id, Trip.import_fingerprint == fingerprint)
        .order_by(Trip.id)
    )
    return [int(i) for i in session.exec(stmt).all()]


SAME_LOG_SAMPLES = 32  # fixes compared, spread over the log (a convoy differs at most)
# sampled fixes that may sit elsewhere in the stored trip: its own glitches (a fix 2,000 km
# off that the other file has right); a convoy's vehicle is elsewhere at every instant
SAME_LOG_OTHERWISE = SAME_LOG_SAMPLES // 8


def _sample_index(fixes: TrackArrays, used: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``SAME_LOG_SAMPLES`` timed (and ``used``) fixes spread over the log."""
    timed = np.isfinite(fixes.t)
    timed = np.flatnonzero(timed & used if used is not None else timed)
    if timed.size == 0:
        return timed
    pick = np.linspace(0, timed.size - 1, min(timed.size, SAME_LOG_SAMPLES)).round()
    return timed[np.unique(pick.astype(np.int64))]


def same_trip_ids(
    session: Session,
    user_id: int,
    stats: TripStats,
    fixes: TrackArrays,
    used: np.ndarray | None = None,
) -> list[int]:
    """The user's trips holding this log already, from another file (a logger's cumulative
    export, a copy rounded otherwise or stripped of accuracy and speed, a thinned copy or a
    part of it, a copy with glitches where this has real fixes or the other way round): the
    same positions (within ``SAME_FIX_M``) at the same times at fixes spread over the log,
    but for ``SAME_LOG_OTHERWISE`` of them. ``used``: the fixes the statistics used (this
    log's own glitches are not compared). What a copy may change (the fixes' rounding, the
    fields that decide how the drive is measured) does not count; another vehicle's drive
    over the same minutes, even in convoy, is somewhere else at those instants."""
    if stats.started_at is None or stats.ended_at is None or stats.started_at == stats.ended_at:
        return []
    sample = _sample_index(fixes, used)
    stmt = (
        select(Trip.id)
        .where(
            Trip.user_id == user_id,
            Trip.started_at <= stats.ended_at,
            Trip.ended_at >= stats.started_at,
            Trip.point_count >= (int(used.sum()) if used is not None else len(fixes)),
        )
        .order_by(Trip.id)
    )
    candidates = [int(i) for i in session.exec(stmt).all()]
    if not candidates or not sample.size:
        return []
    wanted_ms = np.round(fixes.t[sample] * 1000.0).astype(np.int64)
    out = []
    for trip_id in candidates:
        stored: dict[int, list[tuple[float, float]]] = {}
        rows = session.exec(
            select(TrackPointRow.time_ms, TrackPointRow.lat, TrackPointRow.lon).where(
                TrackPointRow.trip_id == trip_id,
                TrackPointRow.time_ms.in_([int(ms) for ms in wanted_ms]),  # type: ignore[union-attr]
            )
        ).all()
        for ms, lat, lon in rows:
            stored.setdefault(int(ms), []).append((lat, lon))
        if len(stored) < len(set(wanted_ms.tolist())):
            continue  # fixes at instants the trip has none: not (all) this log
        otherwise = sum(
            not any(haversine_m(a, b, lat, lon) <= SAME_FIX_M for a, b in stored[int(ms)])
            for ms, lat, lon in zip(wanted_ms, fixes.lat[sample], fixes.lon[sample], strict=True)
        )
        if otherwise <= SAME_LOG_OTHERWISE:
            out.append(trip_id)
    return out


def stored_spans(
    session: Session, user_id: int, fixes: TrackArrays
) -> list[tuple[int, tuple[float, float]]]:
    """(trip id, time span) of each of the user's trips holding a stretch of this log
    already (a part imported first, or an export overlapping an earlier one;
    ``core.same_log.shared_span``): that stretch is not stored again."""
    timed = fixes.t[np.isfinite(fixes.t)]
    if timed.size < 2:
        return []
    first, last = float(timed.min()), float(timed.max())
    stmt = (
        select(Trip.id)
        .where(
            Trip.user_id == user_id,
            Trip.started_at <= datetime.fromtimestamp(last, UTC),
            Trip.ended_at >= datetime.fromtimestamp(first, UTC),
        )
        .order_by(Trip.id)
    )
    c = TrackPointRow.__table__.c
    out = []
    for trip_id in [int(i) for i in session.exec(stmt).all()]:
        rows = session.execute(
            sa.select(c.time_ms, c.lat, c.lon).where(
                c.trip_id == trip_id,
                c.time_ms >= math.floor(first * 1000),
                c.time_ms <= math.ceil(last * 1000),
            )
        ).all()
        if len(rows) < 2:
            continue
        ms, lat, lon = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
        span = shared_span(fixes, TrackArrays.from_columns(lat, lon, t=ms / 1000.0))
        if span is not None:
            out.append((trip_id, span))
    return out


def _rest_of(
    piece: tuple[str | None, TrackArrays, np.ndarray, np.ndarray],
    spans: list[tuple[float, float]],
    cap: float | None,
) -> list[tuple[str | None, TrackArrays, np.ndarray, np.ndarray, TripStats]]:
    """The runs of a piece outside the stretches stored trips hold (``spans``), each with
    its statistics; runs that never left one spot are none."""
    label, fixes, course, elevation = piece
    out = []
    for run in runs_outside(fixes.t, spans):
        rest = fixes.take(run)
        stats = compute_stats(rest, cap) if len(rest) >= 2 else None
        if stats is not None and not no_movement(stats):
            out.append((label, rest, course[run], elevation[run], stats))
    return out


def _without_shared(
    pieces: list[tuple[str | None, TrackArrays, np.ndarray, np.ndarray, TripStats]],
    cap: float | None,
) -> tuple[list[tuple[str | None, TrackArrays, np.ndarray, np.ndarray, TripStats]], list]:
    """Each piece without the stretch a piece of the file with more fixes holds already, as
    ``stored_spans`` does for stored trips (``core.same_log.shared_span``): one walk in two
    tracks of a file, one a thinned copy of the other with three fixes more, was stored
    twice and counted twice in the totals. The pieces in file order, and the labels of
    those so cut."""
    order = sorted(range(len(pieces)), key=lambda k: (-len(pieces[k][1]), k))
    kept: list[tuple[str | None, TrackArrays, np.ndarray, np.ndarray, TripStats]] = []
    result: dict[int, list] = {}
    cut: list[str | None] = []
    for k in order:
        label, fixes, course, elevation, _stats = pieces[k]
        first, last = _time_range(fixes)
        spans = []
        for other in kept:
            a, b = _time_range(other[1])
            if first <= b and a <= last and (span := shared_span(fixes, other[1])) is not None:
                spans.append(span)
        result[k] = (
            _rest_of((label, fixes, course, elevation), spans, cap) if spans else [pieces[k]]
        )
        if spans:
            cut.append(label)
        kept.extend(result[k])
    return [piece for k in range(len(pieces)) for piece in result[k]], cut


def _time_range(fixes: TrackArrays) -> tuple[float, float]:
    timed = fixes.t[np.isfinite(fixes.t)]
    return (float(timed.min()), float(timed.max())) if timed.size else (math.inf, -math.inf)


GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)  # no GPS fix is older


def _odd_dates_note(stats: list[TripStats]) -> str | None:
    """A note on trips dated before GPS existed or after tomorrow (a logger's clock gone
    wrong: 9999, 0001), kept as logged: their durations and speeds hold, their dates not."""
    latest = datetime.now(UTC) + timedelta(days=1)
    odd = [
        s.started_at
        for s in stats
        if s.started_at is not None and not GPS_EPOCH <= s.started_at <= latest
    ]
    if not odd:
        return None
    plural = "s are" if len(odd) > 1 else " is"
    first, last = (f"{d.year:04d}-{d:%m-%d}" for d in (min(odd), max(odd)))
    return (
        f"{len(odd)} trip{plural} dated {first}"
        f"{f' to {last}' if len(odd) > 1 else ''}, before GPS existed or after "
        "today: the logger's clock was wrong? The times were kept as logged (durations and "
        "speeds hold, the dates do not); rename or delete the trips as you see fit."
    )


GPS_WEEK_ROLLOVER = timedelta(weeks=1024)  # a receiver's 10-bit week number wraps
FIRST_ROLLOVER = datetime(1999, 8, 22, tzinfo=UTC)  # the earliest date a wrapped one gives


def _rollover_note(stats: list[TripStats]) -> str | None:
    """A note on trips dated where a receiver with the GPS week-rollover fault puts a recent
    drive: 1024 weeks early (after April 2019 many older loggers dated their logs 1999-2007).
    A guess the driver can check, never a change: a log of 2005 may be one."""
    latest = datetime.now(UTC) - GPS_WEEK_ROLLOVER
    suspect = [
        s.started_at
        for s in stats
        if s.started_at is not None and FIRST_ROLLOVER <= s.started_at <= latest
    ]
    if not suspect:
        return None
    first = min(suspect)
    many = len(suspect) > 1
    return (
        f"{len(suspect)} trip{'s are' if many else ' is'} dated {first:%Y-%m-%d}"
        f"{f' to {max(suspect):%Y-%m-%d}' if many else ''}. If "
        f"{'they were' if many else 'it was'} driven 1024 weeks (19.6 years) later "
        f"({'the first ' if many else ''}on {first + GPS_WEEK_ROLLOVER:%Y-%m-%d}), the GPS has "
        "the week-rollover fault of older receivers. The dates "
        "were kept as logged; durations and speeds hold either way."
    )


def _held_note(trip_ids: list[int], rest_stored: bool) -> str:
    """The note on stretches of a log that stored trips hold already (``rest_stored``:
    whether the rest of the log made trips)."""
    one = len(trip_ids) == 1
    ids = ", ".join(str(i) for i in trip_ids)
    held = f"trip{'' if one else 's'} {ids} already hold{'s' if one else ''}"
    if rest_stored:
        return f"{held} part of this log: that stretch was not stored again, the rest was"
    # e.g. a copy of the same drive with fixes the stored one lacks inside its time (where
    # it lost the signal): they make no trip of their own, and are not added to it
    if one:
        return f"{held} this log: nothing was stored again (fixes it lacks within it are not added)"
    return f"{held} this log: nothing was stored again (fixes they lack within them are not added)"


def _repeated_note(labels: list[str | None]) -> str:
    """The note on tracks of a file that repeat another one's fixes."""
    named = ", ".join(f"'{label}'" for label in dict.fromkeys(labels) if label)
    one = len(labels) == 1
    what = f"{len(labels)} part{'' if one else 's'}" + (f" ({named})" if named else "")
    verb = "repeats" if one else "repeat"
    return f"{what} of this file {verb} the fixes of another part of it: imported once"


class AlreadyImported(GpxError):
    """The same fixes were imported before (same content fingerprint): nothing imported."""


def _import_pieces(
    tracks: list[GpxTrack],
    split_gap_s: float,
    cap: float | None,
    notes_out: list[str] | None = None,
) -> list[tuple[str | None, TrackArrays, np.ndarray, np.ndarray, TrackAnalysis]]:
    """One trip per run of fixes without a pause longer than ``split_gap_s``: no fix for that
    long, or fixes standing in one place (``core.long_stops``: a tracker left on while
    parked; its parked fixes are left out, and ``notes_out`` says so). Consecutive segments
    of a track closer in time than that are joined. Single fixes, and pieces that never left
    one spot (``no_movement``), make no trip. Each piece:
    (label, fixes, course, elevation) as columns, and its statistics (``analyze_track``)."""
    out = []
    for track in tracks:
        found = []
        named: list[str] = []
        logs = separate_logs(exact_route_points(track).segments, named)  # two devices
        if notes_out is not None:
            notes_out.extend(f"{track.name or 'the track'}: {note}" for note in named)
        stops: list[LongStop] = []
        parked_count = 0
        for log in logs:
            fixes, course, elevation = from_segments(log)
            # cut at pauses in the times the statistics read (a fix stamped a day late
            # mid-drive is re-timed, not a pause: such a stamp steps back after it); the
            # fixes keep their stamps as logged
            with np.errstate(invalid="ignore"):
                stepped_back = bool(np.any(np.diff(fixes.t) < 0))
            timed = repaired_times(fixes)[0].t if stepped_back else fixes.t
            parts = [part for part in split_on_time_gaps(timed, split_gap_s) if part.size >= 2]
            if len(parts) > 1 and np.isfinite(fixes.speed).any():
                # a logger that stops while parked: its drives measured as its whole log is
                verdict = analyze_track(fixes, cap, with_states=False).speed_verdict
                fixes = replace(fixes, speed_verdict=verdict)
            for part in parts:
                run = slice(int(part[0]), int(part[-1]) + 1)  # contiguous: views
                piece = fixes.take(run)
                analysis = analyze_track(piece, cap)
                parked = long_stops(analysis, piece, split_gap_s)
                if not parked:
                    found.append((piece, course[run], elevation[run], analysis))
                    continue
                stops += parked
                parked_count += parked_fixes(len(piece), parked)
                for drive in between_stops(len(piece), parked):
                    # measured as the whole log was: a trip of a dozen fixes cannot tell
                    # its speed field's unit from a winding road, a year of them can
                    between = replace(piece.take(drive), speed_verdict=analysis.speed_verdict)
                    between_analysis = analyze_track(between, cap)
                    if no_movement(between_analysis.stats) and moved_away(between):
                        # the log's speed read 0 at each fix, yet the truck stopped again
                        # elsewhere (fixes taken at red lights): its positions measure it
                        between = replace(between, speed_verdict=None)
                        between_analysis = analyze_track(between, cap)
                    if no_movement(between_analysis.stats):  # it never left the place
                        parked_count += len(between)
                        continue
                    sliced = course[run][drive], elevation[run][drive]
                    found.append((between, *sliced, between_analysis))
        if stops and notes_out is not None:
            notes_out.append(_stops_note(track.name, stops, parked_count, split_gap_s))
        # a piece that never left one spot is no trip (and no "(2/3)" in the others' names)
        found = [piece for piece in found if not no_movement(piece[3].stats)]
        if len(logs) > 1:  # in time order: two devices' logs overlap
            found.sort(key=lambda piece: _first_time(piece[0].t))
        for i, (fixes, course, elevation, analysis) in enumerate(found, 1):
            label = track.name
            if len(found) > 1 and track.name:
                label = f"{track.name} ({i}/{len(found)})"
            out.append((label, fixes, course, elevation, analysis))
    return out


def _stops_note(name: str | None, stops: list[LongStop], parked: int, split_gap_s: float) -> str:
    """The note on a track cut at stops its logger kept logging through."""
    one = len(stops) == 1
    hours = sum(stop.seconds for stop in stops) / 3600
    return (
        f"{name or 'the track'}: {len(stops)} stop{'' if one else 's'} of over "
        f"{split_gap_s / 60:.0f} min ({hours:,.1f} h in all) with the logger on cut it into "
        f"trips; the {parked:,} fixes logged while parked are left out"
    )


def _first_time(t: np.ndarray) -> float:
    timed = t[np.isfinite(t)]
    return float(timed[0]) if timed.size else math.inf


def import_gpx(
    session: Session,
    source: GpxSource | list[GpxTrack],
    vehicle_id: int | None = None,
    name: str | None = None,
    split_gap_s: float = IMPORT_SPLIT_GAP_S,
    user_id: int | None = None,
    fixes_out: list[TrackArrays] | None = None,
    skipped_out: list[int] | None = None,
    notes_out: list[str] | None = None,
) -> list[tuple[Trip, TripStats]]:
    """Store a GPX file as trips with their statistics (``services.trips.import_gpx`` is
    the whole job: default names and highway use too).

    Each track becomes one trip (each route of a file of routes only; a file holding a
    drive and its planned route is the drive, ``core.track.drives_only``; a track going on
    without a pause from the one before is joined to it, ``core.track.continued_tracks``),
    cut into several wherever fixes pause for more than ``split_gap_s``: none for that
    long, or fixes standing in one place (a tracker left on while parked: its parked fixes
    are left out, ``core.long_stops``); a piece of a single fix, or one that never moved,
    makes no trip. Untimed fixes are kept (they give
    distance, not time). The file is parsed once, into columns, and the fixes are stored in bulk
    (committed in chunks).
    ``fixes_out`` (a list) receives each created trip's fixes, in the order of the result,
    so the caller can use them without reading them back; ``skipped_out`` the ids of trips
    stored before that a piece of this file repeats (same time span and fixes: not again)
    or that hold a stretch of it (a part imported first: only the rest is stored);
    ``notes_out`` the parser's note on points of the file left out (a bad coordinate or time)
    and one on routes set aside.
    Raises ``GpxError`` before touching the database when the file is unusable or shows
    no movement at all, ``AlreadyImported`` when the same fixes were imported before; an
    import that fails half-way leaves nothing behind.
    """
    # the one parse (or the caller's: a list of GpxTrack); validates everything first
    tracks = source if isinstance(source, list) else read_gpx_columns(source, notes_out=notes_out)
    uid = _uid(session, user_id)
    print_ = gpx_fingerprint(tracks)  # the whole file's (routes set aside included)
    earlier = trip_ids_with_fingerprint(session, uid, print_)
    if earlier:
        if skipped_out is not None:
            skipped_out.extend(earlier)
        ids = ", ".join(str(i) for i in earlier)
        raise AlreadyImported(f"already imported (trip {ids}): nothing imported")
    tracks = continued_tracks(drives_only(tracks, notes_out, "import"), notes_out, split_gap_s)
    cap = None
    if vehicle_id is not None:
        vehicle = get_vehicle(session, vehicle_id, uid)
        cap = mph_to_mps(vehicle.speed_cap_mph) if vehicle.speed_cap_mph else None
    pieces, repeated, held_ids = [], [], []
    for label, fixes, course, elevation, analysis in _import_pieces(
        tracks, split_gap_s, cap, notes_out
    ):
        stats = analysis.stats
        same = same_trip_ids(session, uid, stats, fixes, analysis.used)
        if same:
            repeated.extend(same)
            continue
        held = stored_spans(session, uid, fixes)
        if not held:
            pieces.append((label, fixes, course, elevation, stats))
            continue
        held_ids.extend(trip_id for trip_id, _span in held)
        pieces.extend(_rest_of((label, fixes, course, elevation), [sp for _, sp in held], cap))
    repeated.extend(held_ids)
    again = repeated_parts([piece[1] for piece in pieces])  # a track, or a part of it, twice
    twice = [pieces[k][0] for k in again]
    pieces = [piece for k, piece in enumerate(pieces) if k not in set(again)]
    pieces, overlapping = _without_shared(pieces, cap)
    if held_ids and notes_out is not None:
        notes_out.append(_held_note(list(dict.fromkeys(held_ids)), bool(pieces)))
    if (twice or overlapping) and notes_out is not None:
        notes_out.append(_repeated_note(twice + overlapping))
    repeated = list(dict.fromkeys(repeated))  # a trip may hold stretches of two pieces
    if skipped_out is not None:
        skipped_out.extend(repeated)
    if not pieces and repeated:
        ids = ", ".join(str(i) for i in repeated)
        raise AlreadyImported(f"already imported (trip {ids}): nothing imported")
    if not pieces and any(t.point_count >= 2 for t in tracks):
        raise GpxError("no movement in this log (its fixes never left one spot): no trip")
    if notes_out is not None:
        dated = [piece[4] for piece in pieces]
        notes_out.extend(note for note in (_odd_dates_note(dated), _rollover_note(dated)) if note)
    created: list[tuple[Trip, TripStats]] = []
    unsaved = 0  # rows written since the last commit: many small trips commit together
    try:
        for i, (label, fixes, course, elevation, stats) in enumerate(pieces, 1):
            if i == 1 or unsaved >= IMPORT_COMMIT_ROWS:  # (a commit lets the uploads in)
                begin_write(session)  # ensure_trip reads, then writes
                unsaved = 0
            trip, _ = ensure_trip(
                session,
                str(uuidlib.uuid4()),
                vehicle_id=vehicle_id,
                source=TripSource.IMPORTED,
                user_id=uid,
            )
            created.append((trip, stats))
            if fixes_out is not None:
                fixes_out.append(fixes)
            big = len(fixes) > IMPORT_COMMIT_ROWS
            insert_track_columns(
                session,
                trip,
                fixes,
                course,
                elevation,
                chunk_rows=IMPORT_COMMIT_ROWS,
                commit_chunks=big,
            )
            unsaved = len(fixes) % IMPORT_COMMIT_ROWS if big else unsaved + len(fixes)
            store_stats(trip, stats)
            trip.recording_state = RecordingState.FINISHED.value
            trip.point_count = len(fixes)
            trip.import_fingerprint = print_
            trip.speed_verdict = fixes.speed_verdict
            if name:
                trip.name = name if len(pieces) == 1 else f"{name} ({i}/{len(pieces)})"
            else:
                trip.name = label or ""  # services.trips.import_gpx names the rest
            session.add(trip)
            session.flush()
    except BaseException:
        _remove_partial_import(session, [trip for trip, _ in created])
        raise
    return created


def _remove_partial_import(session: Session, trips: Sequence[Trip]) -> None:
    """An import that failed half-way leaves nothing behind (its chunks were committed)."""
    session.rollback()
    delete_trips(session, [trip.id for trip in trips if trip.id is not None])
    session.commit()
