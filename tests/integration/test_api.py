"""The points API with Starlette's TestClient against real databases."""

from __future__ import annotations

import json
import math
import time
import uuid as uuidlib

import pytest
from starlette.testclient import TestClient

from kei_drive import api as api_module
from kei_drive.api import MAX_POINTS, api
from kei_drive.core.gpx import read_gpx
from kei_drive.db import migrate, session
from kei_drive.db import queries as q
from tests.support.trips import TrackBuilder, fresh_db_url


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, tmp_path, monkeypatch):
    url = fresh_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")  # these tests are about trips, not sign-in
    migrate(url)  # PostgreSQL's schema was just reset: the API's once-per-URL cache must not skip
    with TestClient(api) as c:
        c.db_url = url
        yield c


def fixes(builder: TrackBuilder, prefix: str = "f") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "t": round(p.time.timestamp() * 1000),
            "lat": p.lat,
            "lon": p.lon,
            "acc": 5.0,
            "speed": None,
            "heading": None,
            "alt": 1600.0,
        }
        for i, p in enumerate(builder.points)
    ]


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def test_put_trip_is_idempotent(client):
    trip = new_uuid()
    with session(client.db_url) as s:
        vid = q.create_vehicle(s, "Sammy", speed_cap_mph=45).id
    r = client.put(f"/api/v1/trips/{trip}", json={"started_at": 1714834800000})
    assert r.status_code == 201
    body = r.json()
    assert body["uuid"] == trip and body["recording_state"] == "recording"
    assert body["started_at"] == "2024-05-04T15:00:00Z"
    r = client.put(f"/api/v1/trips/{trip}", json={"vehicle_id": vid, "started_at": 1714900000000})
    assert r.status_code == 200
    assert r.json()["vehicle_id"] == vid  # filled in
    assert r.json()["started_at"] == "2024-05-04T15:00:00Z"  # not overwritten
    assert client.put(f"/api/v1/trips/{new_uuid()}", json={"vehicle_id": 999}).status_code == 404
    assert client.put("/api/v1/trips/not-a-uuid").json() == {
        "error": "trip id must be a UUID, got 'not-a-uuid'"
    }


def test_same_batch_twice_is_stored_once_then_finish(client):
    trip = new_uuid()
    track = TrackBuilder().start().drive(3_000, 15.0)
    points = fixes(track)
    assert client.put(f"/api/v1/trips/{trip}", json={}).status_code == 201
    first = client.post(f"/api/v1/trips/{trip}/points", json={"points": points[:120]})
    assert first.status_code == 200
    assert first.json() == {
        "accepted": 120,
        "duplicates": 0,
        "rejected": [],
        "cleaned": [],
        "point_count": 120,
    }
    retry = client.post(f"/api/v1/trips/{trip}/points", json={"points": points[:120]})
    assert retry.json()["accepted"] == 0 and retry.json()["duplicates"] == 120
    rest = client.post(f"/api/v1/trips/{trip}/points", json={"points": points[100:]})
    assert rest.json()["accepted"] == len(points) - 120 and rest.json()["duplicates"] == 20
    assert client.get(f"/api/v1/trips/{trip}").json()["point_count"] == len(points)

    r = client.post(f"/api/v1/trips/{trip}/finish")
    assert r.status_code == 200
    stats = r.json()["stats"]
    for key in (
        "distance_m",
        "elapsed_s",
        "moving_s",
        "max_speed_mps",
        "avg_moving_speed_mps",
        "over_cap_s",
        "states",
        "points",
    ):
        assert key in stats
    assert stats["distance_m"] == pytest.approx(3_000, rel=0.01)
    assert stats["max_speed_mps"] == pytest.approx(15, rel=0.02)
    assert stats["points"] == len(points) and stats["states"] == ["CO"]
    got = client.get(f"/api/v1/trips/{trip}").json()
    assert (
        got["recording_state"] == "finished" and got["stats"]["distance_m"] == stats["distance_m"]
    )

    # a late batch from the phone's queue after Stop: stored, stats recomputed
    late = fixes(TrackBuilder(lat=track.lat, t=track.t).drive(1_000, 15.0), prefix="late")
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": late})
    assert r.json()["accepted"] == len(late)
    again = client.get(f"/api/v1/trips/{trip}").json()["stats"]
    assert again["distance_m"] == pytest.approx(4_000, rel=0.01)


def test_unknown_trip_is_created_by_its_first_points(client):
    trip = new_uuid()
    points = fixes(TrackBuilder().start().drive(500, 10.0))
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": points})
    assert r.status_code == 200 and r.json()["accepted"] == len(points)
    got = client.get(f"/api/v1/trips/{trip}").json()
    assert got["started_at"] == "2024-05-04T15:00:00Z" and got["source"] == "recorded"
    assert client.put(f"/api/v1/trips/{trip}", json={}).status_code == 200  # queued PUT


