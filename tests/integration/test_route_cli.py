"""``kei-drive route`` and ``kei-drive check-route`` on the synthetic tiles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import TrackPoint, to_gpx
from tests.support.osm_synth import PLACES, synth_tiles

KEYS = {"distance_m", "duration_s", "geometry", "states", "warnings"}


@pytest.fixture(scope="session")
def tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def ll(name):
    lat, lon = PLACES[name]
    return f"{lat},{lon}"


def test_route_json_avoids_motorway(tiles, capsys):
    code, out, _ = run(
        capsys,
        "route",
        "--from",
        ll("grid_se"),
        "--to",
        ll("grid_ne"),
        "--tiles",
        tiles,
        "--on",
        "2026-06-01",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert set(data) >= KEYS and "maneuvers" in data
    assert not [w for w in data["warnings"] if w["kind"] == "highway"]
    assert data["geometry"][0] == pytest.approx([41.9505, -77.01], abs=0.001)
    assert data["maneuvers"][0]["instruction"].startswith("Drive")
    assert {
        "kind",
        "message",
        "from_m",
        "to_m",
        "road",
        "state",
        "road_access",
        "statement",
        "road_class",
        "limit_mph",
        "cap_mph",
        "gap_m",
    } == set(data["warnings"][0])


def test_route_avoid_banned_states_flag(tiles, capsys):
    args = ["route", "--from", ll("loop_a"), "--to", ll("loop_b"), "--tiles", tiles, "--json"]
    _, direct, _ = run(capsys, *args)
    _, safe, _ = run(capsys, *args, "--avoid-banned-states")
    assert "NY" in [s["state"] for s in json.loads(direct)["states"]]
    assert [s["state"] for s in json.loads(safe)["states"]] == ["PA"]


def test_route_readable_summary(tiles, capsys):
    code, out, _ = run(
        capsys,
        "route",
        "--from",
        ll("grid_mid"),
        "--to",
        ll("island"),
        "--tiles",
        tiles,
        "--top-speed-mph",
        "40",
    )
    assert code == 0
    assert "NOT Kei-legal" in out and "[unreachable]" in out and "directions:" in out


def test_route_missing_tiles(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "route",
        "--from",
        "41.95,-77.01",
        "--to",
        "41.99,-77.01",
        "--tiles",
        tmp_path / "none",
    )
    assert code != 0 and "no routing tiles at" in err and "kei-drive tiles build" in err


def test_route_unroutable_request(tiles, capsys):
    code, _, err = run(
        capsys, "route", "--from", ll("grid_mid"), "--to", "30.0,-90.0", "--tiles", tiles
    )
    assert code != 0 and "no route found" in err


def test_route_place_names_offline(tiles, capsys):
    # "Leesburg, VA" resolves from the gazetteer with no network, but lies outside the tiles.
    code, _, err = run(
        capsys,
        "route",
        "--from",
        "Leesburg, VA",
        "--to",
        ll("grid_ne"),
        "--tiles",
        tiles,
        "--offline",
    )
    assert code != 0 and "no route found from 39.11566,-77.56360" in err


def test_route_unknown_place_offline(tiles, capsys):
    code, _, err = run(
        capsys,
        "route",
        "--from",
        "Nowhereville Qx",
        "--to",
        ll("grid_ne"),
        "--tiles",
        tiles,
        "--offline",
    )
    assert code != 0 and "offline: only US city names and coordinates" in err


def _write_gpx(path, latlons):
    t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    pts = [TrackPoint(lat, lon, t0 + timedelta(seconds=i)) for i, (lat, lon) in enumerate(latlons)]
    path.write_text(to_gpx(pts, name="test"))
    return path


def test_check_route_json_flags_the_motorway(tiles, tmp_path, capsys):
    # A GPS track along the motorway, north from the grid's south-east corner.
    line = [(41.950 + k * 0.0005, -77.000) for k in range(81)]
    gpx = _write_gpx(tmp_path / "drive.gpx", line)
    code, out, _ = run(capsys, "check-route", gpx, "--tiles", tiles, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= KEYS and "maneuvers" not in data
    highway = [w for w in data["warnings"] if w["kind"] == "highway"]
    assert highway and "I 99" in highway[0]["road"]
    assert data["distance_m"] == pytest.approx(4450, rel=0.05)


def test_check_route_bad_file(tiles, tmp_path, capsys):
    bad = tmp_path / "bad.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat='x'")
    code, _, err = run(capsys, "check-route", bad, "--tiles", tiles)
    assert code != 0 and "cannot read" in err
    code, _, err = run(capsys, "check-route", tmp_path / "missing.gpx", "--tiles", tiles)
    assert code != 0 and "no such file" in err


def test_route_between_place_names_credits_the_place_data(tiles, capsys):
    """GeoNames (CC BY) asks to be credited where its places are used: the route between two
    place names said nothing of where they came from."""
    town = "Tioga, PA"  # GeoNames, ~9 km from the synthetic network's west loop
    code, out, err = run(
        capsys, "route", "--from", town, "--to", ll("grid_mid"), "--tiles", tiles, "--offline"
    )
    assert code == 0, err
    assert out.startswith("Tioga, PA → ")
    assert out.rstrip().endswith("Places © GeoNames (geonames.org), CC BY 4.0")
    code, out, err = run(
        capsys,
        "route",
        "--from",
        town,
        "--to",
        ll("grid_mid"),
        "--tiles",
        tiles,
        "--offline",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["from"]["attribution"] == "Places © GeoNames (geonames.org), CC BY 4.0"
    assert data["to"]["attribution"] is None  # coordinates: nobody's data


def test_two_towns_of_one_name_are_told_apart(tiles, capsys):
    """Pennsylvania has two Lawrencevilles: "-> Lawrenceville, PA (also: Lawrenceville, PA)"
    did not say which one the route starts from."""
    code, _, err = run(
        capsys,
        "route",
        "--from",
        "Lawrenceville, PA",
        "--to",
        ll("grid_mid"),
        "--tiles",
        tiles,
        "--offline",
    )
    assert code == 2  # the bigger one, in Pittsburgh, lies outside the synthetic tiles
    assert (
        "-> Lawrenceville, PA at 40.4676,-79.9606 (also: Lawrenceville, PA at 41.9976,-77.1261)"
        in err
    )
    assert "give LAT,LON for another" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["route", "--from", "40,-105", "--to", "40.1,-105", "--top-speed-mph", "nan"],
            "from 10 to 80",
        ),
        (
            ["route", "--from", "40,-105", "--to", "40.1,-105", "--top-speed-mph", "0"],
            "from 10 to 80",
        ),
        (["check-route", "x.gpx", "--top-speed-mph", "-20"], "from 10 to 80"),
        (["states-along", "x.gpx", "--max-gap-km", "-3"], "over 0"),
        (["states-along", "x.gpx", "--max-gap-km", "nan"], "over 0"),
        (["trips", "import", "x.gpx", "--split-gap-min", "0"], "over 0"),
    ],
)
def test_a_number_out_of_range_is_a_one_line_error(capsys, argv, said):
    """A top speed of NaN crashed with a traceback, 0 said "about inf min", -20 planned; a
    negative or NaN gap read every state as 0 km: each is refused before anything runs."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
