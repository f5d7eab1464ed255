"""Fixes from background loggers become trips by themselves.

``record_fixes`` stores a batch of validated fixes in the device's log (once per device and
timestamp, so retries and overlapping uploads are harmless), then cuts the stretch of the
log around them into trips again (``kei_drive.core.segment``) and brings the stored trips
in line: new trips are created, grown or shortened, merged when late fixes bridge a gap,
finished (statistics, highway use, states, a name) when they end, and reopened when late
fixes arrive after they were finished. ``finish_idle_trips`` finishes trips whose device
has gone quiet for longer than its gap (the server calls it every minute; an old backlog
uploaded in batches is finished by it too, once). The routing engine's part of finishing a
trip (highway use, gaps along the road) runs after the transaction commits
(``complete_finished``), never while it holds SQLite's write lock.

A trip's points are copies of the log's fixes with the client id ``<device id>:<epoch ms>``
(``kei_drive.db.devices.point_id``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from kei_drive.core.long_stops import moved_away
from kei_drive.core.segment import Fix, Segment, SegmentConfig, segment_fixes
from kei_drive.core.times import as_utc
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import (
    HIGHWAY_RULES,
    STATS_RULES,
    TripStats,
    analyze_track,
    compute_stats,
    no_movement,
)
from kei_drive.core.vocabulary import HighwayUse, RecordingState
from kei_drive.db import devices as dev
from kei_drive.db import queries as q
from kei_drive.db import session as db_session
from kei_drive.db.engine import get_engine, is_sqlite, normalize_url
from kei_drive.db.models import DeletedSpan, IngestDevice, TrackPointRow, Trip, utcnow
from kei_drive.services.trips import (
    LATER,
    PENDING_NOTE,
    engine_facts,
    finish_trip,
    finished_track,
    measure_gaps_on_roads,
    set_highway_use,
    store_engine_facts,
    trip_mark,
    trips_pending_engine,
)

LEFT_CONTEXT_MS = 2 * 3600 * 1000  # parked fixes before a batch that may hold its departure
# fixes before such a window's left edge, read only to judge its first fixes: a window that
# began at a stray parked fix took it for where the truck stood, and its return for a trip
# (an outside check: a parked night's lone network fixes made 38 phantom trips)
EDGE_CONTEXT_FIXES = 10
log = logging.getLogger(__name__)

_DEVICE_LOCKS: dict[tuple[int, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass
class IngestResult:
    accepted: int = 0  # new fixes stored
    duplicates: int = 0  # fixes the device had sent before
    trips: list[str] = field(default_factory=list)  # UUIDs of the trips created or changed


@contextmanager
def _device_lock(user_id: int, device_name: str) -> Iterator[None]:
    # One device's batches are cut into trips one at a time, each committed before the
    # next reads the log (in this process; PostgreSQL also locks the device row, for
    # several workers); different devices run in parallel.
    with _LOCKS_GUARD:
        lock = _DEVICE_LOCKS.setdefault((user_id, device_name), threading.Lock())
    with lock:
        yield


def ingest_batch(
    db_url: str,
    user_id: int,
    device_name: str,
    source: str,
    points: Sequence[q.PointIn],
    now_ms: int | None = None,
) -> IngestResult:
    """``record_fixes`` in its own transaction, committed before this returns (so an
    app that deletes its queue on our answer loses nothing)."""
    with _device_lock(user_id, device_name):
        with writer_lock(db_url), db_session(db_url) as s:
            result = record_fixes(s, user_id, device_name, source, points, now_ms)
            finished = finished_in(s)
        complete_finished(db_url, finished)
        return result


PENDING_RETRY_S = 120  # a trip still waiting for the engine this long after it finished


def finish_idle(db_url: str, now_ms: int | None = None) -> list[str] | None:
    """``finish_idle_trips`` in its own transaction, then ``complete_finished`` for them and
    for trips whose engine's part never came (the server stopped right after finishing),
    then ``refresh_outdated_stats`` and ``refresh_outdated_highway_use``. None when another
    server process is sweeping this database right now."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    with sweeping(db_url) as mine:
        if not mine:
            return None
        with writer_lock(db_url), db_session(db_url) as s:
            done = finish_idle_trips(s, now_ms)
            finished = finished_in(s)
        with db_session(db_url) as s:  # reads only
            stale = trips_pending_engine(s, _dt(now_ms - PENDING_RETRY_S * 1000))
        complete_finished(db_url, sorted(set(finished) | set(stale)))
        refresh_outdated_stats(db_url)
        refresh_outdated_highway_use(db_url)
    return done


