"""``kei-drive trips ...`` against a real SQLite file."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import read_gpx, to_gpx
from kei_drive.core.trips import STATS_KEYS
from tests.conftest import GPX_FIXTURES as FIXTURES
from tests.conftest import needs_fixtures
from tests.support.trips import TrackBuilder


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_list_show_export_round_trip(db, tmp_path, capsys):
    track = TrackBuilder().start().drive(4_000, 15.0)
    gpx = tmp_path / "drive.gpx"
    gpx.write_text(to_gpx(track.points, name="Back roads"))

    code, out, err = run(capsys, "trips", "import", str(gpx), "--json")
    assert code == 0, err
    (trip,) = json.loads(out)["trips"]
    assert list(trip["stats"])[: len(STATS_KEYS)] == list(STATS_KEYS)
    assert trip["stats"]["distance_m"] == pytest.approx(4_000, rel=0.01)
    assert trip["name"] == "Back roads" and trip["source"] == "imported"

    code, out, _ = run(capsys, "trips", "list", "--json")
    listing = json.loads(out)
    assert code == 0 and listing["total"] == 1 and listing["trips"][0]["uuid"] == trip["uuid"]

    for ref in (str(trip["id"]), trip["uuid"]):
        code, out, _ = run(capsys, "trips", "show", ref, "--json")
        assert code == 0 and json.loads(out)["stats"]["points"] == len(track.points)

    code, out, _ = run(capsys, "trips", "export", trip["uuid"], "--format", "gpx")
    assert code == 0
    assert len(read_gpx(out)[0]) == len(track.points)
    target = tmp_path / "out.geojson"
    code, out, _ = run(
        capsys, "trips", "export", str(trip["id"]), "--format", "geojson", "-o", str(target)
    )
    assert code == 0 and out == ""
    geo = json.loads(target.read_text())
    assert len(geo["features"][0]["geometry"]["coordinates"]) == len(track.points)

    code, out, _ = run(capsys, "trips", "list")  # human-readable
    assert code == 0 and "2.5 mi" in out and "Back roads" in out


def test_import_loads_the_states_index_from_the_cache_folder(db, tmp_path, capsys, monkeypatch):
    """``trips import`` keeps the states' index in the cache folder, as the geo commands do:
    built once, then loaded (it was built from the polygons at every import, ~0.3 s)."""
    from kei_drive.core import geo

    monkeypatch.setenv("KEI_DRIVE_CACHE", str(tmp_path / "cache"))
    geo._index.cache_clear()
    gpx = tmp_path / "drive.gpx"
    gpx.write_text(to_gpx(TrackBuilder().start().drive(2_000, 15.0).points))
    try:
        code, out, err = run(capsys, "trips", "import", str(gpx), "--json")
        assert code == 0, err
        assert json.loads(out)["trips"][0]["stats"]["states"] == ["CO"]
        assert len(list((tmp_path / "cache").glob("us_states_index-*.npz"))) == 1
    finally:
        geo.use_index_cache(None)
        geo._index.cache_clear()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<gpx><trk>", "malformed XML"),
        ("<html/>", "not a GPX file"),
        ('<gpx version="1.1"/>', "no track or route points"),
        (None, "cannot read GPX file"),
    ],
)
def test_bad_file_is_a_clear_error_and_leaves_db_untouched(db, tmp_path, capsys, content, message):
    path = tmp_path / "bad.gpx"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code != 0 and out == ""
    assert message in err and err.startswith("kei-drive: error:")
    assert str(path) in err  # which file, as check-route and states-along say it
    assert not db.exists()  # not even created


def test_unknown_trip_and_vehicle(db, tmp_path, capsys):
    code, _, err = run(capsys, "trips", "show", "42", "--json")
    assert code != 0 and "no trip 42" in err
    code, _, err = run(capsys, "trips", "export", "nope")
    assert code != 0 and "no trip" in err
    gpx = tmp_path / "t.gpx"
    gpx.write_text(to_gpx(TrackBuilder().start().drive(500, 10.0).points))
    code, _, err = run(capsys, "trips", "import", str(gpx), "--vehicle", "7")
    assert code != 0 and "no vehicle with id 7" in err
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 0


@needs_fixtures
def test_import_real_multi_track_file(db, capsys):
    code, out, err = run(
        capsys, "trips", "import", str(FIXTURES / "co_boulder_mixed_walk_drive.gpx"), "--json"
    )
    assert code == 0, err
    trips = json.loads(out)["trips"]
    assert len(trips) > 3
    assert all(t["stats"]["max_speed_mps"] < 30 for t in trips if t["stats"]["max_speed_mps"])
    assert any("CO" in t["stats"]["states"] for t in trips)


def test_a_winding_gpx_route_keeps_its_length(db, tmp_path, capsys):
    """A drawn route (<rte>) through a street grid: 108 vertices 34 m apart, turning at
    every other one. Its vertices are exact, not GPS noise: the trip is as long as the
    line (smoothing it as a stripped log cut every corner: 26 % short)."""
    import numpy as np

    from kei_drive.core.distance import cumulative_m

    step_lat, step_lon = 34 / 111_195, 34 / 85_300
    east = np.arange(109) // 2 + np.arange(109) % 2  # 0, 1, 1, 2, 2, 3 ...: a staircase
    north = np.arange(109) // 2
    lat, lon = 39.30 + north * step_lat, -76.60 + east * step_lon
    length = float(cumulative_m(lat, lon)[-1])
    points = "".join(f'<rtept lat="{a:.7f}" lon="{b:.7f}"/>' for a, b in zip(lat, lon, strict=True))
    gpx = tmp_path / "route.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><rte><name>Grid</name>{points}</rte></gpx>'
    )
    code, out, err = run(capsys, "trips", "import", str(gpx), "--json")
    assert code == 0, err
    (trip,) = json.loads(out)["trips"]
    assert trip["stats"]["distance_m"] == pytest.approx(length, rel=0.01)


def test_a_track_written_twice_in_one_file_is_one_trip(db, tmp_path, capsys):
    """Some apps write the same track twice (here once more, rounded to 6 decimals), as
    another <trkseg> or another <trk>: one trip, not a trip three times as long, nor two; a
    different track beside it is still its own trip."""
    from dataclasses import replace
    from datetime import timedelta

    def shifted(points, hours):
        return [replace(p, time=p.time + timedelta(hours=hours)) for p in points]

    for name, day in (("segments.gpx", 0), ("tracks.gpx", 1)):
        drive = shifted(TrackBuilder().start().drive(3_000, 12.0).points, 24 * day)
        later = shifted(TrackBuilder(seed=4).start().drive(2_000, 10.0).points, 24 * day + 3)
        rounded = [replace(p, lat=round(p.lat, 6), lon=round(p.lon, 6)) for p in drive]
        if name == "segments.gpx":
            text = to_gpx([drive, rounded, later])  # one <trk>, three <trkseg>
        else:
            first, second = to_gpx(drive), to_gpx([rounded, later])
            more = second[second.index("<trk>") : second.index("</gpx>")]
            text = first.replace("</trk>", "</trk>" + more)
        (tmp_path / name).write_text(text)
        code, out, err = run(capsys, "trips", "import", str(tmp_path / name), "--json")
        assert code == 0, err
        trips = json.loads(out)["trips"]
        assert sorted(round(t["stats"]["distance_m"], -3) for t in trips) == [2_000, 3_000], name


def test_a_thinned_copy_of_a_track_is_not_a_trip_again(db, tmp_path, capsys):
    """A file holding a drive and a copy with every third fix dropped (some apps export a
    track again, thinned), as another <trkseg> or another <trk>: one trip (a note for the
    track); the thinned copy alone, imported later, is already imported."""
    from dataclasses import replace
    from datetime import timedelta

    def shifted(points, hours):
        return [replace(p, time=p.time + timedelta(hours=hours)) for p in points]

    for name, day in (("segments.gpx", 0), ("tracks.gpx", 1)):
        drive = shifted(TrackBuilder().start().drive(3_000, 12.0).points, 24 * day)
        thinned = [p for i, p in enumerate(drive) if i % 3]
        later = shifted(TrackBuilder(seed=4).start().drive(2_000, 10.0).points, 24 * day + 3)
        if name == "segments.gpx":
            text = to_gpx([thinned, drive, later])  # one <trk>, three <trkseg>
        else:
            second = to_gpx([drive, later])
            more = second[second.index("<trk>") : second.index("</gpx>")]
            text = to_gpx(thinned).replace("</trk>", "</trk>" + more)
        (tmp_path / name).write_text(text)
        code, out, err = run(capsys, "trips", "import", str(tmp_path / name), "--json")
        assert code == 0, err
        result = json.loads(out)
        lengths = sorted(round(t["stats"]["distance_m"], -3) for t in result["trips"])
        assert lengths == [2_000, 3_000], name
        if name == "tracks.gpx":
            assert any("repeats the fixes of another part" in note for note in result["notes"])
    (tmp_path / "thinned.gpx").write_text(to_gpx(thinned))
    code, _out, err = run(capsys, "trips", "import", str(tmp_path / "thinned.gpx"), "--json")
    assert code == 2 and "already imported" in err


@needs_fixtures
def test_the_boulder_files_drive_is_one_trip(db, capsys):
    """The fixture repeats its Dec 31 drive in three tracks: stored once, not three times."""
    path = FIXTURES / "co_boulder_mixed_walk_drive.gpx"
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    trips = json.loads(out)["trips"]
    drives = [t for t in trips if t["stats"]["distance_m"] > 10_000]
    assert len(drives) == 1 and drives[0]["started_at"].startswith("2005-12-31")


def test_a_trip_already_stored_is_not_imported_again_from_another_file(db, tmp_path, capsys):
    """A logger's cumulative export repeats yesterday's trip beside today's, and another
    app rounds the same fixes to 6 decimals: the stored trip is not created twice."""
    from dataclasses import replace
    from datetime import timedelta

    first = TrackBuilder().start().drive(3_000, 12.0).points
    later = [
        replace(p, time=p.time + timedelta(hours=3))
        for p in TrackBuilder(seed=4).start().drive(2_000, 10.0).points
    ]
    (tmp_path / "a.gpx").write_text(to_gpx(first))
    (tmp_path / "ab.gpx").write_text(to_gpx([first, later]))
    rounded = [replace(p, lat=round(p.lat, 6), lon=round(p.lon, 6)) for p in first]
    (tmp_path / "a6.gpx").write_text(to_gpx(rounded))

    code, out, err = run(capsys, "trips", "import", str(tmp_path / "a.gpx"), "--json")
    assert code == 0, err
    (stored,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "ab.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["trips"]) == 1 and result["already_imported"] == [stored["id"]]
    assert result["trips"][0]["stats"]["distance_m"] == pytest.approx(2_000, rel=0.02)
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "a6.gpx"), "--json")
    assert code == 2 and f"already imported (trip {stored['id']})" in err
    assert json.loads(out) == {"trips": [], "already_imported": [stored["id"]], "notes": []}
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "ab.gpx"), "--json")
    assert code == 2 and "already imported" in err  # the same file again
    assert json.loads(out)["already_imported"] == [result["trips"][0]["id"]]
    # Another truck over the same minutes, as many fixes, twice as far: a trip of its own.
    o = first[0]
    other = [
        replace(p, lat=o.lat + 2 * (p.lat - o.lat), lon=o.lon + 2 * (p.lon - o.lon)) for p in first
    ]
    (tmp_path / "other.gpx").write_text(to_gpx(other))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "other.gpx"), "--json")
    assert code == 0, err
    assert json.loads(out)["already_imported"] == []
    code, out, _ = run(capsys, "trips", "list", "--json")
    assert json.loads(out)["total"] == 3


def _tracks_gpx(parts: list[list], names: list[str]) -> str:
    """A GPX file with each part as a ``<trk>`` of its own, named."""
    tracks = []
    for points, name in zip(parts, names, strict=True):
        text = to_gpx(points, name=name)
        tracks.append(text[text.index("<trk>") : text.index("</gpx>")])
    head = to_gpx(parts[0])
    return head[: head.index("<trk>")] + "".join(tracks) + "</gpx>\n"


def test_a_logger_starting_a_new_track_every_3_minutes_makes_one_trip(db, tmp_path, capsys):
    """A logger that starts a new <trk> every 180 s (or at midnight) has not paused: the
    drive is one trip, as long as the drive. Tracks with a pause between them stay trips
    of their own, and so does a track that starts the next second somewhere it could not
    have been driven to (another device's log)."""
    from dataclasses import replace
    from datetime import timedelta

    drive = TrackBuilder(interval_s=1.0).start().drive(9_000, 12.0).points  # 750 s
    pieces = [drive[k : k + 180] for k in range(0, len(drive), 180)]
    path = tmp_path / "rolled.gpx"
    path.write_text(_tracks_gpx(pieces, [f"Track {k + 1:03d}" for k in range(len(pieces))]))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    result = json.loads(out)
    (trip,) = result["trips"]
    assert trip["stats"]["distance_m"] == pytest.approx(9_000, rel=0.01)
    assert trip["name"] == "Track 001"
    assert "4 of the file's 5 tracks go on from the one before" in " ".join(result["notes"])

    later = drive[-1].time + timedelta(seconds=60)  # a minute parked, the logger off
    back = TrackBuilder(interval_s=1.0, t=later, lat=drive[-1].lat).start()
    back = back.drive(2_000, 10.0, north=False).points
    elsewhere = [replace(p, lon=p.lon + 0.5, time=p.time + timedelta(hours=5)) for p in drive]
    away = TrackBuilder(interval_s=1.0, t=elsewhere[-1].time + timedelta(seconds=1)).start()
    away = away.drive(1_000, 10.0).points  # 40 km west of where the other log ended
    path = tmp_path / "paused.gpx"
    path.write_text(_tracks_gpx([elsewhere, away], ["East", "West"]))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    assert [t["name"] for t in json.loads(out)["trips"]] == ["East", "West"]
    shifted = [replace(p, time=p.time + timedelta(days=1)) for p in drive]
    back = [replace(p, time=p.time + timedelta(days=1)) for p in back]
    path = tmp_path / "two.gpx"
    path.write_text(_tracks_gpx([shifted, back], ["Out", "Back"]))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    trips = json.loads(out)["trips"]
    assert [t["name"] for t in trips] == ["Out", "Back"]
    assert trips[1]["stats"]["distance_m"] == pytest.approx(2_000, rel=0.02)


def test_a_new_track_after_a_signal_lost_while_driving_goes_on_the_drive(db, tmp_path, capsys):
    """A logger that starts a new <trk> after 81 s without signal in a tunnel (1.8 km on):
    one drive, with the gap in it, as within one track; a recording ended and started
    again 5 min later where it stopped stays two trips."""
    from dataclasses import replace
    from datetime import timedelta

    drive = TrackBuilder(interval_s=1.0).start().drive(6_000, 22.5).points
    before, after = drive[:130], drive[211:]  # 81 s and 1.8 km lost
    path = tmp_path / "tunnel.gpx"
    path.write_text(_tracks_gpx([before, after], ["Before", "After"]))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    result = json.loads(out)
    (trip,) = result["trips"]
    assert trip["stats"]["distance_m"] == pytest.approx(6_000, rel=0.01)
    assert len(trip["stats"]["gaps"]) == 1
    assert "signal lost while driving" in " ".join(result["notes"])
    later = [replace(p, time=p.time + timedelta(days=1)) for p in drive[:200]]
    resumed = TrackBuilder(interval_s=1.0, t=later[-1].time + timedelta(minutes=5))
    resumed.lat = later[-1].lat
    again = resumed.start().drive(2_000, 12.0).points
    path = tmp_path / "two_recordings.gpx"
    path.write_text(_tracks_gpx([later, again], ["First", "Second"]))
    code, out, err = run(capsys, "trips", "import", str(path), "--json")
    assert code == 0, err
    assert [t["name"] for t in json.loads(out)["trips"]] == ["First", "Second"]


def _distances(capsys) -> list[float]:
    code, out, _ = run(capsys, "trips", "list", "--json", "--per-page", "200")
    assert code == 0
    return [t["stats"]["distance_m"] for t in json.loads(out)["trips"]]


def test_a_part_imported_first_is_not_stored_again_with_the_whole_log(db, tmp_path, capsys):
    """One day's piece of a log imported first, then the whole log (another app's export,
    rounded to 6 decimals): the piece's drive is stored once, the rest around it as trips of
    their own; the history's distance is the log's, not the piece's twice."""
    from dataclasses import replace

    builder = TrackBuilder().start().drive(9_000, 12.0)
    whole = builder.points
    part = whole[250:500]  # ~3,000 m in the middle
    rounded = [replace(p, lat=round(p.lat, 6), lon=round(p.lon, 6)) for p in whole]
    (tmp_path / "part.gpx").write_text(to_gpx(part))
    (tmp_path / "whole.gpx").write_text(to_gpx(rounded))

    code, out, err = run(capsys, "trips", "import", str(tmp_path / "part.gpx"), "--json")
    assert code == 0, err
    (stored,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "whole.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["already_imported"] == [stored["id"]]
    assert sorted(round(t["stats"]["distance_m"], -2) for t in result["trips"]) == [3_000, 3_000]
    assert any(f"trip {stored['id']}" in note for note in result["notes"]), result["notes"]
    assert sum(_distances(capsys)) == pytest.approx(builder.true_distance_m, rel=0.005)


def test_an_overlapping_log_stores_only_what_is_new(db, tmp_path, capsys):
    """Monday-to-Wednesday's export, then Wednesday-to-Friday's (the same logger): the
    shared stretch is counted once. Another truck over the same minutes, parked beside it
    (the same fixes, from one Wi-Fi position) and then driving elsewhere, shares nothing."""
    from dataclasses import replace

    builder = TrackBuilder().start().drive(6_000, 12.0)
    log = builder.points
    (tmp_path / "early.gpx").write_text(to_gpx(log[:300]))
    (tmp_path / "late.gpx").write_text(to_gpx(log[200:]))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "early.gpx"), "--json")
    assert code == 0, err
    (early,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "late.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    (late,) = result["trips"]
    assert result["already_imported"] == [early["id"]]
    assert late["stats"]["distance_m"] == pytest.approx(6_000 - 299 * 12.0, rel=0.01)
    assert late["started_at"] == early["ended_at"]  # they meet: no step lost or counted twice
    assert sum(_distances(capsys)) == pytest.approx(6_000, rel=0.005)

    parked = TrackBuilder(t=log[0].time).start().stop(120, jitter_m=0.0)
    first = parked.points
    beside = TrackBuilder(lat=first[0].lat, t=first[0].time).start().stop(120, jitter_m=0.0)
    first = parked.drive(2_000, 10.0).points
    other = beside.drive(2_000, 10.0, north=False).points
    (tmp_path / "a.gpx").write_text(to_gpx([replace(p, lon=p.lon + 1) for p in first]))
    (tmp_path / "b.gpx").write_text(to_gpx([replace(p, lon=p.lon + 1) for p in other]))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "a.gpx"), "--json")
    assert code == 0, err
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "b.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["already_imported"] == []
    assert [round(t["stats"]["distance_m"], -2) for t in result["trips"]] == [2_000]


