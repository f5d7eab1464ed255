"""``kei-drive trips import`` on what real logs bring: the same file twice, a log that never
moved, UTF-16 and Latin-1 files, and a big file stored in bulk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import TrackPoint, to_gpx
from tests.support.trips import T0, TrackBuilder


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
