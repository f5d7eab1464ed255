"""Sign-in and per-user isolation of the HTTP API (Starlette TestClient, real databases).

The isolation matrix is built from the API's own route list: a route added without a row
here fails ``test_every_route_is_in_the_isolation_matrix``.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from kei_drive.api import PUBLIC, api
from kei_drive.core.rules import document_with_override
from kei_drive.db import accounts as acc
from kei_drive.db import get_engine, migrate, session
from kei_drive.db import overrides as ov
from kei_drive.db import queries as q
from kei_drive.web_auth import COOKIE_NAME
from tests.support.trips import fresh_db_url

PASSWORD_A, PASSWORD_B = "alice's long password", "bob's long password"
T0_MS = 1_764_650_000_000  # 2025-12-02
ALICE_GA = {"status": "legal"}  # Alice's own override of Georgia (package rule: banned)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path, monkeypatch):
    """Two accounts; Alice has a vehicle and a trip with points. Returns a namespace."""
    url = fresh_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    migrate(url)
    with session(url) as s:
        alice = acc.create_account(s, "alice", PASSWORD_A)
        bob = acc.create_account(s, "bob", PASSWORD_B)
        vehicle = q.create_vehicle(s, "Sammy", user_id=alice.id)
        trip, _ = q.ensure_trip(s, str(uuidlib.uuid4()), vehicle_id=vehicle.id, user_id=alice.id)
        points = [q.PointIn(f"a{i}", T0_MS + i * 1000, 40.0 + i * 1e-4, -105.0) for i in range(5)]
        q.add_points(s, trip, points)
        ov.save_document(s, alice.id, document_with_override(None, "GA", ALICE_GA, "her letter"))
    return type(
        "World",
        (),
        {"url": url, "alice": alice.id, "bob": bob.id, "trip": trip.uuid, "vehicle": vehicle.id},
    )


def _signed_in(name: str, password: str) -> TestClient:
    client = TestClient(api, follow_redirects=False)
    r = client.post("/signin", data={"username": name, "password": password, "next": "/trips"})
    assert r.status_code == 303 and r.headers["location"] == "/trips", r.text
    return client


def _snapshot(url: str) -> list[tuple]:
    """Every row the API could change (trips, points, vehicles)."""
    with get_engine(url).connect() as conn:
        return [
            tuple(row)
            for table in ("trips", "track_points", "vehicles")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
        ]


def _fix(i: int) -> dict:
    return {"id": f"b{i}", "t": T0_MS + 60_000 + i, "lat": 41.0, "lon": -104.0}


# (method, path) -> what Bob does there with Alice's objects, and what he must get
def _trip_call(method: str, suffix: str = "", body: dict | None = None) -> Callable:
    def call(client: TestClient, w) -> None:
        r = client.request(method, f"/api/v1/trips/{w.trip}{suffix}", json=body)
        assert r.status_code == 404, (method, suffix, r.status_code, r.text)
        assert r.json() == {"error": f"no trip {w.trip}"}  # exactly like a missing trip

    return call


def _bob_sees_no_vehicles(client: TestClient, w) -> None:
    r = client.get("/api/v1/vehicles")
    assert r.status_code == 200 and r.json() == []


def _bob_sees_no_trips(client: TestClient, w) -> None:
    r = client.get("/api/v1/trips")
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["trips"] == []


def _bob_is_bob(client: TestClient, w) -> None:
    r = client.get("/api/v1/me")
    assert r.json() == {"username": "bob", "role": "member", "single_user": False}


def _ga(client: TestClient) -> dict:
    r = client.get("/api/v1/rules")
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    return next(rule for rule in r.json() if rule["state"] == "GA")


def _bob_gets_the_rules_without_alices_overrides(client: TestClient, w) -> None:
    ga = _ga(client)
    assert ga["status"] == "banned" and not ga["overridden"] and "letter" not in str(ga)


def _rules_order_is_public(client: TestClient, w) -> None:
    assert client.get("/api/v1/rules/order").status_code == 200


def _route_needs_no_user_data(client: TestClient, w) -> None:
    """Routing holds nobody's data; here, without tiles, it says so as JSON."""
    r = client.post("/api/v1/route", json={"from": [41.95, -77.01], "to": [41.98, -77.01]})
    assert r.status_code == 503 and r.json()["error"] == "No routing tiles on this server"


def _ingest_call(method: str, protocol: str) -> Callable:
    """Background-logger endpoints take API tokens only: a signed-in browser gets 401."""

    def call(client: TestClient, w) -> None:
        path = f"/api/v1/ingest/{protocol}"
        fix = {"lat": "41.0", "lon": "-104.0", "time": "2025-12-02T05:00:00Z"}
        if protocol == "gpslogger":
            r = client.request(method, path, params=fix if method == "GET" else None,
                               data=fix if method == "POST" else None)  # fmt: skip
        else:
            body = {"locations": []} if protocol == "overland" else []
            r = client.request(method, path, json=body)
        assert r.status_code == 401, (method, path, r.status_code, r.text)

    return call


