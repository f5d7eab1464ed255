"""``POST /api/v1/route`` (Drive guidance) on the real engine: the synthetic PA/NY network
and the Baltimore extract, through Starlette's TestClient and a real database."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.core.audit import HIGHWAY_WORDS
from kei_drive.core.distance import cumulative_m, haversine_m, initial_bearing_deg
from kei_drive.db import accounts as acc
from kei_drive.db import migrate, session
from kei_drive.routing.tiles import build_tiles
from kei_drive.services.guidance import MAX_TRACK_POINTS
from kei_drive.services.us_states import save_user_override
from tests.conftest import shared_fixture
from tests.support.osm_synth import PLACES, synth_tiles
from tests.support.trips import fresh_db_url

PASSWORD = "a long enough password"
OPTIONS = {
    "top_speed_mph": 45,
    "avoid_banned": False,
    "avoid_opt_in": False,
    "avoid_trunks": True,
    "avoid_over_cap": True,
    "date": "2026-06-01",
}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = fresh_db_url("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    migrate(url)
    return url


@pytest.fixture
def client(db, synth, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(synth))
    with TestClient(api) as c:
        yield c


def plan(client, a: str, b: str, **extra) -> dict:
    body = {"from": list(PLACES[a]), "to": list(PLACES[b]), "to_name": b, "options": OPTIONS}
    r = client.post("/api/v1/route", json={**body, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def near(p, q, metres: float) -> bool:
    return float(haversine_m(p[0], p[1], q[0], q[1])) < metres


def test_plan_answers_route_maneuvers_and_normalised_request(client):
    doc = plan(client, "grid_se", "grid_ne")
    assert doc["version"] == 1
    assert doc["request"] == {
        "from": list(PLACES["grid_se"]),
        "to": list(PLACES["grid_ne"]),
        "to_name": "grid_ne",
        "options": {**OPTIONS, "top_speed_mph": 45.0},
    }
    route = doc["route"]
    assert near(route["geometry"][0], PLACES["grid_se"], 100)
    assert near(route["geometry"][-1], PLACES["grid_ne"], 100)
    assert not [w for w in route["warnings"] if w["kind"] == "highway"]  # the Kei way: the grid
    streets = {n for m in route["maneuvers"] for n in m["street_names"]}
    assert "Avenue I" in streets and "I 99" not in streets
    indices = [m["begin_index"] for m in route["maneuvers"]]
    assert indices == sorted(indices) and indices[-1] < len(route["geometry"])
    assert route["maneuvers"][-1]["type"] in (4, 5, 6)  # arrival
    # Pennsylvania is "restricted": said at the start, worded without a distance.
    assert doc["announcements"][0] == {
        "kind": "restricted_state",
        "at_m": 0.0,
        "to_m": pytest.approx(route["distance_m"], abs=1),
        "subject": "Pennsylvania",
        "subject_on": "Pennsylvania",
        "detail": "Kei vehicles are restricted",
        "text": "Pennsylvania: Kei vehicles are restricted",
    }


def test_a_state_line_is_announced_where_the_stretch_starts(client):
    doc = plan(client, "loop_a", "loop_b")  # the short way runs through New York (banned)
    ny = [w for w in doc["route"]["warnings"] if w["kind"] == "banned_state"]
    assert ny and ny[0]["state"] == "NY"
    said = [a for a in doc["announcements"] if a["kind"] == "banned_state"]
    assert said == [
        {
            "kind": "banned_state",
            "at_m": ny[0]["from_m"],
            "to_m": ny[0]["to_m"],
            "subject": "New York line",
            "subject_on": "New York",
            "detail": "Kei vehicles are not allowed",
            "text": "New York line: Kei vehicles are not allowed",
        }
    ]
    assert 0 < said[0]["at_m"] < said[0]["to_m"] <= doc["route"]["distance_m"]
    assert all(" mi" not in a["text"] for a in doc["announcements"])
    # The same request with "avoid banned states" stays in Pennsylvania.
    safe = plan(client, "loop_a", "loop_b", options={**OPTIONS, "avoid_banned": True})
    assert [s["state"] for s in safe["route"]["states"]] == ["PA"]
    assert safe["request"]["options"]["avoid_banned"] is True


def test_reroute_from_the_current_position_keeps_the_options(client):
    first = plan(client, "grid_se", "grid_ne", options={**OPTIONS, "top_speed_mph": 30})
    here = [41.9700, -77.0300]  # the truck went west into the grid
    r = client.post("/api/v1/route", json={**first["request"], "from": here})
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["request"] == {**first["request"], "from": here}
    assert near(again["route"]["geometry"][0], here, 100)
    assert near(again["route"]["geometry"][-1], PLACES["grid_ne"], 100)


def test_track_mode_follows_the_gpx_route_with_maneuvers(client):
    planned = plan(client, "grid_se", "grid_mid")["route"]
    track = planned["geometry"]
    r = client.post("/api/v1/route", json={"track": track, "name": "My route.gpx"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["request"]["track"] == track and doc["request"]["name"] == "My route.gpx"
    assert doc["request"]["options"]["top_speed_mph"] == 45.0  # defaults filled in
    route = doc["route"]
    assert near(route["geometry"][0], track[0], 60) and near(route["geometry"][-1], track[-1], 60)
    assert route["matched_share"] > 0.95
    maneuvers = route["maneuvers"]
    assert len(maneuvers) >= 3, route["notes"]
    assert maneuvers[0]["type"] in (1, 2, 3) and maneuvers[-1]["type"] in (4, 5, 6)
    # Turns sit on the route's own geometry, in order, where the plan turned.
    indices = [m["begin_index"] for m in maneuvers]
    assert indices == sorted(indices) and indices[-1] == len(route["geometry"]) - 1
    ends = (1, 2, 3, 4, 5, 6)  # start and arrival
    planned_turns = [
        planned["geometry"][m["begin_index"]] for m in planned["maneuvers"] if m["type"] not in ends
    ]
    track_turns = [route["geometry"][m["begin_index"]] for m in maneuvers if m["type"] not in ends]
    assert planned_turns and len(track_turns) == len(planned_turns)
    assert all(near(p, q, 40) for p, q in zip(planned_turns, track_turns, strict=True))
    assert doc["announcements"][0]["text"] == "Pennsylvania: Kei vehicles are restricted"


def test_an_exported_plan_with_kilometres_between_vertices_is_followed_whole(client):
    # The Plan page's GPX export is the route's own vertices: on the long straight PA 287
    # they are 2+ km apart, which a recording would call a gap in the GPS.
    planned = plan(client, "grid_se", "loop_b")["route"]
    geometry = planned["geometry"]
    gaps = [haversine_m(*a, *b) for a, b in zip(geometry, geometry[1:], strict=False)]
    assert max(gaps) > 2000
    r = client.post("/api/v1/route", json={"track": geometry, "name": "exported.gpx"})
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert not [n for n in route["notes"] if "cut" in n], route["notes"]
    assert route["distance_m"] == pytest.approx(planned["distance_m"], rel=0.02)
    assert [m["instruction"] for m in route["maneuvers"][1:]] == [
        m["instruction"] for m in planned["maneuvers"][1:]
    ]


def test_a_reroute_on_a_long_straight_of_a_drawn_route_continues_from_there(client):
    planned = plan(client, "grid_se", "loop_b")["route"]["geometry"]
    # On East Hollow Road (lon -77.080) between two vertices 2.8 km apart.
    here = [41.9525, -77.0800]
    assert min(haversine_m(*here, *p) for p in planned) > 1000
    r = client.post("/api/v1/route", json={"track": planned, "from": here})
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert near(route["geometry"][0], here, 30)
    assert not [n for n in route["notes"] if "back to your route" in n]
    assert near(route["geometry"][-1], planned[-1], 60)


def test_track_reroute_joins_the_track_from_the_current_position(client):
    track = plan(client, "grid_se", "grid_mid")["route"]["geometry"]
    off = [41.9560, -77.0150]  # a street beside the route
    r = client.post("/api/v1/route", json={"track": track, "from": off})
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert near(route["geometry"][0], off, 60)
    assert near(route["geometry"][-1], track[-1], 60)
    assert route["notes"][0] == "A Kei route leads from where you are back to your route."
    assert r.json()["request"]["from"] == off


def test_track_reroute_from_far_away_leads_back_by_a_kei_route(client):
    track = plan(client, "grid_se", "grid_mid")["route"]["geometry"]  # Avenue I, then west
    far = list(PLACES["grid_sw"])  # about 2 km west of the track's start
    r = client.post("/api/v1/route", json={"track": track, "from": far})
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert near(route["geometry"][0], far, 60)
    assert near(route["geometry"][-1], track[-1], 60)
    assert route["notes"][0] == "A Kei route leads from where you are back to your route."
    kinds = [m["type"] for m in route["maneuvers"]]
    assert kinds[0] in (1, 2, 3) and kinds[-1] in (4, 5, 6)
    assert not [k for k in kinds[1:-1] if k in (1, 2, 3, 4, 5, 6)]  # one start, one arrival
    indices = [m["begin_index"] for m in route["maneuvers"]]
    assert indices == sorted(indices) and indices[-1] < len(route["geometry"])
    assert not [w for w in route["warnings"] if w["kind"] == "highway"]


BAD = [
    ("[1, 2]", 400, "JSON object"),
    ("{not json", 400, "not valid JSON"),
    ('{"to": [41.95, -77.01]}', 400, "missing from"),
    ('{"from": [41.95, -77.01]}', 400, "missing to"),
    ('{"from": "41.95,-77.01", "to": [41.98, -77.01]}', 400, "[lat, lon]"),
    ('{"from": [NaN, -77.01], "to": [41.98, -77.01]}', 422, "finite"),
    ('{"from": [41.95, Infinity], "to": [41.98, -77.01]}', 422, "finite"),
    ('{"from": [91, -77.01], "to": [41.98, -77.01]}', 422, "out of range"),
    ('{"from": [41.95, -77.01], "to": [41.98, -181]}', 422, "out of range"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "options": {"top_speed_mph": 200}}', 422,
     "between 10 and 80"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "options": {"avoid_trunks": "yes"}}', 400,
     "true or false"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "options": {"date": "June"}}', 422,
     "2026-06-01"),
    ('{"track": [[41.95, -77.01]]}', 422, "at least two"),
    ('{"track": [[41.95, -77.01], [41.96, -77.01]], "name": "\\ud800"}', 400, "not valid text"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "to_name": 7}', 400, "must be text"),
    ('{"track": [[41.95, -77.01], [41.96]]}', 400, "track[1]"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "heading": "east"}', 400, "degrees"),
    ('{"from": [41.95, -77.01], "to": [41.98, -77.0], "heading": 400}', 422, "0 and 360"),
    ('{"track": [[41.95, -77.01], [41.96, -77.01]], "along_m": "far"}', 400, "metres"),
    ('{"track": [[41.95, -77.01], [41.96, -77.01]], "along_m": -5}', 422, "0 or more"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "reason"), BAD)
def test_bad_input_is_a_json_error_with_a_reason(client, body, status, reason):
    r = client.post("/api/v1/route", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    data = r.json()
    assert set(data) == {"error", "detail"}
    assert reason in data["detail"]


def test_a_track_thousands_of_km_long_is_refused_before_any_routing(client):
    """2,000 points scattered across a city (an outside probe): 10,000 km of roads between
    them, 30 s and a 5 MB answer; 20,000 points held a worker for 271 s."""
    import random

    rng = random.Random(3)
    track = [[41.9 + rng.uniform(0, 0.1), -77.1 + rng.uniform(0, 0.1)] for _ in range(2_000)]
    started = time.monotonic()
    r = client.post("/api/v1/route", json={"track": track})
    assert r.status_code == 422
    assert "km long in straight lines; at most 2,000 km" in r.json()["detail"]
    assert time.monotonic() - started < 5  # refused, not routed
    along = [[41.95 + i * 1e-3, -77.01] for i in range(200)]  # 22 km: taken
    assert client.post("/api/v1/route", json={"track": along}).status_code != 422


def test_a_huge_track_is_refused_before_any_routing(client):
    track = [[41.95 + i * 1e-6, -77.01] for i in range(MAX_TRACK_POINTS + 1)]
    r = client.post("/api/v1/route", json={"track": track})
    assert r.status_code == 422
    assert f"at most {MAX_TRACK_POINTS}" in r.json()["detail"]
    body = json.dumps({"track": [[41.9500001, -77.0100001]] * 150_000})  # > 2 MB
    r = client.post("/api/v1/route", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "bytes" in r.json()["detail"]


def test_an_unreachable_destination_is_announced_at_the_routes_end(client):
    # The island is too small for the engine to route onto: the route stops short of it.
    body = {"from": list(PLACES["grid_mid"]), "to": list(PLACES["island"]), "options": OPTIONS}
    r = client.post("/api/v1/route", json=body)
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    gap = [w for w in route["warnings"] if w["kind"] == "unreachable"]
    assert gap and gap[0]["gap_m"] > 500
    last = r.json()["announcements"][-1]
    assert last["kind"] == "unreachable" and last["subject"] == "The route ends"
    assert last["detail"].endswith("short of your destination — no road route reaches it")
    assert last["at_m"] == pytest.approx(route["distance_m"], abs=1)


def test_no_tiles_is_503_with_a_clear_message(db, tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles-here"))
    r = TestClient(api).post("/api/v1/route", json={"from": [41.95, -77.01], "to": [41.98, -77.01]})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "No routing tiles on this server"
    assert "kei-drive tiles build" in r.json()["detail"]


def test_sign_in_is_required_and_cross_site_posts_are_refused(db, synth, monkeypatch):
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    monkeypatch.setenv("KEI_DRIVE_TILES", str(synth))
    with session(db) as s:
        acc.create_account(s, "kei", PASSWORD)
    body = {"from": list(PLACES["grid_se"]), "to": list(PLACES["grid_ne"])}
    anonymous = TestClient(api)
    r = anonymous.post("/api/v1/route", json=body)
    assert r.status_code == 401 and "sign in" in r.json()["error"]
    driver = TestClient(api, follow_redirects=False)
    r = driver.post("/signin", data={"username": "kei", "password": PASSWORD, "next": "/plan"})
    assert r.status_code == 303
    r = driver.post("/api/v1/route", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.json()["error"] == "Cross-site request refused"
    r = driver.post("/api/v1/route", json=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and r.json()["route"]["maneuvers"]


# --- Baltimore (a real extract) -----------------------------------------------------------


@pytest.fixture(scope="module")
def baltimore(tmp_path_factory):
    out = tmp_path_factory.mktemp("baltimore_route_api")
    build_tiles(shared_fixture("osm", "baltimore.osm.pbf"), out)
    return out


@pytest.fixture
def baltimore_client(db, baltimore, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(baltimore))
    with TestClient(api) as c:
        yield c


def test_baltimore_harbor_route_announces_the_tunnel_and_maryland(baltimore_client):
    # The only way across the harbor in this extract is the I-95 tunnel.
    body = {"from": [39.2620, -76.5850], "to": [39.3020, -76.5950], "options": OPTIONS}
    r = baltimore_client.post("/api/v1/route", json=body)
    assert r.status_code == 200, r.text
    doc = r.json()
    tunnel = [w for w in doc["route"]["warnings"] if w["kind"] == "highway"]
    assert tunnel and tunnel[0]["road_class"] == "motorway"
    said = {a["kind"]: a for a in doc["announcements"]}
    assert said["highway"]["at_m"] == tunnel[0]["from_m"]
    assert said["highway"]["detail"] == HIGHWAY_WORDS["motorway"]
    assert said["highway"]["subject"] == tunnel[0]["road"].split(", ")[0]
    # Maryland's rule is "unclear": the driver hears "unverified", never "restricted".
    assert said["unverified"]["text"] == ("Maryland: Kei rules unverified — check before you drive")
    assert "restricted_state" not in said


def test_baltimore_gpx_route_gets_maneuvers(baltimore_client):
    body = {"from": [39.2850, -76.6050], "to": [39.3040, -76.5320], "options": OPTIONS}
    planned = baltimore_client.post("/api/v1/route", json=body).json()["route"]
    r = baltimore_client.post(
        "/api/v1/route", json={"track": planned["geometry"], "name": "downtown to NE"}
    )
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert route["matched_share"] > 0.9
    assert len(route["maneuvers"]) >= 0.5 * len(planned["maneuvers"]), route["notes"]
    named = {n for m in route["maneuvers"] for n in m["street_names"]}
    assert named & {n for m in planned["maneuvers"] for n in m["street_names"]}
    assert not [w for w in route["warnings"] if w["kind"] == "highway"]


def test_guidance_is_judged_by_the_callers_own_rule_overrides(client):
    """The synthetic grid lies in PA; the (single-user) owner's own override makes PA
    banned: the route's states and warnings say so, from the database, for them only."""
    before = plan(client, "grid_se", "grid_ne")["route"]
    assert {s["state"]: s["status"] for s in before["states"]}.get("PA") != "banned"
    with session() as s:
        owner = acc.first_owner(s).id
    save_user_override(owner, "PA", {"status": "banned"}, "test: my own reading")
    after = plan(client, "grid_se", "grid_ne")["route"]
    assert {s["state"]: s["status"] for s in after["states"]}["PA"] == "banned"
    assert "banned_state" in {w["kind"] for w in after["warnings"]}


