"""Background-logger fixes becoming trips by themselves (kei_drive.services.ingest) on a
real database: split by gaps, ended by standing still, late fixes, duplicates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from sqlmodel import select

from kei_drive.core.times import as_utc
from kei_drive.db import devices as dev
from kei_drive.db import migrate, session, trip_import
from kei_drive.db import queries as q
from kei_drive.db.models import DeletedSpan, DeviceFix, Trip
from kei_drive.services import ingest
from tests.support.trips import TrackBuilder, fresh_db_url

DEVICE = "Sambar phone"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = fresh_db_url(request.param, tmp_path)
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    return url, uid


def points(builder: TrackBuilder, with_speed: bool = False) -> list[q.PointIn]:
    return [
        q.PointIn(
            client_id=str(i),
            time_ms=round(p.time.timestamp() * 1000),
            lat=p.lat,
            lon=p.lon,
            accuracy_m=p.accuracy_m,
            speed_mps=p.speed_mps if with_speed else None,
        )
        for i, p in enumerate(builder.points)
    ]


def send(db, pts, now_ms=None, source="owntracks", device=DEVICE):
    url, uid = db
    now_ms = now_ms if now_ms is not None else pts[-1].time_ms
    return ingest.ingest_batch(url, uid, device, source, pts, now_ms=now_ms)


def trips(db) -> list[Trip]:
    with session(db[0]) as s:
        return list(s.exec(select(Trip).order_by(Trip.started_at)))


def commute() -> TrackBuilder:
    """Parked 10 min, 5 km at 15 m/s, parked 10 min; a fix every 5 s."""
    return TrackBuilder(interval_s=5.0, seed=2).start().stop(600).drive(5_000, 15.0).stop(600)


def test_parked_drive_parked_is_one_finished_trip_with_source_and_device(db):
    pts = points(commute())
    result = send(db, pts)
    assert (result.accepted, result.duplicates) == (len(pts), 0)
    (trip,) = trips(db)
    assert trip.recording_state == "finished"
    assert (trip.source, trip.device) == ("owntracks", DEVICE)
    assert trip.distance_m == pytest.approx(5_000, rel=0.03)
    assert trip.states == ["CO"] and trip.name  # finished like a Drive-screen trip
    assert trip.point_count < len(pts) - 100  # parked fixes outside the drive are no trip
    with session(db[0]) as s:
        (device,) = dev.list_devices(s, db[1])
        ids = {p.client_id for p in s.exec(select(q.TrackPointRow))}
    assert ids == {f"{device.id}:{p.time_ms}" for p in pts if f"{device.id}:{p.time_ms}" in ids}
    assert len(ids) == trip.point_count


def test_batches_in_order_build_the_same_trip_open_while_driving(db):
    pts = points(commute())
    drive_end = 120 + 5_000 // 75 + 1
    for start in range(0, drive_end, 40):
        send(db, pts[start : start + 40])
    (trip,) = trips(db)
    assert trip.recording_state == "recording"  # no standing still yet
    for start in range(drive_end, len(pts), 40):
        send(db, pts[start : start + 40])
    (trip,) = trips(db)
    assert trip.recording_state == "finished"
    assert trip.distance_m == pytest.approx(5_000, rel=0.03)


def test_the_same_fixes_twice_are_stored_once(db):
    pts = points(commute())
    send(db, pts[:150])
    again = send(db, pts[:150])
    assert (again.accepted, again.duplicates, again.trips) == (0, 150, [])
    send(db, pts[100:])  # overlapping upload
    with session(db[0]) as s:
        assert len(s.exec(select(DeviceFix)).all()) == len(pts)
    (trip,) = trips(db)
    with session(db[0]) as s:
        rows = s.exec(select(q.TrackPointRow.client_id)).all()
    assert len(rows) == len(set(rows)) == trip.point_count
    assert trip.distance_m == pytest.approx(5_000, rel=0.03)


def test_gap_splits_and_the_gap_is_set_per_device(db):
    b = TrackBuilder(interval_s=5.0).start().drive(4_000, 15.0)
    b.hidden(480, 15.0)  # 8 min without fixes, still driving
    b.drive(4_000, 15.0).stop(600)
    pts = points(b)
    send(db, pts)
    first, second = trips(db)
    assert first.recording_state == second.recording_state == "finished"
    assert as_utc(first.ended_at) < as_utc(second.started_at)

    other = (db[0], db[1])
    with session(db[0]) as s:
        dev.device_for(s, db[1], "Hijet phone", "overland")
        dev.set_device_rules(s, db[1], "Hijet phone", gap_s=900)
    send(other, pts, source="overland", device="Hijet phone")
    hijet = [t for t in trips(db) if t.device == "Hijet phone"]
    assert len(hijet) == 1 and hijet[0].source == "overland"


def test_late_fixes_fill_a_gap_merge_and_refinish(db):
    b = TrackBuilder(interval_s=5.0).start().drive(16_000, 15.0).stop(600)
    pts = points(b)
    hole = range(30, 130)  # 500 s of the drive arrive later (phone was offline)
    send(db, [p for i, p in enumerate(pts) if i not in hole])
    assert len(trips(db)) == 2
    before = {t.uuid for t in trips(db)}
    late = send(db, [pts[i] for i in hole])
    (trip,) = trips(db)
    assert trip.uuid in before and trip.uuid in late.trips
    assert trip.recording_state == "finished"
    assert trip.distance_m == pytest.approx(16_000, rel=0.03)


def test_late_fixes_reopen_and_refinish_a_finished_trip(db):
    pts = points(commute())
    sparse = pts[::2]
    send(db, sparse)
    (trip,) = trips(db)
    count = trip.point_count
    send(db, pts[1::2], now_ms=pts[-1].time_ms)
    (trip,) = trips(db)
    assert trip.recording_state == "finished" and trip.point_count > count * 1.8


def test_quiet_device_trip_is_finished_by_the_clock(db):
    pts = points(TrackBuilder(interval_s=5.0).start().drive(4_000, 15.0))
    send(db, pts)
    (trip,) = trips(db)
    assert trip.recording_state == "recording"
    with session(db[0]) as s:
        assert ingest.finish_idle_trips(s, now_ms=pts[-1].time_ms + 60_000) == []
        assert ingest.finish_idle_trips(s, now_ms=pts[-1].time_ms + 301_000) == [trip.uuid]
    (trip,) = trips(db)
    assert trip.recording_state == "finished" and trip.distance_m > 3_900


def test_the_engines_answer_after_the_commit_keeps_what_changed_meanwhile(db, monkeypatch):
    """The engine's part of finishing runs after the ingest commit: a vehicle given to the
    trip meanwhile keeps its cap, and a trip that grew meanwhile is not touched."""
    from kei_drive.services import trips as trip_service

    monkeypatch.setenv("KEI_DRIVE_TILES", "/nonexistent/tiles")  # highway use: unknown
    url, uid = db
    send(db, points(commute()))
    (trip,) = trips(db)
    with session(url) as s:
        track = trip_service.finished_track(s, trip.id)
    facts = trip_service.engine_facts(trip.id, *track)
    with session(url) as s:  # meanwhile, the driver says which truck it was
        vid = q.create_vehicle(s, "Sammy", speed_cap_mph=25, user_id=uid).id
        q.set_trip_vehicle(s, trip.id, vid, uid)
    with session(url) as s:
        assert trip_service.store_engine_facts(s, facts)
    (trip,) = trips(db)
    assert trip.cap_mps == pytest.approx(25 * 0.44704) and trip.over_cap_s > 60
    assert trip.highway_use is None and "No routing tiles" in trip.stats["highway_use_note"]
    changed = replace(facts, mark=(facts.mark[0] + 1, *facts.mark[1:]))
    with session(url) as s:
        assert not trip_service.store_engine_facts(s, changed)


def test_a_trip_waiting_for_its_engine_check_is_found_on_either_database(db):
    """``trips_pending_engine`` (the sweeper's query) reads the note inside the JSON
    statistics, on SQLite and PostgreSQL alike."""
    from datetime import UTC, datetime, timedelta

    from kei_drive.services.trips import PENDING_NOTE, trips_pending_engine

    url, uid = db
    pts = points(commute())
    with session(url) as s:  # finished, and the engine's part never came
        ingest.record_fixes(s, uid, DEVICE, "owntracks", pts, now_ms=pts[-1].time_ms)
    (trip,) = trips(db)
    assert trip.stats["highway_use_note"] == PENDING_NOTE
    soon = datetime.now(UTC) + timedelta(minutes=5)
    with session(url) as s:
        assert trips_pending_engine(s, soon) == [trip.id]
        assert trips_pending_engine(s, soon - timedelta(hours=1)) == []  # too recent


def test_a_deleted_trip_does_not_come_back(db):
    pts = points(commute())
    send(db, pts[:200])
    (trip,) = trips(db)
    with session(db[0]) as s:
        q.delete_trip(s, trip.uuid, db[1])
    send(db, pts[200:])
    assert trips(db) == []  # its fixes left the log: nothing to cut it from again


def in_batches(db, pts, size: int = 10) -> None:
    for start in range(0, len(pts), size):
        send(db, pts[start : start + size])


def delete_all(db) -> None:
    with session(db[0]) as s:
        for trip in s.exec(select(Trip)).all():
            q.delete_trip(s, trip.uuid, db[1])


def two_drives() -> TrackBuilder:
    """Parked 10 min, 8 km, parked 15 min (longer than the 5 min that ends a drive), 5 km,
    parked; a fix every 5 s."""
    b = TrackBuilder(interval_s=5.0, seed=4).start().stop(600).drive(8_000, 15.0)
    return b.stop(900).drive(5_000, 15.0).stop(600)


def test_the_rest_of_a_drive_deleted_while_open_is_no_trip_the_next_drive_is(db):
    """The rest of a drive deleted mid-way (live batches) came back as a trip of its own,
    bridging the deleted part (8.0 km for a 4.3 km rest)."""
    pts = points(two_drives())
    in_batches(db, pts[:170])  # 50 fixes (3.7 km) into the first drive
    (trip,) = trips(db)
    assert trip.recording_state == "recording"
    delete_all(db)
    in_batches(db, pts[170:])
    (left,) = trips(db)  # the second drive only
    assert left.recording_state == "finished"
    assert left.distance_m == pytest.approx(5_000, rel=0.03)
    assert as_utc(left.started_at).timestamp() * 1000 > pts[300].time_ms
    with session(db[0]) as s:  # the first drive's fixes left the log as they came
        logged = [f.time_ms for f in s.exec(select(DeviceFix)).all()]
        (span,) = s.exec(select(DeletedSpan)).all()
    assert not [t for t in logged if span.from_ms <= t <= span.to_ms]
    assert span.to_ms >= pts[200].time_ms  # grown over the rest of that drive


def test_a_backlog_of_a_deleted_drive_arriving_later_is_no_trip(db):
    """A phone out of signal mid-drive: the server finished the trip when it went quiet, its
    owner deleted it, then the phone's backlog came with the rest of the drive."""
    pts = points(two_drives())
    send(db, pts[:170])
    with session(db[0]) as s:
        ingest.finish_idle_trips(s, now_ms=pts[169].time_ms + 3_600_000)
    (trip,) = trips(db)
    assert trip.recording_state == "finished"
    delete_all(db)
    send(db, pts[170:], now_ms=pts[-1].time_ms + 3_600_000)
    (left,) = trips(db)
    assert left.distance_m == pytest.approx(5_000, rel=0.03)


@pytest.mark.parametrize("stop_s", [340, 480])
def test_the_next_drive_after_a_deleted_one_stays_a_trip(db, stop_s):
    """One fix a request (OwnTracks), the first drive deleted once finished, while parked: a
    first version read "parked, a hole, parked elsewhere" as a drive, ate the stay and the
    next drive with it (an outside review: every stop of 310-600 s lost it)."""
    b = TrackBuilder(interval_s=10.0, seed=4, accuracy_m=10.0).start().stop(600, 5.0)
    b.drive(1_800, 15.0).stop(stop_s, 5.0).drive(3_000, 15.0).stop(600, 5.0)
    pts = points(b)
    deleted = False
    for fix in pts:
        send(db, [fix])
        if not deleted and [t.recording_state for t in trips(db)] == ["finished"]:
            delete_all(db)
            deleted = True
    (left,) = trips(db)
    assert left.distance_m == pytest.approx(3_000, rel=0.05)


def test_a_trip_deleted_on_arrival_while_recording_keeps_the_next_drive(db):
    """Deleted 35 s after arriving (still "recording": the stop is young), then a 330 s stop
    and 5 km: the span ended late (the parked fixes were the trip's) and the next drive
    was dropped as its rest."""
    b = TrackBuilder(interval_s=5.0, seed=4).start().stop(600).drive(8_000, 15.0)
    pts = points(b.stop(330).drive(5_000, 15.0).stop(600))
    arrived = next(i for i, p in enumerate(pts) if p.time_ms - pts[0].time_ms >= 1_168_000)
    in_batches(db, pts[:arrived], 12)
    assert [t.recording_state for t in trips(db)] == ["recording"]
    delete_all(db)
    in_batches(db, pts[arrived:], 12)
    (left,) = trips(db)
    assert left.distance_m == pytest.approx(5_000, rel=0.03)


def test_late_fixes_between_a_deleted_trip_and_a_kept_one_never_bridge_the_deleted_part(db):
    """A drive uploaded with a hole made two trips; the first deleted, the hole's fixes came:
    the kept trip was joined across the deleted span from the fix before it (a straight line
    of kilometres)."""
    b = TrackBuilder(interval_s=5.0, seed=2).start().stop(300).drive(15_000, 15.0).stop(600)
    pts = points(b)
    early, hole, late = pts[:90], pts[90:190], pts[190:]
    send(db, early)
    send(db, late)
    first, _ = trips(db)
    with session(db[0]) as s:
        q.delete_trip(s, first.uuid, db[1])
    send(db, hole)
    (kept,) = trips(db)
    with session(db[0]) as s:
        (span,) = s.exec(select(DeletedSpan)).all()
        times = [round(p.time.timestamp() * 1000) for p in q.trip_points(s, kept.id)]
    assert min(times) > span.to_ms  # nothing of it from before the deleted part
    steps = np.diff(np.array(times))
    assert steps.max() <= 60_000  # no jump across a hole


def test_deleted_spans_are_forgotten_after_a_while(db):
    pts = points(commute())
    send(db, pts)
    delete_all(db)
    with session(db[0]) as s:
        ingest.finish_idle_trips(s, now_ms=pts[-1].time_ms + 86_400_000)
        assert len(s.exec(select(DeletedSpan)).all()) == 1
    days = dev.DELETED_SPAN_DAYS + 1
    with session(db[0]) as s:
        ingest.finish_idle_trips(s, now_ms=int(time.time() * 1000) + days * 86_400_000)
        assert s.exec(select(DeletedSpan)).all() == []
    send(db, pts)  # the same drive sent again after that: a trip again
    assert len(trips(db)) == 1


def test_a_long_live_drive_in_small_batches_matches_one_upload(db):
    """Appending to an open trip re-cuts only its tail; the result is the same trip as
    cutting the whole log at once (a second device gets it in one batch)."""
    b = TrackBuilder(interval_s=5.0, seed=5).start().stop(120).drive(12_000, 15.0)
    b.stop(120).drive(12_000, 12.0).stop(600)  # 30 min of driving, a 2-min stop, parked
    pts = points(b)
    for start in range(0, len(pts), 15):
        send(db, pts[start : start + 15])
    send(db, pts, device="second phone")
    live, whole = sorted(trips(db), key=lambda t: t.device != DEVICE)
    assert (live.device, whole.device) == (DEVICE, "second phone")
    assert live.recording_state == whole.recording_state == "finished"
    assert live.point_count == whole.point_count
    assert live.distance_m == pytest.approx(whole.distance_m, rel=1e-6)
    assert live.distance_m == pytest.approx(24_000, rel=0.03)


def test_cli_lists_devices_and_sets_their_trip_rules(db, monkeypatch, capsys):
    from kei_drive.cli import main

    monkeypatch.setenv("DATABASE_URL", db[0])
    send(db, points(commute())[:50])
    assert main(["devices", "set", DEVICE, "--gap-min", "15", "--stop-min", "2"]) == 0
    capsys.readouterr()
    assert main(["devices", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["devices"]
    assert (row["name"], row["source"], row["gap_min"], row["stop_min"]) == (
        DEVICE, "owntracks", 15, 2
    )  # fmt: skip
    assert main(["devices", "set", "no such phone", "--gap-min", "10"]) == 2
    err = capsys.readouterr().err
    assert "first fix" in err and f"this account's devices: '{DEVICE}'" in err
    assert main(["devices", "set", DEVICE, "--gap-min", "0.1"]) == 2  # under a minute


def test_devices_set_finds_a_phone_by_its_tokens_name(db, monkeypatch, capsys):
    """OwnTracks (its topic) and GPSLogger (``ser=``) add the phone's own name to the
    token's: ``devices set "Sambar phone"``, as the README says, found no device."""
    from kei_drive.cli import main

    monkeypatch.setenv("DATABASE_URL", db[0])
    send(db, points(commute())[:20], device=f"{DEVICE} · pixel7")
    assert main(["devices", "set", DEVICE, "--gap-min", "12"]) == 0
    capsys.readouterr()
    assert main(["devices", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["devices"]
    assert (row["name"], row["gap_min"]) == (f"{DEVICE} · pixel7", 12)
    send(db, points(commute())[:20], device=f"{DEVICE} · iphone")
    assert main(["devices", "set", DEVICE, "--gap-min", "9"]) == 2
    assert "2 devices send with the token 'Sambar phone'" in capsys.readouterr().err


def test_a_loggers_trips_are_driven_in_its_vehicle_and_measured_against_its_cap(
    db, monkeypatch, capsys
):
    """A logger's trips took no vehicle, so no cap: "time above the cap" was never measured
    (an outside review, a single-vehicle account). They now take the device's vehicle
    (``devices set --vehicle``), else the account's only one."""
    from kei_drive.cli import main

    url, uid = db
    monkeypatch.setenv("DATABASE_URL", url)
    with session(url) as s:
        hijet = q.create_vehicle(s, "Hijet", speed_cap_mph=25).id  # 15 m/s is 33.6 mph
    first = commute()
    send(db, points(first))
    (trip,) = trips(db)
    assert trip.vehicle_id == hijet  # the account's only vehicle
    assert trip.over_cap_s == pytest.approx(5_000 / 15.0, abs=10)
    with session(url) as s:
        carry = q.create_vehicle(s, "Carry", speed_cap_mph=45).id
    second = TrackBuilder(interval_s=5.0, seed=3, t=first.t).stop(600).drive(5_000, 15.0)
    send(db, points(second.stop(600)))
    assert trips(db)[-1].vehicle_id is None  # two vehicles: which one is not guessed
    assert main(["devices", "set", DEVICE, "--vehicle", "carry"]) == 0
    assert "driven in: Carry" in capsys.readouterr().out
    third = TrackBuilder(interval_s=5.0, seed=4, t=second.t).stop(600).drive(5_000, 15.0)
    send(db, points(third.stop(600)))
    last = trips(db)[-1]
    assert last.vehicle_id == carry and last.over_cap_s == 0
    assert main(["devices", "set", DEVICE, "--vehicle", "Sambar"]) == 2
    assert "'Hijet', 'Carry'" in capsys.readouterr().err
    assert main(["devices", "set", DEVICE, "--vehicle", "none"]) == 0
    capsys.readouterr()
    assert main(["devices", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["devices"]
    assert row["vehicle"] is None
    assert main(["devices", "set", DEVICE, "--vehicle", str(carry)]) == 0  # by id too
    with session(url) as s:
        q.delete_vehicle(s, carry)  # its device forgets it (ON DELETE SET NULL)
    with session(url) as s:
        assert dev.list_devices(s, uid)[0].vehicle_id is None


def test_one_server_process_sweeps_at_a_time(db):
    """Several workers share a PostgreSQL database, each with a sweeper: while one sweeps
    (it holds the advisory lock) another skips the minute instead of finishing the same
    trips; SQLite is served by one process and always sweeps."""
    import sqlalchemy as sa

    from kei_drive.db.engine import get_engine

    url, _uid = db
    pts = points(TrackBuilder(interval_s=5.0).start().drive(4_000, 15.0))
    send(db, pts)
    later = pts[-1].time_ms + 3_600_000
    if url.startswith("sqlite"):
        with ingest.sweeping(url) as mine:
            assert mine
        assert ingest.finish_idle(url, now_ms=later) == [trips(db)[0].uuid]
        return
    with get_engine(url).connect() as other_worker:
        lock = sa.text("SELECT pg_try_advisory_lock(:key)")
        assert other_worker.execute(lock, {"key": ingest.SWEEP_LOCK_KEY}).scalar()
        assert ingest.finish_idle(url, now_ms=later) is None
        assert trips(db)[0].recording_state == "recording"
        other_worker.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        other_worker.commit()
    (trip,) = trips(db)
    assert ingest.finish_idle(url, now_ms=later) == [trip.uuid]
    assert trips(db)[0].recording_state == "finished"
    with get_engine(url).connect() as other_worker:  # released after the sweep
        assert other_worker.execute(lock, {"key": ingest.SWEEP_LOCK_KEY}).scalar()
        other_worker.execute(sa.text("SELECT pg_advisory_unlock_all()"))


def test_the_sweep_recomputes_trips_that_older_rules_measured(db, tmp_path):
    """A trip stored before its statistics were versioned (or by older rules) shows the
    figures of those rules: the sweep recomputes it from its stored fixes, once, and
    leaves trips the current rules measured (and recording ones) alone."""
    from kei_drive.core.gpx import to_gpx
    from kei_drive.core.trips import STATS_RULES

    url, uid = db
    gpx = tmp_path / "drive.gpx"
    gpx.write_text(to_gpx(TrackBuilder().start().drive(3_000, 12.0).points))
    with session(url) as s:
        ((old, _),) = trip_import.import_gpx(s, gpx, user_id=uid)
    with session(url) as s:  # as an older version stored it
        trip = s.get(Trip, old.id)
        assert trip.stats_rules == STATS_RULES
        trip.stats_rules, trip.distance_m, trip.max_speed_mps = None, 2_400.0, 30.0
        trip.stats = {**trip.stats, "distance_m": 2_400.0}
        s.add(trip)
    send(
        db,
        points(
            TrackBuilder(interval_s=5.0, t=TrackBuilder().t.replace(year=2025))
            .start()
            .drive(2_000, 15.0)
        ),
    )
    with session(url) as s:
        assert q.outdated_stats(s, 1_000_000) == [old.id]  # not the recording one
    assert ingest.finish_idle(url, now_ms=0) == []
    with session(url) as s:
        trip = s.get(Trip, old.id)
        assert trip.stats_rules == STATS_RULES
        assert trip.distance_m == pytest.approx(3_000, rel=0.01)
        assert trip.stats["distance_m"] == pytest.approx(trip.distance_m, abs=0.1)
        assert trip.max_speed_mps == pytest.approx(12.0, rel=0.05)
        assert q.outdated_stats(s, 1_000_000) == []
    assert ingest.refresh_outdated_stats(url) == []  # once


def test_a_trip_whose_recompute_fails_does_not_stall_the_others(db, tmp_path, monkeypatch):
    from kei_drive.core.gpx import to_gpx
    from kei_drive.core.trips import STATS_RULES

    url, uid = db
    ids = []
    for hour in (0, 2):
        builder = TrackBuilder(t=TrackBuilder().t.replace(hour=hour)).start()
        (tmp_path / f"{hour}.gpx").write_text(to_gpx(builder.drive(2_000, 12.0).points))
        with session(url) as s:
            ((trip, _),) = trip_import.import_gpx(s, tmp_path / f"{hour}.gpx", user_id=uid)
            ids.append(trip.id)
    with session(url) as s:
        for trip_id in ids:
            s.get(Trip, trip_id).stats_rules = None
    real = q.trip_arrays

    def failing(s, trip_id):
        if trip_id == ids[0]:
            raise MemoryError("a trip too big for this machine")
        return real(s, trip_id)

    monkeypatch.setattr(q, "trip_arrays", failing)
    assert ingest.refresh_outdated_stats(url) == [ids[1]]
    with session(url) as s:
        assert q.outdated_stats(s, 1_000_000) == []  # the failed one is not tried each minute
        assert s.get(Trip, ids[0]).stats_rules == STATS_RULES


def test_the_app_server_sweeps_from_its_start_without_any_upload(tmp_path):
    """After a restart no logger may upload for days: the app's lifespan task starts the
    sweeper, which finishes a quiet phone's trip with no request at all. In a process of
    its own (the sweeper thread lives as long as the process)."""
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    pts = points(TrackBuilder(interval_s=5.0).start().drive(4_000, 15.0))
    send((url, uid), pts)  # the phone's last upload, long ago
    assert trips((url, uid))[0].recording_state == "recording"
    probe = (
        "import time\n"
        "from kei_drive.kei_drive import app\n"
        "from kei_drive.ingest_api import start_sweeper\n"
        "assert start_sweeper in app.get_lifespan_tasks()\n"
        "for task in app.get_lifespan_tasks():\n"
        "    task()\n"  # as Reflex calls a plain function when the server starts
        "time.sleep(4)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KEI_DRIVE_HOME": str(tmp_path),
        "KEI_DRIVE_INGEST_SWEEP_S": "0.5",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (trip,) = trips((url, uid))
    assert trip.recording_state == "finished"


def _tracker_days() -> TrackBuilder:
    """A tracker sending a fix a minute with its speed: two days with a drive on a straight
    road, a third with one on a winding road whose fixes are 57 % of the road apart."""
    track = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=21).start()
    for day in range(3):
        track.stop(8 * 3600, jitter_m=5.0, report_speed=True)  # (a night's fixes: faster)
        if day < 2:
            track.drive(9_000, 12.0, north=day == 0, report_speed=True)
        else:
            track.wind(9_000, 12.0)
    return track.stop(3600, jitter_m=5.0, report_speed=True)


def send_queue(db, pts: list[q.PointIn]) -> None:
    day_ms = 24 * 3600 * 1000
    for first in range(0, len(pts), 500):  # as the app uploads its queue, in batches
        send(db, pts[first : first + 500], now_ms=pts[-1].time_ms + day_ms)


def test_a_trackers_drive_is_measured_by_its_speed_as_the_devices_log_is(db):
    """On their own, the winding drive's dozen fixes cannot tell its speed field from one in
    knots (1.7x their lines), so it was measured by its lines, 42 % short; the device's log
    of days (two straight drives its speed matched) holds the speed to its lines, as
    ``trips import`` does with a file."""
    send_queue(db, points(_tracker_days(), with_speed=True))
    found = trips(db)
    assert [t.recording_state for t in found] == ["finished"] * 3
    # (-4 % at most: the built truck is at full speed a fix after standing)
    assert [t.distance_m for t in found] == [pytest.approx(9_000, rel=0.045)] * 3
    assert found[2].speed_verdict is True  # (the straight days alone: a speed copied from
    # the lines, so no verdict; the built drive's speed is exactly its steps)
    with session(db[0]) as s:  # the sweeper's recompute measures it alike
        again = [q.refresh_stats(s, s.get(Trip, t.id)).distance_m for t in found]
    assert again == [pytest.approx(t.distance_m, abs=0.01) for t in found]


def test_the_sweep_measures_a_loggers_older_trips_by_its_devices_log(db):
    """A logger's trip finished before the device's log judged its speed (``STATS_RULES``
    6: on its own fixes, as its lines) is measured again by the sweep as it is now."""
    from kei_drive.core.trips import compute_stats

    url = db[0]
    send_queue(db, points(_tracker_days(), with_speed=True))
    winding = trips(db)[2]
    with session(url) as s:  # as the older version stored it
        trip = s.get(Trip, winding.id)
        old = compute_stats(replace(q.trip_arrays(s, trip.id), speed_verdict=None))
        q.store_stats(trip, old)
        trip.stats_rules, trip.speed_verdict = 6, None
        s.add(trip)
    assert old.distance_m == pytest.approx(5_200, rel=0.05)
    assert ingest.refresh_outdated_stats(url) == [winding.id]
    with session(url) as s:
        trip = s.get(Trip, winding.id)
        assert trip.distance_m == pytest.approx(9_000, rel=0.045)
        assert trip.speed_verdict is True


def test_a_move_whose_fixes_read_a_speed_of_0_is_measured_by_its_positions(db):
    """The device's log holds its speed to its lines, but a move's fixes all read 0 (taken
    at red lights, or a GPS that lost its speed): it parked 3 km away, so its positions
    measure it, not a speed that says it stood."""
    track = _tracker_days()
    moved_from = len(track.points)
    track.drive(3_000, 10.0)
    track.points[moved_from:] = [replace(p, speed_mps=0.0) for p in track.points[moved_from:]]
    track.stop(3600, jitter_m=5.0, report_speed=True)
    send_queue(db, points(track, with_speed=True))
    *_, moved = trips(db)
    assert moved.recording_state == "finished"
    assert moved.distance_m == pytest.approx(3_000, rel=0.1)
    with session(db[0]) as s:  # the sweeper's recompute measures it alike
        again = q.refresh_stats(s, s.get(Trip, moved.id)).distance_m
    assert again == pytest.approx(moved.distance_m, abs=0.01)


def test_a_lone_stray_fix_while_parked_makes_no_trip_two_hours_later(db):
    """Parked 3 h, a fix a minute, each sent alone (GPSLogger); one network fix 1.5 km off
    at 02:30. When the fix of 04:30 came, the window of fixes cut again began 2 h back, at
    the stray: taken for where the truck stood, its return read as a drive (an outside check:
    a finished trip "02:30 -> 02:31, 0.9 mi" stayed; 38 such trips in a parked night)."""
    import math
    import random

    rng = random.Random(1)
    t0 = 1_777_860_000_000  # 2026-05-04 02:00 UTC
    lat0, lon0 = 39.96, -83.0
    for i in range(181):
        off, acc = (1500.0, 1500.0) if i == 30 else (abs(rng.gauss(0, 3)), 10.0)
        bearing = rng.uniform(0, 2 * math.pi)
        fix = q.PointIn(
            client_id=str(i),
            time_ms=t0 + 60_000 * i,
            lat=lat0 + off * math.cos(bearing) / 111_195,
            lon=lon0 + off * math.sin(bearing) / (111_195 * math.cos(math.radians(lat0))),
            accuracy_m=acc,
            speed_mps=0.0,
        )
        send(db, [fix], now_ms=fix.time_ms + 2_000, source="gpslogger")
    assert trips(db) == []
