"""A background logger's trip in the trip list and on its page: where it came from."""

from __future__ import annotations

import time

from kei_drive import routes
from kei_drive.db import accounts as acc
from kei_drive.db import queries as q
from kei_drive.db.engine import session
from kei_drive.db.migrate import ensure_migrated
from kei_drive.services import ingest
from tests.support.trips import TrackBuilder


def test_logger_trip_shows_its_source_and_device(phone, app_server, artifacts_dir):
    url = app_server.database_url
    ensure_migrated(url)
    with session(url) as s:
        owner = acc.default_user(s)
    start = time.time() - 3 * 3600  # a drive three hours ago, parked at the end
    b = TrackBuilder(interval_s=5.0, lat=39.29, lon=-76.61).start().stop(120)
    b.drive(3_000, 14.0).stop(600)
    offset_ms = round(start * 1000) - round(b.points[0].time.timestamp() * 1000)
    points = [
        q.PointIn(str(i), round(p.time.timestamp() * 1000) + offset_ms, p.lat, p.lon, 5.0)
        for i, p in enumerate(b.points)
    ]
    ingest.ingest_batch(url, owner.id, "Hijet phone", "owntracks", points)  # type: ignore[arg-type]

    phone.goto("/trips")
    source = phone.locator(".kd-trip-card .kd-trip-source", has_text="OwnTracks · Hijet phone")
    source.wait_for()
    # Its card names the logger only (other tests on this shared server record Drive trips).
    card = phone.locator(
        ".kd-trip-card",
        has=phone.locator(".kd-trip-source", has_text="OwnTracks · Hijet phone"),
    )
    assert card.locator(".kd-trip-source").all_inner_texts() == ["OwnTracks · Hijet phone"]
    source.click()
    phone.wait_for_selector("#trip-source")
    assert phone.inner_text("#trip-source") == "Source: OwnTracks · Hijet phone"
    phone.screenshot(path=str(artifacts_dir / "trip-owntracks-390x844.png"), full_page=True)
    assert phone.errors == []


def test_deleting_a_logger_trip_still_recording_says_what_happens_to_the_rest(phone, app_server):
    """Its later fixes are dropped as they come (``models.DeletedSpan``): the dialog says
    so, for a logger's trip still recording only."""
    url = app_server.database_url
    ensure_migrated(url)
    with session(url) as s:
        owner = acc.default_user(s)
    b = TrackBuilder(interval_s=5.0, lat=39.31, lon=-76.62).start().stop(120).drive(2_000, 14.0)
    offset_ms = round(time.time() * 1000) - round(b.points[-1].time.timestamp() * 1000)
    points = [
        q.PointIn(str(i), round(p.time.timestamp() * 1000) + offset_ms, p.lat, p.lon, 5.0)
        for i, p in enumerate(b.points)
    ]
    result = ingest.ingest_batch(url, owner.id, "Carry phone", "overland", points)  # type: ignore[arg-type]
    (uuid,) = result.trips
    phone.goto(routes.trip(uuid))
    phone.click("#trip-delete")
    note = phone.wait_for_selector("#delete-logger-note").inner_text()
    assert "the rest of this drive is dropped" in note
    phone.click("#delete-cancel")
    assert phone.errors == []