def _ahead(point: list[float], heading: float, metres: float) -> list[float]:
    """The point ``metres`` from ``point`` towards ``heading`` (flat, a short way)."""
    east, north = metres * math.sin(math.radians(heading)), metres * math.cos(math.radians(heading))
    lat = point[0] + north / 111_195
    return [round(lat, 6), round(point[1] + east / (111_195 * math.cos(math.radians(lat))), 6)]


def test_a_reroute_with_the_trucks_heading_starts_the_way_it_is_going(baltimore_client):
    """Missing the left onto North Central Avenue and driving on east: without the heading
    the new route began "Drive west" (a turn-round never shown or said) and then "turn right
    onto North Central Avenue", a street behind the truck."""
    body = {"from": [39.2904, -76.6122], "to": [39.31, -76.6], "options": OPTIONS}
    planned = baltimore_client.post("/api/v1/route", json=body).json()
    route = planned["route"]
    turn = next(m for m in route["maneuvers"] if "North Central Avenue" in m["instruction"])
    k = turn["begin_index"]
    heading = initial_bearing_deg(*route["geometry"][k - 1], *route["geometry"][k])
    here = _ahead(route["geometry"][k], heading, 88)
    answers = {}
    for with_heading in (False, True):
        reroute = {**planned["request"], "from": here}
        if with_heading:
            reroute["heading"] = heading
        r = baltimore_client.post("/api/v1/route", json=reroute)
        assert r.status_code == 200, r.text
        answers[with_heading] = r.json()["route"]
    assert answers[False]["maneuvers"][0]["instruction"].startswith("Drive west")  # the case
    first = answers[True]["maneuvers"][0]["instruction"]
    assert first.startswith("Drive east"), first
    assert answers[True]["distance_m"] < answers[False]["distance_m"]


