"""Kei routing and route audits on real Valhalla (in-process and over HTTP)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from datetime import date

import numpy as np
import pytest

from kei_drive.core.audit import audit_route
from kei_drive.core.distance import haversine_m
from kei_drive.core.rules import load_rules, save_override
from kei_drive.core.track import TrackArrays
from kei_drive.routing import (
    KeiOptions,
    NoRouteError,
    RouterUnavailableError,
    TilesMissingError,
    check_track,
    get_router,
    plan_route,
)
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.planner import edges_from_trace
from kei_drive.routing.polyline import decode, encode
from kei_drive.routing.tiles import build_tiles, make_config, subprocess_env
from kei_drive.routing.valhalla_http import HttpValhallaRouter
from kei_drive.routing.valhalla_local import LocalValhallaRouter
from tests.conftest import missing
from tests.support.osm_synth import PLACES, shared_fixture, synth_tiles

ON = date(2026, 6, 1)


@pytest.fixture(scope="session")
def tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


@pytest.fixture(scope="module")
def router(tiles):
    return LocalValhallaRouter(tiles)


@pytest.fixture(scope="module")
def rules():
    return load_rules(overrides_path=os.devnull + ".none")


@pytest.fixture(scope="module")
def pa_cap_45(tmp_path_factory):
    """The real rule book with a user override giving Pennsylvania a 45 mph Kei cap."""
    path = tmp_path_factory.mktemp("rules") / "overrides.json"
    save_override("PA", {"max_road_speed_mph": 45}, "test: cap 45", path=path)
    return load_rules(overrides_path=path)


def plain_auto_audit(router, rules, a, b):
    """A car's route (no Kei costing) and its audit, as the Plan page's 'check' would do."""
    req = {
        "locations": [{"lat": a[0], "lon": a[1]}, {"lat": b[0], "lon": b[1]}],
        "costing": "auto",
    }
    shape = router.route(req)["trip"]["legs"][0]["shape"]
    trace = router.trace_attributes(kc.edge_walk_request(shape))
    return audit_route(decode(trace["shape"]), edges_from_trace(trace), rules, on=ON)


def kinds(result):
    return [w.kind for w in result.report.warnings]


def test_plain_car_route_takes_the_motorway_and_audit_names_it(router, rules):
    report = plain_auto_audit(router, rules, PLACES["grid_se"], PLACES["grid_ne"])
    highway = [w for w in report.warnings if w.kind == "highway"]
    assert len(highway) == 1
    w = highway[0]
    assert "I 99" in w.road and "Motorway" in w.message
    assert w.state == "PA"
    # The motorway runs 41.950 -> 41.990 (4.45 km) between the links (0.83 km each), and
    # for a Kei the ramps are the motorway: the stretch starts at the on-ramp.
    assert 5900 < w.to_m - w.from_m < 6300
    assert w.from_m < 100
    assert "ramp to I 99" in w.road and "ramp from I 99" in w.road
    assert "mi" in w.message


def test_kei_route_avoids_the_motorway_via_the_grid(router, rules):
    result = plan_route(
        PLACES["grid_se"], PLACES["grid_ne"], router=router, rules=rules, options=KeiOptions(on=ON)
    )
    assert "highway" not in kinds(result)
    assert result.legal
    streets = {n for m in result.maneuvers for n in m.street_names}
    assert "I 99" not in streets and "Avenue I" in streets
    assert result.report.distance_m == pytest.approx(4340, abs=150)
    # Time at Kei speed: residential 35 km/h → about 7.4 min for 4.3 km.
    assert 400 < result.report.duration_s < 500


def test_kei_route_avoids_the_trunk_a_car_takes(router, rules):
    car = plain_auto_audit(router, rules, PLACES["grid_sw"], PLACES["ny_grid"])
    assert any(w.kind == "highway" and "US 15" in (w.road or "") for w in car.warnings)
    kei = plan_route(
        PLACES["grid_sw"], PLACES["ny_grid"], router=router, rules=rules, options=KeiOptions(on=ON)
    )
    assert "highway" not in kinds(kei)


def test_speed_cap_warnings_use_the_states_cap(router, pa_cap_45):
    # Center Street is tagged 50 mph; the Kei cap in PA is (by override) 45 mph.
    report = plain_auto_audit(router, pa_cap_45, PLACES["center_w"], PLACES["center_e"])
    caps = [w for w in report.warnings if w.kind == "speed_cap"]
    assert len(caps) == 1
    assert caps[0].road == "Center Street" and caps[0].state == "PA"
    assert "50 mph" in caps[0].message and "45 mph Kei cap" in caps[0].message
    assert caps[0].to_m - caps[0].from_m > 2500


def test_speed_cap_not_reported_where_state_has_no_cap(router, rules):
    report = plain_auto_audit(router, rules, PLACES["center_w"], PLACES["center_e"])
    assert rules.rule_for("PA", on=ON).max_road_speed_mph is None
    assert not [w for w in report.warnings if w.kind in ("speed_cap", "unknown_speed_limit")]


def test_over_cap_roads_are_routed_around(router, pa_cap_45):
    a, b = PLACES["center_w"], PLACES["center_e"]
    plain = plan_route(
        a, b, router=router, rules=pa_cap_45, options=KeiOptions(on=ON, avoid_over_cap_roads=False)
    )
    assert "speed_cap" in kinds(plain)
    kei = plan_route(a, b, router=router, rules=pa_cap_45, options=KeiOptions(on=ON))
    # Start and end lie on Center Street itself; everything between is routed around it.
    over = sum(w.to_m - w.from_m for w in kei.report.warnings if w.kind == "speed_cap")
    assert over < 1200
    assert kei.report.distance_m > plain.report.distance_m  # the detour via a parallel street
    streets = {n for m in kei.maneuvers for n in m.street_names}
    assert streets & {"4 Street", "6 Street"}


def test_unknown_limits_reported_on_major_roads_where_a_cap_applies(router, pa_cap_45):
    # Mill Road is an untagged secondary; the grid's residential streets are not reported.
    report = plain_auto_audit(router, pa_cap_45, PLACES["grid_ne"], PLACES["ny_grid"])
    unknown = [w for w in report.warnings if w.kind == "unknown_speed_limit"]
    assert [w.road for w in unknown] == ["Mill Road"]
    assert unknown[0].state == "PA"


def test_banned_state_crossing_is_flagged(router, rules):
    result = plan_route(
        PLACES["loop_a"], PLACES["loop_b"], router=router, rules=rules, options=KeiOptions(on=ON)
    )
    assert [s.state for s in result.report.states] == ["PA", "NY", "PA"]
    banned = [w for w in result.report.warnings if w.kind == "banned_state"]
    assert len(banned) == 1 and banned[0].state == "NY"
    assert "New York" in banned[0].message and "Source: http" in banned[0].message
    assert not result.legal


def test_avoid_banned_states_reroutes(router, rules):
    direct = plan_route(
        PLACES["loop_a"], PLACES["loop_b"], router=router, rules=rules, options=KeiOptions(on=ON)
    )
    safe = plan_route(
        PLACES["loop_a"],
        PLACES["loop_b"],
        router=router,
        rules=rules,
        options=KeiOptions(on=ON, avoid_banned_states=True),
    )
    assert [s.state for s in safe.report.states] == ["PA"]
    assert "banned_state" not in kinds(safe)
    assert safe.report.distance_m > 1.5 * direct.report.distance_m
    assert safe.legal


def test_avoid_banned_states_explains_a_destination_inside_one(router, rules):
    result = plan_route(
        PLACES["grid_sw"],
        PLACES["ny_grid"],
        router=router,
        rules=rules,
        options=KeiOptions(on=ON, avoid_banned_states=True),
    )
    assert any("destination is in New York" in n for n in result.notes)
    assert "banned_state" in kinds(result)
    assert not result.legal
    inside = plan_route(  # both ends in New York: both are named
        PLACES["ny_grid"],
        (42.0300, -77.0400),
        router=router,
        rules=rules,
        options=KeiOptions(on=ON, avoid_banned_states=True),
    )
    named = [n for n in inside.notes if "is in New York" in n]
    assert len(named) == 2 and "start" in named[0] and "destination" in named[1]


def test_unreachable_destination_is_reported_not_snapped(router, rules):
    result = plan_route(
        PLACES["grid_mid"], PLACES["island"], router=router, rules=rules, options=KeiOptions(on=ON)
    )
    unreachable = [w for w in result.report.warnings if w.kind == "unreachable"]
    assert len(unreachable) == 1
    assert "destination" in unreachable[0].message
    (lat, lon), end = result.requested[1], result.report.geometry[-1]
    assert haversine_m(lat, lon, end[0], end[1]) > 1500  # the route stops short
    assert not result.legal


def test_route_outside_the_tiles_is_no_route(router, rules):
    """The engine says "No suitable edges near location"; the driver is told which end lies
    outside the installed map data, and how to add it."""
    with pytest.raises(NoRouteError, match="the destination lies outside the installed map"):
        plan_route(PLACES["grid_mid"], (30.0, -90.0), router=router, rules=rules)


def test_missing_tiles_dir_says_how_to_build(tmp_path):
    with pytest.raises(TilesMissingError, match="kei-drive tiles build"):
        get_router(tmp_path / "none")


def test_get_router_prefers_the_configured_server(monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_VALHALLA_URL", "http://127.0.0.1:9")
    assert isinstance(get_router(), HttpValhallaRouter)


def test_check_track_audits_a_gps_track_on_the_motorway(router, rules):
    car = plain_auto_audit(router, rules, PLACES["grid_se"], PLACES["grid_ne"])
    # A dense "GPS" track: the car's route with a point every ~5 m.
    pts = []
    for (a0, a1), (b0, b1) in zip(car.geometry[:-1], car.geometry[1:], strict=True):
        n = 100
        pts += [(a0 + (b0 - a0) * k / n, a1 + (b1 - a1) * k / n) for k in range(n)]
    pts.append(car.geometry[-1])
    result = check_track(pts, router=router, rules=rules, on=ON)
    highway = [w for w in result.report.warnings if w.kind == "highway"]
    assert highway and "I 99" in highway[0].road
    assert result.report.distance_m == pytest.approx(car.distance_m, rel=0.05)


def test_check_track_outside_coverage_still_audits_states(router, rules):
    # A track in Ohio (cap 35 mph): no tiles there, so road attributes are unknown.
    pts = [(40.0 + k * 0.001, -82.9) for k in range(50)]
    result = check_track(pts, router=router, rules=rules, on=ON)
    assert [s.state for s in result.report.states] == ["OH"]
    assert any("lies outside the installed map data" in n for n in result.notes)
    assert result.matched_share == 0.0
    unknown = [w for w in result.report.warnings if w.kind == "unknown_speed_limit"]
    assert unknown and unknown[0].road is None
    assert result.report.distance_m == pytest.approx(5450, rel=0.02)


def test_polyline_roundtrip():
    pts = [(41.95, -77.01), (41.990001, -77.000002), (-33.5, 151.25)]
    back = decode(encode(pts))
    assert [c for p in back for c in p] == pytest.approx([c for p in pts for c in p], abs=1e-6)


# --- HTTP router against a real valhalla_service ------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def valhalla_server(tiles, tmp_path_factory):
    run = tmp_path_factory.mktemp("valhalla_service")
    port = _free_port()
    config = make_config(tiles)
    config["httpd"]["service"]["listen"] = f"tcp://127.0.0.1:{port}"
    # Private IPC sockets so parallel servers never collide.
    for section in ("loki", "thor", "odin", "meili"):
        config[section]["service"]["proxy"] = f"ipc://{run}/{section}"
    config["httpd"]["service"]["loopback"] = f"ipc://{run}/loopback"
    config["httpd"]["service"]["interrupt"] = f"ipc://{run}/interrupt"
    config["httpd"]["service"]["drain_seconds"] = 0
    config["httpd"]["service"]["shutdown_seconds"] = 0
    cfg = run / "valhalla.json"
    cfg.write_text(json.dumps(config))
    log = (run / "service.log").open("w")
    proc = subprocess.Popen(
        ["valhalla_service", str(cfg), "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=subprocess_env(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/status", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"valhalla_service did not start: {(run / 'service.log').read_text()}"
                    )
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def test_http_router_answers_the_same_request_as_the_local_engine(valhalla_server, router):
    http = HttpValhallaRouter(valhalla_server)
    req = kc.route_request(PLACES["grid_se"], PLACES["grid_ne"], KeiOptions())
    local_trip = router.route(req)["trip"]
    http_trip = http.route(req)["trip"]
    assert http_trip["legs"][0]["shape"] == local_trip["legs"][0]["shape"]
    assert http_trip["summary"]["length"] == pytest.approx(local_trip["summary"]["length"])


def test_plan_route_over_http(valhalla_server, rules):
    result = plan_route(
        PLACES["loop_a"],
        PLACES["loop_b"],
        router=HttpValhallaRouter(valhalla_server),
        rules=rules,
        options=KeiOptions(on=ON, avoid_banned_states=True),
    )
    assert [s.state for s in result.report.states] == ["PA"]
    assert result.engine == "valhalla-http"


def test_http_router_no_route_is_a_clear_error(valhalla_server):
    http = HttpValhallaRouter(valhalla_server)
    with pytest.raises(NoRouteError):
        http.route(kc.route_request(PLACES["grid_mid"], (30.0, -90.0), KeiOptions()))


def test_http_router_unreachable_server():
    http = HttpValhallaRouter(f"http://127.0.0.1:{_free_port()}", timeout_s=2)
    with pytest.raises(RouterUnavailableError, match="cannot reach the Valhalla server"):
        http.route(kc.route_request(PLACES["grid_mid"], PLACES["grid_ne"], KeiOptions()))


# --- a real extract ------------------------------------------------------------------------

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")


@pytest.fixture(scope="module")
def baltimore(tmp_path_factory):
    if not BALTIMORE.is_file():
        missing(f"the real OSM extract {BALTIMORE}", "fixtures")
    out = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def test_baltimore_car_uses_interstate_kei_does_not(baltimore, rules):
    a, b = (39.2850, -76.6050), (39.3040, -76.5320)  # downtown to the north-east
    car = plain_auto_audit(baltimore, rules, a, b)
    kei = plan_route(a, b, router=baltimore, rules=rules, options=KeiOptions(on=ON))
    motorways = [w for w in car.warnings if w.kind == "highway" and "Motorway" in w.message]
    assert motorways and "I 95" in motorways[0].road
    assert motorways[0].to_m - motorways[0].from_m > 1000
    assert "highway" not in kinds(kei)
    assert [s.state for s in kei.report.states] == ["MD"]


def test_baltimore_harbor_crossing_offers_least_bad_route(baltimore, rules):
    # In this extract the only way across the harbor is an I-95 tunnel.
    a, b = (39.2620, -76.5850), (39.3020, -76.5950)
    kei = plan_route(a, b, router=baltimore, rules=rules, options=KeiOptions(on=ON))
    assert not kei.legal
    assert any("No route without motorways" in n for n in kei.notes)
    tunnel = [w for w in kei.report.warnings if w.kind == "highway"]
    assert tunnel and "tunnel" in tunnel[0].road
    assert "unreachable" not in kinds(kei)


# An outside check planned routes here and checked them back as tracks (session 40).
HIGHLANDTOWN, LITTLE_ITALY = (39.28846, -76.56755), (39.28677, -76.60142)
ON_HOLABIRD = (39.27261, -76.5262)  # mid-block on Holabird Avenue
HOLABIRD_NODE = (39.2725882, -76.5250527)


def _length(points) -> float:
    lat, lon = (np.array(c) for c in zip(*points, strict=True))
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def test_a_planned_route_checked_back_keeps_its_length(baltimore, rules):
    """A plan's GPX ends with its last point twice: the matcher drove on to the end of
    Holabird Avenue and back (6,078 m for 4,841), also for a track ending in parked fixes."""
    plan = plan_route(
        HIGHLANDTOWN, HOLABIRD_NODE, router=baltimore, rules=rules, options=KeiOptions(on=ON)
    )
    line = [tuple(p) for p in plan.report.geometry]
    twice = line + [line[-1]]
    checked = check_track(twice, router=baltimore, rules=rules, on=ON)
    assert checked.report.distance_m == pytest.approx(plan.report.distance_m, rel=0.01)
    t = [0.0]
    for a, b in zip(line[:-1], line[1:], strict=True):
        t.append(t[-1] + max(float(haversine_m(*a, *b)), 0.1) / 12.0)
    t += [t[-1] + s for s in range(1, 61)]  # a minute parked at the end, the fix repeated
    parked = line + [line[-1]] * 60
    lat, lon = (np.array(c) for c in zip(*parked, strict=True))
    track = TrackArrays.from_columns(lat, lon, np.array(t))
    checked = check_track(track, router=baltimore, rules=rules, on=ON)
    assert checked.report.distance_m == pytest.approx(plan.report.distance_m, rel=0.01)


@pytest.mark.parametrize("turn", [ON_HOLABIRD, HOLABIRD_NODE])
def test_a_drawn_route_turning_round_mid_block_is_not_driven_on(baltimore, rules, turn):
    """Out to a point on Holabird Avenue and back (an untimed route, as the Drive screen
    follows one): the matcher cannot turn round there and drove on to the next crossing and
    back, 1.2-1.4 km of road no point of the route shows (+10 %)."""
    out = plan_route(HIGHLANDTOWN, turn, router=baltimore, rules=rules, options=KeiOptions(on=ON))
    back = plan_route(turn, LITTLE_ITALY, router=baltimore, rules=rules, options=KeiOptions(on=ON))
    drawn = [tuple(p) for p in out.report.geometry] + [tuple(p) for p in back.report.geometry]
    checked = check_track(drawn, router=baltimore, rules=rules, on=ON)
    assert checked.report.distance_m == pytest.approx(_length(drawn), rel=0.01)


def test_turns_are_placed_on_the_line_when_the_route_ends_on_a_node(baltimore, rules):
    """Ending exactly on a map node, the engine's route line had a vertex more than the
    audited one: every turn from the second on was placed a vertex early (up to 119 m: a
    "turn right" said before its street) and the arrival's index lay past the line's end."""
    start, end = (39.2641777, -76.6065877), (39.289248, -76.549498)
    rounded = (round(start[0], 6), round(start[1], 6))  # the same place, off the node

    def turns(origin):
        plan = plan_route(origin, end, router=baltimore, rules=rules, options=KeiOptions(on=ON))
        line = plan.report.geometry
        assert plan.maneuvers[-1].begin_index == len(line) - 1
        return [(m.instruction, line[m.begin_index]) for m in plan.maneuvers]

    exact, off_node = turns(start), turns(rounded)
    assert [i for i, _ in exact] == [i for i, _ in off_node]
    for (what, a), (_, b) in zip(exact[1:], off_node[1:], strict=True):
        assert haversine_m(*a, *b) < 2.0, what


def test_an_end_far_outside_the_map_is_said_so(baltimore, rules):
    """A point at sea off Africa: the engine's own "Path distance exceeds the max distance
    limit: 5000000 meters" came through, where a point in New York was told apart."""
    with pytest.raises(NoRouteError, match="the start lies outside the installed map data"):
        plan_route(
            (0.1, 0.1), HIGHLANDTOWN, router=baltimore, rules=rules, options=KeiOptions(on=ON)
        )


