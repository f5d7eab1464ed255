"""``Trip.highway_use``: map-matched on the routing tiles, unknown without them."""

from __future__ import annotations

import numpy as np
import pytest

from kei_drive.routing.highway_use import highway_use, highway_use_and_note
from tests.support.osm_synth import synth_tiles


@pytest.fixture(scope="module")
def tiles_env(tmp_path_factory, monkeypatch_module):
    tiles = synth_tiles(tmp_path_factory)
    monkeypatch_module.setenv("KEI_DRIVE_TILES", str(tiles))
    monkeypatch_module.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    return tiles


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def line(a, b, n=40):
    return np.column_stack((np.linspace(a[0], b[0], n), np.linspace(a[1], b[1], n))).tolist()


def test_track_along_the_motorway_used_a_highway(tiles_env):
    assert highway_use(line((41.952, -77.000), (41.988, -77.000))) is True


def test_track_on_the_residential_grid_used_none(tiles_env):
    assert highway_use(line((41.9505, -77.030), (41.9895, -77.030))) is False


def test_track_outside_the_tiles_is_unknown_and_says_why(tiles_env):
    assert highway_use(line((39.29, -76.61), (39.30, -76.61))) is None
    use, note, judged = highway_use_and_note(line((39.29, -76.61), (39.30, -76.61)))
    assert use is None and "outside the installed map data" in note
    assert judged  # the engine looked: asking again gives the same answer
    assert highway_use_and_note(line((41.952, -77.000), (41.988, -77.000))) == (True, None, True)


def test_without_tiles_highway_use_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    assert highway_use(line((41.952, -77.000), (41.988, -77.000))) is None
    _use, note, judged = highway_use_and_note(line((41.952, -77.000), (41.988, -77.000)))
    assert note.startswith("No routing tiles are installed")
    assert not judged  # asked again once tiles are there


def test_trips_show_says_why_highway_use_is_unknown(tiles_env, tmp_path, monkeypatch, capsys):
    """``highway_use: null`` alone did not say whether the tiles were missing or the drive
    left the map; the reason is kept with the trip, also when its statistics are redone."""
    import json
    from datetime import timedelta

    from kei_drive.cli import main
    from kei_drive.core.gpx import TrackPoint, to_gpx
    from tests.support.trips import T0

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    away = line((39.29, -76.61), (39.30, -76.61))  # Baltimore: outside these tiles
    fixes = [
        TrackPoint(lat, lon, T0 + timedelta(seconds=3 * i), accuracy_m=5)
        for i, (lat, lon) in enumerate(away)
    ]
    gpx = tmp_path / "away.gpx"
    gpx.write_text(to_gpx(fixes, name="Away"))
    assert main(["trips", "import", str(gpx), "--json"]) == 0
    (trip,) = json.loads(capsys.readouterr().out)["trips"]
    assert trip["highway_use"] is None
    assert "outside the installed map data" in trip["highway_use_note"]
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    shown = shown.get("trip", shown)
    assert shown["highway_use_note"] == trip["highway_use_note"]
    from kei_drive.db import app_session
    from kei_drive.db import queries as q

    with app_session() as s:  # e.g. the vehicle changed: the statistics are computed again
        q.refresh_stats(s, q.get_trip(s, trip["id"]))
        s.commit()
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again.get("trip", again)["highway_use_note"] == trip["highway_use_note"]


def test_finishing_a_recorded_trip_stores_its_highway_use(tiles_env, tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    from kei_drive.api import api

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    client = TestClient(api)
    trip = "7f1b2c3d-0000-4000-8000-000000000001"
    t0 = 1_780_000_000_000
    fixes = [
        {"id": f"p{i}", "t": t0 + i * 2000, "lat": lat, "lon": lon, "acc": 5}
        for i, (lat, lon) in enumerate(line((41.952, -77.000), (41.988, -77.000)))
    ]
    assert client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes}).status_code == 200
    finished = client.post(f"/api/v1/trips/{trip}/finish", json={}).json()
    assert finished["trip"]["highway_use"] is True
    assert "highway use" in finished["trip"]["warnings"]
