"""Map-matching real-world GPS: glitches, ramps, noise and a bridge over a motorway.

Synthetic network (tests/support/osm_synth.py): motorway "I 99" along lon -77.000 with
unnamed motorway links at 41.950 and 41.990, and "Bridge Street" crossing over it at
41.960 on a bridge with no junction.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import TrackPoint, to_gpx
from kei_drive.core.track import TrackArrays
from kei_drive.routing import get_router
from kei_drive.routing.highway_use import highway_use, highway_use_and_note
from kei_drive.routing.track_check import check_track
from tests.support.osm_synth import synth_tiles
from tests.support.trips import drive_path

# Grid street -> on-ramp -> I 99 north -> off-ramp -> grid street.
VIA_MOTORWAY = [
    (41.9550, -77.0100),
    (41.9500, -77.0100),
    (41.9500, -77.0000),
    (41.9900, -77.0000),
    (41.9900, -77.0100),
    (41.9850, -77.0100),
]
RAMP_M = 828.0  # each link as Valhalla measures it (east-west 0.01° at 41.95° N ~ 828 m)
MOTORWAY_M = 4_448.0  # 41.950 -> 41.990
OVER_THE_BRIDGE = [(41.9600, -77.0300), (41.9600, -76.9900), (41.9680, -76.9900)]


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    return get_router(synth_tiles(tmp_path_factory))


def _highways(result):
    return [w for w in result.warnings if w.kind == "highway"]


def _track(fixes: list[TrackPoint]) -> TrackArrays:
    return TrackArrays.from_points(fixes)


def test_ramps_count_as_motorway_and_are_named(router):
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5)
    (stretch,) = _highways(check_track(_track(fixes), router=router))
    assert stretch.to_m - stretch.from_m == pytest.approx(2 * RAMP_M + MOTORWAY_M, rel=0.03)
    assert "ramp to I 99" in stretch.road and "ramp from I 99" in stretch.road
    assert "I 99" in stretch.message


def test_a_track_that_only_drives_a_ramp_used_the_motorway(router, monkeypatch):
    """Up the on-ramp and stopped where it meets I 99: no motorway edge on the track, so
    only the ramp's own class (tiles keep motorway_link's) can say it is the interstate."""
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    up_the_ramp = [(41.9550, -77.0100), (41.9500, -77.0100), (41.9500, -77.0004)]
    fixes, _ = drive_path(up_the_ramp, 10.0, accuracy_m=5)
    result = check_track(_track(fixes), router=router)
    (stretch,) = _highways(result)
    assert stretch.road_class == "motorway"
    assert stretch.to_m - stretch.from_m == pytest.approx(RAMP_M, rel=0.1)
    assert stretch.road == "ramp to I 99"  # found on the map: the track never reaches it
    assert not result.legal
    assert highway_use(_track(fixes)) is True


@pytest.mark.parametrize("every_s", [45.0, 60.0])
def test_a_sparse_log_up_a_ramp_points_it_out_and_does_not_say_no_highway(
    router, monkeypatch, every_s
):
    """A logger saving battery (a fix a minute or more) leaves two fixes on the on-ramp:
    too few to tell it from a road beside it, so the sustained-highway test drops it. Not
    counted, but pointed out, and the trip's highway use is unknown, not "no"."""
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    up_the_ramp = [(41.9550, -77.0100), (41.9500, -77.0100), (41.9500, -77.0004)]
    fixes, _ = drive_path(up_the_ramp, 20.0, accuracy_m=10, interval_s=every_s)
    result = check_track(_track(fixes), router=router)
    assert _highways(result) == []
    (note,) = [n for n in result.notes if n.startswith("Possibly on a highway")]
    assert "m of a ramp (motorway) near 41.9500, -77.00" in note
    assert "only 2 GPS fixes" in note
    use, why, judged = highway_use_and_note(_track(fixes))
    assert use is None and judged and why.startswith("Possibly on a highway")
    assert result.legal is None  # no warning, but not "Kei-legal" either
    dense, _ = drive_path(up_the_ramp, 20.0, accuracy_m=10, interval_s=20.0)
    assert highway_use(_track(dense)) is True  # five fixes: the ramp is counted


def test_a_track_that_only_drives_an_off_ramp_names_where_it_came_from(router):
    down_the_ramp = [(41.9900, -76.9996), (41.9900, -77.0100), (41.9850, -77.0100)]
    fixes, _ = drive_path(down_the_ramp, 10.0, accuracy_m=5)
    (stretch,) = _highways(check_track(_track(fixes), router=router))
    assert stretch.road == "ramp from I 99"