MATRIX: dict[tuple[str, str], Callable] = {
    ("PUT", "/api/v1/trips/{trip}"): _trip_call("PUT", body={"name": "mine now"}),
    ("GET", "/api/v1/trips/{trip}"): _trip_call("GET"),
    ("POST", "/api/v1/trips/{trip}/points"): _trip_call(
        "POST", "/points", {"points": [_fix(i) for i in range(3)]}
    ),
    ("POST", "/api/v1/trips/{trip}/finish"): _trip_call("POST", "/finish", {}),
    ("GET", "/api/v1/trips/{trip}/export.gpx"): _trip_call("GET", "/export.gpx"),
    ("GET", "/api/v1/trips/{trip}/export.geojson"): _trip_call("GET", "/export.geojson"),
    ("GET", "/api/v1/vehicles"): _bob_sees_no_vehicles,
    ("GET", "/api/v1/trips"): _bob_sees_no_trips,
    ("GET", "/api/v1/rules"): _bob_gets_the_rules_without_alices_overrides,
    ("GET", "/api/v1/me"): _bob_is_bob,
    ("GET", "/api/v1/rules/order"): _rules_order_is_public,
    ("POST", "/api/v1/route"): _route_needs_no_user_data,
    ("POST", "/api/v1/ingest/owntracks"): _ingest_call("POST", "owntracks"),
    ("POST", "/api/v1/ingest/overland"): _ingest_call("POST", "overland"),
    ("GET", "/api/v1/ingest/gpslogger"): _ingest_call("GET", "gpslogger"),
    ("POST", "/api/v1/ingest/gpslogger"): _ingest_call("POST", "gpslogger"),
}
# Sign-in forms: no user data (tested below).
AUTH_FORMS = {(m, p) for p in ("/signin", "/setup", "/join") for m in ("GET", "POST")} | {
    ("POST", "/signout")
}
# Public and holding no user data: the offline basemap (OpenStreetMap tiles).
PUBLIC_DATA = {("GET", "/tiles/{z:int}/{x:int}/{y:int}.pbf"), ("GET", "/tiles/basemap.json")}


def _routes(routes, prefix: str = ""):
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def _api_routes() -> set[tuple[str, str]]:
    """Every route but ``/settings`` (its own matrix: tests/integration/test_settings.py)."""
    return {
        (m, path)
        for path, route in _routes(api.routes)
        for m in route.methods or ()
        if m != "HEAD" and not path.startswith("/settings")
    }


def test_every_route_is_in_the_isolation_matrix():
    missing = _api_routes() - set(MATRIX) - AUTH_FORMS - PUBLIC_DATA
    assert not missing, f"add these routes to the isolation matrix: {sorted(missing)}"
    assert set(MATRIX) <= _api_routes()


def test_another_users_objects_answer_404_and_nothing_changes(world):
    before = _snapshot(world.url)
    bob = _signed_in("bob", PASSWORD_B)
    for (method, path), check in MATRIX.items():
        check(bob, world)
        assert _snapshot(world.url) == before, f"{method} {path} changed Alice's data"
    alice = _signed_in("alice", PASSWORD_A)
    assert alice.get(f"/api/v1/trips/{world.trip}").json()["point_count"] == 5
    for kind in ("gpx", "geojson"):  # the owner gets every route Bob was refused
        assert alice.get(f"/api/v1/trips/{world.trip}/export.{kind}").status_code == 200
    assert alice.post(f"/api/v1/trips/{world.trip}/finish", json={}).status_code == 200
    assert alice.get("/api/v1/trips").json()["total"] == 1
    assert [v["id"] for v in alice.get("/api/v1/vehicles").json()] == [world.vehicle]
    ga = _ga(alice)  # her own override, from the database
    assert ga["status"] == "legal" and ga["overridden"] and "her letter" in ga["override_note"]
    anonymous = TestClient(api).get("/api/v1/rules")
    assert next(r for r in anonymous.json() if r["state"] == "GA")["status"] == "banned"
    assert anonymous.headers["vary"] == "Cookie, Authorization"


