"""The Drive screen's readout stays put WHILE DRIVING (issue 13, points 5 and 6): going over the
cap, a road alert (a motorway ramp on the synthetic network), a state line ahead and the
posted-limit sign each leave the speed readout's box where it was, on phone screens upright and
on their side and in the HUD; the alerts cover neither the digits nor the Stop button.

And the posted-limit sign says when the truck is over the posted limit of the road it is on,
at WCAG AA contrast computed from the rendered colours.

Layout shifts are read from the browser's own ``PerformanceObserver('layout-shift')`` (as in
test_drive_layout_shift.py). The browser tests share one app server: nothing here assumes it
is idle or empty; every check waits for the screen's own asynchronous updates.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import (
    BAND,
    GPS_CLOCK_SCRIPT,
    M_PER_DEG_LAT,
    START,
    Driving,
    feed,
    north_of,
    stop_trip,
)
from tests.browser.test_drive_layout import AA, CONTRAST_JS
from tests.browser.test_road_now import ALONG_1_STREET, ON_RAMP, VOICE_AND_VIBRATION, feed_until
from tests.support.osm_synth import write_network

# Layout shifts as the browser reports them (as test_drive_layout_shift.py reads them), each
# source named by its element's id or class, or for text by "text in" its element's, and how
# far it moved (for a failure's message); "under an alert" when an alert covers it where it
# went (the cap line's words change as the band comes over them: nobody sees them move).
SHIFTS_SCRIPT = """
window.__keiShifts = [];
const keiName = (node) => {
  if (!node) return "?";
  if (node.nodeType === 3) return `text in ${keiName(node.parentElement)}`;
  return node.id ? `#${node.id}` : `.${String(node.className).split(" ")[0]}`;
};
const keiCovered = (node, r) => {
  if (!node || !r.width || !r.height) return false;
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  const alerts = hit && hit.closest(".kd-alert-area, .kd-hud-alert");
  return Boolean(alerts) && !alerts.contains(node);
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__keiShifts.push({
      value: entry.value,
      afterInput: entry.hadRecentInput,
      moved: (entry.sources || []).map((s) => {
        const box = (r) => `${r.x},${r.y} ${r.width}x${r.height}`;
        const under = keiCovered(s.node, s.currentRect) ? " under an alert" : "";
        return `${keiName(s.node)} (${box(s.previousRect)} -> ${box(s.currentRect)})${under}`;
      }),
    });
  }
}).observe({ type: "layout-shift", buffered: true });
"""


SCREENS = {
    "390x844": {"width": 390, "height": 844},
    "360x640": {"width": 360, "height": 640},
    "844x390": {"width": 844, "height": 390},
    "640x360": {"width": 640, "height": 360},
}
SLOW_MPS = 8.0  # 18 mph
OVER_MPS = 24.0  # 54 mph: above the 45 mph default cap
# The New York line (New York refuses Kei vehicles) north of Pennsylvania at -76.52: the
# border is at 42.000° N on the state map, and the warning starts 2 km before it.
NY_APPROACH = (41.9795, -76.52)
WARNING_WITHIN_M = 2000
M_PER_DEG_LON_42 = 82_650.0  # at 41.95° N


@pytest.fixture(scope="module")
def road_server(app_server, tmp_path_factory):
    """The app server with the synthetic PA network's tiles (as in test_road_now.py)."""
    from kei_drive.routing.tiles import build_tiles, has_tiles

    tiles = app_server.home / "tiles"
    if not has_tiles(tiles):
        build_tiles(write_network(tmp_path_factory.mktemp("road-osm") / "synth.osm.pbf"), tiles)
    return app_server


def east_of(start: tuple[float, float], meters: float) -> tuple[float, float]:
    return start[0], start[1] + meters / M_PER_DEG_LON_42