def test_one_glitch_1000_km_away_does_not_sink_the_audit(router, tmp_path, capsys):
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5)
    bogus = TrackPoint(33.0, -90.0, fixes[100].time + timedelta(milliseconds=500), accuracy_m=5)
    fixes = fixes[:101] + [bogus] + fixes[101:]
    gpx = tmp_path / "glitch.gpx"
    gpx.write_text(to_gpx(fixes))

    code = main(["check-route", str(gpx), "--tiles", str(router.tiles_dir), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [w["kind"] for w in data["warnings"]].count("highway") == 1
    assert data["matched_share"] >= 0.99
    assert {"reason": "gps_glitch", "points": 1} in data["unmatched"]
    assert any("1 GPS fix ignored as a glitch" in n for n in data["notes"])
    assert data["distance_m"] < 10_000  # no 1,000 km detour in the distance


def test_highway_use_of_a_trip_with_a_glitch_is_yes(router, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5)
    bogus = TrackPoint(33.0, -90.0, fixes[50].time + timedelta(milliseconds=500))
    assert highway_use(_track(fixes[:51] + [bogus] + fixes[51:])) is True


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("accuracy", [15.0, None], ids=["accuracy-given", "no-accuracy"])
def test_noisy_drive_over_a_motorway_bridge_is_no_highway(router, seed, accuracy):
    fixes, true_m = drive_path(OVER_THE_BRIDGE, 10.0, noise_m=15.0, accuracy_m=accuracy, seed=seed)
    result = check_track(_track(fixes), router=router)
    assert _highways(result) == [], [w.message for w in result.warnings]
    assert not [n for n in result.notes if n.startswith("Possibly on a highway")]
    assert result.legal is True
    assert result.report.distance_m == pytest.approx(true_m, rel=0.03)
    assert result.matched_share == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_noisy_motorway_drive_is_still_found(router, seed):
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, noise_m=15.0, accuracy_m=15.0, seed=seed)
    (stretch,) = _highways(check_track(_track(fixes), router=router))
    assert stretch.to_m - stretch.from_m == pytest.approx(2 * RAMP_M + MOTORWAY_M, rel=0.05)


# each puts 34-81 m on I 99 before the sustained-highway filter
@pytest.mark.parametrize(("spacing", "seed"), [(35.0, 4), (45.0, 2), (45.0, 8)])
def test_a_brief_match_across_the_motorway_is_not_a_highway_stretch(router, spacing, seed):
    """Untimed points 35-45 m apart (a drawn route's spacing, so not smoothed) scattered
    25 m around the bridge: whatever the matcher puts on the motorway is crossed, not
    followed, so it is no highway stretch."""
    fixes, _ = drive_path(OVER_THE_BRIDGE, spacing, noise_m=25.0, seed=seed)
    untimed = [TrackPoint(p.lat, p.lon, None) for p in fixes]
    assert _highways(check_track(_track(untimed), router=router)) == []


@pytest.mark.parametrize("seed", range(3))
def test_an_untimed_noisy_log_is_measured_like_a_timed_one(router, seed):
    """A 1 Hz log whose times were stripped, 15 m of noise: smoothed like the timed log,
    so its distance does not grow with the noise (it was +120 % unsmoothed)."""
    fixes, true_m = drive_path(OVER_THE_BRIDGE, 10.0, noise_m=15.0, seed=seed)
    untimed = [TrackPoint(p.lat, p.lon, None) for p in fixes]
    result = check_track(_track(untimed), router=router)
    assert _highways(result) == []
    assert result.report.distance_m == pytest.approx(true_m, rel=0.03)
    assert result.matched_share == 1.0


def test_an_off_road_stretch_inside_the_map_is_not_blamed_on_the_map(router):
    """Over the bridge, then 830 m east across a field (no road mapped there, but the tiles
    cover it): "not near any mapped road", not "outside the installed map data"."""
    into_the_field = [*OVER_THE_BRIDGE[:2], (41.9600, -76.9800)]
    fixes, _ = drive_path(into_the_field, 10.0, accuracy_m=5)
    result = check_track(_track(fixes), router=router)
    (entry,) = result.unmatched
    assert entry["reason"] == "no_road_nearby"
    assert 700 < entry["length_m"] < 830
    assert 0.75 < result.matched_share < 0.85
    assert any("not near any mapped road" in n for n in result.notes)
    assert not any("outside the installed map data" in n for n in result.notes)
    assert result.legal is None  # no warning, but 800 m of it could not be audited


def test_a_track_outside_the_map_data_says_so(router, monkeypatch):
    fixes, _ = drive_path([(39.29, -76.61), (39.30, -76.61)], 10.0, accuracy_m=5)
    result = check_track(_track(fixes), router=router)
    assert result.matched_share == 0.0
    assert any("outside the installed map data" in n for n in result.notes)
    assert not any("Part of the track" in n for n in result.notes)
    assert result.unmatched[0]["reason"] == "outside_map_data"
    assert result.legal is None  # nothing was audited: not "Kei-legal"
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    assert highway_use(_track(fixes)) is None


def test_miles_in_warnings_count_from_the_tracks_start_across_a_cut(router):
    """Signal lost for 2.5 km on I 99 cuts the track in two pieces, each audited on its own:
    the second highway stretch's "at mile" is where it is on the whole track, not 0.0."""
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5)
    lost = [f for f in fixes if not 41.956 < f.lat < 41.980 or f.lon < -77.0005]
    result = check_track(_track(lost), router=router)
    assert any(u["reason"] == "gap" for u in result.unmatched)
    first, second = _highways(result)
    assert second.from_m > 1000
    for stretch in (first, second):
        assert f"at mile {stretch.from_m / 1609.344:.1f}" in stretch.message
    # Pennsylvania's rule is one stretch of the whole track, not one per piece.
    (state,) = [w for w in result.warnings if w.kind == "restricted_state"]
    assert (state.from_m, state.to_m) == (0.0, pytest.approx(result.report.distance_m, abs=0.2))
    miles = result.report.distance_m / 1609.344
    assert f"({miles:.1f} mi of the route)" in state.message


