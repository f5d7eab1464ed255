"""Browser tests: the real app in production mode, driven by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.browser.app_server import BROWSER_ARGS, CHROMIUM, AppServer
from tests.conftest import ARTIFACTS

M_PER_DEG_LAT = 111_195.0
START = (39.2904, -76.6122)  # Baltimore, Maryland


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


EVIDENCE = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, what each page showed: a screenshot, its URL, text, console and errors
    (in test-artifacts/failures/), for a failure seen only on a CI machine. Pages the test
    closed on its way out (``finally: context.close()``) were saved as they closed."""
    report = yield
    browser = item.funcargs.get("browser")
    if report.failed and call.when == "call" and browser is not None:
        evidence = item.stash.get(EVIDENCE, [])
        evidence += save_failure_evidence(item.name, browser.contexts, "open")
        report.sections.append(("pages at the failure", "\n".join(evidence)))
    return report


@pytest.fixture(autouse=True)
def evidence_of_pages_closed_by_a_failing_test(request, monkeypatch):
    """A context closed while an exception propagates (a failing test's ``finally``) first
    saves its pages' evidence for the failure report."""
    from playwright.sync_api import BrowserContext

    close = BrowserContext.close

    def close_keeping_evidence(context, *args, **kwargs):
        if sys.exception() is not None:
            saved = save_failure_evidence(request.node.name, [context], "closed")
            request.node.stash[EVIDENCE] = request.node.stash.get(EVIDENCE, []) + saved
        return close(context, *args, **kwargs)

    monkeypatch.setattr(BrowserContext, "close", close_keeping_evidence)


def save_failure_evidence(test_name: str, contexts, label: str) -> list[str]:
    """Screenshots in test-artifacts/failures/; the text lines (also printed with the failure)."""
    folder = ARTIFACTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", test_name)[:120]
    text: list[str] = []
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            stem = folder / f"{safe_name}-{label}-{c}-{p}"
            try:
                page.screenshot(path=f"{stem}.png", timeout=5_000)
                shown = page.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
                lines = [f"page {label} {c}-{p}: {page.url}", "text:"]
                lines += [f"  {line}" for line in shown.splitlines() if line.strip()]
                lines += ["console (last 40):"]
                lines += [f"  {m.type}: {m.text}" for m in page.console_messages()[-40:]]
                lines += ["page errors:"] + [f"  {e}" for e in page.page_errors()]
            except Exception as error:  # evidence is best effort; the failure is reported anyway
                lines = [f"page {label} {c}-{p}: no evidence: {error}"]
            Path(f"{stem}.txt").write_text("\n".join(lines) + "\n")
            text += lines
    return text


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
# The time travels with the position (matched by its coordinates), so a fix delivered late,
# after the next one was set, still gets its own time, not the next one's (two fixes with one
# time are one fix too many for the speed estimator, which drops the second).
GPS_CLOCK_SCRIPT = """
(() => {
  const geo = navigator.geolocation;
  if (!geo) return;
  window.__keiFixStamps = [];
  const timeOf = (coords) => {
    const stamps = window.__keiFixStamps;
    const here = (s) => s && s.lat === coords.latitude && s.lon === coords.longitude;
    let i = stamps.findIndex(here);
    if (i < 0) return window.__keiFixTime;
    while (here(stamps[i + 1])) i += 1; // the same place set again: its newest time
    const t = stamps[i].t;
    stamps.splice(0, i + 1);
    return t;
  };
  const stamp = (callback) => (position) => {
    const t = timeOf(position.coords);
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


def wait_until(page, async_check: str, *, timeout_ms: int = 15_000, every_ms: int = 250):
    """Poll an async page function until it answers truthy, and return its answer.

    ``page.wait_for_function`` does not await a promise: an async check passes at once.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        answer = page.evaluate(async_check)
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_ms} ms: {async_check}")
        page.wait_for_timeout(every_ms)


def feed(page, positions, *, interval_ms: int = 1000, accuracy: float = 8) -> None:
    """Send positions to the page one per ``interval_ms``, as a phone's GPS would.

    Each fix is stamped ``interval_ms`` after the previous one (measurement time), so speeds
    do not depend on how busy the machine is; a real pause between calls longer than
    ``RESYNC_AFTER_MS`` (a test waiting on purpose) moves the clock on to the present. The
    fixes are paced by the real clock, so the stamps do not fall behind it on a busy machine
    (the screen shows "--" once its newest fix is 5 s old).
    """
    for position in positions:
        began = time.monotonic()
        send_fix(page, position, next_fix_time(page, interval_ms), accuracy)
        spent_ms = (time.monotonic() - began) * 1000
        page.wait_for_timeout(max(0.0, interval_ms - spent_ms))


def next_fix_time(page, interval_ms: int = 1000) -> float:
    """The measurement time of the next fix (ms): ``interval_ms`` after the last one, or now
    after a real pause longer than ``RESYNC_AFTER_MS``."""
    return page.evaluate(
        """([interval, resyncAfter]) => {
            const now = Date.now();
            const next = (window.__keiFixTime ?? -Infinity) + interval;
            window.__keiFixTime = now - next > resyncAfter ? now : Math.min(next, now);
            return window.__keiFixTime;
        }""",
        [interval_ms, RESYNC_AFTER_MS],
    )


def send_fix(page, position: tuple[float, float], stamp: float, accuracy: float) -> None:
    lat, lon = position
    page.evaluate("(s) => window.__keiFixStamps?.push(s)", {"lat": lat, "lon": lon, "t": stamp})
    page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": accuracy})


class Driving:
    """A truck going on at ``speed_mps`` from ``start`` (``move(position, meters)``), one fix a
    second; each check runs right after a fix, so a slow check on a busy machine cannot
    outlast the screen's rule that a fix older than 5 s shows "--" (and takes the over-cap
    band away). A check that took longer than the feed's resync pause moves the truck on by
    the time it took, as a real truck would: its speed does not dip."""

    def __init__(self, page, start, speed_mps: float, move=north_of):
        self.page = page
        self.last = start
        self.speed_mps = speed_mps
        self.move = move
        self.stamp = page.evaluate("window.__keiFixTime ?? null")

    def fix(self) -> None:
        began = time.monotonic()
        stamp = next_fix_time(self.page)
        seconds = 1.0 if self.stamp is None else (stamp - self.stamp) / 1000
        self.last = self.move(self.last, self.speed_mps * seconds)
        self.stamp = stamp
        send_fix(self.page, self.last, stamp, accuracy=6)
        self.page.wait_for_timeout(max(0.0, 1000 - (time.monotonic() - began) * 1000))

    def until(self, condition: str, *, at_most: int) -> bool:
        """One fix at a time until ``condition`` (JS) holds; False after ``at_most``."""
        for _ in range(at_most):
            self.fix()
            if self.page.evaluate(condition):
                return True
        return False


BAND = "document.querySelector('#over-cap-band') !== null"


def stop_trip(page) -> None:
    """ "Stop trip" asks first: confirm, then the Drive screen offers "Start trip" again."""
    page.click("#trip-stop")
    page.click("#trip-stop-confirm")
    page.wait_for_selector("#trip-start")
