"""Database layer on real databases: migrations from empty, drift, queries, GPX import."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from kei_drive.core.gpx import GpxError, TrackPoint, read_gpx, to_gpx
from kei_drive.core.units import mph_to_mps
from kei_drive.db import get_engine, migrate, session, trip_export
from kei_drive.db import queries as q
from kei_drive.db.migrate import current_revision, head_revision
from kei_drive.presenters.format import fmt_duration
from kei_drive.presenters.trips import trip_dict
from kei_drive.presenters.vehicles import vehicle_dict
from kei_drive.services.trips import finish_trip, import_gpx
from tests.conftest import GPX_FIXTURES as FIXTURES
from tests.conftest import needs_fixtures
from tests.support.trips import TrackBuilder, fresh_db_url

TABLES = {"users", "vehicles", "trips", "track_points", "alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    url = fresh_db_url(request.param, tmp_path)
    migrate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path):
    url = fresh_db_url("sqlite", tmp_path)
    migrate(url)
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_from_empty_database_creates_all_tables(kind, tmp_path):
    url = fresh_db_url(kind, tmp_path)
    assert not set(sa.inspect(get_engine(url)).get_table_names()) & TABLES
    migrate(url)
    inspector = sa.inspect(get_engine(url))
    assert set(inspector.get_table_names()) >= TABLES
    assert current_revision(url) == head_revision() is not None
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("track_points")}
    assert ("trip_id", "client_id") in uniques
    indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("track_points")}
    assert ("trip_id", "time_ms") in indexes
    migrate(url)  # a second run is a no-op
    assert current_revision(url) == head_revision()


def test_a_migration_that_copies_a_table_keeps_the_rows_that_refer_to_it(tmp_path):
    """SQLite: a batch migration copies a table and drops the old one; with foreign keys
    on, the drop cascaded: migration 0009 (a key on ``ingest_devices``) deleted every
    logger fix. Migrations run with them off: a database at 0008 keeps its fixes, and its
    track points through 0011 (a column on ``trips``), by the app and by the alembic
    command line (down and up again), which had them on."""
    from alembic import command
    from kei_drive.db.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = alembic_config(url)
    with get_engine(url).begin() as connection:  # foreign keys on, as the app has them
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0008")
        connection.exec_driver_sql(
            "INSERT INTO users (id, username, display_name, created_at, role) "
            "VALUES (1, 'local', 'Local', '2026-12-01', 'owner')"
        )
        connection.exec_driver_sql(
            "INSERT INTO ingest_devices (id, user_id, name, source, gap_s, stop_s, created_at) "
            "VALUES (1, 1, 'phone', 'owntracks', 300, 300, '2026-12-01')"
        )
        for k in range(50):
            connection.exec_driver_sql(
                "INSERT INTO device_fixes (device_id, time_ms, lat, lon) "
                "VALUES (1, ?, 39.3, -76.6)",
                (1_790_000_000_000 + 1000 * k,),
            )
        connection.exec_driver_sql(
            "INSERT INTO trips (id, uuid, user_id, name, source, recording_state, distance_m, "
            "states, point_count, created_at, updated_at) VALUES (1, 'u1', 1, 'Drive', "
            "'recorded', 'finished', 0, '[]', 30, '2026-12-01', '2026-12-01')"
        )
        for k in range(30):
            connection.exec_driver_sql(
                "INSERT INTO track_points (trip_id, client_id, seq, lat, lon) "
                "VALUES (1, ?, ?, 39.3, -76.6)",
                (f"p{k}", k),
            )

    def counts() -> tuple[int, int]:
        with get_engine(url).connect() as connection:
            fixes = connection.exec_driver_sql("SELECT count(*) FROM device_fixes").scalar()
            points = connection.exec_driver_sql("SELECT count(*) FROM track_points").scalar()
        return fixes, points

    migrate(url)
    assert current_revision(url) == head_revision()
    assert counts() == (50, 30)
    with get_engine(url).connect() as connection:
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    assert keys == 1  # and the engine's connections have them on again
    command_line = alembic_config(url)  # no connection given: alembic's own, as its CLI
    command.downgrade(command_line, "0010")
    command.upgrade(command_line, "head")
    assert counts() == (50, 30)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_models_and_migrations_do_not_drift(kind, tmp_path):
    url = fresh_db_url(kind, tmp_path)
    migrate(url)
    with get_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"models differ from the migrations; add a revision: {diff}"


def test_models_are_registered_with_reflex_by_the_app_not_by_the_db_package():
    import subprocess
    import sys

    def run(code: str) -> str:  # a fresh process: this one may hold another rx.App
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    # the CLI and API pay nothing for Reflex
    assert run("import sys, kei_drive.db.queries; print('reflex' in sys.modules)") == "False"
    names = run(
        "import reflex as rx, kei_drive.kei_drive; "
        "print(' '.join(sorted(m.__tablename__ for m in rx.ModelRegistry.get_models())))"
    ).split()
    assert {"users", "vehicles", "trips", "track_points"} <= set(names)


def test_vehicles_and_import_eligibility(db_url):
    with session(db_url) as s:
        v = q.create_vehicle(
            s,
            "Sammy",
            make="Subaru",
            model="Sambar",
            model_year=1991,
            manufacture_month="1991-3",
            speed_cap_mph=45,
            home_state="co",
        )
        vid = v.id
    with session(db_url) as s:
        v = q.get_vehicle(s, vid)
        assert (v.manufacture_month, v.home_state, v.user_id) == (
            "1991-03",
            "CO",
            q.local_user(s).id,
        )
        d = vehicle_dict(v, today=date(2024, 1, 1))
        assert d["title"] == "1991 Subaru Sambar"
        assert d["import_eligibility"]["eligible_on"] == "2016-03-01"
        q.update_vehicle(s, vid, speed_cap_mph=40.5, nickname="Sam")
        assert [x.nickname for x in q.list_vehicles(s)] == ["Sam"]
        for bad in (
            {"speed_cap_mph": -3},
            {"home_state": "Colorado"},
            {"colour": "red"},
            {"manufacture_month": "March"},
            {"nickname": " "},
        ):
            with pytest.raises(ValueError):
                q.update_vehicle(s, vid, **bad)
        with pytest.raises(q.NotFound):
            q.get_vehicle(s, 999)


def _record(s, builder: TrackBuilder, uuid: str, vehicle_id=None):
    trip, created = q.ensure_trip(s, uuid, vehicle_id=vehicle_id)
    points = [
        q.PointIn(f"p{i}", round(p.time.timestamp() * 1000), p.lat, p.lon, accuracy_m=5.0)
        for i, p in enumerate(builder.points)
    ]
    return trip, created, points


def test_a_recording_that_never_left_one_spot_is_marked_and_left_out_of_totals(db_url):
    """Issue 11, point 8: a log of no movement is kept marked "no movement", and the totals
    count drives only (a careful driver does not count a parked phone as a trip)."""
    parked = TrackBuilder(seed=4).start(jitter_m=3.0).stop(180, jitter_m=3.0)
    driven = TrackBuilder(seed=4, t=parked.t + timedelta(hours=1)).start().drive(2_000, 12.0)
    uuids = ["00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"]
    with session(db_url) as s:
        vid = q.create_vehicle(s, "Sam").id
        for uuid, track in zip(uuids, (parked, driven), strict=True):
            trip, _, points = _record(s, track, uuid, vid)
            q.add_points(s, trip, points)
            finish_trip(s, trip)
    with session(db_url) as s:
        still, drive = (trip_dict(q.get_trip(s, u)) for u in uuids)
        assert still["stats"]["distance_m"] < 50 and still["recording_state"] == "finished"
        assert still["warnings"] == ["no movement: it never left one spot"]
        assert drive["warnings"] == []
        (sam,) = q.totals_per_vehicle(s)
        assert sam.trips == 1 and sam.distance_m == pytest.approx(2_000, rel=0.01)
        assert [m.trips for m in q.totals_per_month(s)] == [1]
        assert q.list_trips(s).total == 2  # kept, and listed with its mark


def test_a_new_cap_measures_the_vehicles_trips_again(db_url, monkeypatch):
    """A cap changed from 45 to 35 mph in the Garage left its trips at "0 s above the cap
    (45 mph)" for good, beside a map and chart drawn at 35. Now their statistics are
    outdated and the sweeper (or ``trips recheck``) measures them against the new cap;
    a vehicle deleted leaves its trips with no cap at all."""
    from kei_drive.services.ingest import refresh_outdated_stats

    monkeypatch.setenv("DATABASE_URL", db_url)
    track = TrackBuilder().start().drive(3_000, 18.0)  # 40 mph for 167 s
    uuid = "6f1c1a44-0000-4000-8000-0000000000c1"
    with session(db_url) as s:
        vid = q.create_vehicle(s, "Hijet", speed_cap_mph=45).id
        trip, _, points = _record(s, track, uuid, vid)
        q.add_points(s, trip, points)
        finish_trip(s, trip)
        assert q.get_trip(s, uuid).over_cap_s == 0
        q.update_vehicle(s, vid, nickname="Hijet 2")  # no new cap: nothing to measure
        assert q.outdated_stats(s, 10**9) == []
        q.update_vehicle(s, vid, speed_cap_mph=35)
        assert q.outdated_stats(s, 10**9) == [q.get_trip(s, uuid).id]
    assert refresh_outdated_stats(db_url)
    with session(db_url) as s:
        stored = q.get_trip(s, uuid)
        assert stored.over_cap_s == pytest.approx(3_000 / 18.0, abs=3)
        assert stored.cap_mps == pytest.approx(35 * 0.44704, rel=1e-3)
        q.delete_vehicle(s, vid)
    assert refresh_outdated_stats(db_url)
    with session(db_url) as s:
        stored = q.get_trip(s, uuid)
        assert stored.cap_mps is None and not stored.over_cap_s


def test_monthly_totals_group_by_the_viewers_month(db_url):
    """A Friday-evening drive in California (02:34 UTC on Saturday 1 July) was counted in
    July: the month in the viewer's zone is June."""
    from zoneinfo import ZoneInfo

    evening = TrackBuilder(t=datetime(2017, 7, 1, 2, 34, tzinfo=UTC)).start().drive(2_000, 12.0)
    with session(db_url) as s:
        trip, _, points = _record(s, evening, "00000000-0000-4000-8000-0000000000e1")
        q.add_points(s, trip, points)
        finish_trip(s, trip)
        assert [m.key for m in q.totals_per_month(s)] == ["2017-07"]
        pacific = q.totals_per_month(s, zone=ZoneInfo("America/Los_Angeles"))
        assert [(m.key, m.trips) for m in pacific] == [("2017-06", 1)]


