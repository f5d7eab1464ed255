"""OwnTracks, Overland and GPSLogger through the HTTP API into trips (Starlette TestClient,
real databases, personal API tokens of the accounts issue)."""

from __future__ import annotations

import base64
import json
import math
import sqlite3

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.db import accounts as acc
from kei_drive.db import migrate, session
from kei_drive.db.models import DeviceFix, IngestDevice, TrackPointRow, Trip
from tests.support.ingest_payloads import (
    OVERLAND_README_EXAMPLE,
    OWNTRACKS_ANDROID_LOCATION,
    gpslogger_params,
    overland_feature,
    owntracks_message,
)
from tests.support.trips import TrackBuilder, fresh_db_url

PROTOCOLS = ("owntracks", "overland", "gpslogger")
TOKEN_NAME = "Sambar phone"


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path, monkeypatch):
    url = fresh_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    migrate(url)
    with session(url) as s:
        user = acc.create_account(s, "jane", "jane's long password")
        ingest_token, _ = acc.create_token(s, user.id, TOKEN_NAME, "ingest")
    with TestClient(api) as client:
        yield type(
            "World", (), {"url": url, "client": client, "token": ingest_token, "user": user.id}
        )


def fixes_of(builder: TrackBuilder) -> list[tuple[int, float, float]]:
    return [(round(p.time.timestamp() * 1000), p.lat, p.lon) for p in builder.points]


