"""The phone's queue keeps every fix the server did not store (security probe M3): a
refused batch and a phone clock far ahead of the server's lose nothing."""

from __future__ import annotations

import json

from sqlmodel import select

from kei_drive.db import TrackPointRow, session
from kei_drive.db import queries as q
from tests.browser.conftest import START, feed, north_of, stop_trip

SKEW_MS = 30 * 60_000  # the phone's clock runs 30 min ahead of the server's


def positions(count: int, offset: int = 0):
    return [north_of(START, 13.41 * (offset + i)) for i in range(count)]


def stored(app_server, trip_uuid: str) -> list[TrackPointRow]:
    with session(app_server.database_url) as s:
        try:
            trip = q.get_trip(s, trip_uuid)
        except q.NotFound:
            return []
        return list(s.exec(select(TrackPointRow).where(TrackPointRow.trip_id == trip.id)))


def start_trip(phone) -> str:
    phone.goto("/")
    phone.click("#trip-start")
    phone.wait_for_selector("#trip-stop")
    return phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")


def wait_all_sent(phone, timeout_ms: int = 45_000) -> None:
    phone.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0'", timeout=timeout_ms
    )


def test_a_refused_batch_stays_on_the_phone_and_is_sent_later(phone, app_server, artifacts_dir):
    refusing = {"on": True, "count": 0}

    def points_route(route):
        if refusing["on"]:
            refusing["count"] += 1
            route.fulfill(
                status=400,
                content_type="application/json",
                body=json.dumps({"error": 'the body must be {"points": [...]}'}),
            )
        else:
            route.continue_()

    phone.route("**/api/v1/trips/*/points", points_route)
    trip_uuid = start_trip(phone)
    route = positions(8)
    feed(phone, route)
    phone.wait_for_function(
        "Number(document.querySelector('#trip-status').dataset.notAccepted) >= 5", timeout=20_000
    )
    status = phone.inner_text("#trip-status")
    assert "not accepted yet, kept on this phone" in status and "server answered 400" in status
    phone.screenshot(path=str(artifacts_dir / "drive-batch-refused.png"))
    assert refusing["count"] >= 1 and stored(app_server, trip_uuid) == []

    refusing["on"] = False  # the server takes them again
    wait_all_sent(phone)
    assert phone.get_attribute("#trip-status", "data-not-accepted") == "0"
    stop_trip(phone)
    rows = stored(app_server, trip_uuid)
    assert len(rows) == len(route), f"stored {len(rows)} of {len(route)} fixes"
    assert len({row.client_id for row in rows}) == len(rows)


def test_a_phone_clock_far_ahead_of_the_server_loses_nothing(phone, app_server):
    """Every time the phone sends (fix times and its send time) is 30 min ahead of the
    server's clock, as with a server whose clock runs slow (e.g. a Pi without NTP)."""

    def skewed(route):
        body = json.loads(route.request.post_data or "{}")
        for point in body.get("points", []):
            point["t"] += SKEW_MS
        if "sent_at" in body:
            body["sent_at"] += SKEW_MS
        route.continue_(post_data=json.dumps(body))

    phone.route("**/api/v1/trips/*/points", skewed)
    trip_uuid = start_trip(phone)
    route = positions(10)
    feed(phone, route)
    wait_all_sent(phone)
    stop_trip(phone)
    rows = stored(app_server, trip_uuid)
    assert len(rows) == len(route), f"stored {len(rows)} of {len(route)} fixes"
    stored_latlon = sorted((round(r.lat, 6), round(r.lon, 6)) for r in rows)
    assert stored_latlon == sorted((round(lat, 6), round(lon, 6)) for lat, lon in route)
