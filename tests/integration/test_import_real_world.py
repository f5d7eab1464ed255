"""``kei-drive trips import`` on what real logs bring: the same file twice, a log that never
moved, UTF-16 and Latin-1 files, and a big file stored in bulk."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import TrackPoint, to_gpx
from tests.support.trips import M_PER_DEG_LAT, T0, TrackBuilder


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'import.db'}")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _drive_gpx(tmp_path, name="drive.gpx", encoding=None) -> str:
    track = TrackBuilder().start().drive(3_000, 12.0)
    text = to_gpx(track.points, name="Hollow Road")
    path = tmp_path / name
    if encoding:
        text = text.replace("encoding='UTF-8'", f"encoding='{encoding}'").replace(
            'encoding="UTF-8"', f'encoding="{encoding}"'
        )
        path.write_bytes(text.replace("Hollow Road", "Hollow Road café").encode(encoding))
    else:
        path.write_text(text)
    return str(path)


def test_the_same_file_twice_is_already_imported(db, tmp_path, capsys):
    gpx = _drive_gpx(tmp_path)
    code, out, err = run(capsys, "trips", "import", gpx, "--json")
    assert code == 0, err
    (first,) = json.loads(out)["trips"]
    # the same fixes in another file (re-exported, other formatting) are the same log
    again = tmp_path / "copy.gpx"
    again.write_text(Path(gpx).read_text().replace("<trkpt", "\n  <trkpt"))
    code, out, err = run(capsys, "trips", "import", str(again), "--json")
    assert code == 2
    assert "already imported" in err and str(first["id"]) in err
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 1


def test_a_log_without_movement_makes_no_trip(db, tmp_path, capsys):
    still = [TrackPoint(40.0, -105.0, T0), TrackPoint(40.0, -105.0, T0.replace(second=30))]
    path = tmp_path / "still.gpx"
    path.write_text(to_gpx(still))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 2 and "no movement" in err
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 0


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1"])
def test_utf16_and_latin1_files_are_imported(db, tmp_path, capsys, encoding):
    gpx = _drive_gpx(tmp_path, encoding=encoding)
    code, out, err = run(capsys, "trips", "import", gpx, "--json")
    assert code == 0, err
    (trip,) = json.loads(out)["trips"]
    assert trip["name"] == "Hollow Road café"
    assert trip["stats"]["distance_m"] == pytest.approx(3_000, rel=0.02)


def test_garbled_times_cost_a_trip_nothing(db, tmp_path, capsys):
    """With every tenth time garbled a trip reads as the clean log does (those fixes left
    out, and said), and a log with every time garbled is an undated trip (it was refused,
    exit 2: "no valid track or route points")."""
    clean = Path(_drive_gpx(tmp_path))
    text = clean.read_text()
    stamps = text.split("<time>")
    garbled = "<time>".join(
        part if k % 10 != 5 else "garbled" + part[part.index("</time>") :]
        for k, part in enumerate(stamps)
    )
    (tmp_path / "garbled.gpx").write_text(garbled)
    code, out, err = run(capsys, "trips", "import", str(clean), "--json")
    assert code == 0, err
    (expected,) = json.loads(out)["trips"]
    monkey_db = tmp_path / "other.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{monkey_db}")
        code, out, err = run(capsys, "trips", "import", str(tmp_path / "garbled.gpx"), "--json")
        assert code == 0, err
        answer = json.loads(out)
        (trip,) = answer["trips"]
        (note,) = answer["notes"]
        count = sum(k % 10 == 5 for k in range(1, len(stamps)))
        assert note == (
            f"{count} points of the file were left out; the first: point #5 of track 1 "
            "segment 1 has a bad time 'garbled'."
        )
        assert trip["stats"]["points"] == expected["stats"]["points"] - count
        for key in ("distance_m", "moving_s", "elapsed_s", "max_speed_mps"):
            assert trip["stats"][key] == pytest.approx(expected["stats"][key], rel=0.01), key
        every = tmp_path / "every.gpx"
        every.write_text(
            "<time>".join(
                part if k == 0 else "garbled" + part[part.index("</time>") :]
                for k, part in enumerate(stamps)
            )
        )
        code, out, err = run(capsys, "trips", "import", str(every), "--json")
        assert code == 0, err  # an undated trip, as a log written without times
        answer = json.loads(out)
        (undated,) = answer["trips"]
        assert answer["notes"][0].startswith(
            f"{len(stamps) - 1} points' times could not be read, so they are read as untimed"
        )
        assert undated["started_at"] is None
        assert undated["stats"]["distance_m"] == pytest.approx(3_000, rel=0.02)


def test_bulk_insert_keeps_every_fix_in_order(db, tmp_path, capsys):
    track = TrackBuilder(interval_s=1.0).start().drive(50_000, 12.0)  # ~4,200 fixes
    path = tmp_path / "long.gpx"
    path.write_text(to_gpx(track.points))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    (trip,) = json.loads(out)["trips"]
    code, out, _ = run(capsys, "trips", "export", str(trip["id"]), "--format", "geojson")
    coords = json.loads(out)["features"][0]["geometry"]["coordinates"]
    assert len(coords) == len(track.points) == trip["stats"]["points"]
    assert [c[1] for c in coords] == pytest.approx([p.lat for p in track.points])


def _phone_log_gpx(path: Path, drive, with_speed: bool) -> str:
    """A phone's log as GPX: with its accuracy and Doppler speed, or (a copy passed through
    a tool that keeps only positions, to 5 decimals, and times) without them."""
    from datetime import UTC, datetime

    digits = 7 if with_speed else 5
    points = [
        TrackPoint(
            round(float(lat), digits),
            round(float(lon), digits),
            datetime.fromtimestamp(float(t), UTC),
            accuracy_m=float(acc) if with_speed else None,
            speed_mps=float(v) if with_speed else None,
        )
        for lat, lon, t, acc, v in zip(
            drive.lat, drive.lon, drive.t, drive.accuracy, drive.speed, strict=True
        )
    ]
    path.write_text(to_gpx(points, name="Errand"))
    return str(path)


def test_a_copy_without_accuracy_and_speed_is_already_imported(db, tmp_path, capsys):
    """The same fixes are the same log, whatever else a copy kept: a tool that rounds the
    positions and drops the accuracy and speed changes how the drive is measured (its
    length, here by 6 %), not which drive it is."""
    from tests.support.trips import city_drive

    drive = city_drive(1, "stopgo")
    full = _phone_log_gpx(tmp_path / "phone.gpx", drive, with_speed=True)
    bare = _phone_log_gpx(tmp_path / "bare.gpx", drive, with_speed=False)
    code, out, err = run(capsys, "trips", "import", full, "--json")
    assert code == 0, err
    (first,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", bare, "--json")
    assert code == 2, out
    assert f"already imported (trip {first['id']})" in err
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 1


def test_another_vehicles_drive_over_the_same_minutes_is_a_trip_of_its_own(db, tmp_path, capsys):
    """Two trucks in convoy: the same start, end and number of fixes, the same first fix
    (parked side by side), but the second one 25 m behind all the way. Not the same log."""
    from dataclasses import replace

    from tests.support.trips import M_PER_DEG_LAT, city_drive

    lead = city_drive(0, "city")
    behind = replace(lead, lat=lead.lat - 25.0 / M_PER_DEG_LAT)
    behind.lat[0] = lead.lat[0]
    for name, drive in (("lead.gpx", lead), ("behind.gpx", behind)):
        code, out, err = run(
            capsys, "trips", "import", _phone_log_gpx(tmp_path / name, drive, True), "--json"
        )
        assert code == 0, err
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 2


def test_a_tracker_left_on_while_parked_makes_a_trip_per_drive(db, tmp_path, capsys):
    """A tracker's export: a fix a minute for three days, parked all but 11 minutes a day.
    Cut only where fixes pause, it was one trip of three days; a careful driver sees three
    drives. The parked fixes belong to none of them (as a background logger's trips)."""
    track = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=8).start()
    for day in range(3):
        track.drive(8_000, 12.0, north=day % 2 == 0).stop(23 * 3600, jitter_m=5.0)
    path = tmp_path / "tracker.gpx"
    path.write_text(to_gpx(track.points, name="Tracker"))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    answer = json.loads(out)
    trips = answer["trips"]
    assert [t["name"] for t in trips] == [f"Tracker ({i}/3)" for i in (1, 2, 3)]
    for trip in trips:
        stats = trip["stats"]
        assert stats["distance_m"] == pytest.approx(8_000, rel=0.05)
        assert stats["elapsed_s"] <= 8_000 / 12.0 + 4 * 60  # the drive, not the day
    parked = len(track.points) - sum(t["point_count"] for t in trips)
    assert parked > 3 * 22 * 60
    (note,) = [n for n in answer["notes"] if "logger on" in n]
    assert note.startswith("Tracker: 3 stops of over 30 min")
    assert f"the {parked:,} fixes logged while parked are left out" in note


