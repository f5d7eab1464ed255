"""``kei-drive serve --https``: a phone on the LAN gets a secure context, GPS and the websocket;
granian serves TLS itself, with the same guard and limits as over HTTP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.app_server import AppServer
from tests.browser.conftest import START, feed, north_of


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    server = AppServer(
        tmp_path_factory.mktemp("https-home"), https=True, log_name="server-https.log"
    )
    server.start()
    yield server
    server.stop()


def test_https_serves_a_secure_context_with_gps_and_websocket(browser, https_server):
    context = browser.new_context(
        ignore_https_errors=True,  # the certificate is self-signed, as on a phone's first visit
        viewport={"width": 390, "height": 844},
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
    )
    page = context.new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws))
    try:
        page.goto(f"{https_server.url}/")
        page.wait_for_selector("#speed-mph")
        assert page.evaluate("window.isSecureContext") is True
        assert page.evaluate("'serviceWorker' in navigator") is True
        feed(page, [north_of(START, 13.41 * i) for i in range(5)])
        # The last fix may still be on its way through a busy machine: wait for it.
        expect(page.locator("#speed-mph")).to_have_text(re.compile(r"^(29|30|31)$"))
        # Reflex's event channel is served over TLS on the same port.
        assert any(
            ws.url.startswith(f"wss://127.0.0.1:{https_server.port}/_event") for ws in sockets
        )
        assert not any(ws.is_closed() for ws in sockets)
    finally:
        context.close()


def test_https_reload_of_a_page_without_trailing_slash_stays_on_https(browser, https_server):
    """The probe's H3: /trips used to redirect to http:// on the TLS-only port."""
    context = browser.new_context(ignore_https_errors=True, service_workers="block")
    page = context.new_page()
    try:
        for path, ready in (
            ("/trips", "text=Import GPX"),
            ("/garage", "#vehicle-form #vehicle-nickname"),
        ):
            response = page.goto(f"{https_server.url}{path}")
            assert response is not None and response.ok, path
            assert page.url.startswith(f"https://127.0.0.1:{https_server.port}{path}")
            page.wait_for_selector(ready)
            response = page.reload()
            assert response is not None and response.ok, path
            assert page.url.startswith("https://")
        # in-app navigation leaves "/trips" in the address bar; reloading that works too
        page.goto(f"{https_server.url}/")
        page.click("a[href='/trips']")
        page.wait_for_url("**/trips**")
        assert page.reload().ok
    finally:
        context.close()


def test_https_headers_include_hsts(https_server):
    from tests.browser.test_hardening import get

    status, headers, _ = get(https_server, "/")
    headers = {k.lower(): v for k, v in headers.items()}
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    status, headers, _ = get(https_server, "/trips", {"Host": "evil.example"})
    assert status == 421


def test_https_idle_tls_connections_do_not_starve_requests(https_server):
    from tests.browser.test_hardening import assert_answers_while_idle_sockets_are_open

    assert_answers_while_idle_sockets_are_open(https_server, tls_handshake=True)


def test_sigint_to_the_main_process_stops_the_https_server(https_server):
    """Ctrl-C (SIGINT) to ``kei-drive serve`` alone: runs last, it stops this module's server."""
    import os
    import signal
    import time

    from tests.browser.test_shutdown import alive, port_is_free

    children = https_server.descendants()
    assert children
    started = time.monotonic()
    os.kill(https_server.process.pid, signal.SIGINT)
    https_server.process.wait(timeout=10)
    while any(alive(pid) for pid in children) and time.monotonic() - started < 10:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)]
    assert time.monotonic() - started < 10
    assert port_is_free(https_server.port)