@pytest.fixture(scope="module")
def md_cap_45(tmp_path_factory):
    """The real rule book with a user override giving Maryland a 45 mph Kei cap."""
    path = tmp_path_factory.mktemp("rules_md") / "overrides.json"
    save_override("MD", {"max_road_speed_mph": 45}, "test: cap 45", path=path)
    return load_rules(overrides_path=path)


def test_a_long_stretch_of_unknown_limit_names_its_longest_roads(baltimore, md_cap_45):
    """O'Donnell Heights to Old Town under a 45 mph cap: "Speed limit unknown on Boston
    Street, O'Donnell Street Cutoff, O'Donnell Street, South Ponca Street for 4.7 mi" named
    its first four roads; 81 % of it was on Eastern Avenue, Haven Street, Monument and
    Madison Streets, none named. Joined stretches repeated a name ("Dundalk Avenue, Dundalk
    Avenue, Eastern Avenue")."""
    for a, b in (
        ((39.27828, -76.53905), (39.29894, -76.60253)),
        ((39.26109, -76.53152), (39.29894, -76.60253)),
    ):
        plan = plan_route(
            a, b, router=baltimore, rules=md_cap_45, options=KeiOptions(on=ON), permits=[]
        )
        unknown = [w for w in plan.report.warnings if w.kind == "unknown_speed_limit"]
        longest = max(unknown, key=lambda w: w.to_m - w.from_m)
        assert longest.to_m - longest.from_m > 5_000
        names, _, more = longest.road.partition(" and ")
        assert "Eastern Avenue" in names.split(", ") or "East Monument Street" in names.split(", ")
        assert more.endswith(" more")
        for w in unknown:
            shown = (w.road or "").split(" and ")[0].split(", ")
            assert len(shown) == len(set(shown)), w.road
