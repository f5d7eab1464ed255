"""Trip recording from the Drive screen survives a lost connection without losing a fix."""

from __future__ import annotations

from sqlmodel import select

from kei_drive.db import TrackPointRow, ensure_migrated, session
from kei_drive.db import queries as q
from tests.browser.conftest import START, feed, north_of, stop_trip


def positions(start, count: int, mps: float = 13.41, offset: int = 0):
    return [north_of(start, mps * (offset + i)) for i in range(count)]


def pending(page) -> int:
    return int(page.get_attribute("#trip-status", "data-pending") or 0)


def test_twenty_seconds_offline_loses_and_duplicates_nothing(phone, app_server, artifacts_dir):
    phone.goto("/")
    phone.click("#trip-start")
    phone.wait_for_selector("#trip-stop")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")

    route = positions(START, 30)
    feed(phone, route[:5])
    phone.context.set_offline(True)
    try:
        feed(phone, route[5:25])  # 20 s of fixes with no network
        assert pending(phone) >= 15, phone.inner_text("#trip-status")
        assert "waiting to send" in phone.inner_text("#trip-status")
        phone.screenshot(path=str(artifacts_dir / "drive-recording-offline.png"))
    finally:
        phone.context.set_offline(False)
    feed(phone, route[25:])
    phone.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0'", timeout=20_000
    )
    stop_trip(phone)

    with session(app_server.database_url) as s:
        trip = q.get_trip(s, trip_uuid)
        rows = s.exec(select(TrackPointRow).where(TrackPointRow.trip_id == trip.id)).all()
    client_ids = [row.client_id for row in rows]
    assert len(rows) == len(route), f"stored {len(rows)} of {len(route)} fixes"
    assert len(set(client_ids)) == len(client_ids)
    stored = sorted((round(row.lat, 6), round(row.lon, 6)) for row in rows)
    assert stored == sorted((round(lat, 6), round(lon, 6)) for lat, lon in route)

    # The stop reached the server: the trip is finished with its statistics.
    # (the finish call may wait for the next sync tick, 3 s, when a sync was under way)
    phone.wait_for_function(
        "(JSON.parse(localStorage.getItem('kei-drive.finish-queue')) || []).length === 0",
        timeout=15_000,
    )
    reply = phone.request.get(f"/api/v1/trips/{trip_uuid}").json()
    assert reply["point_count"] == len(route)
    assert reply["ended_at"] is not None
    assert reply["recording_state"] != "recording", reply["recording_state"]
    assert abs(reply["stats"]["distance_m"] - 13.41 * 29) < 60


def test_recording_survives_a_reload(phone):
    phone.goto("/")
    phone.click("#trip-start")
    feed(phone, positions(START, 3))
    asked = []
    phone.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    phone.reload()  # the browser asks before unloading a recording page
    phone.wait_for_selector("#trip-stop")
    assert phone.get_attribute("#trip-status", "data-state") in ("recording", "paused")
    assert asked == ["beforeunload"]
    stop_trip(phone)


def test_trip_belongs_to_the_picked_vehicle_and_its_cap_drives_the_alert(phone, app_server):
    ensure_migrated(app_server.database_url)
    with session(app_server.database_url) as s:
        vehicle = q.create_vehicle(s, "Recording Acty", model="Acty", speed_cap_mph=40)
        vehicle_id = vehicle.id
    phone.goto("/")
    phone.wait_for_selector(f"#vehicle-select option[value='{vehicle_id}']", state="attached")
    phone.select_option("#vehicle-select", str(vehicle_id))
    assert phone.get_attribute("#speed-cap", "data-cap-mph") == "40"
    phone.click("#trip-start")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    # 45 mph: above this vehicle's 40 mph cap. Five fixes, so the 4 s speed fit holds only
    # these, not the parked fix the page got at load (starting a trip keeps the speed going).
    feed(phone, positions(START, 5, mps=20.0))
    assert phone.locator(".kd-drive.kd-over").count() == 1
    phone.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0'", timeout=20_000
    )
    stop_trip(phone)
    with session(app_server.database_url) as s:
        assert q.get_trip(s, trip_uuid).vehicle_id == vehicle_id


# The phone's fix store (IndexedDB) opens ~1.5 s late, as it can on a busy phone: a trip
# started on a freshly loaded page gets its first fixes before the store is open.
SLOW_STORE_SCRIPT = """
(() => {
  const open = indexedDB.open.bind(indexedDB);
  indexedDB.open = (...args) => {
    const real = open(...args);
    const slow = { result: null, error: null };
    real.onupgradeneeded = (event) => { slow.result = real.result; slow.onupgradeneeded?.(event); };
    real.onerror = (event) => { slow.error = real.error; slow.onerror?.(event); };
    real.onsuccess = (event) => setTimeout(() => {
      slow.result = real.result;
      slow.onsuccess?.(event);
    }, 1500);
    return slow;
  };
})();
"""


def test_fixes_before_the_phones_store_opens_are_kept(phone, app_server):
    phone.context.add_init_script(SLOW_STORE_SCRIPT)
    phone.goto("/")
    phone.click("#trip-start")
    trip_uuid = phone.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    route = positions(START, 6, offset=1)
    feed(phone, route)
    phone.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0'", timeout=20_000
    )
    stop_trip(phone)
    phone.wait_for_function(
        "(JSON.parse(localStorage.getItem('kei-drive.finish-queue')) || []).length === 0",
        timeout=15_000,
    )
    reply = phone.request.get(f"/api/v1/trips/{trip_uuid}").json()
    assert reply["point_count"] == len(route)


def test_this_drive_counts_the_trip_across_a_reload(phone):
    """After a reload mid-trip the Drive screen's "this drive" began again at 0.0 mi while
    the trip went on; while recording it is the trip so far (distance and elapsed time)."""
    phone.goto("/")
    phone.click("#trip-start")
    phone.wait_for_selector("#trip-stop")
    feed(phone, positions(START, 25))  # 24 s at 30 mph: ~320 m
    phone.on("dialog", lambda dialog: dialog.accept())
    phone.reload()
    phone.wait_for_selector("#trip-stop")
    feed(phone, positions(START, 25, offset=25))
    km = float(phone.inner_text("#odometer").split("·")[1].split()[0])
    assert km >= 0.5, phone.inner_text("#odometer")  # ~640 m driven in all, not ~320
    minutes, seconds = (int(x) for x in phone.inner_text("#elapsed").split(":")[-2:])
    assert minutes * 60 + seconds >= 45, phone.inner_text("#elapsed")
    stop_trip(phone)