def test_a_trip_named_in_its_own_zone_is_counted_in_its_own_month(db_url):
    """A trip finished with the phone's zone (California) shows "Jun 30, 7:34 PM PDT" on its
    page wherever it is viewed; its month is June for a viewer in New York too, as shown.
    Finishing it again from elsewhere keeps the zone, as it keeps the name."""
    from zoneinfo import ZoneInfo

    evening = TrackBuilder(t=datetime(2017, 7, 1, 2, 34, tzinfo=UTC)).start().drive(2_000, 12.0)
    with session(db_url) as s:
        trip, _, points = _record(s, evening, "00000000-0000-4000-8000-0000000000e2")
        q.add_points(s, trip, points)
        finish_trip(s, trip, zone=ZoneInfo("America/Los_Angeles"))
        finish_trip(s, trip, zone=ZoneInfo("America/New_York"))
        assert (trip.time_zone, trip.name) == ("America/Los_Angeles", "2017-06-30 19:34 PDT (CO)")
        eastern = q.totals_per_month(s, zone=ZoneInfo("America/New_York"))
        assert [(m.key, m.trips) for m in eastern] == [("2017-06", 1)]


def test_points_are_stored_once_and_stats_computed(db_url):
    track = TrackBuilder().start().drive(2_000, 20.0).drive(1_000, 10.0)
    uuid = "6f1c1a44-0000-4000-8000-000000000001"
    with session(db_url) as s:
        v = q.create_vehicle(s, "Sammy", speed_cap_mph=35)  # 15.6 m/s
        trip, created, points = _record(s, track, uuid, v.id)
        assert created
        assert q.add_points(s, trip, points[:60]) == (60, 0)
        assert q.add_points(s, trip, points[:60]) == (0, 60)  # a retried batch
        assert q.add_points(s, trip, points[50:]) == (len(points) - 60, 10)
        again, created = q.ensure_trip(s, uuid.upper())
        assert not created and again.id == trip.id
        stats = finish_trip(s, trip)
    assert stats.points == len(points) == trip.point_count
    assert stats.distance_m == pytest.approx(3_000, rel=0.01)
    assert stats.over_cap_s == pytest.approx(100, abs=5)
    with session(db_url) as s:
        row = q.get_trip(s, uuid)
        stored = q.trip_points(s, row.id)
        assert len(stored) == len(points)
        trip = trip_dict(row, q.trip_vehicle(s, row))
        assert trip["stats"]["distance_m"] == pytest.approx(3_000, rel=0.01)
        assert trip["vehicle"] == "Sammy" and trip["recording_state"] == "finished"
        assert stored[0].time == track.points[0].time
        assert f"above cap for {fmt_duration(stats.over_cap_s)}" in trip["warnings"]
        assert " UTC" in trip["name"]  # finishing names an unnamed trip by its start


