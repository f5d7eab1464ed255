"""Recording never stops silently (issue #13 point 7): it lives at the app level, goes on
while the driver uses other pages, shows ``#recording-indicator`` in the nav, resumes after
a full page load, and "Stop trip" asks first, then shows the trip's summary."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from kei_drive.db import TrackPointRow, session
from kei_drive.db import queries as q
from tests.browser.conftest import GPS_CLOCK_SCRIPT, START, feed, north_of, stop_trip

MPS = 13.41  # 30 mph


def positions(count: int, offset: int = 0):
    return [north_of(START, MPS * (offset + i)) for i in range(count)]


def wait_drained(page) -> None:
    page.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0'", timeout=20_000
    )


def stored_fixes(app_server, trip_uuid: str) -> list[TrackPointRow]:
    with session(app_server.database_url) as s:
        trip = q.get_trip(s, trip_uuid)
        return list(s.exec(select(TrackPointRow).where(TrackPointRow.trip_id == trip.id)).all())


def assert_each_stored_once(rows, route) -> None:
    client_ids = [row.client_id for row in rows]
    assert len(set(client_ids)) == len(client_ids), "a fix was stored twice"
    stored = sorted((round(row.lat, 6), round(row.lon, 6)) for row in rows)
    assert stored == sorted((round(lat, 6), round(lon, 6)) for lat, lon in route)


def test_recording_goes_on_across_pages_and_every_fix_is_stored_once(phone, app_server):
    phone.goto("/")
    assert phone.locator("#recording-indicator").count() == 0
    phone.click("#trip-start")
    phone.wait_for_selector("#recording-indicator")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    phone.evaluate("window.__samePage = true")  # gone if the browser loaded a new document

    route = positions(24)
    feed(phone, route[:6])
    phone.click("nav >> text=Trips")
    phone.wait_for_url(re.compile(r"/trips$"))
    phone.wait_for_selector("#recording-indicator")
    box = phone.locator("#recording-indicator").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert "Rec" in phone.inner_text("#recording-indicator")
    assert phone.locator("#speed-mph").count() == 0  # the Drive screen is gone
    feed(phone, route[6:14])  # recorded while the driver reads the trip list
    assert phone.get_attribute("#recording-indicator", "data-state") == "recording"

    phone.click("#recording-indicator")  # back to the Drive screen
    phone.wait_for_selector("#trip-stop")
    assert phone.evaluate("window.__samePage === true"), "the nav reloaded the page"
    feed(phone, route[14:])
    wait_drained(phone)

    rows = stored_fixes(app_server, trip_uuid)
    assert len(rows) == len(route), f"stored {len(rows)} of {len(route)} fixes"
    assert_each_stored_once(rows, route)
    reply = phone.request.get(f"/api/v1/trips/{trip_uuid}").json()
    assert reply["point_count"] == len(route)

    # "Stop trip" asks first; "Keep recording" keeps recording.
    phone.click("#trip-stop")
    phone.click("#trip-stop-cancel")
    assert phone.is_visible("#trip-stop") and phone.is_visible("#recording-indicator")
    stop_trip(phone)
    assert phone.locator("#recording-indicator").count() == 0
    phone.wait_for_selector("#trip-summary-link", timeout=20_000)
    trip_id = phone.get_attribute("#trip-summary", "data-trip-id")
    assert phone.get_attribute("#trip-summary-link", "href") == f"/trips/{trip_id}"
    assert reply["id"] == int(trip_id)
    miles = float(phone.inner_text("#summary-distance").split(" mi")[0])
    assert abs(miles - MPS * 23 / 1609.344) < 0.05, phone.inner_text("#summary-distance")
    assert phone.inner_text("#summary-max").startswith(("29 mph", "30 mph", "31 mph"))
    assert re.fullmatch(r"\d+:\d\d", phone.inner_text("#summary-time"))
    phone.click("#trip-summary-link")
    phone.wait_for_url(re.compile(rf"/trips/{trip_id}$"))
    assert phone.errors == []


def test_a_full_page_load_elsewhere_asks_first_then_resumes_the_trip(phone, app_server):
    """A reload on /trips unloads the page: the browser asks first (beforeunload), and
    after it the recorder picks the trip up again and goes on storing fixes."""
    phone.goto("/")
    phone.click("#trip-start")
    phone.wait_for_selector("#recording-indicator")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    route = positions(12, offset=200)
    feed(phone, route[:4])
    phone.click("nav >> text=Trips")
    phone.wait_for_url(re.compile(r"/trips$"))

    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    phone.on("dialog", answer)
    phone.reload()
    phone.wait_for_selector("#recording-indicator")
    assert asked == ["beforeunload"]
    feed(phone, route[4:])  # on the freshly loaded /trips page
    phone.wait_for_function(
        "document.querySelector('#recording-indicator').dataset.pending === '0'", timeout=20_000
    )
    rows = stored_fixes(app_server, trip_uuid)
    # the resumed watch may add one fresh fix where the truck stands (a new fix, its own id)
    assert len(rows) in (len(route), len(route) + 1), f"stored {len(rows)} of {len(route)}"
    assert len({row.client_id for row in rows}) == len(rows), "a fix was stored twice"
    stored = {(round(row.lat, 6), round(row.lon, 6)) for row in rows}
    assert stored == {(round(lat, 6), round(lon, 6)) for lat, lon in route}
    phone.click("#recording-indicator")
    stop_trip(phone)


def test_a_stopped_trip_is_named_in_the_drivers_local_time(browser, app_server):
    """The phone in Denver: the trip's default name is its start in Mountain time."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        timezone_id="America/Denver",
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
        base_url=app_server.url,
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    page = context.new_page()
    try:
        page.goto("/")
        page.click("#trip-start")
        trip = page.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip'))")
        feed(page, positions(4, offset=400))
        stop_trip(page)
        page.wait_for_selector("#trip-summary-link", timeout=20_000)
        stored = page.request.get(f"/api/v1/trips/{trip['uuid']}").json()
        name, started = stored["name"], stored["started_at"]
        local = datetime.fromisoformat(started.replace("Z", "+00:00")).astimezone(
            ZoneInfo("America/Denver")
        )
        assert name.startswith(f"{local:%Y-%m-%d %H:%M} {local.tzname()}"), (name, started)
        assert local.tzname() in ("MST", "MDT")
        assert name in page.inner_text("#trip-summary")
    finally:
        context.close()