def test_a_reroute_on_an_out_and_back_track_rejoins_the_pass_the_truck_was_on(
    baltimore_client,
):
    """An out-and-back GPX route passes each place twice. The nearest point of the way out
    won: a truck leaving the way back 245 m from home was sent round the whole route again
    (7 km). The phone's progress (``along_m``) now picks the pass; the heading alone picked
    the way home for a truck that had turned back after missing a turn on the way out
    (diff review), skipping the destination."""
    body = {"from": [39.2904, -76.6122], "to": [39.31, -76.6], "options": OPTIONS}
    there = baltimore_client.post("/api/v1/route", json=body).json()["route"]["geometry"]
    track = there + there[::-1][1:]
    along = cumulative_m(*np.asarray(track, dtype=float).T)
    first = baltimore_client.post("/api/v1/route", json={"track": track, "options": OPTIONS})
    request = first.json()["request"]

    def reroute(here: list[float], **extra) -> float:
        r = baltimore_client.post("/api/v1/route", json={**request, "from": here, **extra})
        assert r.status_code == 200, r.text
        assert r.json()["request"]["track_offset_m"] > 0  # where the new route joins the track
        return r.json()["route"]["distance_m"]

    # on the way back, 60 m past its turn at there[4]
    going_home = initial_bearing_deg(*there[5], *there[4])
    home_side = _ahead(there[4], going_home, 60)
    back_pass = float(along[len(track) - 1 - 4])
    assert reroute(home_side) > 5_000  # nearest first: round the whole route again
    assert reroute(home_side, along_m=back_pass - 20) < 1_500
    assert reroute(home_side, heading=going_home) < 1_500  # a phone sending no progress
    # on the way out, 60 m past the turn at there[4], turned back towards it
    going_out = initial_bearing_deg(*there[3], *there[4])
    missed = _ahead(there[4], going_out, 60)
    turned_back = (going_out + 180) % 360
    assert reroute(missed, heading=turned_back, along_m=float(along[4]) - 20) > 5_000


def test_a_route_along_part_of_one_street_has_a_line_to_follow(baltimore_client):
    """A re-route 88 m from the destination, on its street: the engine's edge walk answered
    one point, so the route had no line (distance 0) and the phone dropped the guidance."""
    body = {"from": [39.310852, -76.598390], "to": [39.31, -76.6], "options": OPTIONS}
    r = baltimore_client.post("/api/v1/route", json=body)
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert len(route["geometry"]) >= 2
    assert route["distance_m"] == pytest.approx(88, abs=10)
    assert route["maneuvers"][-1]["begin_index"] == len(route["geometry"]) - 1
    assert route["legal"] is True and not [n for n in route["notes"] if "could not" in n], route