def test_list_pagination_totals_rename_delete(db_url):
    with session(db_url) as s:
        a = q.create_vehicle(s, "A").id
        b = q.create_vehicle(s, "B").id
        uuids = []
        for i in range(5):
            lat = 40.0 + i * 0.1
            track = TrackBuilder(lat=lat, t=TrackBuilder().t.replace(month=1 + i)).start()
            track.drive(1_000 * (i + 1), 10.0)
            uuid = f"00000000-0000-4000-8000-00000000000{i}"
            trip, _, points = _record(s, track, uuid, a if i % 2 == 0 else b)
            q.add_points(s, trip, points)
            finish_trip(s, trip)
            uuids.append(uuid)
    with session(db_url) as s:
        page1 = q.list_trips(s, page=1, per_page=2)
        page3 = q.list_trips(s, page=3, per_page=2)
        assert page1.total == 5 and page1.pages == 3
        assert [t.uuid for t, _ in page1.items] == [uuids[4], uuids[3]]  # newest first
        assert [t.uuid for t, _ in page3.items] == [uuids[0]]
        assert page1.items[0][1].nickname == "A"
        per_vehicle = {t.key: t for t in q.totals_per_vehicle(s)}
        assert per_vehicle["A"].trips == 3 and per_vehicle["B"].trips == 2
        assert per_vehicle["A"].distance_m == pytest.approx(9_000, rel=0.01)
        months = q.totals_per_month(s)
        assert [m.key for m in months] == ["2024-05", "2024-04", "2024-03", "2024-02", "2024-01"]
        assert months[0].distance_m == pytest.approx(5_000, rel=0.01)
        assert q.rename_trip(s, uuids[0], "  Farm loop ").name == "Farm loop"
        with pytest.raises(ValueError):
            q.rename_trip(s, uuids[0], "   ")
        trip_id = q.get_trip(s, uuids[1]).id
        q.delete_trip(s, uuids[1])
    with session(db_url) as s:
        with pytest.raises(q.NotFound):
            q.get_trip(s, uuids[1])
        left = s.execute(
            sa.text("SELECT count(*) FROM track_points WHERE trip_id = :t"), {"t": trip_id}
        ).scalar()
        assert left == 0
        assert q.list_trips(s).total == 4
        q.delete_vehicle(s, a)
        assert q.get_trip(s, uuids[0]).vehicle_id is None


