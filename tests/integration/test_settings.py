"""The Settings page (``/settings``): each action acts on the signed-in account only.

Built from the app's route list like the API matrix: a new ``/settings`` route without a
case here fails ``test_every_settings_route_has_an_isolation_case``.
"""

from __future__ import annotations

import io
import json
import re
import uuid as uuidlib
import zipfile

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.db import accounts as acc
from kei_drive.db import get_engine, migrate, session
from kei_drive.db import overrides as ov
from kei_drive.db import queries as q
from kei_drive.services.trips import finish_trip
from kei_drive.settings_routes import routes as settings_routes
from kei_drive.web_auth import COOKIE_NAME
from tests.support.trips import fresh_db_url

PASSWORD_A, PASSWORD_B = "alice's long password", "bob's long password"
T0_MS = 1_764_650_000_000


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = fresh_db_url("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    migrate(url)
    with session(url) as s:
        alice = acc.create_account(s, "alice", PASSWORD_A)
        bob = acc.create_account(s, "bob", PASSWORD_B)
        vehicle = q.create_vehicle(s, "Sammy", user_id=alice.id, speed_cap_mph=45)
        trip, _ = q.ensure_trip(s, str(uuidlib.uuid4()), vehicle_id=vehicle.id, user_id=alice.id)
        fixes = [q.PointIn(f"a{i}", T0_MS + i * 1000, 40.0 + i * 1e-4, -105.0) for i in range(5)]
        q.add_points(s, trip, fixes)
        finish_trip(s, trip)
        token, _ = acc.create_token(s, alice.id, "Alice's phone", "ingest")
        acc.create_invitation(s, alice.id, note="for Sam")
        document = ov.empty_document()
        document["overrides"]["MD"] = {
            "note": "DMV letter",
            "date": "2026-11-30",
            "fields": {"status": "legal"},
        }
        ov.save_document(s, alice.id, document)
    return type(
        "World",
        (),
        {"url": url, "alice": alice.id, "bob": bob.id, "trip": trip.uuid, "token": token},
    )


def signed_in(name: str, password: str) -> TestClient:
    client = TestClient(api, follow_redirects=False)
    r = client.post("/signin", data={"username": name, "password": password})
    assert r.status_code == 303, r.text
    return client


def _rows(url: str, table: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]


def _alices_ids(w, table: str) -> list[int]:
    column = "invited_by" if table == "invitations" else "user_id"
    with get_engine(w.url).connect() as conn:
        return list(
            conn.execute(sa.text(f"SELECT id FROM {table} WHERE {column} = :u"), {"u": w.alice})
            .scalars()
            .all()
        )


def _bob_revokes(table: str, path: str):
    def case(bob: TestClient, w) -> None:
        before = _rows(w.url, table)
        for row_id in _alices_ids(w, table):
            r = bob.post(path, data={"id": str(row_id)})
            assert r.status_code == 303 and r.headers["location"] == "/settings?done=nothing"
        assert _rows(w.url, table) == before

    return case


def _bob_changes_only_his_password(bob: TestClient, w) -> None:
    r = bob.post(
        "/settings/password", data={"current": PASSWORD_A, "new": "x" * 12, "new2": "x" * 12}
    )
    assert r.status_code == 400  # Alice's password is not Bob's current one
    assert signed_in("alice", PASSWORD_A)


def _bob_exports_only_his_data(bob: TestClient, w) -> None:
    r = bob.get("/settings/export.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert not [n for n in archive.namelist() if n.startswith("trips/")]
    assert json.loads(archive.read("garage.json")) == []
    assert json.loads(archive.read("rule_overrides.json"))["overrides"] == {}
    assert json.loads(archive.read("account.json"))["username"] == "bob"


def _bob_tokens_and_invitations_are_his(bob: TestClient, w) -> None:
    before = len(_alices_ids(w, "api_tokens"))
    r = bob.post("/settings/tokens", data={"name": "Bob's script", "scope": "read"})
    assert r.status_code == 200 and "kdt_" in r.text
    assert len(_alices_ids(w, "api_tokens")) == before
    r = bob.post("/settings/invitations", data={"note": "x", "days": "7"})
    assert r.status_code == 403  # members cannot invite


def _bob_deletes_only_himself(bob: TestClient, w) -> None:
    r = bob.post("/settings/delete", data={"password": PASSWORD_A, "confirm": "delete"})
    assert r.status_code == 400  # Alice's password does not delete anything
    with session(w.url) as s:
        assert acc.find_user(s, "alice") and acc.find_user(s, "bob")


def _page_shows_only_bob(bob: TestClient, w) -> None:
    page = bob.get("/settings")
    assert page.status_code == 200 and "Signed in as <b>bob</b>" in page.text
    assert "Alice's phone" not in page.text and "for Sam" not in page.text


CASES = {
    "/settings": _page_shows_only_bob,
    "/settings/password": _bob_changes_only_his_password,
    "/settings/sessions/revoke": _bob_revokes("user_sessions", "/settings/sessions/revoke"),
    "/settings/tokens": _bob_tokens_and_invitations_are_his,
    "/settings/tokens/revoke": _bob_revokes("api_tokens", "/settings/tokens/revoke"),
    "/settings/invitations": _bob_tokens_and_invitations_are_his,
    "/settings/invitations/revoke": _bob_revokes("invitations", "/settings/invitations/revoke"),
    "/settings/export.zip": _bob_exports_only_his_data,
    "/settings/delete": _bob_deletes_only_himself,
}


def test_every_settings_route_has_an_isolation_case():
    assert {r.path for r in settings_routes} == set(CASES)
    assert {r.path for r in api.routes if r.path.startswith("/settings")} == set(CASES)


def test_bob_cannot_touch_alices_account_from_settings(world):
    signed_in("alice", PASSWORD_A)  # Alice has a live session too
    bob = signed_in("bob", PASSWORD_B)
    for path, case in CASES.items():
        case(bob, world)
        assert path


def test_settings_needs_sign_in_and_same_origin_posts(world):
    anonymous = TestClient(api, follow_redirects=False)
    for route in settings_routes:
        method = next(iter(route.methods - {"HEAD"}))
        r = anonymous.request(method, route.path)
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/settings"
    alice = signed_in("alice", PASSWORD_A)
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    r = alice.post("/settings/tokens", data={"name": "x", "scope": "read"}, headers=evil)
    assert r.status_code == 403


def test_alice_manages_her_account(world):
    phone = signed_in("alice", PASSWORD_A)
    laptop = signed_in("alice", PASSWORD_A)
    page = laptop.get("/settings").text
    assert "Alice&#x27;s phone" in page and "for Sam" in page and "this device" in page
    assert "A token in a URL" in page and "less safe than a" in page

    r = laptop.post("/settings/tokens", data={"name": "Logger", "scope": "read"})
    token = re.search(r'id="secret">(kdt_[^<]+)<', r.text).group(1)
    reader = TestClient(api, headers={"Authorization": f"Bearer {token}"})
    assert reader.get("/api/v1/trips").json()["total"] == 1

    r = laptop.post("/settings/invitations", data={"note": "Sam", "days": "7"})
    link = re.search(r'id="secret">([^<]+)<', r.text).group(1)
    assert link.startswith("http://testserver/join?code=kdi_")

    archive = zipfile.ZipFile(io.BytesIO(laptop.get("/settings/export.zip").content))
    names = set(archive.namelist())
    gpx = [n for n in names if n.endswith(".gpx")]
    assert len(gpx) == 1 and gpx[0].replace(".gpx", ".geojson") in names
    assert archive.read(gpx[0]).count(b"<trkpt") == 5
    assert json.loads(archive.read("garage.json"))[0]["nickname"] == "Sammy"
    assert "MD" in json.loads(archive.read("rule_overrides.json"))["overrides"]
    assert b"argon2" not in b"".join(archive.read(n) for n in names)

    bad = {"current": "wrong password", "new": "brand new password", "new2": "brand new password"}
    assert laptop.post("/settings/password", data=bad).status_code == 400
    good = {**bad, "current": PASSWORD_A}
    assert laptop.post("/settings/password", data=good).headers["location"].endswith("password")
    assert phone.get("/api/v1/trips").status_code == 401  # the other device was signed out
    assert laptop.get("/api/v1/trips").status_code == 200  # this one stays

    assert laptop.post("/settings/delete", data={"password": "brand new password",
                                                 "confirm": "nope"}).status_code == 400  # fmt: skip
    # the only owner cannot go while Bob's account exists
    r = laptop.post(
        "/settings/delete", data={"password": "brand new password", "confirm": "delete"}
    )
    assert r.status_code == 400 and "only owner" in r.text


def test_a_member_deletes_their_account_and_everything_it_owns(world):
    bob = signed_in("bob", PASSWORD_B)
    trip = str(uuidlib.uuid4())
    points = [{"id": f"b{i}", "t": T0_MS + i * 1000, "lat": 41.0, "lon": -104.0} for i in range(3)]
    assert bob.post(f"/api/v1/trips/{trip}/points", json={"points": points}).status_code == 200
    r = bob.post("/settings/delete", data={"password": PASSWORD_B, "confirm": "DELETE"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?deleted=1"
    assert f'{COOKIE_NAME}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert bob.get("/api/v1/trips").status_code == 401
    with get_engine(world.url).connect() as conn:
        run = conn.exec_driver_sql
        orphans = "SELECT count(*) FROM trips WHERE user_id NOT IN (SELECT id FROM users)"
        assert run(orphans).scalar_one() == 0
        assert run("SELECT count(*) FROM track_points").scalar_one() == 5  # Alice's only
    with session(world.url) as s:
        assert acc.find_user(s, "bob") is None
