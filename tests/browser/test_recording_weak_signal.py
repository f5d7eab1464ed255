"""Recording on a weak signal (an outside review, session 38): a trip's creation and finish
stay queued until the server confirms them (a proxy's 408, a Wi-Fi sign-in page answering
HTML), and fixes the phone's storage refuses are kept in memory and said, never dropped
while the screen says "kept on this phone"."""

from __future__ import annotations

import time

import pytest

from kei_drive.db import queries as q
from kei_drive.db import session
from kei_drive.db.migrate import ensure_migrated
from tests.browser.conftest import START, feed, north_of, stop_trip
from tests.browser.test_recording_faults import start_trip, stored, wait_all_sent

SIGN_IN_PAGE = "<html><body>Accept the terms to use this Wi-Fi</body></html>"


def positions(count: int, offset: int = 0):
    return [north_of(START, 13.41 * (offset + i)) for i in range(count)]


def answer_first(page, pattern: str, answers: list[tuple[int, str, str]]) -> list[str]:
    """The first requests to ``pattern`` get ``answers`` (status, type, body) in turn, not
    the server; the rest go through. Returns the methods seen, in order."""
    seen: list[str] = []

    def handle(route):
        seen.append(route.request.method)
        if len(seen) <= len(answers):
            status, content_type, body = answers[len(seen) - 1]
            route.fulfill(status=status, content_type=content_type, body=body)
        else:
            route.continue_()

    page.route(pattern, handle)
    return seen


def test_a_finish_not_confirmed_stays_queued_until_the_server_ends_the_trip(phone, app_server):
    """A 408 and then a Wi-Fi sign-in page answering the finish: it was dropped after the
    first, and the trip stayed "recording" on the server for good."""
    seen = answer_first(
        phone,
        "**/api/v1/trips/*/finish",
        [(408, "text/plain", "Request Timeout"), (200, "text/html", SIGN_IN_PAGE)],
    )
    trip_uuid = start_trip(phone)
    feed(phone, positions(6))
    wait_all_sent(phone)
    stop_trip(phone)
    phone.wait_for_function(
        "() => localStorage.getItem('kei-drive.finish-queue') === '[]'", timeout=30_000
    )
    assert len(seen) >= 3, seen
    with session(app_server.database_url) as s:
        trip = q.get_trip(s, trip_uuid)
        assert trip.ended_at is not None and trip.recording_state != "recording"
    assert len(stored(app_server, trip_uuid)) == 6


def test_a_trip_creation_not_confirmed_keeps_its_vehicle(phone, app_server):
    """A sign-in page answering the trip's creation: it was dropped, the fixes then created
    the trip without the picked vehicle (its speed cap unused), and nothing was said."""
    ensure_migrated(app_server.database_url)
    with session(app_server.database_url) as s:
        vehicle_id = q.create_vehicle(s, "Weak signal Carry", model="Carry", speed_cap_mph=40).id
    seen = answer_first(phone, "**/api/v1/trips/*", [(200, "text/html", SIGN_IN_PAGE)])
    phone.goto("/")
    phone.wait_for_selector(f"#vehicle-select option[value='{vehicle_id}']", state="attached")
    phone.select_option("#vehicle-select", str(vehicle_id))
    phone.click("#trip-start")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    feed(phone, positions(5))
    wait_all_sent(phone)
    assert seen[:2] == ["PUT", "PUT"], seen  # asked again after the sign-in page
    stop_trip(phone)
    with session(app_server.database_url) as s:
        assert q.get_trip(s, trip_uuid).vehicle_id == vehicle_id


