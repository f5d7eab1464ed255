"""The offline basemap: tilemaker build on the real Baltimore extract, CLI, tile endpoint."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from starlette.testclient import TestClient

from kei_drive.basemap.build import PROVENANCE_NAME
from kei_drive.cli import main
from tests.conftest import shared_fixture
from tests.support.basemap import build_baltimore, decode, i95_points, require_tilemaker, tile_of
from tests.support.osm_synth import write_network


@pytest.fixture(scope="module")
def basemap_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("basemap")
    build_baltimore(out)
    return out


@pytest.fixture()
def client(basemap_dir, monkeypatch):
    from kei_drive.api import api

    monkeypatch.setenv("KEI_DRIVE_TILES", str(basemap_dir))
    return TestClient(api)


def _mbtiles_tile(basemap_dir, z, x, y):
    from kei_drive.basemap.reader import open_basemap

    return open_basemap(basemap_dir / "basemap.mbtiles").tile(z, x, y)


def test_z14_tile_over_i95_holds_a_motorway(basemap_dir):
    lat, lon = i95_points(1)[0]
    x, y = tile_of(lat, lon, 14)
    data = _mbtiles_tile(basemap_dir, 14, x, y)
    assert data is not None, f"no z14 tile {x}/{y} over I-95 at {lat},{lon}"
    roads = decode(data)["transportation"]["features"]
    motorways = [f["properties"] for f in roads if f["properties"].get("class") == "motorway"]
    assert motorways, "the I-95 tile has no motorway"
    # The Kei profile keeps the speed limit and the route number on the road itself.
    i95 = [p for p in motorways if p.get("ref") == "I 95"]
    assert i95 and all(p["maxspeed"] == "55 mph" and p["maxspeed_mph"] == 55 for p in i95)
    classes = {f["properties"].get("class") for f in roads}
    assert "minor" in classes  # the residential grid is there too, classed apart


def test_speed_limits_in_kmh_are_converted(basemap_dir):
    # "40" (no unit) is km/h in OSM: 25 mph. The Baltimore extract has seven such ways.
    from kei_drive.basemap.reader import open_basemap

    basemap = open_basemap(basemap_dir / "basemap.mbtiles")
    rows = basemap._db.execute("SELECT tile_data FROM tiles WHERE zoom_level=14").fetchall()
    seen = {}
    for (blob,) in rows:
        for f in decode(bytes(blob)).get("transportation", {}).get("features", []):
            if "maxspeed" in f["properties"]:
                seen[f["properties"]["maxspeed"]] = f["properties"].get("maxspeed_mph")
    assert seen.get("40") == 25
    assert seen.get("25 mph") == 25


def test_provenance_and_attribution_recorded(basemap_dir):
    record = json.loads((basemap_dir / PROVENANCE_NAME).read_text())
    pbf = shared_fixture("osm", "baltimore.osm.pbf")
    assert record["source"]["sha256"] == hashlib.sha256(pbf.read_bytes()).hexdigest()
    assert record["source"]["file"] == "baltimore.osm.pbf"
    assert "ODbL" in record["licence"] and "OpenStreetMap" in record["attribution"]
    assert record["tool"].startswith("tilemaker")
    assert record["tile_count"] > 10


def test_cli_builds_basemap_with_progress(tmp_path, capsys):
    require_tilemaker()
    pbf = write_network(tmp_path / "net.osm.pbf")
    out = tmp_path / "tiles"
    assert main(["tiles", "build", str(pbf), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "routing tiles ready" in printed
    assert "basemap: zoom 14" in printed
    assert "basemap ready" in printed
    assert (out / "basemap.mbtiles").is_file() and (out / PROVENANCE_NAME).is_file()
    assert not (out / "basemap.partial.mbtiles").exists()


def test_cli_without_tilemaker_builds_routing_tiles_and_names_the_package(
    tmp_path, capsys, monkeypatch
):
    pbf = write_network(tmp_path / "net.osm.pbf")
    out = tmp_path / "tiles"
    # A PATH without tilemaker (the Valhalla tools come from pyvalhalla's own folder).
    monkeypatch.setenv(
        "PATH",
        os.pathsep.join(
            p
            for p in os.environ["PATH"].split(os.pathsep)
            if not (p and shutil.which("tilemaker", path=p))
        ),
    )
    assert main(["tiles", "build", str(pbf), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "routing tiles ready" in captured.out
    assert "apt-get install tilemaker" in captured.err
    assert (out / "valhalla.json").is_file()
    assert not (out / "basemap.mbtiles").exists()


# ---------------------------------------------------------------- /tiles endpoint


def test_tile_endpoint_serves_gzip_with_long_cache(client, basemap_dir):
    lat, lon = i95_points(1)[0]
    x, y = tile_of(lat, lon, 14)
    r = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age=2592000" in r.headers["cache-control"]
    stored = _mbtiles_tile(basemap_dir, 14, x, y)
    assert int(r.headers["content-length"]) == len(stored)  # sent as stored, not re-encoded
    assert "transportation" in decode(r.content)  # httpx inflated it: a valid gzip MVT
    again = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_tile_endpoint_plain_for_clients_without_gzip(client):
    lat, lon = i95_points(1)[0]
    x, y = tile_of(lat, lon, 14)
    r = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert "transportation" in decode(r.content)


def test_tile_endpoint_204_outside_the_data(client):
    x, y = tile_of(34.05, -118.25, 14)  # Los Angeles: not in the Baltimore extract
    r = client.get(f"/tiles/14/{x}/{y}.pbf")
    assert r.status_code == 204 and r.content == b""
    assert "max-age" in r.headers["cache-control"]
    lat, lon = i95_points(1)[0]
    x, y = tile_of(lat, lon, 16)  # above the basemap's max zoom: the map overzooms z14
    assert client.get(f"/tiles/16/{x}/{y}.pbf").status_code == 204


def test_tile_endpoint_rejects_impossible_coordinates(client):
    r = client.get("/tiles/3/8/0.pbf")
    assert r.status_code == 400 and "2^z" in r.json()["error"]
    assert client.get("/tiles/a/b/c.pbf").status_code == 404


def test_tilejson_describes_the_basemap(client, basemap_dir):
    meta = client.get("/tiles/basemap.json")
    assert meta.status_code == 200
    body = meta.json()
    record = json.loads((basemap_dir / PROVENANCE_NAME).read_text())
    assert body["build_id"] == record["build_id"]
    assert body["tiles"] == ["/tiles/{z}/{x}/{y}.pbf"]
    assert body["maxzoom"] == 14
    assert "OpenStreetMap" in body["attribution"]
    west, south, east, north = body["bounds"]
    assert west < -76.56 < east and south < 39.28 < north
    assert body["zooms"]["14"]["tiles"] > 0 and body["zooms"]["14"]["mean_bytes"] > 0
    assert meta.headers["cache-control"] == "no-cache"


def test_no_basemap_installed_is_404(tmp_path, monkeypatch):
    from kei_drive.api import api

    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path))
    client = TestClient(api)
    r = client.get("/tiles/basemap.json")
    assert r.status_code == 404 and "kei-drive tiles build" in r.json()["error"]
    assert client.get("/tiles/14/4706/6270.pbf").status_code == 404
