"""Hostile and broken input on the API (security probe 2026-12, L1/L2/L4/L7/L10, M3 clock):
every case gets a JSON answer with a reason, one bad fix never costs the others."""

from __future__ import annotations

import json
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.core.gpx import read_gpx
from kei_drive.db import migrate
from tests.support.trips import fresh_db_url

T0 = 1_714_834_800_000  # 2024-05-04 15:00 UTC


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, tmp_path, monkeypatch):
    url = fresh_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")  # about input, not sign-in
    migrate(url)
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


def fix(i: int, **over) -> dict:
    return {"id": f"f{i}", "t": T0 + i * 1000, "lat": 39.29 + i * 1e-4, "lon": -76.61, **over}


def post_raw(client, trip: str, text: str):
    return client.post(
        f"/api/v1/trips/{trip}/points",
        content=text.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json"},
    )


def trip_id() -> str:
    return str(uuidlib.uuid4())


def test_huge_integers_reject_that_fix_only(client):
    trip = trip_id()
    big = "9" * 400
    good = ",".join(json.dumps(fix(i)) for i in range(3))
    text = (
        '{"points": ['
        + good
        + f',{{"id": "t-big", "t": {big}, "lat": 39.3, "lon": -76.6}}'
        + f',{{"id": "lat-big", "t": {T0 + 5000}, "lat": {big}, "lon": -76.6}}'
        + f',{{"id": "huge", "t": {"1" * 4301}, "lat": 39.3, "lon": -76.6}}'
        + f',{{"id": "spd", "t": {T0 + 6000}, "lat": 39.31, "lon": -76.6, "speed": {big}}}'
        + "]}"
    )
    r = post_raw(client, trip, text)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 4  # f0..f2 and spd (its speed dropped)
    reasons = {item["id"]: item["reason"] for item in body["rejected"]}
    assert set(reasons) == {"t-big", "lat-big", "huge"}
    assert "digits" not in r.text and "Exceeds" not in r.text  # no interpreter internals
    assert body["cleaned"] == [{"id": "spd", "reason": "speed inf is not valid and was dropped"}]


@pytest.mark.parametrize(
    "payload",
    [
        {"started_at": 1e300},
        {"started_at": int("9" * 400)},
        {"started_at": "9999-12-31T23:59:59"},
        {"started_at": "2100-01-01T00:00:00Z"},
        {"started_at": 4_102_444_800_000},  # 2100-01-01 in ms
        {"vehicle_id": 2**63},
        {"vehicle_id": 2**70},
        {"vehicle_id": -1},
        {"name": "x" * 201},
    ],
)
def test_bad_trip_fields_are_400_with_a_reason(client, payload):
    r = client.put(f"/api/v1/trips/{trip_id()}", content=json.dumps(payload))
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error"} and r.json()["error"]


def test_finish_with_an_absurd_end_is_400(client):
    trip = trip_id()
    assert client.post(f"/api/v1/trips/{trip}/points", json={"points": [fix(0)]}).status_code == 200
    for ended in ("1e300", "9" * 400, '"9999-01-01"'):
        r = client.post(f"/api/v1/trips/{trip}/finish", content=f'{{"ended_at": {ended}}}')
        assert r.status_code == 400, r.text
        assert r.json()["error"].startswith("ended_at must be")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"points": [' + "[" * 100_000 + "]" * 100_000 + "]}",
        '{"points": ' + '{"a":' * 300_000 + "1" + "}" * 300_000 + "}",
    ],
)
def test_deep_nesting_is_400_not_500(client, text):
    r = post_raw(client, trip_id(), text)
    assert r.status_code == 400, r.text[:200]
    assert r.json() == {"error": "the request body is nested too deeply"}


def test_lone_surrogate_id_rejects_that_fix_only(client):
    trip = trip_id()
    good = ",".join(json.dumps(fix(i)) for i in range(4))
    bad = json.dumps(fix(9)).replace('"f9"', '"\\ud800"')
    r = post_raw(client, trip, '{"points": [' + good + "," + bad + "]}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 4 and body["point_count"] == 4
    assert body["rejected"] == [
        {"id": None, "reason": "id is not valid Unicode (lone surrogate)", "retryable": False}
    ]
    assert "codec" not in r.text


def test_nul_in_an_id_rejects_that_fix_only(client):
    r = client.post(
        f"/api/v1/trips/{trip_id()}/points", json={"points": [fix(0), fix(1, id="a\x00b")]}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert r.json()["rejected"][0]["reason"] == "id must not contain NUL characters"


def test_control_characters_in_a_name_never_break_the_gpx(client):
    trip = trip_id()
    name = "Farm\x00 run\x0b to\x1f the\tcoast \ud800\x7f"
    text = json.dumps({"name": name}).replace("\\ud800", "\\ud800")
    r = client.put(f"/api/v1/trips/{trip}", content=text.encode())
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Farm run to the coast"
    points = [fix(i) for i in range(5)]
    assert client.post(f"/api/v1/trips/{trip}/points", json={"points": points}).status_code == 200
    gpx = client.get(f"/api/v1/trips/{trip}/export.gpx").text
    ET.fromstring(gpx)  # well-formed XML
    assert len(read_gpx(gpx)[0]) == 5


def test_years_past_2100_are_refused(client):
    trip = trip_id()
    late = 4_102_444_800_000 + 3_600_000  # 2100-01-01 01:00
    r = client.post(
        f"/api/v1/trips/{trip}/points",
        json={"points": [fix(0), fix(1, t=late)], "sent_at": late},
    )
    assert r.json()["rejected"] == [
        {"id": "f1", "reason": "time is in the future (after the year 2100)", "retryable": False}
    ]


def test_future_is_judged_against_the_phone_clock(client):
    """A server clock 30 min slow must not refuse a phone's fresh fixes (M3)."""
    trip = trip_id()
    phone_now = int(time.time() * 1000) + 30 * 60_000  # the phone is 30 min ahead
    points = [fix(i, t=phone_now - (5 - i) * 1000) for i in range(5)]
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": points})
    assert r.json()["accepted"] == 0  # without sent_at: judged by the server's clock
    assert r.json()["rejected"][0] == {
        "id": "f0",
        "reason": "time is in the future",
        "retryable": True,  # the phone keeps it
    }
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": points, "sent_at": phone_now})
    assert r.json()["accepted"] == 5, r.json()
    # still "in the future" when ahead of the phone's own clock too
    ahead = fix(9, t=phone_now + 11 * 60_000)
    r = client.post(f"/api/v1/trips/{trip}/points", json={"points": [ahead], "sent_at": phone_now})
    assert r.json()["rejected"][0]["reason"] == "time is in the future"


def test_internal_errors_are_generic_with_a_request_id(client, monkeypatch, caplog):
    from kei_drive.db import queries as q

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail /srv/kei/internal.py line 42")

    monkeypatch.setattr(q, "get_trip", broken)
    with caplog.at_level("ERROR", logger="kei_drive.api"):
        r = client.get(f"/api/v1/trips/{trip_id()}")
    assert r.status_code == 500
    body = r.json()
    assert "secret" not in r.text
    assert len(body["request_id"]) == 12 and body["request_id"] in body["error"]
    assert body["request_id"] in caplog.text and "secret detail" in caplog.text
