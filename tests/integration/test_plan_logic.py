"""The Plan page's work functions on real tiles and the real gazetteer (no browser)."""

from __future__ import annotations

import pytest

from kei_drive.core.gpx import TrackPoint, read_gpx_points, to_gpx
from kei_drive.core.vocabulary import WarningKind
from kei_drive.geocoding import GAZETTEER_ATTRIBUTION
from kei_drive.presenters.route import KIND_COLORS
from kei_drive.services.planning import (
    PlanRequest,
    parse_options,
    resolve_place,
    route_gpx,
    run_check,
    run_plan,
)
from tests.support.osm_synth import PLACES, synth_tiles


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


@pytest.fixture
def home(tmp_path, monkeypatch, tiles):
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path))
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tiles))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    return tmp_path


def req(origin, dest, **extra):
    return PlanRequest(origin_text=origin, dest_text=dest, top_speed="45", **extra)


def ll(name):
    return f"{PLACES[name][0]},{PLACES[name][1]}"


def test_plan_fields_for_a_grid_route(home):
    out = run_plan(req(ll("grid_se"), ll("grid_ne"), trip_date="2026-06-01"), online=False)
    assert out.error.title == "" and out.result is not None
    result = out.result
    assert result.distance == "2.7 mi (4.3 km)"
    assert WarningKind.HIGHWAY not in {w.kind for w in result.warnings}
    assert result.layers[0]["geojson"]["features"]
    assert result.maneuvers[0].instruction.startswith("Drive")
    gpx = route_gpx(out.geometry, "test")
    assert len(read_gpx_points(gpx)) == len(out.geometry)


def test_missing_tiles_tell_how_to_build_them(home, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(home / "no-tiles"))
    out = run_plan(req(ll("grid_se"), ll("grid_ne")), online=False)
    assert out.error.title == "No routing tiles on this server"
    assert "kei-drive tiles build FILE.osm.pbf" in out.error.hint
    assert out.result is None  # an old result no longer applies


def test_gpx_check_names_the_motorway(home):
    track = [TrackPoint(lat=41.945 + 0.001 * i, lon=-77.0, time=None) for i in range(46)]
    out = run_check(to_gpx(track).encode(), "m.gpx", PlanRequest(top_speed="45"))
    result = out.result
    highway = [w for w in result.warnings if w.kind == WarningKind.HIGHWAY]
    assert len(highway) == 1 and highway[0].road == "I 99"
    assert not result.legal
    features = result.layers[0]["geojson"]["features"]
    assert [f for f in features if f["properties"]["color"] == KIND_COLORS[WarningKind.HIGHWAY]]


def test_bad_gpx_is_a_clear_error(home):
    out = run_check(b"<gpx", "bad.gpx", PlanRequest())
    assert out.error.title == "Cannot read bad.gpx" and "not a GPX file" in out.error.message
    assert out.result is None


def test_an_option_error_replaces_the_previous_result(home):
    out = run_check(b"<gpx", "bad.gpx", PlanRequest(top_speed="fast"))
    assert out.error.title == "Check the options" and out.result is None


def test_offline_places_and_candidates():
    leesburg = resolve_place("Leesburg, VA", online=False).place
    assert leesburg.attribution == GAZETTEER_ATTRIBUTION
    assert 39.0 < leesburg.lat < 39.2
    many = resolve_place("Springfield", online=False).candidates
    assert len(many) > 1 and len({c.name for c in many}) == len(many)
    # A picked candidate is kept while the text still shows its name.
    assert resolve_place(many[1].name, many[1], online=False).place == many[1]
    offline = resolve_place("1200 Hardware Store Road", online=False)
    assert offline.error == 'No connection to the address search — use "City, ST" or lat,lon'


def test_option_errors():
    assert parse_options("40", "2026-06-01")[0] == 40.0
    with pytest.raises(ValueError, match="between"):
        parse_options("200", "")
    with pytest.raises(ValueError, match="number"):
        parse_options("fast", "")
    with pytest.raises(ValueError, match="date"):
        parse_options("45", "June 1")


def test_vehicles_offer_their_top_speed(tmp_path):
    from kei_drive.db import app_session
    from kei_drive.db import queries as q
    from kei_drive.presenters.vehicles import vehicle_options

    url = f"sqlite:///{tmp_path / 'kd.db'}"
    with app_session(url) as db:
        assert vehicle_options(q.list_vehicles(db), with_cap=True) == []
        q.create_vehicle(db, "Sambar", speed_cap_mph=40)
        q.create_vehicle(db, "Carry")
    with app_session(url) as db:
        rows = vehicle_options(q.list_vehicles(db), with_cap=True)
    assert [r.speed for r in rows] == ["40", ""]
    assert rows[0].label == "Sambar (top speed 40 mph)"


def test_an_unreachable_destination_is_named_and_never_arrived_at(home):
    # The island is too small for the engine: the route stops 2+ km short of it.
    out = run_plan(req(ll("grid_mid"), ll("island"), trip_date="2026-06-01"), online=False)
    result = out.result
    assert result.verdict.startswith("Destination unreachable: the route ends ")
    assert result.verdict.endswith(" short of your destination")
    last = result.maneuvers[-1].instruction
    assert "arrived" not in last.lower()
    assert last.startswith("The route ends here, ") and "no road route reaches it" in last


def test_a_recording_gap_is_cut_but_a_drawn_route_is_followed_whole(home):
    """A recorded track (timed) with 2.8 km of lost signal is cut there; the same points
    without times are a drawn route (a GPX route, an exported plan): followed whole."""
    from datetime import UTC, datetime, timedelta

    lats = [41.9505 + 0.0005 * i for i in range(20)] + [41.9855 + 0.0005 * i for i in range(8)]
    t0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
    timed = [
        TrackPoint(
            lat=lat, lon=-77.0101, time=t0 + timedelta(seconds=5 * i + (300 if i >= 20 else 0))
        )
        for i, lat in enumerate(lats)
    ]
    drawn = [TrackPoint(lat=p.lat, lon=p.lon, time=None) for p in timed]
    recorded = run_check(to_gpx(timed).encode(), "recorded.gpx", PlanRequest(top_speed="45"))
    assert any("cut at 1 jump" in n for n in recorded.result.notes), recorded.result.notes
    route = run_check(to_gpx(drawn).encode(), "route.gpx", PlanRequest(top_speed="45"))
    assert not any("cut" in n for n in route.result.notes), route.result.notes
    assert route.result.distance.startswith("2.7 mi")  # Avenue I end to end, 4.4 km