def test_a_stop_shorter_than_the_pause_stays_in_the_trip(db, tmp_path, capsys, monkeypatch):
    """Lunch with the phone recording: 20 minutes parked is part of the drive at the default
    pause of 30 minutes, and ends it when the pause asked for is 10."""
    track = TrackBuilder(interval_s=1.0, seed=9).start().drive(4_000, 12.0)
    track.stop(20 * 60).drive(4_000, 12.0)
    path = tmp_path / "lunch.gpx"
    path.write_text(to_gpx(track.points))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    (trip,) = json.loads(out)["trips"]
    assert trip["point_count"] == len(track.points)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'another.db'}")
    code, out, err = run(capsys, "trips", "import", str(path), "--split-gap-min", "10", "--json")
    assert code == 0, err
    assert [t["stats"]["distance_m"] for t in json.loads(out)["trips"]] == [
        pytest.approx(4_000, rel=0.03),
        pytest.approx(4_000, rel=0.03),
    ]


def _tracker_days(seed: int, logs_parked: bool) -> TrackBuilder:
    """A tracker with a speed field, a fix a minute for three days (or only while driving):
    two drives on a straight road, then one on a winding road, whose fixes are 57 % of the
    road apart in a line."""
    track = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=seed).start()
    for day in range(3):
        if logs_parked:
            track.stop(23 * 3600, jitter_m=5.0, report_speed=True)
        else:  # the logger wakes as the truck starts: one fix where it stood
            track.t += timedelta(hours=23, minutes=-1)
            track.stop(60, jitter_m=5.0, report_speed=True)
        if day < 2:
            track.drive(9_000, 12.0, north=day == 0, report_speed=True)
        else:
            track.wind(9_000, 12.0)
    return track.stop(3600, jitter_m=5.0, report_speed=True)


