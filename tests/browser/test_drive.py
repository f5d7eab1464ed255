"""The Drive screen in headless Chromium against the production build."""

from __future__ import annotations

import json
import random
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import START, feed, north_of, wait_until
from tests.support.slow_link import SlowLink


def open_drive(page):
    page.goto("/")
    page.wait_for_selector("#speed-mph")
    return page


def readout(page) -> tuple[str, str, str]:
    return (
        page.inner_text("#speed-mph"),
        page.inner_text("#speed-kmh"),
        page.get_attribute("#gps-status", "data-status"),
    )


def drive_north(start, mps: float, seconds: int):
    return [north_of(start, mps * i) for i in range(seconds + 1)]


def test_30_mph_stream_reads_30_mph_and_48_kmh(phone, artifacts_dir):
    open_drive(phone)
    feed(phone, drive_north(START, 13.41, 6))
    mph, kmh, status = readout(phone)
    assert status == "ok"
    assert abs(int(mph) - 30) <= 1
    assert abs(int(kmh) - 48) <= 1
    phone.screenshot(path=str(artifacts_dir / "drive-390x844.png"))
    assert phone.errors == []


def test_stationary_jitter_reads_zero(phone):
    open_drive(phone)
    rng = random.Random(4)
    jitter = [north_of(START, rng.uniform(-4, 4)) for _ in range(7)]
    jitter = [(lat, lon + rng.uniform(-4, 4) / 86_000) for lat, lon in jitter]
    feed(phone, jitter, accuracy=10)
    assert readout(phone)[:2] == ("0", "0")


def test_far_away_glitch_does_not_spike(phone):
    open_drive(phone)
    route = drive_north(START, 13.41, 8)
    feed(phone, route[:4])
    feed(phone, [(25.03, 121.56)], interval_ms=1000)  # one bogus fix in Taiwan
    seen = []
    for position in route[4:]:
        feed(phone, [position])
        seen.append(phone.inner_text("#speed-mph"))
    assert all(value == "--" or int(value) <= 31 for value in seen), seen
    assert abs(int(seen[-1]) - 30) <= 1


def test_six_second_gap_shows_dashes_and_gps_lost(phone):
    open_drive(phone)
    feed(phone, drive_north(START, 13.41, 3))
    assert readout(phone)[0] != "--"
    phone.wait_for_timeout(6000)
    mph, kmh, status = readout(phone)
    assert (mph, kmh) == ("--", "--")
    assert status == "lost"
    assert "GPS lost" in phone.inner_text("#gps-status")


def test_big_unit_choice_is_remembered(phone):
    open_drive(phone)
    phone.click("#unit-toggle")
    phone.wait_for_function(
        "document.querySelector('#speed-kmh').classList.contains('kd-big-number')"
    )
    phone.reload()
    phone.wait_for_selector("#speed-kmh.kd-big-number")


def test_speed_alert_turns_readout_to_warning(phone):
    open_drive(phone)
    feed(phone, drive_north(START, 22.0, 4))  # 49 mph, above the 45 mph default cap
    assert phone.locator(".kd-drive.kd-over").count() == 1
    assert "Above" in phone.inner_text("#speed-cap")


def test_manifest_parses_with_icons(phone):
    open_drive(phone)
    cdp = phone.context.new_cdp_session(phone)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    data = json.loads(manifest["data"])
    assert data["display"] == "standalone"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in data["icons"]:
        response = phone.request.get(icon["src"])
        assert response.ok and response.body()[:8] == b"\x89PNG\r\n\x1a\n"


SHELL_CACHE = "(await caches.keys()).filter(n => !n.includes('basemap'))[0]"
WAIT_FOR_KEPT_SHELL = f"""async () => {{
    const name = {SHELL_CACHE};
    if (!name) return false;
    const keys = await (await caches.open(name)).keys();
    return keys.some(r => new URL(r.url).pathname.startsWith('/assets/'))
        && keys.some(r => new URL(r.url).pathname === '/');
}}"""
SHELL_PATHS = f"""async () => {{
    const keys = await (await caches.open({SHELL_CACHE})).keys();
    return keys.map(r => new URL(r.url).pathname + new URL(r.url).search);
}}"""