def test_bad_points_are_rejected_one_by_one(client):
    trip = new_uuid()
    good = fixes(TrackBuilder().start().drive(200, 10.0))
    t = good[-1]["t"]
    bad = [
        {"id": "nan", "t": t, "lat": math.nan, "lon": -105.0},
        {"id": "inf", "t": t, "lat": 40.0, "lon": math.inf},
        {"id": "range", "t": t, "lat": 91.0, "lon": -105.0},
        {"id": "lon", "t": t, "lat": 40.0, "lon": 200.0},
        {"id": "string", "t": t, "lat": "40", "lon": -105.0},
        {"id": "no-time", "lat": 40.0, "lon": -105.0},
        {"id": "seconds", "t": t / 1000, "lat": 40.0, "lon": -105.0},
        {"id": "backwards", "t": t - 60_000, "lat": 40.0, "lon": -105.0},
        {"id": "future", "t": time.time() * 1000 + 3_600_000, "lat": 40.0, "lon": -105.0},
        {"id": "", "t": t, "lat": 40.0, "lon": -105.0},
        {"t": t, "lat": 40.0, "lon": -105.0},
        "not an object",
    ]
    odd = {"id": "odd", "t": t + 500, "lat": 40.002, "lon": -105.0, "speed": -1, "acc": math.nan}
    payload = json.dumps({"points": [*good, *bad, odd]})  # allow_nan: what a buggy client sends
    r = client.post(
        f"/api/v1/trips/{trip}/points",
        content=payload,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == len(good) + 1
    reasons = {item["id"]: item["reason"] for item in body["rejected"]}
    assert set(reasons) == {
        "nan",
        "inf",
        "range",
        "lon",
        "string",
        "no-time",
        "seconds",
        "backwards",
        "future",
        "",
        None,
    }
    assert "NaN" in reasons["nan"] and "out of range" in reasons["range"]
    assert "backwards" in reasons["backwards"] and "future" in reasons["future"]
    assert "2000" in reasons["seconds"]
    assert len([i for i in body["rejected"] if i["id"] is None]) == 2
    assert {c["id"] for c in body["cleaned"]} == {"odd"} and len(body["cleaned"]) == 2
    with session(client.db_url) as s:
        stored = q.trip_points(s, q.get_trip(s, trip).id)
    assert len(stored) == len(good) + 1
    assert stored[-1].speed_mps is None and stored[-1].accuracy_m is None


def test_one_fix_with_a_wrong_clock_refuses_itself_not_the_batch(client):
    """A fix stamped an hour late at a batch's head used to refuse every fix after it as
    "going backwards" (and the phone then deletes them); a batch sent newest first is kept."""
    good = fixes(TrackBuilder().start().drive(1_000, 10.0))
    late = {**good[0], "id": "late", "t": good[0]["t"] + 3_600_000}
    trip = new_uuid()
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": [late, *good]})
    body = r.json()
    assert body["accepted"] == len(good)
    (refused,) = body["rejected"]
    assert refused["id"] == "late" and "wrong clock" in refused["reason"]
    assert refused["retryable"] is False
    newest_first = fixes(TrackBuilder(t=TrackBuilder().t.replace(hour=18)).start().drive(500, 10.0))
    later = new_uuid()
    body = client.post(f"/api/v1/trips/{later}/points", json={"points": newest_first[::-1]}).json()
    assert body["accepted"] == len(newest_first) and body["rejected"] == []
    with session(client.db_url) as s:
        stored = q.trip_points(s, q.get_trip(s, later).id)
    times = [p.time for p in stored]
    assert times == sorted(times) and len(times) == len(newest_first)


def test_malformed_and_oversized_requests(client):
    trip = new_uuid()
    url = f"/api/v1/trips/{trip}/points"
    r = client.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    assert client.post(url, json={"fixes": []}).status_code == 400
    assert client.post(url, json=[1, 2]).status_code == 400
    assert client.post(url).status_code == 400
    one = {"id": "x", "t": 1714834800000, "lat": 40.0, "lon": -105.0}
    many = [dict(one, id=str(i)) for i in range(MAX_POINTS + 1)]
    r = client.post(url, json={"points": many})
    assert r.status_code == 413 and str(MAX_POINTS) in r.json()["error"]
    big = json.dumps({"points": [dict(one, pad="x" * 1000)] * 2500})
    r = client.post(url, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["error"]
    with session(client.db_url) as s:
        assert q.list_trips(s).total == 0  # nothing half-stored
    assert client.get(f"/api/v1/trips/{trip}").status_code == 404
    assert client.post(f"/api/v1/trips/{trip}/finish").status_code == 404
    assert "error" in client.get(f"/api/v1/trips/{trip}/export.gpx").json()


def test_exports(client, monkeypatch):
    trip = new_uuid()
    track = TrackBuilder().start().drive(1_000, 10.0)
    client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes(track)})
    client.post(f"/api/v1/trips/{trip}/finish")
    r = client.get(f"/api/v1/trips/{trip}/export.gpx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/gpx+xml")
    assert "attachment" in r.headers["content-disposition"]
    points = read_gpx(r.text)[0]
    assert len(points) == len(track.points) and points[0].time == track.points[0].time
    assert points[3].elevation == 1600.0 and points[3].accuracy_m == pytest.approx(5.0)
    r = client.get(f"/api/v1/trips/{trip}/export.geojson")
    assert r.headers["content-type"].startswith("application/geo+json")
    feature = r.json()["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == len(track.points)
    assert feature["properties"]["uuid"] == trip


def test_database_url_is_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    with TestClient(api) as c:
        for name in ("one", "two"):
            monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / name}.db")
            r = c.put(f"/api/v1/trips/{new_uuid()}", json={})
            assert r.status_code == 201
    assert (tmp_path / "one.db").exists() and (tmp_path / "two.db").exists()
    assert api_module.MAX_BODY_BYTES == 2 * 1024 * 1024


