"""The Drive screen paints its speed readout before the app's code loads (issue 13, point 10).
Speed figures are in bench/bench_lighthouse.py; these tests check the mechanism."""

from __future__ import annotations

import urllib.request

FIRST_PAINT = """() => new Promise((resolve) => {
  const paints = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) paints[e.name] = e.startTime;
  }).observe({ type: "paint", buffered: true });
  new PerformanceObserver((list) => {
    const lcp = list.getEntries().at(-1); // the largest so far (a busy parser may paint twice)
    paints.lcpClass = lcp.element ? lcp.element.className : null;
    paints.lcpInShell = Boolean(lcp.element && lcp.element.closest(".kd-drive-shell"));
    paints.lcpTime = lcp.startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
  const scripts = performance.getEntriesByType("resource")
    .filter((r) => r.name.includes("/assets/") && r.name.endsWith(".js"))
    .map((r) => r.startTime);
  setTimeout(() => resolve({ ...paints, firstScript: Math.min(...scripts) }), 200);
})"""


def test_served_page_holds_the_readout_and_asks_for_no_code_up_front(app_server):
    with urllib.request.urlopen(f"{app_server.url}/", timeout=10) as reply:
        html = reply.read().decode()
    assert 'class="kd-drive kd-drive-shell"' in html
    assert '<span class="kd-big-number">--</span><span class="kd-big-unit">mph</span>' in html
    assert "Your speed and the Kei rules where you drive" in html  # the first-run card
    assert '<link rel="modulepreload"' not in html
    assert '<script type="module"' not in html  # the loader adds it after the first paint
    assert 'id="kei-app-entry"' in html


def test_readout_paints_first_then_the_live_screen_replaces_it(phone):
    phone.goto("/")
    phone.wait_for_selector("#speed-mph")
    paints = phone.evaluate(FIRST_PAINT)
    # the first and largest paint is the prerendered shell (on a first visit its first-run
    # card's text, else the readout), before any script was asked for
    assert paints["lcpInShell"], paints
    # The loader asks for code only once the browser reports the first contentful paint
    # presented: an order, not a race (a frame's timing was one, on a busy machine).
    assert paints["first-contentful-paint"] <= paints["firstScript"], paints
    # once the live screen is there, the shell is out of sight and the ids are the live ones
    assert not phone.is_visible(".kd-drive-shell")
    assert phone.locator("#speed-mph").count() == 1
    assert phone.is_visible("#speed-mph")
    assert phone.errors == []


def test_shell_alone_shows_the_readout_and_the_card_only_on_a_first_visit(phone):
    """Without the app's code (blocked here) the page still shows the readout; the first-run
    card's introduction only while this phone has never given a position."""
    phone.route("**/assets/*.js", lambda route: route.abort())
    phone.goto("/")
    assert phone.is_visible(".kd-drive-shell .kd-big-number")
    assert phone.inner_text(".kd-drive-shell .kd-big-number") == "--"
    assert phone.is_visible(".kd-shell-first-run")
    phone.evaluate("localStorage.setItem('kei-drive.location-ok', '1')")
    phone.reload()
    assert phone.is_visible(".kd-drive-shell .kd-big-number")
    assert not phone.is_visible(".kd-shell-first-run")
    assert phone.locator("#speed-mph").count() == 0  # the live screen never came
