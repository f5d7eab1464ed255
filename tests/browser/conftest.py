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
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def north_of(start: tuple[float, float], meters: float) -> tuple[float, float]:
    return start[0] + meters / M_PER_DEG_LAT, start[1]


def feed(page, positions, *, interval_ms: int = 1000, accuracy: float = 8) -> None:
    """Send positions to the page one per ``interval_ms``, as a phone's GPS would."""
    for lat, lon in positions:
        page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": accuracy})
        page.wait_for_timeout(interval_ms)