def test_rules_endpoint_serves_the_core_order_and_v3_fields(tmp_path, monkeypatch):
    from kei_drive.core.rules import load_rules
    from kei_drive.core.rules_vocab import STATUS_ORDER

    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "none.json"))
    with TestClient(api) as c:
        rules = {r["state"]: r for r in c.get("/api/v1/rules?on=2026-12-02").json()}
        order = c.get("/api/v1/rules/order").json()
        bad = c.get("/api/v1/rules?on=soon")
    assert bad.status_code == 400 and "2028-01-01" in bad.json()["error"]
    assert order["status_order"] == [s.value for s in STATUS_ORDER]
    oh, ny, va = rules["OH"], rules["NY"], rules["VA"]
    # Backward compatible: the v1 fields keep their shapes.
    assert oh["status"] == "restricted" and oh["max_road_speed_mph"] == 35
    assert oh["interstate_forbidden"] is True and all(isinstance(u, str) for u in oh["sources"])
    assert oh["advice"].startswith("Ohio: only in towns that allow it by ordinance")
    # New: access, visitors, the severity order and the next dated change.
    assert oh["road_access"] == "local_opt_in" and ny["visitors"]["rule"] == "may_not_operate"
    assert oh["source_records"][0]["quote"]
    book = load_rules(overrides_path=tmp_path / "none.json")
    assert oh["severity"] == list(book.rule_for("OH").severity())
    assert oh["severity"] > va["severity"] > rules["IN"]["severity"]  # one order
    assert ny["severity"] > oh["severity"] and order["severity_order"][-1] == "banned"
    assert rules["CO"]["next_change"]["on"] == "2028-01-01"
    assert rules["CO"]["next_change"]["status"] == "restricted" and ny["next_change"] is None


def test_finish_names_the_trip_in_the_drivers_local_time(client):
    """The phone sends its time zone with the finish call: "08:00 MST", not "15:00 UTC"; an
    IANA zone is kept as the trip's (its pages show its times there, not in the viewer's)."""
    started = 1714834800000  # 2024-05-04 15:00 UTC
    named, zones = {}, {}
    for label, zone in (
        ("iana", {"time_zone": "America/Denver", "utc_offset_min": -360}),
        ("offset", {"time_zone": "Not/AZone", "utc_offset_min": -300}),
        ("server's", {"time_zone": "localtime", "utc_offset_min": -300}),  # no place's zone
        ("none", {}),
    ):
        trip = new_uuid()
        assert client.put(f"/api/v1/trips/{trip}", json={"started_at": started}).status_code == 201
        r = client.post(f"/api/v1/trips/{trip}/finish", json=zone)
        assert r.status_code == 200, r.text
        named[label] = r.json()["trip"]["name"]
        zones[label] = client.get(f"/api/v1/trips/{trip}").json()["time_zone"]
    assert zones == {"iana": "America/Denver", "offset": None, "server's": None, "none": None}
    assert named["server's"].startswith("2024-05-04 10:00 UTC-05:00")
    assert named["iana"].startswith("2024-05-04 09:00 MDT")
    assert named["offset"].startswith("2024-05-04 10:00 UTC-05:00")
    assert named["none"].startswith("2024-05-04 15:00 UTC")


@pytest.mark.parametrize(
    "zone",
    [
        {"time_zone": 5},
        {"utc_offset_min": "east"},
        {"utc_offset_min": 5000},
        {"utc_offset_min": True},
    ],
)
def test_finish_with_a_bad_time_zone_is_400(client, zone):
    trip = new_uuid()
    assert client.put(f"/api/v1/trips/{trip}", json={}).status_code == 201
    r = client.post(f"/api/v1/trips/{trip}/finish", json=zone)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(("time_zone must", "utc_offset_min must"))