@pytest.mark.parametrize("logs_parked", [True, False], ids=["logs-parked", "stops-parked"])
def test_a_trackers_trips_are_measured_by_its_speed_as_its_whole_log(
    db, tmp_path, capsys, logs_parked
):
    """On its own, the winding drive's dozen fixes cannot tell its speed field from one in
    knots (1.7x their lines), so it was measured by its lines, 40 % short; its log of three
    days holds the speed to its lines. Computed again from the stored fixes, it stays so."""
    path = tmp_path / "tracker.gpx"
    path.write_text(to_gpx(_tracker_days(21, logs_parked).points, name="Tracker"))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    trips = json.loads(out)["trips"]
    # (-4 % at most: the built truck is at full speed a fix after standing, where a real one
    # accelerates; the step's trapezoid of 0 and 12 m/s halves it)
    assert [t["stats"]["distance_m"] for t in trips] == [pytest.approx(9_000, rel=0.045)] * 3

    from kei_drive.db import app_session
    from kei_drive.db import queries as q

    with app_session() as s:
        again = [q.refresh_stats(s, q.get_trip(s, t["id"])).distance_m for t in trips]
        s.commit()
    assert again == [pytest.approx(t["stats"]["distance_m"], abs=0.01) for t in trips]


def test_a_jump_while_parked_that_the_speed_reads_as_standing_makes_no_trip(db, tmp_path, capsys):
    """Parked overnight, a tracker's fixes jump 300 m away for three minutes, come back for
    one, and jump 200 m for three more (multipath), its speed reading 0 throughout: one stop,
    not two with a "drive" of the jumps between."""
    track = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=22).start()
    # (its speed is not the line between its fixes over their time: a Doppler speed)
    track.wind(8_000, 12.0, angle_deg=30.0).stop(5 * 3600, jitter_m=5.0, report_speed=True)
    home = track.lat
    for away_m in (300.0, 0.0, 200.0):
        track.lat = home + away_m / M_PER_DEG_LAT
        track.stop(180 if away_m else 60, jitter_m=5.0, report_speed=True)
    track.lat = home
    track.stop(5 * 3600, jitter_m=5.0, report_speed=True).wind(8_000, 12.0, angle_deg=30.0)
    path = tmp_path / "jumps.gpx"
    path.write_text(to_gpx(track.points, name="Tracker"))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert [t["name"] for t in answer["trips"]] == ["Tracker (1/2)", "Tracker (2/2)"]
    (note,) = [n for n in answer["notes"] if "logger on" in n]
    assert note.startswith("Tracker: 1 stop of over 30 min")


