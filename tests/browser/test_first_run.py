"""First run (issue #13 point 8): no location prompt on page load; a card says what the app
does and asks with a button; when the browser refuses, the steps for the browser in use and
"Try again"; "Start trip" is disabled with the reason while there is no GPS."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import GPS_CLOCK_SCRIPT, START, feed, north_of

# Counts every request for a position the page makes (the prompt comes with the first).
COUNT_ASKS = """
(() => {
  const geo = navigator.geolocation;
  window.__keiAsks = 0;
  for (const name of ["watchPosition", "getCurrentPosition"]) {
    const real = geo[name].bind(geo);
    geo[name] = (...args) => { window.__keiAsks += 1; return real(...args); };
  }
})();
"""
# A browser that has never been asked (headless Chromium answers "denied" for a permission
# not granted, as for a site the driver blocked earlier; its requests are then refused).
NEVER_ASKED = """
(() => {
  const real = navigator.permissions.query.bind(navigator.permissions);
  const fresh = { state: "prompt", onchange: null };
  navigator.permissions.query = (what) =>
    what && what.name === "geolocation" ? Promise.resolve(fresh) : real(what);
})();
"""
USER_AGENTS = {
    "chrome-android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
    "safari-ios": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    "firefox": "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
}
STEP_WORDS = {
    "chrome-android": "Apps → Chrome",
    "safari-ios": "Safari Websites",
    "firefox": "Apps → Firefox",
}
# What a driver must never read: exception names, shell commands, stack traces.
TECHNICAL = re.compile(r"Error\b|Exception|Traceback|kei-drive |--https|\bnull\b|undefined")


def new_phone(
    browser, app_server, *, granted: bool, never_asked: bool = True, user_agent: str | None = None
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"] if granted else [],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
        base_url=app_server.url,
        **({"user_agent": user_agent} if user_agent else {}),
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    context.add_init_script(COUNT_ASKS)
    if never_asked and not granted:
        context.add_init_script(NEVER_ASKED)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def open_drive(page):
    page.goto("/")
    page.wait_for_selector("#speed-mph")
    page.wait_for_timeout(1000)  # time for a request on load, were there one
    return page


@pytest.mark.parametrize("browser_kind", sorted(USER_AGENTS))
def test_denied_location_gets_the_browsers_steps_and_try_again(
    browser, app_server, artifacts_dir, browser_kind
):
    page = new_phone(browser, app_server, granted=False, user_agent=USER_AGENTS[browser_kind])
    try:
        open_drive(page)
        assert page.evaluate("window.__keiAsks") == 0, "the page asked for location on load"
        page.wait_for_selector("#first-run #location-allow")
        assert "speed" in page.inner_text("#first-run")
        assert page.is_disabled("#trip-start")
        assert "Allow location" in page.inner_text("#trip-start-reason")

        page.click("#location-allow")  # the browser refuses (no permission given)
        page.wait_for_selector("#location-steps")
        assert page.evaluate("window.__keiAsks") == 1
        assert page.get_attribute("#location-steps", "data-browser") == browser_kind
        assert STEP_WORDS[browser_kind] in page.inner_text("#location-steps")
        assert page.get_attribute("#gps-status", "data-status") == "denied"
        assert page.is_disabled("#trip-start")
        assert "blocked" in page.inner_text("#trip-start-reason")
        text = page.inner_text("body")
        assert not TECHNICAL.search(text), TECHNICAL.search(text)
        page.screenshot(path=str(artifacts_dir / f"drive-location-denied-{browser_kind}.png"))

        # The driver follows the steps, then taps "Try again": the GPS starts.
        page.context.grant_permissions(["geolocation"])
        page.click("#location-retry")
        page.wait_for_selector("#first-run", state="detached")
        feed(page, [north_of(START, 13.41 * i) for i in range(5)])
        assert abs(int(page.inner_text("#speed-mph")) - 30) <= 1
        assert page.is_enabled("#trip-start")
        assert page.locator("#trip-start-reason").count() == 0
        assert page.errors == []
    finally:
        page.context.close()


def test_first_run_asks_with_a_button_and_then_shows_speed(browser, app_server):
    page = new_phone(browser, app_server, granted=False)
    try:
        open_drive(page)
        assert page.evaluate("window.__keiAsks") == 0
        assert page.get_attribute("#gps-status", "data-status") == "ask"
        page.context.grant_permissions(["geolocation"])  # the driver will say yes
        page.click("#location-allow")
        page.wait_for_selector("#first-run", state="detached")
        feed(page, [north_of(START, 13.41 * i) for i in range(5)])
        assert page.get_attribute("#gps-status", "data-status") == "ok"
        assert abs(int(page.inner_text("#speed-mph")) - 30) <= 1
    finally:
        page.context.close()


def test_location_blocked_earlier_shows_the_steps_at_once(browser, app_server):
    page = new_phone(browser, app_server, granted=False, never_asked=False)
    try:
        open_drive(page)
        assert page.evaluate("window.__keiAsks") == 0
        page.wait_for_selector("#location-steps")
        assert page.is_visible("#location-retry")
        assert page.get_attribute("#gps-status", "data-status") == "denied"
        assert page.is_disabled("#trip-start")
        assert not TECHNICAL.search(page.inner_text("body"))
    finally:
        page.context.close()


def test_location_already_allowed_starts_without_the_card(phone):
    """Permission granted earlier: no card, the GPS starts at once (no prompt to show)."""
    phone.goto("/")
    phone.wait_for_selector("#speed-mph")
    feed(phone, [north_of(START, 13.41 * i) for i in range(4)])
    assert phone.locator("#first-run").count() == 0
    assert phone.get_attribute("#gps-status", "data-status") == "ok"
    assert phone.is_enabled("#trip-start")


def test_start_trip_waits_for_the_first_fix(phone):
    """Allowed, but no fix yet (e.g. indoors): Start is disabled and says why."""
    phone.context.set_geolocation(None)
    phone.goto("/")
    phone.wait_for_selector("#speed-mph")
    assert phone.is_disabled("#trip-start")
    reason = phone.inner_text("#trip-start-reason")
    assert "first GPS fix" in reason or "no GPS position" in reason, reason
    feed(phone, [START])
    phone.wait_for_selector("#trip-start:enabled")
