"""The Drive screen does not jump while it loads (issue 13, point 10): the live screen takes
over where the first-paint shell was, and nothing arrives above the readout afterwards.

Layout shifts are read from the browser's own ``PerformanceObserver('layout-shift')``, summed
as Lighthouse's CLS does (shifts right after a tap do not count). A correctness check of the
layout, not a timing test: the speed figures are in bench/bench_lighthouse.py."""

from __future__ import annotations

import pytest

from tests.browser.conftest import GPS_CLOCK_SCRIPT, feed, north_of

CLS_LIMIT = 0.1  # Lighthouse's "good"

SHIFTS_SCRIPT = """
window.__keiShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__keiShifts.push({
      value: entry.value,
      afterInput: entry.hadRecentInput,
      moved: (entry.sources || []).map((s) => (s.node ? s.node.id || s.node.className : "?")),
    });
  }
}).observe({ type: "layout-shift", buffered: true });
"""
SETTLE_MS = 4000  # the live screen, the permission answer, the websocket's first state


def load_drive_screen(browser, app_server, *, located: bool):
    """``/`` on a phone-sized screen (Lighthouse's Moto G Power size): a first visit with
    the location not allowed yet, or a phone that allowed it and gave a position before.
    No position arrives while it loads (a position changes the screen's content)."""
    context = browser.new_context(
        viewport={"width": 412, "height": 823},
        device_scale_factor=1.75,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"] if located else [],
        base_url=app_server.url,
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    if located:
        context.add_init_script("localStorage.setItem('kei-drive.location-ok', '1')")
    context.add_init_script(SHIFTS_SCRIPT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto("/")
    page.wait_for_selector("#speed-mph")
    page.wait_for_timeout(SETTLE_MS)
    return page


@pytest.mark.parametrize("located", [False, True], ids=["first-visit", "located-phone"])
def test_the_drive_screen_does_not_shift_while_it_loads(browser, app_server, located):
    page = load_drive_screen(browser, app_server, located=located)
    try:
        shifts = page.evaluate("window.__keiShifts")
        cls = sum(s["value"] for s in shifts if not s["afterInput"])
        assert cls < CLS_LIMIT, shifts
        # the live screen is the one showing, in the shell's state
        assert not page.is_visible(".kd-drive-shell")
        assert page.is_visible("#first-run") is not located
        assert page.inner_text("#speed-mph") == "--"
        assert page.errors == []
    finally:
        page.context.close()


def test_the_live_readout_takes_the_shells_place(browser, app_server):
    """The readout's box before the code runs (the shell, the app's code blocked) and after
    (the live screen) is the same: the driver sees the number stay where it is."""
    boxes = []
    for blocked in (True, False):
        context = browser.new_context(
            viewport={"width": 412, "height": 823}, device_scale_factor=1.75, is_mobile=True,
            base_url=app_server.url,
        )  # fmt: skip
        page = context.new_page()
        if blocked:
            page.route("**/assets/*.js", lambda route: route.abort())
        page.goto("/")
        selector = ".kd-drive-shell .kd-big-number" if blocked else "#speed-mph"
        page.wait_for_selector(selector)
        page.wait_for_timeout(1000 if blocked else SETTLE_MS)
        boxes.append(page.locator(selector).bounding_box())
        context.close()
    shell, live = boxes
    assert shell is not None and live is not None
    for key in ("x", "y", "width", "height"):
        assert abs(shell[key] - live[key]) <= 1, (key, shell, live)


# Where the first fixes put the phone: a long state badge (Ohio's access rule), a state cap
# below the default alert (Florida: "(FL limit)" on the alert line), and a border warning
# (Pennsylvania a kilometre south of New York, which refuses Kei vehicles). The warning is
# laid over the lines under the digits (as the other alerts while driving:
# test_drive_layout_while_driving.py): nothing moves for it.
PLACES = {
    "ohio": ((39.9612, -82.9988), "OH"),
    "florida": ((27.9506, -82.4572), "FL"),
    "new-york-line": ((41.9905, -76.52), "PA"),
}
SCREENS = {
    "phone-portrait": {"width": 360, "height": 640},
    "phone-landscape": {"width": 640, "height": 360},
    "desktop": {"width": 1280, "height": 800},
}


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
@pytest.mark.parametrize("place", PLACES, ids=list(PLACES))
def test_the_readout_stays_put_when_the_first_fixes_arrive(browser, app_server, screen, place):
    """A phone that allows location and gets a fix at once: the first fixes, the state they
    are in, its Kei rule and the trip figures arrive, and the speed readout does not move."""
    start, code = PLACES[place]
    viewport = SCREENS[screen]
    mobile = screen != "desktop"
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if mobile else 1,
        is_mobile=mobile,
        has_touch=mobile,
        permissions=["geolocation"],
        base_url=app_server.url,
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    context.add_init_script("localStorage.setItem('kei-drive.location-ok', '1')")
    context.add_init_script(SHIFTS_SCRIPT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        page.goto("/")
        page.wait_for_selector("#speed-mph")
        page.wait_for_timeout(SETTLE_MS)
        before = page.locator("#speed-mph").bounding_box()
        page.evaluate("window.__keiShifts = []")  # the load is measured by the tests above
        feed(page, [north_of(start, 8 * i) for i in range(6)])  # 8 m/s: a speed shows
        page.wait_for_selector(f"#state-badge[data-state='{code}']")
        page.wait_for_function("document.querySelector('#speed-mph').innerText !== '--'")
        page.wait_for_timeout(1500)  # the rule, the trip figures, the elapsed time settle
        after = page.locator("#speed-mph").bounding_box()
        shifts = page.evaluate("window.__keiShifts")
        cls = sum(s["value"] for s in shifts if not s["afterInput"])
        print(
            f"CLS over the first fixes, {place}, {screen}: {cls:.3f}; readout {before} -> {after}"
        )
        if place == "new-york-line":
            warning = page.locator("#state-warning").bounding_box()
            assert warning is not None  # under the digits
            assert warning["y"] >= after["y"] + after["height"], (warning, after)
        assert cls < CLS_LIMIT, (cls, shifts)
        assert before is not None and after is not None
        for key in ("x", "y"):
            assert abs(before[key] - after[key]) <= 1, (key, before, after)
        # the badge's whole text stays readable (its title, and the rule's note below)
        badge = page.locator("#state-badge")
        assert code in badge.inner_text()
        assert badge.get_attribute("title") == badge.inner_text()
        assert badge.inner_text() in page.inner_text("#state-rule")
        assert page.errors == []
    finally:
        context.close()