def test_a_busy_server_or_a_sign_in_page_is_said_not_offline(phone, app_server):
    """A 429, then a Wi-Fi sign-in page, answering the trip's creation: the status line said
    "offline, kept on this phone" beside a server that had answered. It now says what came
    back, and the trip is created once the server takes it."""
    busy = (429, "application/json", '{"error": "too many requests"}')
    seen = answer_first(
        phone, "**/api/v1/trips/*", [busy, busy, (200, "text/html", SIGN_IN_PAGE)] * 2
    )
    trip_uuid = start_trip(phone)
    labels = set()
    deadline = time.monotonic() + 30
    while len(seen) < 6 and time.monotonic() < deadline:
        labels.add(phone.inner_text("#trip-status"))
        phone.wait_for_timeout(200)
    labels.add(phone.inner_text("#trip-status"))
    assert any("the server is busy (429)" in label for label in labels), labels
    assert any("Wi-Fi sign-in page" in label for label in labels), labels
    assert not any("offline" in label for label in labels), labels
    feed(phone, positions(3))
    wait_all_sent(phone)
    assert len(stored(app_server, trip_uuid)) == 3


@pytest.mark.slow
def test_a_batch_the_link_swallowed_is_given_up_and_sent_again(phone, app_server):
    """A batch of fixes sent into a stalled link (no answer, no error) would hold the sync
    loop for good: nothing more was ever sent. It is given up after 45 s and sent again."""
    swallowed = []

    def swallow_first(route):
        if swallowed:
            route.continue_()
        else:
            swallowed.append(route.request.url)  # never answered

    phone.route("**/api/v1/trips/*/points", swallow_first)
    trip_uuid = start_trip(phone)
    feed(phone, positions(4))
    phone.wait_for_timeout(5000)
    assert len(swallowed) == 1
    assert phone.get_attribute("#trip-status", "data-pending") == "4"
    wait_all_sent(phone, timeout_ms=70_000)
    assert len(stored(app_server, trip_uuid)) == 4


STORAGE_FULL = """
(() => {
  const put = IDBObjectStore.prototype.put;
  window.__storageFull = true;
  IDBObjectStore.prototype.put = function (...args) {
    const full = new DOMException("The quota has been exceeded.", "QuotaExceededError");
    if (window.__storageFull) throw full;
    return put.apply(this, args);
  };
})();
"""


def test_fixes_the_phone_cannot_store_are_kept_in_memory_said_and_sent(phone, app_server):
    """Storage refusing writes (full): fixes were dropped while the screen said "30 fixes
    waiting to send · offline, kept on this phone". Now they are kept in memory, said, and
    sent from there (also the last ones of a trip stopped meanwhile)."""
    phone.context.add_init_script(STORAGE_FULL)
    trip_uuid = start_trip(phone)
    phone.evaluate("window.__storageFull = true")
    phone.context.set_offline(True)
    try:
        feed(phone, positions(8))
        phone.wait_for_function(
            "document.querySelector('#trip-status').innerText.includes('storage refused')",
            timeout=20_000,
        )
    finally:
        phone.context.set_offline(False)
    feed(phone, positions(2, offset=8))
    stop_trip(phone)  # storage still full: no later fix would retry them
    deadline = time.monotonic() + 30
    while len(stored(app_server, trip_uuid)) < 10:
        assert time.monotonic() < deadline, f"{len(stored(app_server, trip_uuid))} of 10 sent"
        phone.wait_for_timeout(500)
    phone.wait_for_function(
        "() => localStorage.getItem('kei-drive.finish-queue') === '[]'", timeout=30_000
    )


CACHED = """async () => {
    const names = await caches.keys();
    if (!names.length) return false;
    const keys = await (await caches.open(names[0])).keys();
    return keys.some((r) => new URL(r.url).pathname.startsWith('/assets/'))
        && keys.some((r) => new URL(r.url).pathname === '/');
}"""


def wait_worker_ready(page, timeout_s: float = 30) -> None:
    """The service worker controls the page and keeps the app (wait_for_function does not
    wait for an async predicate's answer: it is polled here)."""
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(CACHED):
        assert time.monotonic() < deadline, "the service worker did not keep the app"
        page.wait_for_timeout(250)


