"""Browser tests: the real app in production mode, driven by headless Chromium."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.app_server import BROWSER_ARGS, CHROMIUM, AppServer

M_PER_DEG_LAT = 111_195.0
START = (39.2904, -76.6122)  # Baltimore, Maryland


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        pytest.fail("Chromium is not installed: run the README's test command (it installs it)")
    return path


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> AppServer:
    """The app over plain HTTP on localhost (a secure context for the browser)."""
    server = AppServer(tmp_path_factory.mktemp("app-home"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, app_server):
    """A phone-sized page with location permission, not yet navigated."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
        base_url=app_server.url,
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def north_of(start: tuple[float, float], meters: float) -> tuple[float, float]:
    return start[0] + meters / M_PER_DEG_LAT, start[1]


# A phone stamps each fix with the time the GPS measured it, not the time the page got it.
# Chromium's emulated positions carry the delivery time instead, which drifts by whatever the
# test machine is busy with; this shim gives each fix the time ``feed`` says it was measured.
GPS_CLOCK_SCRIPT = """
(() => {
  const geo = navigator.geolocation;
  if (!geo) return;
  const stamp = (callback) => (position) => {
    const t = window.__keiFixTime;
    if (typeof t !== "number" || !callback) return callback && callback(position);
    callback({ coords: position.coords, timestamp: t });
  };
  const watch = geo.watchPosition.bind(geo);
  const current = geo.getCurrentPosition.bind(geo);
  geo.watchPosition = (ok, error, options) => watch(stamp(ok), error, options);
  geo.getCurrentPosition = (ok, error, options) => current(stamp(ok), error, options);
})();
"""
RESYNC_AFTER_MS = 3000  # a longer real pause than this is a deliberate gap in the fixes


def feed(page, positions, *, interval_ms: int = 1000, accuracy: float = 8) -> None:
    """Send positions to the page one per ``interval_ms``, as a phone's GPS would.

    Each fix is stamped ``interval_ms`` after the previous one (measurement time), so speeds
    do not depend on how busy the machine is; a real pause between calls longer than
    ``RESYNC_AFTER_MS`` (a test waiting on purpose) moves the clock on to the present.
    """
    for lat, lon in positions:
        page.evaluate(
            """([interval, resyncAfter]) => {
                const now = Date.now();
                const next = (window.__keiFixTime ?? -Infinity) + interval;
                window.__keiFixTime = now - next > resyncAfter ? now : Math.min(next, now);
            }""",
            [interval_ms, RESYNC_AFTER_MS],
        )
        page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": accuracy})
        page.wait_for_timeout(interval_ms)


def stop_trip(page) -> None:
    """ "Stop trip" asks first: confirm, then the Drive screen offers "Start trip" again."""
    page.click("#trip-stop")
    page.click("#trip-stop-confirm")
    page.wait_for_selector("#trip-start")