def _two_tracks(a, b) -> str:
    """A GPX file with two tracks (``to_gpx`` writes one)."""
    second = to_gpx([b])
    trk = second[second.index("<trk>") : second.index("</trk>") + len("</trk>")]
    return to_gpx([a]).replace("</trk>", "</trk>" + trk)


def test_import_gpx_splits_on_long_gaps_and_handles_untimed(sqlite_url):
    first = TrackBuilder().start().drive(2_000, 10.0)
    first.t += timedelta(hours=2)  # a long break: the rest is another trip
    first.drive(500, 10.0)
    untimed = TrackBuilder(lat=41.0).start().drive(1_500, 10.0, timed=False).points
    untimed[0] = TrackPoint(untimed[0].lat, untimed[0].lon, None)
    gpx = _two_tracks(first.points, untimed)
    with session(sqlite_url) as s:
        created = import_gpx(s, gpx, name="Saturday")
        assert [t.name for t, _ in created] == [
            "Saturday (1/3)",
            "Saturday (2/3)",
            "Saturday (3/3)",
        ]
        dists = [st.distance_m for _, st in created]
        assert dists[0] == pytest.approx(2_000, rel=0.01)
        assert dists[1] == pytest.approx(500, rel=0.03)
        assert dists[2] == pytest.approx(1_500, rel=0.01)
        assert created[2][1].elapsed_s is None and created[2][0].started_at is None
        assert all(t.source == "imported" and t.recording_state == "finished" for t, _ in created)
        uuid = created[0][0].uuid
    with session(sqlite_url) as s:
        back = read_gpx(trip_export.export_gpx(s, uuid))[0]
        assert len(back) == created[0][1].points
        assert back[0].time == first.points[0].time
        geo = trip_export.export_geojson(s, uuid)
        assert geo["features"][0]["properties"]["stats"]["distance_m"] == pytest.approx(
            2_000, rel=0.01
        )