def test_a_day_between_two_recordings_is_a_gap_not_a_road(router):
    """Two recordings of one street, a day apart, the second starting ~1 km on: nobody
    knows the way between, so the matcher does not bridge it (a gap, not audited)."""
    fixes, true_m = drive_path([(41.9550, -77.0100), (41.9850, -77.0100)], 10.0, accuracy_m=5)
    first, second = fixes[:100], fixes[200:]
    second = [replace(f, time=f.time + timedelta(days=1)) for f in second]
    result = check_track(_track(first + second), router=router)
    (gap,) = [u for u in result.unmatched if u["reason"] == "gap"]
    assert gap["length_m"] == pytest.approx(1000, rel=0.05)
    assert result.report.distance_m == pytest.approx(true_m - 1000, rel=0.03)


def test_a_track_past_the_last_road_of_the_extract_is_outside_the_map_data(router):
    """Inside a routing tile of the extract, but 15+ km from any of its roads (the tile
    reaches past the extract's edge): outside the map data, not "no road nearby"."""
    fixes, _ = drive_path([(41.80, -76.80), (41.80, -76.78)], 10.0, accuracy_m=5)
    assert router.covers(41.80, -76.79)
    result = check_track(_track(fixes), router=router)
    assert [u["reason"] for u in result.unmatched] == ["outside_map_data"]
    assert result.notes == [
        "The track lies outside the installed map data: road types and speed limits are unknown."
    ]


def test_a_tracker_reporting_every_40_min_says_why_nothing_was_matched(router):
    """Fixes 40 min apart are each a piece of their own (no road is guessed across 30 min):
    the error says so, not that the fixes were glitches."""
    fixes, _ = drive_path(OVER_THE_BRIDGE, 0.5, interval_s=2400.0)
    fixes = fixes[:4]  # the path's end comes sooner: keep the fixes 40 min apart
    with pytest.raises(ValueError, match=r"gaps? of over 30 min") as error:
        check_track(_track(fixes), router=router)
    assert "glitch" not in str(error.value)


# Along PA 287, 570 m down Fast Lane (a dead end 1.7 km long), round mid-road and back.
FAST_LANE_AND_BACK = [
    (41.9400, -77.0500),
    (41.9400, -77.0200),
    (41.9349, -77.0200),
    (41.9400, -77.0200),
    (41.9400, -77.0050),
]


@pytest.mark.parametrize(("every_s", "noise_m"), [(1.0, 5.0), (5.0, 10.0)])
def test_a_turn_round_mid_road_is_measured_where_the_truck_turned(router, every_s, noise_m):
    """The matcher cannot turn mid-edge: its path drove on to the dead end, 1.1 km past where
    the truck turned round, and back (+45 %). The fixes say how far the truck went and how
    fast it could go: the spur is cut back to the deepest fix."""
    fixes, true_m = drive_path(
        FAST_LANE_AND_BACK, 8.0, interval_s=every_s, noise_m=noise_m, noise_tau_s=20.0
    )
    result = check_track(_track(fixes), router=router)
    assert result.report.distance_m == pytest.approx(true_m, rel=0.03)