def test_every_private_route_needs_a_credential(world):
    anonymous = TestClient(api)
    for method, path in _api_routes() - AUTH_FORMS - PUBLIC_DATA:
        endpoint = next(r.endpoint for p, r in _routes(api.routes) if p == path)
        real = path.replace("{trip}", world.trip)
        r = anonymous.request(method, real, json={} if method != "GET" else None)
        if endpoint.access == PUBLIC:
            assert r.status_code == 200, (method, path)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"].startswith("Bearer")
    bad = TestClient(api, headers={"Authorization": "Bearer kdt_not-a-token"})
    assert bad.get("/api/v1/trips").status_code == 401
    # a bad Authorization header never falls back to a valid cookie
    alice = _signed_in("alice", PASSWORD_A)
    r = alice.get("/api/v1/trips", headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert r.status_code == 401


def _token(w, user_id: int, scope: str) -> str:
    with session(w.url) as s:
        return acc.create_token(s, user_id, "script", scope)[0]


def test_an_ingest_token_adds_points_but_cannot_read(world):
    ingest = TestClient(
        api, headers={"Authorization": f"Bearer {_token(world, world.bob, 'ingest')}"}
    )
    trip = str(uuidlib.uuid4())
    assert ingest.put(f"/api/v1/trips/{trip}", json={"started_at": T0_MS}).status_code == 201
    r = ingest.post(f"/api/v1/trips/{trip}/points", json={"points": [_fix(i) for i in range(4)]})
    assert r.status_code == 200 and r.json()["accepted"] == 4
    assert ingest.post(f"/api/v1/trips/{trip}/finish", json={}).status_code == 200
    for path in (f"/api/v1/trips/{trip}", f"/api/v1/trips/{trip}/export.gpx", "/api/v1/trips",
                 "/api/v1/vehicles"):  # fmt: skip
        r = ingest.get(path)
        assert r.status_code == 403 and "only add" in r.json()["error"], path
    with session(world.url) as s:
        assert q.get_trip(s, trip, world.bob).point_count == 4  # Bob's, not Alice's
        assert q.list_trips(s, user_id=world.alice).total == 1
    read = TestClient(api, headers={"Authorization": f"Bearer {_token(world, world.bob, 'read')}"})
    assert read.get(f"/api/v1/trips/{trip}").json()["point_count"] == 4
    assert read.get(f"/api/v1/trips/{world.trip}").status_code == 404
    listing = read.get("/api/v1/trips", params={"per_page": 1}).json()
    assert (listing["total"], listing["per_page"], listing["trips"][0]["uuid"]) == (1, 1, trip)
    assert read.get("/api/v1/trips", params={"per_page": 0}).status_code == 400


def test_session_cookie_is_httponly_lax_and_secure_under_https(world, monkeypatch):
    client = TestClient(api, follow_redirects=False)
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD_A})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=kds_")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "Max-Age=2592000" in cookie  # 30 days
    monkeypatch.setenv("KEI_DRIVE_SECURE_COOKIE", "1")
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD_A})
    assert "Secure" in r.headers["set-cookie"]
    with session(world.url) as s:  # the database has only the digest
        rows = s.execute(sa.text("SELECT id_hash FROM user_sessions")).scalars().all()
    value = re.match(rf"{COOKIE_NAME}=([^;]+)", cookie).group(1)
    assert value not in rows and len(rows) == 2


def test_sign_in_failures_are_throttled_with_429_and_retry_after(world):
    client = TestClient(api, follow_redirects=False)
    for _ in range(5):
        r = client.post("/signin", data={"username": "alice", "password": "wrong password"})
        assert r.status_code == 401 and "wrong user name or password" in r.text
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD_A})
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert COOKIE_NAME not in r.headers.get("set-cookie", "")


def test_sign_in_form_and_cross_site_posts(world):
    client = TestClient(api, follow_redirects=False)
    page = client.get("/signin?next=/trips/3")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for needle in ('name="username"', 'name="password"', 'id="signin-submit"', 'value="/trips/3"'):
        assert needle in page.text
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD_A}, headers=evil)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = client.post(
        "/signin", data={"username": "alice", "password": PASSWORD_A, "next": "//evil.example/x"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    assert client.get("/api/v1/trips").status_code == 200
    assert client.post("/signout", headers=evil).status_code == 403
    assert client.get("/api/v1/trips").status_code == 200
    r = client.post("/signout")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert client.get("/api/v1/trips").status_code == 401


def test_setup_page_exists_only_with_a_valid_code(tmp_path, monkeypatch):
    url = fresh_db_url("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    migrate(url)
    with session(url) as s:
        code = acc.new_setup_code(s)
    client = TestClient(api, follow_redirects=False)
    assert client.get("/setup").status_code == 404
    assert client.get("/setup?code=kdi_wrong").status_code == 404
    assert client.get(f"/join?code={code}").status_code == 404  # a setup code is not an invite
    page = client.get("/setup", params={"code": code})
    assert page.status_code == 200 and "Create the owner account" in page.text
    form = {"code": code, "username": "alice", "password": PASSWORD_A, "password2": "typo"}
    r = client.post("/setup", data=form)
    assert r.status_code == 400 and "differ" in r.text
    r = client.post("/setup", data={**form, "password2": PASSWORD_A})
    assert r.status_code == 303 and COOKIE_NAME in r.headers["set-cookie"]
    assert client.get("/api/v1/trips").status_code == 200  # signed in as the new owner
    assert client.get("/setup", params={"code": code}).status_code == 404  # used up
    with session(url) as s:
        assert acc.find_user(s, "alice").role == "owner"
        invite, _ = acc.create_invitation(s, acc.find_user(s, "alice").id)
    joiner = TestClient(api, follow_redirects=False)
    assert joiner.get("/join", params={"code": invite}).status_code == 200
    form = {"code": invite, "username": "sam", "password": PASSWORD_B, "password2": PASSWORD_B}
    assert joiner.post("/join", data=form).status_code == 303
    assert joiner.get("/api/v1/trips").json()["total"] == 0
    assert joiner.get("/join", params={"code": invite}).status_code == 404
