"""``Trip.highway_use``: map-matched on the routing tiles, unknown without them."""

from __future__ import annotations

import numpy as np
import pytest

from kei_drive.routing.highway_use import highway_use
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


def test_track_outside_the_tiles_is_unknown(tiles_env):
    assert highway_use(line((39.29, -76.61), (39.30, -76.61))) is None


def test_without_tiles_highway_use_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    assert highway_use(line((41.952, -77.000), (41.988, -77.000))) is None


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