@pytest.mark.parametrize(("fixes", "offset"), [(1, timedelta(days=1)), (3, timedelta(hours=-1))])
def test_a_wrong_time_stamp_mid_drive_does_not_cut_the_import_in_two(sqlite_url, fixes, offset):
    """A fix stamped a day late (or three an hour early) mid-drive is re-timed, as the
    statistics do, before the log is cut at 30-minute pauses: it was two trips."""
    drive = TrackBuilder().start().drive(4_000, 12.0).points
    mid = len(drive) // 2
    for k in range(mid, mid + fixes):
        drive[k] = TrackPoint(drive[k].lat, drive[k].lon, drive[k].time + offset, accuracy_m=5.0)
    with session(sqlite_url) as s:
        ((trip, stats),) = import_gpx(s, to_gpx(drive))
        assert stats.distance_m == pytest.approx(4_000, rel=0.01)
        assert stats.elapsed_s == pytest.approx(4_000 / 12.0, abs=2)
        assert trip.point_count == len(drive)


@needs_fixtures
def test_segments_of_a_merged_file_out_of_time_order_are_separate_trips(sqlite_url):
    """The Boulder fixture's tracks merged into one track, each fix moved by 8 m of noise
    (so its two copies of a walk no longer share fixes and stay in file order): a piece
    driven a day later came first, and the two were joined as one trip whose time went
    back 25 h: elapsed -83,135 s, top speed 100.6 mph. A step back in time longer than a
    pause is a cut, as a step forward is."""
    rng = np.random.default_rng(1)
    segments = [
        [
            replace(
                p,
                lat=p.lat + rng.normal(0, 8) / 111_320,
                lon=p.lon + rng.normal(0, 8) / 85_000,
                speed_mps=None,
            )
            for p in seg
        ]
        for seg in read_gpx(FIXTURES / "co_boulder_mixed_walk_drive.gpx")
    ]
    with session(sqlite_url) as s:
        trips = import_gpx(s, to_gpx(segments))
    assert len(trips) >= 5
    for _trip, stats in trips:
        assert stats.elapsed_s >= 0
        assert stats.max_speed_mps is None or stats.max_speed_mps < mph_to_mps(60)