def post(world, protocol: str, fixes, token: str | None = None):
    """One request of ``protocol`` carrying ``fixes`` (GPSLogger: the first fix only)."""
    token = world.token if token is None else token
    c = world.client
    if protocol == "owntracks":
        basic = base64.b64encode(f"jane:{token}".encode()).decode()
        body = [owntracks_message(t, lat, lon, 15.0) for t, lat, lon in fixes]
        return c.post(
            "/api/v1/ingest/owntracks", json=body, headers={"Authorization": f"Basic {basic}"}
        )
    if protocol == "overland":
        body = {"locations": [overland_feature(t, lat, lon, 15.0) for t, lat, lon in fixes]}
        return c.post(
            "/api/v1/ingest/overland", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    (t, lat, lon) = fixes[0]
    params = gpslogger_params(t, lat, lon, 15.0) | {"token": token}
    if t // 1000 % 2:  # both ways the app can send: GET with a query, POST with a form
        return c.get("/api/v1/ingest/gpslogger", params=params)
    return c.post("/api/v1/ingest/gpslogger", data=params)


def send_all(world, protocol: str, fixes, batch: int = 60) -> None:
    size = 1 if protocol == "gpslogger" else batch
    for start in range(0, len(fixes), size):
        r = post(world, protocol, fixes[start : start + size])
        assert r.status_code == 200, r.text


def trips(world) -> list[Trip]:
    with session(world.url) as s:
        return list(s.exec(select(Trip).order_by(Trip.started_at)))


def count(world, table) -> int:
    with session(world.url) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def two_drives() -> TrackBuilder:
    """Parked, 4 km, 8 min without fixes (still driving), 4 km, parked 10 min."""
    b = TrackBuilder(interval_s=10.0, seed=4).start().stop(300)
    b.drive(4_000, 15.0).hidden(480, 15.0).drive(4_000, 15.0)
    return b.stop(600)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_payloads_become_trips_split_by_a_gap_and_finished_by_standing(world, protocol):
    send_all(world, protocol, fixes_of(two_drives()))
    first, second = trips(world)
    for trip in (first, second):
        assert trip.source == protocol and trip.device.startswith(TOKEN_NAME)
        assert trip.recording_state == "finished" and trip.states == ["CO"]
        assert trip.distance_m == pytest.approx(4_000, rel=0.05)
    assert first.stats["gaps"] == [] and second.stats["gaps"] == []
    assert first.ended_at < second.started_at


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_duplicates_are_stored_once(world, protocol):
    fixes = fixes_of(two_drives())[:80]
    send_all(world, protocol, fixes)
    points = count(world, TrackPointRow)
    send_all(world, protocol, fixes)  # a retry of everything
    send_all(world, protocol, fixes[40:], batch=25)  # overlapping uploads
    assert count(world, DeviceFix) == len(fixes)
    assert count(world, TrackPointRow) == points


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_wrong_or_missing_token_is_401_and_stores_nothing(world, protocol):
    fixes = fixes_of(two_drives())[:5]
    for token in ("kdt_not-a-real-token", ""):
        r = post(world, protocol, fixes, token=token)
        assert r.status_code == 401 and "token" in r.json()["error"]
        assert r.headers["www-authenticate"]
    with session(world.url) as s:
        acc.revoke_token(s, world.user, acc.list_tokens(s, world.user)[0].id)
    assert post(world, protocol, fixes).status_code == 401
    assert count(world, DeviceFix) == 0


def test_an_ingest_token_cannot_read_a_trip(world):
    send_all(world, "overland", fixes_of(two_drives()))
    uuid = trips(world)[0].uuid
    bearer = {"Authorization": f"Bearer {world.token}"}
    for path in (
        f"/api/v1/trips/{uuid}",
        f"/api/v1/trips/{uuid}/export.gpx",
        f"/api/v1/trips/{uuid}/export.geojson",
        "/api/v1/trips",
        "/api/v1/vehicles",
    ):
        r = world.client.get(path, headers=bearer)
        assert r.status_code == 403, (path, r.status_code)
        assert uuid not in r.text


MALFORMED = {
    "owntracks": [
        ("not json", "application/json"),
        ('[{"lat": 39.3, "lon": -76.6}]', "application/json"),  # no _type
        ('{"_type": "location"} trailing', "application/json"),
    ],
    "overland": [
        ('{"locations": "none"}', "application/json"),
        ('{"locations": [{"type": "Feature"}, 5]}', "application/json"),
        ("[]", "application/json"),
    ],
    "gpslogger": [
        ("time=2018-03-15T06:35:34Z&acc=5", "application/x-www-form-urlencoded"),
        ('{"lat": 39.3}', "application/json"),
    ],
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_malformed_payload_is_a_clear_400_and_nothing_is_stored(world, protocol):
    headers = {"Authorization": f"Bearer {world.token}"}
    for body, kind in MALFORMED[protocol]:
        r = world.client.post(
            f"/api/v1/ingest/{protocol}", content=body, headers=headers | {"Content-Type": kind}
        )
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]
    assert count(world, DeviceFix) == 0 and count(world, Trip) == 0


def test_bad_fixes_are_refused_one_by_one_and_the_rest_kept(world):
    t0 = 1_714_834_800_000
    good = [overland_feature(t0 + i * 5000, 40.0 + i * 3e-4, -105.0) for i in range(4)]
    infinite = overland_feature(t0 + 21_000, 40.0, -105.0)
    infinite["geometry"]["coordinates"] = [math.inf, 40.0]  # sent as the JSON word Infinity
    off_earth = overland_feature(t0 + 22_000, 95.0, -105.0)
    future = overland_feature(4_102_444_800_000, 40.0, -105.0)
    r = world.client.post(
        "/api/v1/ingest/overland",
        content=json.dumps({"locations": [*good, infinite, off_earth, future]}),
        headers={"Authorization": f"Bearer {world.token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["result"] == "ok"
    reasons = [x["reason"] for x in r.json()["rejected"]]
    assert len(reasons) == 3 and any("future" in x for x in reasons)
    assert any("NaN or infinite" in x for x in reasons)
    assert count(world, DeviceFix) == 4


def test_overland_keeps_a_batch_from_a_fast_clock_and_it_is_stored_later(world):
    """A phone clock over 10 min fast: Overland's fixes were refused as "in the future" (only
    for now) yet answered "ok", and Overland deleted them: a whole day lost without an
    error. It gets 503 with Retry-After now, keeps the batch, and its resend is stored."""
    import time as clock

    from kei_drive.api import FUTURE_TOLERANCE_MS

    # 4 s past what the server allows (a clock 10 min fast): the resend 10 s later is not
    ahead = round(clock.time() * 1000) + FUTURE_TOLERANCE_MS + 4_000
    batch = [overland_feature(ahead + i * 1000, 40.0 + i * 1e-4, -105.0) for i in range(6)]
    past = [overland_feature(ahead - 3_600_000 + i * 5000, 40.1, -105.0) for i in range(3)]
    headers = {"Authorization": f"Bearer {world.token}", "Content-Type": "application/json"}
    r = world.client.post(
        "/api/v1/ingest/overland", content=json.dumps({"locations": past + batch}), headers=headers
    )
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert r.json()["result"] != "ok" and "send it again later" in r.json()["error"]
    assert [x["retryable"] for x in r.json()["rejected"]] == [True] * 6
    assert count(world, DeviceFix) == 3  # those it could store are stored already
    # sent again once the phone's stamps are no longer ahead of the server's clock
    clock.sleep(max(0.0, (ahead + 5_000 - FUTURE_TOLERANCE_MS) / 1000 - clock.time()) + 0.5)
    r = world.client.post(
        "/api/v1/ingest/overland", content=json.dumps({"locations": past + batch}), headers=headers
    )
    assert r.status_code == 200 and r.json() == {"result": "ok"}
    assert count(world, DeviceFix) == 9
    # a stamp a year ahead is no clock minutes off: refused for good, the queue drains
    year = overland_feature(ahead + 365 * 86_400_000, 40.0, -105.0)
    r = world.client.post(
        "/api/v1/ingest/overland", content=json.dumps({"locations": [year]}), headers=headers
    )
    assert r.status_code == 200 and r.json()["result"] == "ok"
    # ...but beside a fix minutes ahead it does not make the batch drain (diff review)
    soon = overland_feature(round(clock.time() * 1000) + FUTURE_TOLERANCE_MS + 60_000, 40.2, -105.0)
    r = world.client.post(
        "/api/v1/ingest/overland", content=json.dumps({"locations": [year, soon]}), headers=headers
    )
    assert r.status_code == 503


def test_every_fix_refused_is_a_400_for_owntracks_and_gpslogger(world):
    basic = base64.b64encode(f"jane:{world.token}".encode()).decode()
    bad = OWNTRACKS_ANDROID_LOCATION | {"lat": 123.0}
    r = world.client.post(
        "/api/v1/ingest/owntracks", json=bad, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 400 and "out of range" in r.json()["rejected"][0]["reason"]
    r = world.client.get(
        "/api/v1/ingest/gpslogger",
        params={"lat": "NaN", "lon": "-76.6", "time": "%TIME", "token": world.token},
    )
    assert r.status_code == 400 and r.json()["rejected"]
    assert count(world, DeviceFix) == 0


def test_owntracks_other_messages_and_empty_body_answer_an_empty_array(world):
    headers = {"Authorization": f"Bearer {world.token}"}
    for body in (b"", b'{"_type": "lwt", "tst": 1497476000}', b'[{"_type": "transition"}]'):
        r = world.client.post("/api/v1/ingest/owntracks", content=body, headers=headers)
        assert (r.status_code, r.json()) == (200, [])
    r = world.client.post(
        "/api/v1/ingest/owntracks",
        json=OWNTRACKS_ANDROID_LOCATION,
        headers=headers | {"X-Limit-U": "jane", "X-Limit-D": "pixel"},
    )
    assert (r.status_code, r.json()) == (200, [])
    with session(world.url) as s:
        (device,) = s.exec(select(IngestDevice)).all()
    assert device.name == f"{TOKEN_NAME} · pixel"  # the Recorder's device header


def test_overland_token_in_the_body_and_the_exact_answer(world):
    body = OVERLAND_README_EXAMPLE | {"access_token": world.token}
    r = world.client.post("/api/v1/ingest/overland", json=body)
    assert (r.status_code, r.json()) == (200, {"result": "ok"})
    assert count(world, DeviceFix) == 1


def test_an_oversized_body_is_413(world):
    big = b"[" + b" " * (3 * 1024 * 1024) + b"]"
    r = world.client.post(
        "/api/v1/ingest/owntracks",
        content=big,
        headers={"Authorization": f"Bearer {world.token}"},
    )
    assert r.status_code == 413


def test_deleting_the_account_deletes_its_devices_and_their_fixes(world):
    send_all(world, "overland", fixes_of(two_drives())[:80])
    assert count(world, DeviceFix) == 80 and count(world, IngestDevice) == 1
    with session(world.url) as s:
        acc.delete_account(s, world.user)
    assert count(world, DeviceFix) == count(world, IngestDevice) == count(world, Trip) == 0


def test_a_busy_database_is_a_retryable_503_and_overland_keeps_its_queue(world, monkeypatch):
    if not world.url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock")
    from kei_drive.db import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    engine.dispose_engines()
    body = OVERLAND_README_EXAMPLE
    headers = {"Authorization": f"Bearer {world.token}"}
    holder = sqlite3.connect(world.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        r = world.client.post("/api/v1/ingest/overland", json=body, headers=headers)
        assert r.status_code == 503 and r.headers["Retry-After"]  # not "ok": keep the queue
        holder.execute("ROLLBACK")
        r = world.client.post("/api/v1/ingest/overland", json=body, headers=headers)
        assert r.json() == {"result": "ok"}
    finally:
        holder.close()
    assert count(world, DeviceFix) == 1


def test_the_trip_list_and_page_say_where_a_trip_came_from(world):
    from kei_drive.presenters.trips import source_text, trip_row

    send_all(world, "overland", fixes_of(two_drives()))
    with session(world.url) as s:
        read = acc.create_token(s, world.user, "my script", "read")[0]
    listing = world.client.get("/api/v1/trips", headers={"Authorization": f"Bearer {read}"})
    device = f"{TOKEN_NAME} · sambar-iphone"  # the token, and the device_id Overland sends
    assert {(t["source"], t["device"]) for t in listing.json()["trips"]} == {("overland", device)}
    trip = trips(world)[0]
    assert trip_row(trip).source == source_text(trip) == f"Overland · {device}"
    trip.source, trip.device = "recorded", None
    assert source_text(trip) == "Drive screen"