STATS_REFRESH_FIXES = 200_000  # fixes recomputed a sweep at most (a few seconds of CPU)


def refresh_outdated_stats(db_url: str, max_fixes: int = STATS_REFRESH_FIXES) -> list[int]:
    """Recompute the statistics of finished trips that older rules measured
    (``core.trips.STATS_RULES``), about ``max_fixes`` fixes a call (a longer trip alone; the
    sweeper's, once a minute); the ids recomputed. Each is computed with no lock held and
    stored only if the trip did not change meanwhile (late fixes, a vehicle change: those
    recompute it themselves). A trip that fails keeps its figures and is not tried again."""
    with db_session(db_url) as s:
        ids = q.outdated_stats(s, max_fixes)
    done = []
    for trip_id in ids:
        try:
            if _refresh_stats_of(db_url, trip_id):
                done.append(trip_id)
        except Exception:
            log.exception("recomputing the statistics of trip %s failed", trip_id)
            with writer_lock(db_url), db_session(db_url) as s:
                trip = s.get(Trip, trip_id)
                if trip is not None:
                    trip.stats_rules = STATS_RULES  # not again every minute
                    s.add(trip)
    return done


def _refresh_stats_of(db_url: str, trip_id: int) -> bool:
    with db_session(db_url) as s:  # reads only
        trip = s.get(Trip, trip_id)
        if trip is None:
            return False
        seen = as_utc(trip.updated_at)
        fixes, cap = q.trip_arrays(s, trip_id), q.trip_cap_mps(s, trip)
        if trip.device_id is not None:  # a background logger's: as its device's log says
            fixes = replace(fixes, speed_verdict=log_speed_verdict(s, trip))
    stats, verdict = stats_by_verdict(fixes, cap)
    del fixes
    with writer_lock(db_url), db_session(db_url) as s:
        # the row locked (PostgreSQL) before it is compared: an ingest or a vehicle change
        # committing meanwhile is seen, not overwritten with what this computed before it
        trip = s.get(Trip, trip_id, with_for_update=True)
        if trip is None or as_utc(trip.updated_at) != seen:
            return False
        if trip.recording_state != RecordingState.FINISHED.value:  # reopened by late fixes
            return False
        q.store_stats(trip, stats)
        trip.point_count, trip.updated_at = stats.points, utcnow()
        trip.speed_verdict = verdict
        s.add(trip)
    return True


def stats_by_verdict(fixes: TrackArrays, cap_mps: float | None) -> tuple[TripStats, bool | None]:
    """The trip's statistics measured as ``fixes.speed_verdict`` says, and the verdict kept:
    none when a trusted speed reads as standing a trip that parked over 150 m from where it
    left (its fixes taken at red lights, or a GPS that lost its speed): its positions
    measure it."""
    stats = compute_stats(fixes, cap_mps)
    if fixes.speed_verdict and no_movement(stats) and moved_away(fixes):
        return compute_stats(replace(fixes, speed_verdict=None), cap_mps), None
    return stats, fixes.speed_verdict


HIGHWAY_REFRESH_FIXES = 100_000  # fixes matched again a sweep at most (seconds of the engine)