@pytest.mark.slow
def test_service_worker_serves_drive_screen_offline(phone):
    open_drive(phone)
    state = phone.evaluate("navigator.serviceWorker.ready.then(r => r.active && r.active.state)")
    assert state in ("activated", "activating")
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    # Wait until the page's own scripts are in the cache (sent by the page after registration).
    wait_until(phone, WAIT_FOR_KEPT_SHELL, timeout_ms=20_000)
    phone.wait_for_timeout(1500)
    phone.context.set_offline(True)
    try:
        phone.reload()
        phone.wait_for_selector("#speed-mph", timeout=15_000)
        feed(phone, drive_north(START, 13.41, 5))
        assert abs(int(phone.inner_text("#speed-mph")) - 30) <= 1
    finally:
        phone.context.set_offline(False)


@pytest.mark.slow
def test_a_new_build_drops_the_previous_builds_files(phone):
    """After a deploy, the files and pages of the build before are dropped from the phone's
    cache (they used to pile up with each deploy), and the Drive screen still opens offline."""
    open_drive(phone)
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    wait_until(phone, WAIT_FOR_KEPT_SHELL, timeout_ms=20_000)
    phone.wait_for_timeout(1500)
    current = set(phone.evaluate(SHELL_PATHS))
    # What a previous deploy left behind: a module, a style sheet, a page naming its manifest.
    phone.evaluate(
        f"""async () => {{
            const cache = await caches.open({SHELL_CACHE});
            const as = (type) => ({{headers: {{'Content-Type': type}}}});
            const js = as('text/javascript');
            await cache.put('/assets/drive-OLDBUILD.js', new Response('export {{}}', js));
            await cache.put('/assets/map-OLDBUILD.css', new Response('a{{}}', as('text/css')));
            const page = '<script src="/assets/manifest-0ldb0ild.js"></script>';
            await cache.put('/garage', new Response(page, as('text/html')));
            await cache.put('/__kei_build', new Response('/assets/manifest-0ldb0ild.js'));
        }}"""
    )
    phone.reload()
    phone.wait_for_selector("#speed-mph")
    build = wait_until(
        phone,
        f"""async () => {{
            const mark = await (await caches.open({SHELL_CACHE})).match('/__kei_build');
            const build = mark ? await mark.text() : '';
            return !build.includes('0ldb0ild') && build;
        }}""",
    )
    assert build.startswith("/assets/manifest-")
    kept = set(phone.evaluate(SHELL_PATHS))
    assert not {"/assets/drive-OLDBUILD.js", "/assets/map-OLDBUILD.css", "/garage"} & kept
    assert {path for path in current if path.startswith("/assets/")} <= kept
    phone.context.set_offline(True)
    try:
        phone.reload()
        phone.wait_for_selector("#speed-mph", timeout=15_000)
        feed(phone, drive_north(START, 13.41, 5))
        assert abs(int(phone.inner_text("#speed-mph")) - 30) <= 1
    finally:
        phone.context.set_offline(False)