def test_a_move_whose_fixes_read_a_speed_of_0_is_a_trip(db, tmp_path, capsys):
    """A 2 min tracker whose two fixes of a 1.1 km move were both taken at red lights (speed
    0): the log's speed measures it as standing, but the truck parked again 1.1 km away, so
    its positions measure the move, a trip between the two stops."""
    track = TrackBuilder(interval_s=120.0, accuracy_m=5.0, seed=0).start()
    track.wind(16_000, 12.0, angle_deg=30.0).stop(3 * 3600, report_speed=True)
    moved_from = len(track.points)
    track.drive(1_100, 5.3)
    track.points[moved_from:] = [replace(p, speed_mps=0.0) for p in track.points[moved_from:]]
    track.stop(3 * 3600, report_speed=True).wind(16_000, 12.0, angle_deg=30.0)
    path = tmp_path / "red-lights.gpx"
    path.write_text(to_gpx(track.points, name="Tracker"))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    distances = [t["stats"]["distance_m"] for t in json.loads(out)["trips"]]
    assert len(distances) == 3 and distances[1] > 900, distances


def test_a_copy_that_fills_a_stored_trips_gap_says_what_was_not_added(db, tmp_path, capsys):
    """Two copies of one drive, each with a signal loss where the other has fixes: the
    second said "that stretch was not stored again, the rest was", then "nothing
    imported" (review). Its fixes inside the stored trip's time make no trip of their own."""
    track = TrackBuilder().start().drive(3_000, 12.0)  # 250 fixes, 1 s apart
    first = [p for i, p in enumerate(track.points) if not 40 <= i < 80]
    second = [p for i, p in enumerate(track.points) if not 150 <= i < 190]
    for name, points in (("first.gpx", first), ("second.gpx", second)):
        (tmp_path / name).write_text(to_gpx(points))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "first.gpx"), "--json")
    assert code == 0, err
    (stored,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "second.gpx"), "--json")
    assert code == 2 and "nothing imported" in err
    answer = json.loads(out)
    assert answer["trips"] == [] and answer["already_imported"] == [stored["id"]]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "second.gpx"))
    assert code == 2 and err.splitlines() == [
        f"note: {answer['notes'][0]}",
        f"kei-drive: error: already imported (trip {stored['id']}): nothing imported",
    ]
    assert answer["notes"] == [
        f"trip {stored['id']} already holds this log: nothing was stored again (fixes it "
        "lacks within it are not added)"
    ]


def test_a_log_holding_a_stored_trip_and_more_stores_the_rest(db, tmp_path, capsys):
    """A part imported first, then the whole log: only the rest is stored, and said so."""
    track = TrackBuilder().start().drive(3_000, 12.0).stop(2_400).drive(3_000, 12.0)
    part = [p for p in track.points if p.time <= track.points[250].time]
    (tmp_path / "part.gpx").write_text(to_gpx(part))
    (tmp_path / "whole.gpx").write_text(to_gpx(track.points))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "part.gpx"), "--json")
    assert code == 0, err
    (stored,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "whole.gpx"), "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert len(answer["trips"]) == 1 and answer["already_imported"] == [stored["id"]]
    assert (
        f"trip {stored['id']} already holds part of this log: that stretch was not stored "
        "again, the rest was"
    ) in answer["notes"]