def test_offline_a_page_not_kept_sends_the_driver_to_the_drive_screen_recording_on(
    phone, app_server
):
    """Offline, opening a page this phone never kept (a bookmark, the home-screen icon of
    /garage): the worker served the Drive screen's page at that address, the router failed
    to load the page's code and reloaded without end (39 loads in 10 s), and recording
    stopped. Now the Drive screen opens, says why, and recording goes on."""
    trip_uuid = start_trip(phone)
    wait_worker_ready(phone)
    phone.wait_for_timeout(1500)
    feed(phone, positions(3))
    phone.context.set_offline(True)
    try:
        loads = []
        phone.on("load", lambda _page: loads.append(phone.url))
        phone.goto("/garage")
        note = phone.wait_for_selector("#offline-page-note", timeout=15_000).inner_text()
        assert note.startswith("Garage needs a connection"), note
        phone.wait_for_timeout(3000)
        assert len(loads) <= 1, loads  # no reload loop
        assert "offline=" not in phone.url  # a reload later must not say it again
        phone.wait_for_selector("#trip-stop")  # the trip goes on
        feed(phone, positions(5, offset=3))
        assert int(phone.get_attribute("#trip-status", "data-pending") or 0) >= 5
    finally:
        phone.context.set_offline(False)
    phone.wait_for_selector("#offline-page-note", state="detached", timeout=10_000)
    wait_all_sent(phone)
    stop_trip(phone)
    # every fix fed (the page opened on the Drive screen also hears the phone's position then)
    kept = {(round(row.lat, 6), round(row.lon, 6)) for row in stored(app_server, trip_uuid)}
    assert {(round(lat, 6), round(lon, 6)) for lat, lon in positions(8)} <= kept


def test_offline_a_page_that_needs_the_server_says_so(phone):
    """Trips opened offline from the phone's copy said "Loading trips…" for ever, beside
    Reflex's "Cannot connect to server"."""
    phone.goto("/")
    wait_worker_ready(phone)
    phone.goto("/trips")  # kept by the worker now
    phone.wait_for_selector("text=Import GPX")
    assert phone.locator("#offline-note").count() == 0
    phone.context.set_offline(True)
    try:
        phone.reload()
        note = phone.wait_for_selector("#offline-note", timeout=15_000).inner_text()
        assert note.startswith("No connection: this page needs one"), note
        assert phone.locator("#offline-note a[href='/']").count() == 1
    finally:
        phone.context.set_offline(False)
    phone.wait_for_selector("#offline-note", state="detached", timeout=10_000)


def test_offline_the_states_page_shows_the_phones_saved_rules(phone):
    """Offline, the States page (kept by the worker) showed its frame and "0 of 51": its
    rules come from the server. The phone's saved copy (kept by an online visit) stands in,
    dated, and gives way to the page's own once it is back online."""
    phone.goto("/")
    wait_worker_ready(phone)
    phone.goto("/states")
    phone.wait_for_selector("#states-table tr[data-state='MD']")
    assert phone.locator("#saved-rules").count() == 0  # the page's own rules are here
    phone.wait_for_function("localStorage.getItem('kei-drive.rules.saved') !== null")
    phone.context.set_offline(True)
    try:
        phone.reload()
        saved = phone.wait_for_selector("#saved-rules", timeout=15_000)
        assert "copy of the rules, saved" in saved.inner_text()
        assert phone.locator("#saved-rules tr[data-state]").count() == 51
        ny = phone.locator("#saved-rules tr[data-state='NY']")
        assert ny.locator("[data-status]").get_attribute("data-status") == "banned"
        assert "New York" in ny.inner_text()
        assert phone.locator("#states-table tr[data-state]").count() == 0
    finally:
        phone.context.set_offline(False)
    phone.wait_for_selector("#states-table tr[data-state='MD']", timeout=20_000)
    phone.wait_for_selector("#saved-rules", state="detached", timeout=10_000)
