"""``kei-drive serve --https``: a phone on the LAN gets a secure context, GPS and the websocket."""

from __future__ import annotations

import pytest

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
        assert abs(int(page.inner_text("#speed-mph")) - 30) <= 1
        # Reflex's event channel goes through the TLS terminator on the same port.
        assert any(
            ws.url.startswith(f"wss://127.0.0.1:{https_server.port}/_event") for ws in sockets
        )
        assert not any(ws.is_closed() for ws in sockets)
    finally:
        context.close()