def drive_page(browser, base_url: str, viewport: dict, *, start=START, hud: bool = False):
    """A phone that allows location, at ``start``; the screen settled, no fix yet."""
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": start[0], "longitude": start[1], "accuracy": 6},
        base_url=base_url,
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)
    context.add_init_script(VOICE_AND_VIBRATION)
    context.add_init_script("localStorage.setItem('kei-drive.location-ok', '1')")
    if hud:
        settings = json.dumps({"mirror": True})
        context.add_init_script(f"localStorage.setItem('kei-drive.settings', '{settings}')")
    context.add_init_script(SHIFTS_SCRIPT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto("/")
    page.wait_for_selector("#hud" if hud else "#trip-start")
    return page


def readout(page) -> dict:
    box = page.locator("#speed-mph").bounding_box()
    assert box is not None
    return box


def start_shifts(page) -> None:
    page.evaluate("window.__keiShifts = []")


def not_seen_moving(shift: dict) -> bool:
    """A shift nobody sees as the screen moving, counted apart: the speed's own text inside its
    unmoved box (the figures are centred in a box of fixed width, so "9" becoming "10", or
    "--" when a fix is late, re-centres them; the box is checked by ``assert_same_box``), or
    what an alert covers where it went."""
    return all(
        m.startswith(("text in #speed-mph ", "text in #speed-kmh "))
        or m.endswith(" under an alert")
        for m in shift["moved"]
    )


def cls_since(page) -> tuple[float, dict]:
    """The layout shift since ``start_shifts`` (as CLS sums it), and what moved, by element;
    without the speed's own digits re-centring in their box (printed apart)."""
    shifts = [s for s in page.evaluate("window.__keiShifts") if not s["afterInput"]]
    unseen = sum(s["value"] for s in shifts if not_seen_moving(s))
    if unseen:
        print(
            f"  (the speed's digits re-centred in their box, or moved under an alert: {unseen:.4f})"
        )
    shifts = [s for s in shifts if not not_seen_moving(s)]
    moved: dict[str, float] = {}
    for shift in shifts:
        key = " + ".join(str(name) for name in shift["moved"])
        moved[key] = round(moved.get(key, 0) + shift["value"], 4)
    return sum(s["value"] for s in shifts), moved


def assert_same_box(before: dict, after: dict) -> None:
    for key in ("x", "y", "height"):
        assert abs(before[key] - after[key]) <= 1, (key, before, after)


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def on_top(page, selector: str) -> bool:
    """The element is what a finger (or an eye) finds at its own centre: nothing covers it."""
    return page.evaluate(
        """(sel) => {
            const el = document.querySelector(sel);
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return hit !== null && (hit === el || el.contains(hit));
        }""",
        selector,
    )


def assert_alert_in_view(page, selector: str, viewport: dict, *, stop: bool) -> None:
    """``selector`` shows on the first screen, off the digits and off the Stop button."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] + 1, (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1, (selector, box)
    assert not overlaps(box, readout(page)), (selector, box, readout(page))
    assert on_top(page, selector), f"{selector} is covered"
    assert on_top(page, "#speed-mph"), "the digits are covered"
    if stop:
        assert not overlaps(box, page.locator("#trip-stop").bounding_box()), selector
        assert on_top(page, "#trip-stop"), "the Stop button is covered"


def first_fixes(page, start, speed_mps: float = SLOW_MPS, count: int = 4, *, hud: bool = False):
    """A few fixes at a calm speed: the state, its rule and the trip rows arrive and settle
    (the HUD shows only the speed). The last position fed."""
    points = [north_of(start, speed_mps * i) for i in range(count)]
    feed(page, points)
    page.wait_for_function("document.querySelector('#speed-mph').innerText !== '--'")
    if not hud:
        state_and_rule_shown(page)
    return points[-1]


def state_and_rule_shown(page) -> None:
    """The state, then its rule (the badge's "PA · …" becomes "PA · restricted · …")."""
    page.wait_for_function(
        "(b => b && b.dataset.state !== '' && !b.textContent.endsWith('· …'))"
        "(document.querySelector('#state-badge'))"
    )


def start_trip(page) -> None:
    page.click("#trip-start")
    page.wait_for_selector("#trip-stop")
    page.wait_for_timeout(1200)  # the trip's status line and note, the first batch


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_over_the_cap_the_readout_stays_put(browser, app_server, screen, artifacts_dir):
    viewport = SCREENS[screen]
    page = drive_page(browser, app_server.url, viewport)
    try:
        last = first_fixes(page, START)
        start_trip(page)
        last = first_fixes(page, last)
        before = readout(page)
        start_shifts(page)
        driving = Driving(page, last, OVER_MPS)
        assert driving.until(BAND, at_most=16), "no over-cap band after 16 s above the cap"
        driving.fix()  # the band settles
        page.screenshot(path=str(artifacts_dir / f"drive-driving-over-cap-{screen}.png"))
        driving.fix()
        after = readout(page)
        cls, shifts = cls_since(page)
        print(f"CLS going over the cap, {screen}: {cls:.3f}; readout {before} -> {after}")
        assert_same_box(before, after)
        assert cls < 0.01, shifts
        assert_alert_in_view(page, "#over-cap-band", viewport, stop=True)
        stop_trip(page)
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("screen", ["390x844", "640x360"])
def test_over_the_cap_the_hud_digits_stay_put(browser, app_server, screen):
    viewport = SCREENS[screen]
    page = drive_page(browser, app_server.url, viewport, hud=True)
    try:
        last = first_fixes(page, START, hud=True)
        page.wait_for_timeout(2000)  # the state and its rule (not shown in the HUD)
        before = readout(page)
        start_shifts(page)
        driving = Driving(page, last, OVER_MPS)
        assert driving.until(BAND, at_most=16), "no over-cap band after 16 s above the cap"
        driving.fix()  # the band settles
        after = readout(page)
        cls, shifts = cls_since(page)
        print(f"CLS going over the cap in the HUD, {screen}: {cls:.3f}")
        assert_same_box(before, after)
        assert cls < 0.01, shifts
        assert_alert_in_view(page, "#over-cap-band", viewport, stop=False)
        assert page.errors == []
    finally:
        page.context.close()


RAMP_CASES = {
    "390x844": ("390x844", False),
    "360x640": ("360x640", False),
    "844x390": ("844x390", False),
    "640x360": ("640x360", False),
    "hud-390x844": ("390x844", True),
}


@pytest.mark.parametrize("case", RAMP_CASES, ids=list(RAMP_CASES))
def test_a_road_alert_leaves_the_readout_where_it_is(browser, road_server, case, artifacts_dir):
    """Onto the motorway ramp: the road alert shows, then the driver speeds up on it and the
    over-cap band joins it; the readout has not moved and the Stop button is not covered."""
    screen, hud = RAMP_CASES[case]
    viewport = SCREENS[screen]
    page = drive_page(browser, road_server.url, viewport, start=ALONG_1_STREET[0])
    try:
        feed(page, ALONG_1_STREET[:4], accuracy=6)
        page.wait_for_function("document.querySelector('#speed-mph').innerText !== '--'")
        state_and_rule_shown(page)
        start_trip(page)
        if hud:
            page.click("#mirror-toggle")
            page.wait_for_selector("#hud")
        named = "document.querySelector('#road-now')?.innerText.includes('1 Street')"
        if not hud:
            assert feed_until(page, ALONG_1_STREET[4:], named, stop=False)
        else:
            feed(page, ALONG_1_STREET[4:], accuracy=6)
        page.wait_for_timeout(500)
        before = readout(page)
        start_shifts(page)
        feed(page, ON_RAMP[:3], accuracy=6)
        page.wait_for_selector("#road-alert", state="visible", timeout=10_000)
        page.wait_for_timeout(800)
        after = readout(page)
        cls, shifts = cls_since(page)
        print(f"CLS onto the ramp, {case}: {cls:.3f}; readout {before} -> {after}")
        assert_same_box(before, after)
        assert cls < 0.01, shifts
        assert_alert_in_view(page, "#road-alert", viewport, stop=not hud)

        # Faster up the ramp: the over-cap band joins the road alert.
        start_shifts(page)
        driving = Driving(page, ON_RAMP[2], OVER_MPS, move=east_of)
        assert driving.until(BAND, at_most=16), "no over-cap band after 16 s above the cap"
        driving.fix()  # the band settles
        if page.is_visible("#road-alert"):  # the ramp's answer is still the latest one
            page.screenshot(path=str(artifacts_dir / f"drive-driving-ramp-over-cap-{case}.png"))
            assert_alert_in_view(page, "#road-alert", viewport, stop=not hud)
        driving.fix()
        after = readout(page)
        cls, shifts = cls_since(page)
        print(f"CLS over the cap on the ramp, {case}: {cls:.3f}")
        assert_same_box(before, after)
        assert cls < 0.01, shifts
        assert_alert_in_view(page, "#over-cap-band", viewport, stop=not hud)
        if hud:
            page.click("#hud")
            page.wait_for_selector("#trip-stop")
        stop_trip(page)
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_a_state_line_ahead_leaves_the_readout_and_the_rows_where_they_are(
    browser, app_server, screen, artifacts_dir
):
    """North towards the New York line: the warning appears while driving; the readout stays
    and the rows below it (the trip figures, Start/Stop, the controls) do not jump."""
    viewport = SCREENS[screen]
    page = drive_page(browser, app_server.url, viewport, start=NY_APPROACH)
    try:
        # (4 s of fixes: the readout says "--" until its fixes can tell a speed)
        last = first_fixes(page, NY_APPROACH, count=5)
        page.wait_for_selector("#state-badge[data-state='PA']")
        assert not page.is_visible("#state-warning")
        start_trip(page)
        page.wait_for_timeout(500)
        before = readout(page)
        stop_before = page.locator("#trip-stop").bounding_box()
        start_shifts(page)
        speed = 18.0  # 40 mph: under the cap, no band
        for _ in range(40):
            last = north_of(last, speed)
            feed(page, [last])
            if page.is_visible("#state-warning"):
                break
        page.wait_for_selector("#state-warning", state="visible")
        distance = (42.0 - last[0]) * M_PER_DEG_LAT
        assert distance < WARNING_WITHIN_M + 100, distance
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts_dir / f"drive-driving-state-line-{screen}.png"))
        after = readout(page)
        cls, shifts = cls_since(page)
        print(
            f"CLS as the New York warning appears, {screen}: {cls:.3f}; readout {before} -> {after}"
        )
        assert_same_box(before, after)
        assert "New York" in page.inner_text("#state-warning")
        assert_alert_in_view(page, "#state-warning", viewport, stop=True)
        stop_after = page.locator("#trip-stop").bounding_box()
        assert_same_box(stop_before, stop_after)  # Stop is where the thumb left it
        assert cls < 0.01, shifts
        stop_trip(page)
        assert page.errors == []
    finally:
        page.context.close()