def refresh_outdated_highway_use(db_url: str, max_fixes: int = HIGHWAY_REFRESH_FIXES) -> list[int]:
    """Judge again the highway use of finished trips that older rules judged, or that no
    engine looked at (``core.trips.HIGHWAY_RULES``: no tiles when they finished, or stored
    before the rules were versioned), about ``max_fixes`` fixes a call; the ids judged.
    Their gaps in recording and a sparse log's steps are measured along the road as well,
    where they were not (``services.trips.engine_facts``).
    Nothing is asked while no engine is there (no tiles, the routing server unreachable):
    those trips keep their answer and wait. Each trip is matched with no lock held and
    stored only if its fixes did not change meanwhile. A trip the engine fails on keeps its
    answer and is not tried again under these rules."""
    with db_session(db_url) as s:
        ids = q.outdated_highway_use(s, max_fixes)
    if not ids or not _engine_installed():
        return []
    done = []
    for trip_id in ids:
        with db_session(db_url) as s:  # reads only
            track = finished_track(s, trip_id)
        if track is None:
            continue
        fixes, mark = track
        why = ""
        facts = None
        try:
            facts = engine_facts(trip_id, fixes, mark)
            use = facts.highway_use
        except Exception as exc:  # noqa: BLE001 - the trip keeps its answer
            log.exception("judging the highway use of trip %s again failed", trip_id)
            use = None
            why = f"The routing engine could not check the track: {exc}"
        del fixes
        if use is not None and not use.judged:  # the engine went away: the next sweep asks
            break
        with writer_lock(db_url), db_session(db_url) as s:
            trip = s.get(Trip, trip_id, with_for_update=True)
            if trip is None or trip.recording_state != RecordingState.FINISHED.value:
                continue
            if use is None:  # not again every minute; its stored answer stands
                trip.highway_rules = HIGHWAY_RULES
                s.add(trip)
                log.warning("trip %s keeps its highway use: %s", trip_id, why)
                continue
            if trip_mark(trip) != mark:  # changed meanwhile: the next sweep reads it again
                continue
            if facts is not None and facts.gap_roads:
                measure_gaps_on_roads(trip, q.refresh_stats(s, trip), facts.gap_roads)
            set_highway_use(s, trip, use)
            trip.updated_at = utcnow()
        done.append(trip_id)
    return done


@dataclass
class Recheck:
    """What ``recheck_stored`` did."""

    stats: int = 0  # trips whose statistics were recomputed
    highway_use: int = 0  # trips whose highway use was judged again
    waiting: int = 0  # trips whose highway use waits for an engine (no tiles, server down)


def recheck_stored(db_url: str) -> Recheck:
    """Bring every finished trip up to the current rules at once (``kei-drive trips
    recheck``), as the server's sweeper does a little each minute."""
    done = Recheck()
    with sweeping(db_url) as mine:
        if not mine:
            raise RuntimeError("another server process is sweeping this database right now")
        done.stats = _until_done(db_url, refresh_outdated_stats, q.outdated_stats)
        done.highway_use = _until_done(db_url, refresh_outdated_highway_use, q.outdated_highway_use)
    with db_session(db_url) as s:
        done.waiting = len(q.outdated_highway_use(s, ALL_FIXES, limit=ALL_FIXES))
    return done


ALL_FIXES = 10**12


def _until_done(
    db_url: str, refresh: Callable[[str], list[int]], outdated: Callable[[Session, int], list[int]]
) -> int:
    """Refresh batches until no trip is outdated or a batch changes nothing (a trip that
    fails is marked, so it does not come back; one waiting for an engine does)."""
    count, left = 0, None
    while True:
        batch = refresh(db_url)
        count += len(batch)
        with db_session(db_url) as s:
            now_left = outdated(s, ALL_FIXES)
        if not now_left or (not batch and now_left == left):
            return count
        left = now_left


def _engine_installed() -> bool:
    """Routing tiles or a routing server are configured (a server may still be down: the
    first answer says so)."""
    from kei_drive.routing import TilesMissingError, get_router

    try:
        get_router()
    except TilesMissingError:
        return False
    return True


# PostgreSQL advisory lock key of the sweep ("keisweep" in ASCII): one worker at a time.
SWEEP_LOCK_KEY = int.from_bytes(b"keisweep", "big") & 0x7FFF_FFFF_FFFF_FFFF