def test_a_turn_round_at_the_dead_end_is_driven_in_full(router):
    to_the_end = [*FAST_LANE_AND_BACK[:2], (41.9250, -77.0200), *FAST_LANE_AND_BACK[3:]]
    fixes, true_m = drive_path(to_the_end, 20.0, interval_s=5.0, noise_m=5.0, noise_tau_s=20.0)
    result = check_track(_track(fixes), router=router)
    assert result.report.distance_m == pytest.approx(true_m, rel=0.01)


# Along US 15 (trunk) from PA into New York: 10 km.
UP_US_15 = [(41.9450, -77.0600), (42.0350, -77.0600)]
# Up the grid's east column and back; I 99 runs beside it, 800 m east (faster for a car).
UP_AND_DOWN_THE_COLUMN = [(41.9505, -77.0100), (41.9895, -77.0100), (41.9505, -77.0100)]


def test_a_two_minute_tracker_is_matched_whole_and_its_trunk_counted(router, monkeypatch):
    """A fix every 2 min at 45 mph: 2.4 km between each two. Those steps were cut as if
    recording had stopped (Valhalla joins fixes at most 2 km apart): 4 % of the drive was
    matched and US 15 only pointed out. They are the log's rhythm: the whole drive is
    matched and its 10 km of trunk are counted."""
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    fixes, true_m = drive_path(UP_US_15, 20.0, interval_s=120.0, noise_m=4.0, accuracy_m=8)
    result = check_track(_track(fixes), router=router)
    assert result.matched_share == 1.0 and result.unmatched == []
    assert result.report.distance_m == pytest.approx(true_m, rel=0.02)
    assert sum(w.to_m - w.from_m for w in _highways(result)) == pytest.approx(true_m, rel=0.02)
    assert {w.road for w in _highways(result)} == {"US 15"}
    assert result.legal is False and result.notes == []
    assert highway_use(_track(fixes)) is True


def test_a_sparse_log_beside_a_motorway_points_out_the_fastest_road(router, monkeypatch):
    """Fixes 6 min apart at the ends of the column: the matcher follows the column between
    them (the road nearest their distance), but a car would take I 99, and the truck may
    have. Pointed out, not counted: the log cannot tell. A 10 s log of the same drive can."""
    monkeypatch.setenv("KEI_DRIVE_TILES", str(router.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    sparse, _ = drive_path(UP_AND_DOWN_THE_COLUMN, 12.0, interval_s=360.0, accuracy_m=8)
    result = check_track(_track(sparse), router=router)
    assert result.matched_share == 1.0 and _highways(result) == []
    (note,) = result.notes
    assert note.startswith("Possibly on a highway, not counted:") and "of I 99 (motorway)" in note
    assert "fixes are 360 s apart there and the fastest road between them runs along" in note
    assert result.legal is None
    use, why, judged = highway_use_and_note(_track(sparse))
    assert use is None and judged and why.startswith("Possibly on a highway")

    dense, _ = drive_path(UP_AND_DOWN_THE_COLUMN, 12.0, interval_s=10.0, accuracy_m=8)
    assert check_track(_track(dense), router=router).legal is True
    assert highway_use(_track(dense)) is False


def test_tiles_built_before_the_breakage_option_still_join_long_steps(
    router, tmp_path, monkeypatch
):
    """Tiles built by an earlier version: their config does not let a request set the
    matcher's breakage distance, so the engine would cut the 2.4 km steps again. It is
    added when the engine loads them: the tiles' file is left as it is (its folder may be
    read-only), and one copy is written to the cache folder, not a temp file a load."""
    from kei_drive.routing.tiles import MATCH_REQUEST_OPTIONS
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    config = json.loads((router.tiles_dir / "valhalla.json").read_text())
    custom = config["meili"]["customizable"]
    config["meili"]["customizable"] = [c for c in custom if c not in MATCH_REQUEST_OPTIONS]
    old = tmp_path / "old_tiles"
    old.mkdir()
    (old / "graph").symlink_to(router.tiles_dir / "graph")
    text = json.dumps(config, indent=1)
    (old / "valhalla.json").write_text(text)
    monkeypatch.setenv("KEI_DRIVE_CACHE", str(tmp_path / "cache"))
    fixes, _ = drive_path(UP_US_15, 20.0, interval_s=120.0, noise_m=4.0, accuracy_m=8)
    for _ in range(2):  # engines of their own: each loads the config
        result = check_track(_track(fixes), router=LocalValhallaRouter(old, own_engine=True))
        assert result.matched_share == 1.0 and result.legal is False
    assert (old / "valhalla.json").read_text() == text
    (copy,) = (tmp_path / "cache").glob("valhalla-*.json")
    assert "breakage_distance" in json.loads(copy.read_text())["meili"]["customizable"]