@pytest.mark.parametrize("thinned_first", [True, False])
def test_one_log_in_two_tracks_of_a_file_is_stored_once(sqlite_url, thinned_first):
    """A file holding a walk twice, once thinned with three more fixes at its end (the
    Boulder fixture): it was stored as two trips and counted twice in the totals. The
    track with more fixes is kept, whichever comes first, and a note says so."""
    drive = TrackBuilder().start().drive(3_000, 12.0).points
    end = drive[-1]
    extra = [
        TrackPoint(end.lat + k * 5e-5, end.lon, end.time + timedelta(seconds=20 * k))
        for k in (1, 2, 3)
    ]  # standing within 20 m of the end: no drive of its own
    thinned = drive[::3] + extra
    a, b = (thinned, drive) if thinned_first else (drive, thinned)
    notes: list[str] = []
    with session(sqlite_url) as s:
        ((trip, stats),) = import_gpx(s, _two_tracks(a, b), notes_out=notes)
        assert trip.point_count == len(drive)
        assert stats.distance_m == pytest.approx(3_000, rel=0.01)
    assert any("repeats the fixes of another part" in note for note in notes)


def test_bad_gpx_leaves_database_untouched(sqlite_url):
    with session(sqlite_url) as s:
        for bad in ("<gpx><trk>", "<html/>", '<gpx version="1.1"></gpx>'):
            with pytest.raises(GpxError):
                import_gpx(s, bad)
    with session(sqlite_url) as s:
        assert q.list_trips(s).total == 0


@needs_fixtures
def test_import_real_files(sqlite_url):
    with session(sqlite_url) as s:
        v = q.create_vehicle(s, "Sammy", speed_cap_mph=45)
        ((trip, stats),) = import_gpx(
            s, FIXTURES / "il_i55_chenoa_pontiac_vpl.gpx", vehicle_id=v.id
        )
        assert stats.distance_m == pytest.approx(14_500, rel=0.01)
        assert stats.over_cap_s == pytest.approx(499, abs=5)
        assert trip.states == ["IL"] and trip.point_count == 500
        boulder = import_gpx(s, FIXTURES / "co_boulder_mixed_walk_drive.gpx")
        assert len(boulder) > 3
        assert all(st.max_speed_mps is None or st.max_speed_mps < 30 for _, st in boulder)


def test_the_same_log_from_another_file_is_found_on_either_database(db_url):
    """The rule of ``same_trip_ids`` (time span, count, positions at fixes spread over the
    log) on SQLite and PostgreSQL: a copy rounded to 5 decimals and stripped of its
    accuracy is the stored trip, and so is a thinned part of it; the same drive 25 m further
    north all along is not."""
    from dataclasses import replace

    from kei_drive.db.trip_import import AlreadyImported
    from tests.support.trips import M_PER_DEG_LAT

    drive = TrackBuilder().start().drive(3_000, 12.0).points
    copy = [replace(p, lat=round(p.lat, 5), lon=round(p.lon, 5), accuracy_m=None) for p in drive]
    convoy = [replace(p, lat=p.lat + 25.0 / M_PER_DEG_LAT) for p in drive]
    with session(db_url) as s:
        ((stored, _),) = import_gpx(s, to_gpx(drive))
        with pytest.raises(AlreadyImported, match=f"trip {stored.id}"):
            import_gpx(s, to_gpx(copy))
        with pytest.raises(AlreadyImported, match=f"trip {stored.id}"):  # a thinned part
            import_gpx(s, to_gpx(copy[10 : len(copy) // 2 : 2]))
        ((other, _),) = import_gpx(s, to_gpx(convoy))
        assert other.id != stored.id


@pytest.mark.parametrize("stamp", ["%Y-%m-%dT%H:%MZ", "%Y-%m-%d"])
def test_a_log_stamped_to_the_minute_or_the_day_is_a_trip(sqlite_url, stamp):
    """Every step of 0 s read as a jump: a 5 km drive stamped to the minute (or with its
    date alone) was refused as "no movement in this log". A minute's fixes are spread over
    it; one stamp for all is no time at all."""
    drive = TrackBuilder().start().drive(5_000, 12.0).points
    times = iter([p.time.strftime(stamp) for p in drive])
    coarse = re.sub(r"<time>[^<]*</time>", lambda _m: f"<time>{next(times)}</time>", to_gpx(drive))
    with session(sqlite_url) as s:
        ((_trip, stats),) = import_gpx(s, coarse)
    assert stats.distance_m == pytest.approx(5_000, rel=0.02)
    if stamp.endswith("%MZ"):
        assert stats.max_speed_mps == pytest.approx(12.0, rel=0.05)
    else:
        assert stats.elapsed_s is None