@contextmanager
def sweeping(db_url: str) -> Iterator[bool]:
    """True in the one process that sweeps the database now. Several server workers share
    a PostgreSQL database, and each runs a sweeper: a session-level advisory lock, held on
    one connection for the sweep (the engine's checks included) and released with it, lets
    one of them sweep and the others skip that minute, so no trip is finished or checked
    twice at once. A SQLite database is served by one process (``writer_lock`` orders it)."""
    if is_sqlite(normalize_url(db_url)):
        yield True
        return
    with get_engine(db_url).connect() as conn:
        mine = bool(conn.execute(_TRY_LOCK, {"key": SWEEP_LOCK_KEY}).scalar())
        conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield mine
        finally:
            if mine:
                conn.execute(_UNLOCK, {"key": SWEEP_LOCK_KEY})
                conn.commit()


_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:key)")


_FINISHED_KEY = "kei_drive.finished_trips"  # session.info: trips finished, engine's part due


def finished_in(session: Session) -> list[int]:
    """The trips ``finish`` finished in this session, whose engine's part is still due."""
    return sorted(session.info.get(_FINISHED_KEY, ()))


def complete_finished(db_url: str, trip_ids: Sequence[int]) -> None:
    """The routing engine's part of finishing trips (highway use, gaps along the road),
    after the transaction that finished them committed: map matching a long trip takes
    seconds, and SQLite's write lock is not held meanwhile (the phones' uploads and the
    other devices write). A failure leaves the trip finished, its highway use unknown and
    saying why (not retried by the sweeper: the same fixes would fail the same way)."""
    for trip_id in trip_ids:
        try:
            with db_session(db_url) as s:  # reads only, closed before the engine works
                track = finished_track(s, trip_id)
            if track is None:
                continue
            try:
                facts = engine_facts(trip_id, *track)
            except Exception as exc:  # noqa: BLE001 - the trip itself is stored and finished
                log.exception("highway use of trip %s not checked", trip_id)
                why = f"The routing engine could not check the track: {exc}"
                _not_checked(db_url, trip_id, why)
                continue
            with writer_lock(db_url), db_session(db_url) as s:  # a short write
                store_engine_facts(s, facts)
        except Exception:  # noqa: BLE001 - the database failed: still pending, retried later
            log.exception("trip %s left waiting for its highway-use check", trip_id)


def _not_checked(db_url: str, trip_id: int, why: str) -> None:
    try:
        with writer_lock(db_url), db_session(db_url) as s:
            trip = s.get(Trip, trip_id)
            if trip is not None and (trip.stats or {}).get("highway_use_note") == PENDING_NOTE:
                set_highway_use(s, trip, HighwayUse(None, why))
    except Exception:  # noqa: BLE001 - the database itself failed: the sweeper tries again
        log.exception("trip %s left waiting for its highway-use check", trip_id)


_SQLITE_WRITER = threading.Lock()


@contextmanager
def writer_lock(db_url: str) -> Iterator[None]:
    """On SQLite, one ingest transaction at a time in this process: SQLite has one writer
    anyway, and queueing here beats its busy handler, which sleeps in growing steps (up
    to 100 ms) while another request writes."""
    if is_sqlite(normalize_url(db_url)):
        with _SQLITE_WRITER:
            yield
    else:
        yield


def _config(device: IngestDevice) -> SegmentConfig:
    return SegmentConfig(gap_s=device.gap_s, stop_s=device.stop_s)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dt(t_ms: int) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, UTC)


