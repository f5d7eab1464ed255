"""Building routing tiles from OSM extracts (real valhalla_build_tiles)."""

from __future__ import annotations

import json

import pytest

from kei_drive.cli import main
from kei_drive.routing.tiles import (
    GRAPH_DIR,
    TilesError,
    build_tiles,
    covers,
    has_tiles,
    tile_path,
)
from tests.support.osm_synth import synth_tiles, write_network


@pytest.fixture(scope="session")
def tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


def test_synthetic_tiles_have_graph_and_kei_config(tiles):
    assert has_tiles(tiles)
    config = json.loads((tiles / "valhalla.json").read_text())
    limits = config["service_limits"]
    assert limits["allow_hard_exclusions"] is True
    assert limits["max_exclude_polygons_vertices"] >= 10_000
    assert limits["max_exclude_polygons_length"] >= 10_000_000
    assert config["mjolnir"]["tile_dir"] == str((tiles / "graph").resolve())


def test_tiles_keep_a_links_own_class(tiles):
    config = json.loads((tiles / "valhalla.json").read_text())
    assert config["mjolnir"]["reclassify_links"] is False


def test_tiles_let_a_request_set_the_matchers_breakage_distance(tiles):
    """A sparse log's steps are longer than Valhalla's 2 km (``track_check``): its config
    must let a request set it, or the engine ignores it."""
    config = json.loads((tiles / "valhalla.json").read_text())
    assert "breakage_distance" in config["meili"]["customizable"]


def test_covers_names_the_local_tiles_valhalla_wrote(tiles):
    """The synthetic network (41.93-42.04 N, 77.15-76.99 W) spans three 0.25-degree local
    tiles: Valhalla's file names for them are the ones ``tile_path`` computes."""
    graph = tiles / GRAPH_DIR
    written = sorted(str(p.relative_to(graph)) for p in (graph / "2").rglob("*.gph"))
    corners = [(41.75, -77.25), (41.75, -77.0), (42.0, -77.25)]  # south-west corners
    computed = sorted(
        str(tile_path(graph, 2, 0.25, lat + 0.1, lon + 0.1).relative_to(graph))
        for lat, lon in corners
    )
    assert written == computed == ["2/000/759/291.gph", "2/000/759/292.gph", "2/000/760/731.gph"]
    assert covers(tiles, 41.96, -76.98)  # a field east of East Street: mapped area, no road
    assert covers(tiles, 42.03, -77.06)  # New York end of US 15
    assert not covers(tiles, 41.70, -77.00)  # 25 km south: no local roads mapped there
    assert not covers(tiles, 39.29, -76.61)


def test_cli_build_prints_progress_and_writes_config(tmp_path, capsys):
    pbf = write_network(tmp_path / "net.osm.pbf")
    out = tmp_path / "tiles"
    assert main(["tiles", "build", str(pbf), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "building routing tiles" in printed
    assert "Parsing" in printed  # Valhalla's own stages come through as progress
    assert "routing tiles ready" in printed
    assert (out / "valhalla.json").is_file()


def test_cli_build_missing_file_fails_clearly(tmp_path, capsys):
    missing = tmp_path / "nowhere.osm.pbf"
    assert main(["tiles", "build", str(missing), "--out", str(tmp_path / "t")]) != 0
    err = capsys.readouterr().err
    assert "no such file" in err and "nowhere.osm.pbf" in err


def test_cli_build_corrupt_file_fails_clearly(tmp_path, capsys):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dthis is not a pbf" * 50)
    assert main(["tiles", "build", str(bad), "--out", str(tmp_path / "t")]) != 0
    err = capsys.readouterr().err
    assert "not a valid OSM PBF file" in err
    assert not has_tiles(tmp_path / "t")


def test_truncated_pbf_is_rejected(tmp_path):
    good = write_network(tmp_path / "net.osm.pbf").read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(TilesError):
        build_tiles(cut, tmp_path / "t")


def test_non_pbf_is_rejected(tmp_path):
    xml = tmp_path / "map.osm"
    xml.write_text("<osm></osm>")
    with pytest.raises(TilesError, match="PBF"):
        build_tiles(xml, tmp_path / "t")


def _copy_of(tiles, tmp_path):
    import shutil

    from kei_drive.routing.tiles import config_path, make_config

    copy = tmp_path / "tiles"
    shutil.copytree(tiles, copy)
    config_path(copy).write_text(json.dumps(make_config(copy)))
    return copy


def test_damaged_tiles_are_refused_before_the_engine_reads_them(tiles, tmp_path, monkeypatch):
    """A copy cut short or overwritten read every road "not near any road", stored as a
    verdict: now the engine is not asked, and the trip's answer waits for sound tiles."""
    from kei_drive.routing import TilesDamagedError, get_router
    from kei_drive.routing.highway_use import highway_use_and_note
    from kei_drive.routing.tiles import MANIFEST_NAME

    assert json.loads((tiles / MANIFEST_NAME).read_text())["tiles"]
    sound = _copy_of(tiles, tmp_path / "sound")
    assert get_router(sound).covers(41.96, -76.98)
    cut = _copy_of(tiles, tmp_path / "cut")
    (tile,) = [p for p in (cut / GRAPH_DIR / "2").rglob("*.gph") if p.name == "292.gph"]
    tile.write_bytes(tile.read_bytes()[:200])
    with pytest.raises(TilesDamagedError, match=r"1 of \d+ tiles differ .*292.gph has 200 bytes"):
        get_router(cut)
    monkeypatch.setenv("KEI_DRIVE_TILES", str(cut))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    answer = highway_use_and_note([(42.0, -77.1), (42.01, -77.1)])
    assert answer.answer is None and answer.judged is False and "damaged" in answer.note
    spoiled = _copy_of(tiles, tmp_path / "spoiled")
    (tile,) = [p for p in (spoiled / GRAPH_DIR / "2").rglob("*.gph") if p.name == "292.gph"]
    size = tile.stat().st_size
    tile.write_bytes(bytes(size))  # as long as before, all zeros
    with pytest.raises(TilesDamagedError, match="292.gph was overwritten"):
        get_router(spoiled)
    bad_config = _copy_of(tiles, tmp_path / "config")
    (bad_config / "valhalla.json").write_text("{ not json")
    with pytest.raises(TilesDamagedError, match="routing config .* is unreadable"):
        get_router(bad_config)


def test_tiles_damaged_while_a_process_runs_are_found_again(tiles, tmp_path, monkeypatch):
    """Checked again after ``TILES_RECHECK_S`` (a server's tiles copied over as it runs),
    and a manifest of the wrong shape is a damaged tile set, not a crash."""
    from kei_drive.routing import TilesDamagedError, get_router, valhalla_local
    from kei_drive.routing.tiles import MANIFEST_NAME

    monkeypatch.setattr(valhalla_local, "TILES_RECHECK_S", 0.0)
    copy = _copy_of(tiles, tmp_path / "running")
    get_router(copy)
    (tile,) = [p for p in (copy / GRAPH_DIR / "2").rglob("*.gph") if p.name == "292.gph"]
    tile.write_bytes(tile.read_bytes()[:100])
    with pytest.raises(TilesDamagedError, match="292.gph has 100 bytes"):
        get_router(copy)
    odd = _copy_of(tiles, tmp_path / "odd")
    (odd / MANIFEST_NAME).write_text('{"format": 1, "tiles": null}')
    with pytest.raises(TilesDamagedError, match="manifest .* is unreadable"):
        get_router(odd)