def test_two_vehicles_logged_as_two_segments_of_one_track_are_two_trips(db, tmp_path, capsys):
    """A file whose one <trk> holds two vehicles' drives over the same minutes, as two
    segments: two trips of their own lengths, in time order, not one of 11 km jumping
    between them. A thinned copy of the first segment beside them is the same log. One
    vehicle's drive imported first is then recognised, and only the other is stored."""
    from dataclasses import replace

    a = TrackBuilder().start().drive(3_600, 12.0).points
    b = TrackBuilder(seed=3).start().drive(3_000, 10.0).points
    b = [replace(p, lon=p.lon + 0.035, time=p.time + timedelta(seconds=20)) for p in b]
    thinned = [p for i, p in enumerate(a) if i % 3]
    (tmp_path / "a.gpx").write_text(to_gpx([a], name="Hijet"))
    (tmp_path / "two.gpx").write_text(to_gpx([b, a, thinned], name="Both"))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "a.gpx"), "--json")
    assert code == 0, err
    (first,) = json.loads(out)["trips"]
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "two.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["already_imported"] == [first["id"]]
    (trip,) = result["trips"]
    assert round(trip["stats"]["distance_m"], -2) == 3_000
    assert trip["stats"]["points"] == len(b)


def test_two_vehicles_in_one_track_import_as_two_trips_in_time_order(db, tmp_path, capsys):
    from dataclasses import replace

    a = TrackBuilder().start().drive(3_600, 12.0).points
    b = TrackBuilder(seed=3).start().drive(3_000, 10.0).points
    b = [replace(p, lon=p.lon + 0.035, time=p.time + timedelta(seconds=20)) for p in b]
    (tmp_path / "two.gpx").write_text(to_gpx([b, a], name="Both"))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "two.gpx"), "--json")
    assert code == 0, err
    trips = json.loads(out)["trips"]
    assert [round(t["stats"]["distance_m"], -2) for t in trips] == [3_600, 3_000]
    assert [t["stats"]["points"] for t in trips] == [len(a), len(b)]


