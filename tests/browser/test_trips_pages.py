"""The trip history pages (/trips, /trips/{id}) in headless Chromium against the real app."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kei_drive.db import queries as q
from kei_drive.db.engine import session
from kei_drive.db.migrate import ensure_migrated
from kei_drive.presenters.track_map import OVER_CAP_COLOR, SPEED_BANDS, START_COLOR
from kei_drive.services.trips import import_gpx
from tests.support.trips_pages import BROKEN_GPX, synthetic_gpx

VEHICLE = "Trips-page Sambar"
TRACK_COLORS = {c for _, c, _ in SPEED_BANDS} | {OVER_CAP_COLOR, START_COLOR}


@pytest.fixture(scope="module")
def vehicle_id(app_server) -> int:
    ensure_migrated(app_server.database_url)
    with session(app_server.database_url) as s:
        vehicle = q.create_vehicle(
            s, VEHICLE, make="Subaru", model="Sambar", model_year=1994, speed_cap_mph=35
        )
        return vehicle.id  # type: ignore[return-value]


def card(page, name: str):
    return page.locator(".kd-trip-card", has=page.locator(".kd-trip-name", has_text=name))


def find_card(page, name: str):
    """The card of trip ``name``, looked for from the newest page on, as a person would: the
    browser tests share one app server, so trips other tests recorded may fill the first
    pages (and the list remembers the page it was last on)."""
    where = page.locator("#trips-page")
    where.wait_for()

    def turn(button: str) -> bool:
        control = page.locator(button)
        if control.is_disabled():
            return False
        before = where.inner_text()
        control.click()
        page.wait_for_function(
            "(before) => document.querySelector('#trips-page').innerText !== before", arg=before
        )
        return True

    while turn("#trips-prev"):
        pass
    while True:
        wanted = card(page, name)
        try:
            wanted.wait_for(timeout=3000)
            return wanted
        except PlaywrightTimeout:
            if not turn("#trips-next"):
                raise AssertionError(f"no trip named {name!r} on any page of /trips") from None


def shown(text: str) -> str:
    """Intl output with its narrow/thin spaces as plain spaces."""
    return re.sub(r"[\u202f\u2009\u00a0]", " ", text)


def track_strokes(page) -> list[str]:
    return page.eval_on_selector_all(
        "#trip-map path.leaflet-interactive", "els => els.map(e => e.getAttribute('stroke'))"
    )


def test_import_review_rename_export_delete(phone, artifacts_dir, vehicle_id):
    phone.goto("/trips")
    phone.wait_for_selector("text=Import GPX")
    # the imported trips go to the seeded vehicle (35 mph cap)
    phone.click("#import-vehicle")
    phone.get_by_role("option", name=VEHICLE).click()
    phone.set_input_files(
        "#gpx-upload input[type=file]",
        [
            {"name": "synthetic.gpx", "mimeType": "application/gpx+xml", "buffer": synthetic_gpx()},
            {"name": "broken.gpx", "mimeType": "application/gpx+xml", "buffer": BROKEN_GPX},
        ],
    )
    errors = phone.wait_for_selector("#import-errors")
    assert re.search(r"broken\.gpx: not a GPX file: malformed XML", errors.inner_text())
    ok = phone.inner_text("#import-ok")
    assert "synthetic.gpx" in ok and "Synthetic drive (1/2)" in ok and "(2/2)" in ok

    first = find_card(phone, "Synthetic drive (1/2)")
    text = first.inner_text()
    assert VEHICLE in text
    # the start is shown in the phone's own zone; the element keeps the UTC time
    when = first.locator("time[datetime='2024-05-04T14:00:00Z']")
    assert when.get_attribute("data-utc") == "2024-05-04T14:00:00Z"
    assert when.get_attribute("title") == "Sat 2024-05-04 14:00 UTC"
    assert "2024" in when.inner_text()
    assert "the time zone a trip was recorded or imported in" in phone.inner_text(".kd-foot-note")
    assert re.search(r"\d+\.\d mi · \d+\.\d km", text)
    assert "45 mph" in text  # max moving speed
    assert re.search(r"above cap for \d+ min", text)
    assert "MD" in text
    assert "1 gap in recording" in text
    assert phone.locator("#totals-vehicle", has_text=VEHICLE).count() == 1
    assert phone.locator("#totals-month", has_text="May 2024").count() == 1
    phone.screenshot(path=str(artifacts_dir / "trips-390x844.png"), full_page=True)

    first.click()
    phone.wait_for_url(re.compile(r"/trips/\d+$"))
    phone.wait_for_selector("#trip-name:has-text('Synthetic drive (1/2)')")
    # the track: several coloured lines (cut at the 5 min gap, split by speed band)
    phone.wait_for_function(
        "document.querySelectorAll('#trip-map path.leaflet-interactive').length > 2"
    )
    strokes = [s for s in track_strokes(phone) if s in TRACK_COLORS]
    assert len(strokes) >= 2
    phone.wait_for_selector("#speed-chart .recharts-line path")
    assert phone.locator("#speed-chart .recharts-reference-line").count() == 1
    stats = phone.inner_text("#trip-stats")
    assert "Time above cap (35 mph)" in stats and "Gaps in recording" in stats
    assert re.search(r"1 \(5 min 0\d s\)", stats)
    # no routing tiles for Maryland here (none, or another test's): unknown, and why
    highway = phone.inner_text(".kd-stat-item:has(dt:text-is('Highway use')) dd")
    reasons = ("No routing tiles are installed", "The track lies outside the installed map")
    assert highway.startswith(tuple(f"unknown. {why}" for why in reasons)), highway

    assert "#facc15" in strokes  # 30-45 mph band
    phone.click("#mode-cap")
    phone.wait_for_selector("#trip-legend:has-text('above cap (35 mph)')")
    phone.wait_for_function("!document.querySelector('#trip-map path[stroke=\"#facc15\"]')")
    assert OVER_CAP_COLOR in track_strokes(phone)
    phone.screenshot(path=str(artifacts_dir / "trip-detail-390x844.png"), full_page=True)

    phone.fill("#trip-name-input", "Saturday farm run")
    phone.click("#trip-rename")
    phone.wait_for_selector("#trip-name:has-text('Saturday farm run')")

    with phone.expect_download() as info:
        phone.click("#export-gpx")
    download = info.value
    assert download.suggested_filename == "saturday-farm-run.gpx"
    gpx = Path(download.path()).read_text(encoding="utf-8")
    assert "<gpx" in gpx and "Saturday farm run" in gpx
    assert gpx.count("<trkpt") == 250  # every imported fix of the first trip

    with phone.expect_download() as info:
        phone.click("#export-geojson")
    assert '"FeatureCollection"' in Path(info.value.path()).read_text(encoding="utf-8")

    phone.click("#trip-delete")
    phone.wait_for_selector("text=Delete this trip?")
    phone.click("#delete-confirm")
    phone.wait_for_url(re.compile(r"/trips$"))
    find_card(phone, "Synthetic drive (2/2)")
    assert card(phone, "Saturday farm run").count() == 0
    assert phone.errors == []


def test_desktop_layout_and_not_found(browser, app_server, artifacts_dir, vehicle_id):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=app_server.url,
        timezone_id="America/Denver",
        locale="en-US",
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        ensure_migrated(app_server.database_url)
        with session(app_server.database_url) as s:
            (trip, _), *_ = import_gpx(
                s, synthetic_gpx(east_m=50), vehicle_id=vehicle_id, name="Desk"
            )
            trip_id = trip.id
            live, _ = q.ensure_trip(s, str(uuid.uuid4()), name="Still driving")
            q.add_points(
                s,
                live,
                [
                    q.PointIn(f"p{i}", 1_714_831_200_000 + i * 1000, 39.3 + i * 1e-4, -76.6)
                    for i in range(30)
                ],
            )
        page.goto("/trips")
        still = find_card(page, "Still driving")
        assert still.locator(".kd-rec", has_text="recording").count() == 1
        # 14:00 UTC on 4 May 2024 is 8:00 in Denver (MDT, UTC-6)
        when = find_card(page, "Desk (1/2)").locator("time[data-utc='2024-05-04T14:00:00Z']")
        assert shown(when.inner_text()) == "Sat, May 4, 2024, 8:00 AM MDT"
        page.screenshot(path=str(artifacts_dir / "trips-1280x800.png"))
        page.goto(f"/trips/{trip_id}")
        page.wait_for_selector("#speed-chart .recharts-line path")
        page.wait_for_function(
            "document.querySelectorAll('#trip-map path.leaflet-interactive').length > 2"
        )
        when = shown(page.inner_text("#trip-when"))  # start–end range, local time
        assert re.fullmatch(r"Sat, May 4, 2024, 8:00 – 8:\d\d AM MDT", when), when
        page.screenshot(path=str(artifacts_dir / "trip-detail-1280x800.png"))
        page.screenshot(path=str(artifacts_dir / "trip-detail-1280-full.png"), full_page=True)

        page.goto("/trips/999999")
        page.wait_for_selector("#trip-not-found")
        assert "No trip with id “999999”" in page.inner_text(".kd-not-found")
        assert errors == []
    finally:
        context.close()


def points_shown(page) -> str:
    return page.inner_text(".kd-stat-item:has(dt:text-is('Points')) dd")


def test_recording_trip_refreshes_itself(phone, app_server, artifacts_dir):
    key = str(uuid.uuid4())
    base = int(time.time() * 1000) - 180_000

    def post(first: int, last: int) -> None:
        fixes = [
            {
                "id": f"f{i}",
                "t": base + i * 2000,
                "lat": 39.29 + i * 2e-4,
                "lon": -76.61,
                "acc": 5,
                "speed": 11.0,
            }
            for i in range(first, last)
        ]
        response = phone.request.post(f"/api/v1/trips/{key}/points", data={"points": fixes})
        assert response.ok, response.text()

    post(0, 30)
    with session(app_server.database_url) as s:
        trip_id = q.get_trip(s, key).id
    phone.goto(f"/trips/{trip_id}")
    phone.wait_for_selector("#trip-live")
    assert points_shown(phone) == "30"
    phone.wait_for_function(
        "document.querySelectorAll('#trip-map path.leaflet-interactive').length > 0"
    )
    post(30, 60)  # the phone keeps sending fixes: the page picks them up by itself
    phone.wait_for_function(
        "document.querySelector('#trip-stats').innerText.includes('60')", timeout=25_000
    )
    assert points_shown(phone) == "60"
    # a steady speed draws a flat line (zero height: "hidden" to Playwright)
    phone.wait_for_selector("#speed-chart .recharts-line path", state="attached")
    phone.screenshot(path=str(artifacts_dir / "trip-live-390x844.png"), full_page=True)

    # mark the drawn track: a refresh that brings the same track must not redraw (or refit) it
    phone.eval_on_selector_all(
        "#trip-map path.leaflet-interactive", "els => els.forEach(e => e.dataset.kept = '1')"
    )
    assert phone.request.post(f"/api/v1/trips/{key}/finish", data={}).ok
    phone.wait_for_selector("#trip-live", state="detached", timeout=25_000)  # ticker stops
    assert phone.locator("#trip-map path[data-kept='1']").count() > 0
    assert phone.locator("#trip-name ~ *", has_text="recording").count() == 0
    assert phone.errors == []


def test_an_upload_names_its_trips_in_the_browsers_time_zone(browser, app_server):
    """Trips of a file without names were named in UTC above times shown in the browser's
    zone; they are named in the browser's zone (Denver: 14:00 UTC is 08:00 MDT). Seen later
    from another zone (back home in Baltimore), their times stay in the zone they were named
    in: the page said "10:00 AM EDT" under a name saying "08:00 MDT"."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=app_server.url,
        timezone_id="America/Denver",
        locale="en-US",
    )
    page = context.new_page()
    try:
        page.goto("/trips")
        page.wait_for_selector("text=Import GPX")
        page.wait_for_selector("#gpx-import[data-zone='America/Denver']")  # known to the page
        page.set_input_files(
            "#gpx-upload input[type=file]",
            [
                {
                    "name": "unnamed.gpx",
                    "mimeType": "application/gpx+xml",
                    "buffer": synthetic_gpx(east_m=170, name=None),
                }
            ],
        )
        ok = page.wait_for_selector("#import-ok").inner_text()
        assert "2024-05-04 08:00 MDT (MD)" in ok, ok
        trip_href = page.locator("#import-ok a").first.get_attribute("href")
    finally:
        context.close()
    home = browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=app_server.url,
        timezone_id="America/New_York",
        locale="en-US",
    )
    page = home.new_page()
    try:
        page.goto(trip_href)
        when = page.wait_for_selector("#trip-when time[data-zone='America/Denver']")
        assert re.fullmatch(r"Sat, May 4, 2024, 8:00 – 8:\d\d AM MDT", shown(when.inner_text()))
        page.goto("/trips")
        find_card(page, "2024-05-04 08:00 MDT (MD)")
        card_time = page.locator(f"a.kd-trip-card[href='{trip_href}'] time.kd-trip-when")
        assert shown(card_time.inner_text()) == "Sat, May 4, 2024, 8:00 AM MDT"
    finally:
        home.close()