def record_fixes(
    session: Session,
    user_id: int,
    device_name: str,
    source: str,
    points: Sequence[q.PointIn],
    now_ms: int | None = None,
) -> IngestResult:
    """Store validated fixes of one device and update its trips (see the module doc)."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    device = dev.device_for(session, user_id, device_name, source)
    session.flush()
    timed = [p for p in points if p.time_ms is not None]
    accepted = dev.add_fixes(session, device.id, timed)  # type: ignore[arg-type]
    result = IngestResult(accepted, len(timed) - accepted)
    if accepted:
        times = [p.time_ms for p in timed]
        result.trips = _recut(session, device, min(times), max(times), now_ms)  # type: ignore[type-var]
    return result


@dataclass
class _Window:
    left: int  # epoch ms
    right: int
    spans: dict[int, tuple[int, int]]  # trips cut again: id -> (first, last fix ms)
    tail_of: int | None = None  # the open trip whose tail begins the window (appending)
    mid_stay: bool = False  # the left edge cuts parked fixes (``LEFT_CONTEXT_MS`` back)


def _window(
    session: Session, device: IngestDevice, lo_ms: int, hi_ms: int, cfg: SegmentConfig
) -> _Window:
    """The stretch of the log to cut again: every trip within a gap of the new fixes,
    parked fixes before them (where a trip would start), and a gap's worth after. Fixes
    appended after an open trip need only its tail (``_tail_window``)."""
    gap_ms = int(cfg.gap_s * 1000)
    spans = dev.trip_spans(session, device.id, lo_ms - gap_ms, hi_ms + gap_ms)  # type: ignore[arg-type]
    tail = _tail_window(session, device, lo_ms, hi_ms, cfg, spans)
    if tail is not None:
        return tail
    lo = min([lo_ms, *(first for first, _ in spans.values())])
    hi = max([hi_ms, *(last for _, last in spans.values())])
    previous_end = dev.last_trip_end_before(session, device.id, lo)  # type: ignore[arg-type]
    left = lo - LEFT_CONTEXT_MS
    mid_stay = previous_end is None or previous_end < left
    if previous_end is not None:
        left = max(left, previous_end)
    right = hi + gap_ms + int(cfg.stop_s * 1000)
    # a later trip reached by the right margin is cut again whole, never in part
    more = dev.trip_spans(session, device.id, left, right)  # type: ignore[arg-type]
    spans.update({tid: span for tid, span in more.items() if span[0] >= lo})
    right = max([right, *(last for _, last in spans.values())])
    return _Window(left, right, spans, mid_stay=mid_stay)


def _tail_window(
    session: Session,
    device: IngestDevice,
    lo_ms: int,
    hi_ms: int,
    cfg: SegmentConfig,
    spans: dict[int, tuple[int, int]],
) -> _Window | None:
    """Live fixes after an open trip: cut only its last ``stop_s + gap_s`` again (an open
    trip has not stood still that long, so its state there is "driving"), keeping each
    request's work independent of the trip's length."""
    if len(spans) != 1:
        return None
    ((trip_id, (first, last)),) = spans.items()
    tail_ms = int((cfg.stop_s + cfg.gap_s) * 1000)
    trip = session.get(Trip, trip_id)
    if trip is None or trip.recording_state != RecordingState.RECORDING or lo_ms <= last:
        return None
    if last - first <= tail_ms:
        return None  # short enough to cut whole
    left, right = last - tail_ms, hi_ms + tail_ms
    if set(dev.trip_spans(session, device.id, left, right)) != {trip_id}:  # type: ignore[arg-type]
        return None
    return _Window(left, right, {trip_id: (left, last)}, tail_of=trip_id)


def _recut(
    session: Session, device: IngestDevice, lo_ms: int, hi_ms: int, now_ms: int
) -> list[str]:
    cfg = _config(device)
    win = _window(session, device, lo_ms, hi_ms, cfg)
    rows = dev.fixes_between(session, device.id, win.left, win.right)  # type: ignore[arg-type]
    stored = dev.point_times(session, list(win.spans), since_ms=win.left)
    if win.tail_of is not None:  # begin at one of the trip's own fixes, never a stray
        tail = stored[win.tail_of]
        while rows and rows[0].t_ms not in tail:
            rows.pop(0)
    context = []
    if win.mid_stay and rows:
        context = dev.fixes_up_to(session, device.id, win.left - 1, EDGE_CONTEXT_FIXES)  # type: ignore[arg-type]
    known_from = context[0].t_ms if context else win.left  # the log is read whole from here
    spans = dev.deleted_spans(  # type: ignore[arg-type]
        session, device.id, known_from - int(cfg.gap_s * 1000), win.right + int(cfg.gap_s * 1000)
    )
    if spans:
        rows, context = (
            _outside(session, device, rows, spans),
            _outside(session, device, context, spans),
        )
    fixes = [Fix(r.t_ms, r.lat, r.lon, r.accuracy_m, r.speed_mps) for r in [*context, *rows]]
    pieces = _pieces([f.t_ms for f in fixes], spans, known_from, win.right)
    segments = []
    for piece in pieces:  # a deleted trip's span is a break no trip crosses
        in_trip = win.tail_of is not None and piece.start == 0
        cut = segment_fixes(fixes[piece.start : piece.end], now_ms, cfg, in_trip_at_start=in_trip)
        segments += [
            replace(seg, indices=tuple(i + piece.start for i in seg.indices)) for seg in cut
        ]
    segments = _without_context(segments, len(context))
    wanted = [{rows[i].t_ms for i in seg.indices} for seg in segments]
    owner = _match(wanted, stored)
    deleted = _rest_of_deleted_drives(session, device, wanted, owner, pieces, fixes, cfg)
    by_time = {r.t_ms: r for r in rows}
    changed: list[str] = []
    for index, (segment, times) in enumerate(zip(segments, wanted, strict=True)):
        if index in deleted:
            continue
        trip_id = owner.get(index)
        trip = session.get(Trip, trip_id) if trip_id is not None else _new_trip(session, device)
        have = stored.get(trip.id, set())  # type: ignore[arg-type]
        finished = trip.recording_state == RecordingState.FINISHED
        if times == have and finished == _ends_now(segment):
            continue
        _sync_points(session, device, trip, times, have, by_time)
        if trip.id != win.tail_of:
            trip.started_at = _dt(min(times))
        _settle(session, trip, segment, times)
        changed.append(trip.uuid)
    kept = set(owner.values())
    for trip_id in set(win.spans) - kept:  # merged into a neighbour, or no longer a trip
        _absorb(session, trip_id, segments, owner, wanted, stored)
    changed += _finish_quiet(session, device, before_ms=hi_ms - int(cfg.gap_s * 1000))
    return changed


def _outside(
    session: Session, device: IngestDevice, rows: list[dev.FixRow], spans: Sequence[DeletedSpan]
) -> list[dev.FixRow]:
    """The fixes outside every deleted span; those inside (a late part of a deleted drive)
    leave the log."""
    hit = [sp for sp in spans if any(sp.from_ms <= r.t_ms <= sp.to_ms for r in rows)]
    for sp in hit:
        q.forget_device_fixes(session, device.id, sp.from_ms, sp.to_ms)  # type: ignore[arg-type]
    return [r for r in rows if not any(sp.from_ms <= r.t_ms <= sp.to_ms for sp in hit)]


@dataclass
class _Piece:
    start: int  # index of its first fix
    end: int  # one past its last
    after: DeletedSpan | None  # the deleted span it follows directly, if any
    before: DeletedSpan | None  # the one it runs into


def _pieces(
    times: Sequence[int], spans: Sequence[DeletedSpan], known_from: int, known_to: int
) -> list[_Piece]:
    """The fixes (times, sorted; the log's every fix in ``[known_from, known_to]``) in runs
    that no deleted span cuts through, each with the span just before and after it."""
    if not times:
        return []
    if not spans:
        return [_Piece(0, len(times), None, None)]
    pieces: list[_Piece] = []
    start = 0
    after = next((sp for sp in reversed(spans) if known_from <= sp.to_ms < times[0]), None)
    for i in range(1, len(times) + 1):
        if i < len(times):
            between = next(
                (sp for sp in spans if times[i - 1] < sp.from_ms and sp.to_ms < times[i]), None
            )
        else:
            between = next((sp for sp in spans if times[-1] < sp.from_ms <= known_to), None)
        if between is not None or i == len(times):
            pieces.append(_Piece(start, i, after, between))
            start, after = i, between
    return pieces


def _rest_of_deleted_drives(
    session: Session,
    device: IngestDevice,
    wanted: list[set[int]],
    owner: dict[int, int],
    pieces: Sequence[_Piece],
    fixes: Sequence[Fix],
    cfg: SegmentConfig,
) -> set[int]:
    """The new segments that carry on a drive its owner deleted: moving from the first fix
    after its span (or up to the last before it), within ``gap_s`` of it. Their fixes leave
    the log and the span grows over them. (The rest of a drive deleted while open, or a
    backlog arriving after the deletion, came back as a trip.) A drive after a stay, or
    after a silence longer than ``gap_s``, is a trip of its own."""
    gap_ms = int(cfg.gap_s * 1000)
    first_of = {fixes[p.start].t_ms: p.after for p in pieces if p.after is not None}
    last_of = {fixes[p.end - 1].t_ms: p.before for p in pieces if p.before is not None}
    deleted: set[int] = set()
    for i, times in enumerate(wanted):
        if i in owner or not times:
            continue
        first, last = min(times), max(times)
        span = first_of.get(first)
        if span is not None and first - span.to_ms <= gap_ms:
            span.to_ms = last
        else:
            span = last_of.get(last)
            if span is None or span.from_ms - last > gap_ms:
                continue
            span.from_ms = first
        q.forget_device_fixes(session, device.id, first, last)  # type: ignore[arg-type]
        session.add(span)
        deleted.add(i)
    return deleted


def _without_context(segments: list[Segment], count: int) -> list[Segment]:
    """The segments of a window read with ``count`` fixes before it, on the window's own
    fixes (a trip wholly before it is none of its business)."""
    if not count:
        return segments
    out = []
    for seg in segments:
        kept = tuple(i - count for i in seg.indices if i >= count)
        if kept:
            out.append(replace(seg, indices=kept))
    return out


def _finish_quiet(session: Session, device: IngestDevice, before_ms: int) -> list[str]:
    """The device sends again after a gap: its open trips that ended before it are done."""
    done = []
    for trip, _ in dev.open_device_trips(session, device.id):
        if trip.ended_at is not None and _ms(trip.ended_at) < before_ms:
            finish(session, trip)
            done.append(trip.uuid)
    return done


def _ms(value: datetime) -> int:
    return round(as_utc(value).timestamp() * 1000)  # type: ignore[union-attr]


def _match(wanted: list[set[int]], stored: dict[int, set[int]]) -> dict[int, int]:
    """Segment index -> existing trip id, greedily by the number of shared fixes."""
    pairs = sorted(
        (
            (len(times & have), index, trip_id)
            for index, times in enumerate(wanted)
            for trip_id, have in stored.items()
        ),
        reverse=True,
    )
    owner: dict[int, int] = {}
    taken: set[int] = set()
    for shared, index, trip_id in pairs:
        if shared and index not in owner and trip_id not in taken:
            owner[index] = trip_id
            taken.add(trip_id)
    return owner


def _new_trip(session: Session, device: IngestDevice) -> Trip:
    trip, _ = q.ensure_trip(
        session,
        str(uuidlib.uuid4()),
        vehicle_id=dev.trip_vehicle_id(session, device),
        source=device.source,
        user_id=device.user_id,
    )
    trip.device_id, trip.device = device.id, device.name
    session.add(trip)
    return trip


def _sync_points(
    session: Session,
    device: IngestDevice,
    trip: Trip,
    times: set[int],
    have: set[int],
    by_time: dict[int, dev.FixRow],
) -> None:
    gone = sorted(have - times)
    if gone:
        dev.remove_points(session, trip.id, gone)  # type: ignore[arg-type]
    new = [by_time[t] for t in sorted(times - have)]
    dev.copy_points(session, trip.id, device.id, new)  # type: ignore[arg-type]
    trip.point_count = (trip.point_count or 0) + len(new) - len(gone)
    trip.updated_at = utcnow()
    session.add(trip)


def _ends_now(segment: Segment) -> bool:
    """Finished in this request: it stopped, or a gap or jump cut it. A trip that only went
    quiet ("idle": an old backlog arriving in batches) is left to ``finish_idle_trips``, so
    that a backlog's every batch does not compute the statistics again."""
    return segment.ended and segment.end_reason != "idle"


def _settle(session: Session, trip: Trip, segment: Segment, times: set[int]) -> None:
    """Finish an ended trip (again, when late fixes changed it); keep an open one open."""
    trip.ended_at = _dt(max(times))
    if _ends_now(segment):
        finish(session, trip)
    else:
        trip.recording_state = RecordingState.RECORDING.value  # reopened when it had been finished
        trip.updated_at = utcnow()
        session.add(trip)
        session.flush()


def finish(session: Session, trip: Trip) -> None:
    """Statistics, states and a default name, as for a Drive-screen trip; the engine's
    part (highway use, gaps along the road) is due after the commit (``complete_finished``).
    Measured by the device's speed field as its log says (``log_speed_verdict``)."""
    trip.speed_verdict = log_speed_verdict(session, trip)
    stats = finish_trip(session, trip, highway_use=LATER, gap_roads=LATER)
    if trip.speed_verdict and no_movement(stats) and moved_away(q.trip_arrays(session, trip.id)):
        # its speed read 0 at each fix, yet it parked elsewhere: its positions measure it
        trip.speed_verdict = None
        q.refresh_stats(session, trip)
    session.info.setdefault(_FINISHED_KEY, set()).add(trip.id)


# The log a device's speed field is judged on: a week of a tracker's fix a minute, a few
# hours of a phone's fix a second (an analysis of ~0.1 s)
SPEED_VERDICT_FIXES = 10_000


def log_speed_verdict(session: Session, trip: Trip) -> bool | None:
    """What the device's log up to the trip's end says of its speed field
    (``TrackAnalysis.speed_verdict``), as ``trips import`` judges a tracker's year before
    cutting it into trips: a drive of a dozen fixes cannot tell a winding road from a speed
    in another unit, the days of drives before it can. None (the trip judged on its own
    fixes) when the log has no speed or too little to say."""
    if trip.device_id is None or trip.ended_at is None:
        return None
    rows = dev.fixes_up_to(session, trip.device_id, _ms(trip.ended_at), SPEED_VERDICT_FIXES)
    if not any(r.speed_mps is not None for r in rows):
        return None
    cols = [(r.lat, r.lon, r.t_ms / 1000.0, r.accuracy_m, r.speed_mps) for r in rows]
    log_fixes = TrackArrays.from_columns(*np.array(cols, dtype=float).T)  # None -> NaN
    return analyze_track(log_fixes, with_states=False).speed_verdict


def _absorb(
    session: Session,
    trip_id: int,
    segments: list[Segment],
    owner: dict[int, int],
    wanted: list[set[int]],
    stored: dict[int, set[int]],
) -> None:
    """Delete a trip the log no longer holds (its fixes stay in the log); a vehicle the
    driver gave it moves to the trip that took most of its fixes."""
    old = session.get(Trip, trip_id)
    if old is None:
        return
    best = max(range(len(segments)), key=lambda i: len(wanted[i] & stored[trip_id]), default=None)
    if best is not None and wanted[best] & stored[trip_id]:
        heir = session.get(Trip, owner[best]) if best in owner else None
        if heir is not None:
            if old.vehicle_id and not heir.vehicle_id:
                heir.vehicle_id = old.vehicle_id
            session.add(heir)
    session.execute(sa.delete(TrackPointRow).where(TrackPointRow.trip_id == trip_id))
    session.delete(old)
    session.flush()


def finish_idle_trips(session: Session, now_ms: int | None = None) -> list[str]:
    """Finish logger trips whose device sent nothing for longer than its gap."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    dev.purge_deleted_spans(session, _dt(now_ms))
    done = []
    for trip, device in dev.open_device_trips(session):
        if trip.ended_at is not None and now_ms - _ms(trip.ended_at) > device.gap_s * 1000:
            finish(session, trip)
            done.append(trip.uuid)
    return done