def test_two_phones_in_one_cab_as_two_segments_are_one_drive(db, tmp_path, capsys):
    """Two phones logging one drive, written as two segments of one track: one trip of the
    drive's length (it was 10.8 km for a 3.6 km drive), and a note that the second phone's
    minutes were left out."""
    from dataclasses import replace

    a = TrackBuilder().start().drive(3_600, 12.0).points
    phone = TrackBuilder(seed=5).start(jitter_m=5).drive(3_600, 12.0, jitter_m=5).points
    phone = [replace(p, time=p.time + timedelta(seconds=0.4)) for p in phone]
    (tmp_path / "cab.gpx").write_text(to_gpx([a, phone], name="Cab"))
    code, out, err = run(capsys, "trips", "import", str(tmp_path / "cab.gpx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    (trip,) = result["trips"]
    assert round(trip["stats"]["distance_m"], -2) == 3_600
    assert any("segment 2 logged the same drive" in note for note in result["notes"])


@pytest.mark.parametrize("where", ["first", "last", "run"])
def test_the_same_log_with_a_glitch_is_not_a_trip_again_either_way(
    tmp_path, capsys, monkeypatch, where
):
    """One app wrote a fix 2,000 km away (Texas) where the other wrote the real one: at the
    first or the last fix, or a run of 12 mid-drive. The glitch is no part of the trip, so
    the log is the same drive, whichever file comes first (it was imported twice)."""
    from dataclasses import replace

    clean = TrackBuilder().start().drive(3_000, 12.0).points
    bad = {"first": [0], "last": [len(clean) - 1], "run": list(range(100, 112))}[where]
    glitched = [replace(p, lat=30.2672, lon=-97.7431) if k in bad else p for k, p in
                enumerate(clean)]  # fmt: skip
    for order in (("clean", "glitched"), ("glitched", "clean")):
        files = {"clean": clean, "glitched": glitched}
        home = tmp_path / "-".join(order)
        home.mkdir()
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{home / 'cli.db'}")
        code = 0
        for k, name in enumerate(order):
            (home / f"{name}.gpx").write_text(to_gpx(files[name]))
            code, out, err = run(capsys, "trips", "import", str(home / f"{name}.gpx"), "--json")
            if k == 0:
                assert code == 0, err
                (stored,) = json.loads(out)["trips"]
        assert code == 2 and f"already imported (trip {stored['id']})" in err, (order, out)


def test_a_trip_dated_before_gps_or_after_today_is_imported_with_a_note(db, tmp_path, capsys):
    """A logger's clock gone wrong (1970, 0001): the trip is kept as logged, and a note says
    its date cannot be right; a trip of today has none."""
    from datetime import UTC, datetime

    for start, noted in (
        (datetime(1970, 1, 1, tzinfo=UTC), "dated 1970-01-01"),
        (datetime(1, 1, 1, tzinfo=UTC), "dated 0001-01-01"),
        (datetime.now(UTC) - timedelta(hours=2), None),
    ):
        drive = TrackBuilder(t=start, lat=40.0 + start.year / 1e5).start().drive(2_000, 12.0)
        path = tmp_path / f"clock{start.year}.gpx"
        path.write_text(to_gpx(drive.points, name=f"Clock {start.year}"))
        code, out, err = run(capsys, "trips", "import", str(path), "--json")
        assert code == 0, err
        notes = " ".join(json.loads(out)["notes"])
        if noted:
            assert noted in notes and "clock was wrong" in notes
        else:
            assert "clock was wrong" not in notes


def test_a_trip_dated_where_the_gps_week_rollover_puts_it_gets_the_true_date_as_a_guess(
    db, tmp_path, capsys
):
    """A logger with the week-rollover fault dates a 2024 drive 1024 weeks early (2004): the
    note gives the date it would then be, kept as logged; a trip of 2010 (not reachable by a
    wrapped week yet) and one of today have no such note."""
    from datetime import UTC, datetime

    for start, noted in (
        (datetime(2004, 9, 18, 15, tzinfo=UTC), "on 2024-05-04"),
        (datetime(2010, 6, 1, tzinfo=UTC), None),
        (datetime.now(UTC) - timedelta(hours=2), None),
    ):
        drive = TrackBuilder(t=start, lat=41.0 + start.year / 1e5).start().drive(2_000, 12.0)
        path = tmp_path / f"rollover{start.year}.gpx"
        path.write_text(to_gpx(drive.points, name=f"Rollover {start.year}"))
        code, out, err = run(capsys, "trips", "import", str(path), "--json")
        assert code == 0, err
        result = json.loads(out)
        notes = " ".join(result["notes"])
        if noted:
            assert "week-rollover" in notes and noted in notes, notes
            assert result["trips"][0]["started_at"].startswith("2004-09-18")  # kept as logged
        else:
            assert "week-rollover" not in notes, notes