@pytest.mark.slow
def test_after_a_deploy_the_drive_screen_opens_offline_whatever_page_came_first(phone):
    """After a deploy the first page loaded was the trips list (a restored tab): pruning
    dropped the Drive screen's page of the old build with nothing in its place, and "/" no
    longer opened offline (a diff review). The new one, with its modules, is kept first."""
    open_drive(phone)
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    wait_until(phone, WAIT_FOR_KEPT_SHELL, timeout_ms=20_000)
    phone.wait_for_timeout(1500)
    # The Drive screen kept from the build before, and its module.
    phone.evaluate(
        f"""async () => {{
            const cache = await caches.open({SHELL_CACHE});
            const as = (type) => ({{headers: {{'Content-Type': type}}}});
            const page = '<script type="module" src="/assets/drive-OLDBUILD.js"></script>'
                + '<script src="/assets/manifest-0ldb0ild.js"></script>';
            await cache.put('/', new Response(page, as('text/html')));
            const js = as('text/javascript');
            await cache.put('/assets/drive-OLDBUILD.js', new Response('export {{}}', js));
            await cache.put('/__kei_build', new Response('/assets/manifest-0ldb0ild.js'));
        }}"""
    )
    phone.goto("/trips")
    wait_until(
        phone,
        f"""async () => {{
            const mark = await (await caches.open({SHELL_CACHE})).match('/__kei_build');
            return mark && !(await mark.text()).includes('0ldb0ild');
        }}""",
        timeout_ms=30_000,
    )
    assert "/assets/drive-OLDBUILD.js" not in set(phone.evaluate(SHELL_PATHS))
    phone.context.set_offline(True)
    try:
        phone.goto("/")
        phone.wait_for_selector("#speed-mph", timeout=15_000)
        feed(phone, drive_north(START, 13.41, 5))
        assert abs(int(phone.inner_text("#speed-mph")) - 30) <= 1
    finally:
        phone.context.set_offline(False)


@pytest.mark.slow
def test_a_kept_page_opens_offline_with_another_query(phone):
    """The rules page visited once, then the link to a state's rules offline ("/states?state=MD";
    the server's answer, kept, is at "/states/"): the kept page, not "needs a connection"."""
    open_drive(phone)
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    phone.goto("/states")
    wait_until(
        phone,
        f"""async () => {{
            const keys = await (await caches.open({SHELL_CACHE})).keys();
            return keys.some(r => new URL(r.url).pathname.startsWith('/states'));
        }}""",
    )
    phone.context.set_offline(True)
    try:
        phone.goto("/states?state=MD")
        assert phone.url.endswith("/states?state=MD")
        phone.wait_for_function("document.body.innerText.includes('Where may a Kei truck drive?')")
    finally:
        phone.context.set_offline(False)


@pytest.mark.slow
def test_a_page_never_kept_waits_for_a_slow_link(browser, app_server):
    """On a link slower than the worker's 4 s wait, a page the phone never kept sent the driver
    to "this page needs a connection"; with nothing kept, the worker now waits for it."""
    with SlowLink(app_server.url, slow=("/garage",), delay_s=6) as link:
        context = browser.new_context(base_url=link.url, viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            page.goto("/")
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
            page.goto("/garage", timeout=40_000)
            assert urlsplit(page.url).path.rstrip("/") == "/garage", page.url
            assert link.held, "the link never held the page back"
        finally:
            context.close()


def test_parked_jitter_at_2_hz_without_device_speed_reads_zero(phone):
    """3 m of Gaussian jitter at 2 Hz (Chromium gives no coords.speed): parked reads 0 once
    its fixes can tell (4 s: "--" before, never a number made up from two fixes)."""
    open_drive(phone)
    rng = random.Random(11)
    seen = []
    for _ in range(40):
        lat, lon = north_of(START, rng.gauss(0, 3))
        feed(phone, [(lat, lon + rng.gauss(0, 3) / 86_000)], interval_ms=500, accuracy=5)
        seen.append(phone.inner_text("#speed-mph"))
    assert all(value in ("--", "0") for value in seen[:8]), seen
    assert all(value == "0" for value in seen[8:]), seen


def test_5_mph_crawl_at_2_hz_reads_5(phone):
    open_drive(phone)
    step = 5 * 0.44704 / 2  # metres per fix at 5 mph, 2 Hz
    seen = []
    for i in range(36):
        feed(phone, [north_of(START, step * i)], interval_ms=500, accuracy=5)
        seen.append(phone.inner_text("#speed-mph"))
    settled = seen[16:]  # after 8 s
    assert all(value in ("4", "5", "6") for value in settled), seen
    assert settled.count("5") >= 0.7 * len(settled), seen