# East Street is tagged 25 mph; a Kei's cap (45 mph) is far above it: over the posted limit
# is its own state, not the over-cap band.
EAST_STREET = (41.9510, -76.9900)
UNDER_LIMIT_MPS = 8.0  # 18 mph
OVER_LIMIT_MPS = 16.0  # 36 mph

RING_JS = """
() => {
  const el = document.querySelector("#posted-limit");
  const style = getComputedStyle(el);
  const colour = (style.boxShadow.match(/rgba?\\([^)]*\\)/) || [style.outlineColor])[0];
  return colour;
}
"""
# WCAG contrast of two CSS colours (the ring against what is around the sign).
PAIR_JS = """
([a, b]) => {
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
"""
BACKDROP_JS = """
() => {
  const sign = document.querySelector("#posted-limit");
  for (let node = sign.parentElement; node; node = node.parentElement) {
    const c = getComputedStyle(node).backgroundColor;
    const parts = c.match(/[\\d.]+/g).map(Number);
    if (parts.length < 4 || parts[3] === 1) return c;
  }
  return getComputedStyle(document.body).backgroundColor;
}
"""


def over_limit(page) -> str | None:
    return page.get_attribute("#posted-limit", "data-over")


@pytest.mark.parametrize("screen", ["390x844", "640x360"])
def test_the_posted_limit_sign_shows_when_the_truck_is_over_it(
    browser, road_server, screen, artifacts_dir
):
    viewport = SCREENS[screen]
    page = drive_page(browser, road_server.url, viewport, start=EAST_STREET)
    try:
        slow = [north_of(EAST_STREET, UNDER_LIMIT_MPS * i) for i in range(240)]
        feed(page, slow[:4], accuracy=6)
        page.wait_for_function("document.querySelector('#speed-mph').innerText !== '--'")
        state_and_rule_shown(page)
        start_trip(page)
        before = readout(page)
        start_shifts(page)
        shows = "document.querySelector('#posted-limit')?.dataset.limit === '25'"
        driving = Driving(page, slow[3], UNDER_LIMIT_MPS)
        assert driving.until(shows, at_most=len(slow) - 4), "no posted-limit sign"
        last = driving.last
        page.wait_for_selector("#posted-limit", state="visible")
        feed(page, [north_of(last, UNDER_LIMIT_MPS * (i + 1)) for i in range(2)], accuracy=6)
        last = north_of(last, UNDER_LIMIT_MPS * 2)
        sign = page.locator("#posted-limit")
        # Under the limit: the plain sign.
        assert over_limit(page) == "false"
        assert "over" not in (sign.get_attribute("aria-label") or "").lower()
        assert "OVER" not in sign.inner_text().upper().replace("SPEED LIMIT", "")
        # the sign arriving did not move the readout either
        cls, shifts = cls_since(page)
        print(f"CLS as the posted-limit sign appears, {screen}: {cls:.3f}")
        assert_same_box(before, readout(page))
        assert cls < 0.01, shifts

        # Over it: 36 mph on a 25 mph street (below the 45 mph cap: no cap band).
        start_shifts(page)
        driving = Driving(page, last, OVER_LIMIT_MPS)
        over = "document.querySelector('#posted-limit')?.dataset.over === 'true'"
        assert driving.until(over, at_most=12), "the sign never said over"
        driving.fix()  # the sign settles
        page.screenshot(path=str(artifacts_dir / f"drive-over-posted-limit-{screen}.png"))
        driving.fix()
        label = sign.get_attribute("aria-label") or ""
        assert "over the posted limit" in label.lower(), label
        assert "25" in label
        assert "OVER" in sign.inner_text().upper().replace("SPEED LIMIT", ""), sign.inner_text()
        assert "SPEED LIMIT" in sign.inner_text().upper() and "25" in sign.inner_text()
        assert not page.is_visible("#over-cap-band")  # not the Kei cap's alert
        # AA contrast, from the rendered colours: the sign's words and its ring.
        texts = page.evaluate(
            """(contrastOf) => [...document.querySelectorAll('#posted-limit *')]
                .filter((el) => el.childElementCount === 0 && el.textContent.trim())
                .map((el) => [el.textContent.trim(), eval(contrastOf)(el)])""",
            CONTRAST_JS,
        )
        assert texts and all(value >= AA for _, value in texts), texts
        ring = page.evaluate(RING_JS)
        backdrop = page.evaluate(BACKDROP_JS)
        ring_contrast = page.evaluate(PAIR_JS, [ring, backdrop])
        plain_ring = "rgb(255, 255, 255)"  # the plain sign's thin white edge
        assert ring != plain_ring, ring
        assert ring_contrast >= AA, (ring, backdrop, ring_contrast)
        cls, shifts = cls_since(page)
        assert_same_box(before, readout(page))
        assert cls < 0.01, shifts

        # Back under it: the plain sign again.
        under = "document.querySelector('#posted-limit')?.dataset.over === 'false'"
        slower = Driving(page, driving.last, UNDER_LIMIT_MPS)
        assert slower.until(under, at_most=12), "the sign stayed over"
        assert "over" not in (sign.get_attribute("aria-label") or "").lower()
        stop_trip(page)
        assert page.errors == []
    finally:
        page.context.close()
