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
    const lcp = list.getEntries()[0];
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
    assert paints["lcpTime"] <= paints["firstScript"], paints
    assert paints["first-contentful-paint"] <= paints["firstScript"], paints
    # once the live screen is there, the shell is out of sight and the ids are the live ones
    assert not phone.is_visible(".kd-drive-shell")
    assert phone.locator("#speed-mph").count() == 1
    assert phone.is_visible("#speed-mph")
    assert phone.errors == []
