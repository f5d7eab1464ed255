"""The running app against the security probe's reproductions (H1, H2, L5, L6): another
origin in the browser, a forged Host, websocket origins, idle sockets, a stalled body."""

from __future__ import annotations

import http.server
import json
import resource
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager

import pytest

from tests.browser.app_server import AppServer, free_port

IDLE_SOCKETS = 1_100  # the probe froze the server with about 1,024


def raw_request(server: AppServer, request: bytes, timeout: float = 10) -> bytes:
    """Send ``request`` as is and return the whole answer (the server closes or times out)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if server.https:
        sock = ssl._create_unverified_context().wrap_socket(sock)
    with sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"101 " in chunks[0][:20]:
                    break  # an accepted websocket stays open
        except TimeoutError:
            pass
    return b"".join(chunks)


def get(server: AppServer, path: str, headers: dict | None = None, timeout: float = 5):
    context = ssl._create_unverified_context() if server.https else None
    request = urllib.request.Request(f"{server.url}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# First in the module: the tests after it hold 1,100 sockets open and stall bodies.
def test_every_page_runs_under_the_content_security_policy(phone, app_server):
    """The CSP pins the build's inline scripts by hash: nothing the app needs is blocked."""
    violations: list[str] = []
    phone.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    for path, ready in (
        ("/", "#speed-mph"),
        ("/trips/", "text=Import GPX"),
        ("/garage/", "text=Your Kei trucks and vans"),  # the form hides once vehicles exist
        ("/states/", "text=Kei"),
        ("/plan/", "text=Plan"),
    ):
        phone.goto(f"{app_server.url}{path}")
        phone.wait_for_selector(ready)
        phone.wait_for_timeout(500)
    assert violations == [], "\n".join(violations)
    assert phone.errors == []


def test_forged_host_is_refused_and_never_reaches_a_redirect(app_server):
    status, _, _ = get(app_server, "/api/v1/vehicles", {"Host": "evil.example"})
    assert status == 421
    status, _, _ = get(app_server, "/trips", {"Host": f"evil.example:{app_server.port}"})
    assert status == 421
    reply = raw_request(app_server, b"GET /trips HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=3)
    assert reply.startswith(b"HTTP/1.1 307")
    assert b"\r\nlocation: /trips/\r\n" in reply.lower()


def test_security_headers_on_pages_and_api(app_server):
    for path in ("/", "/trips/", "/api/v1/vehicles", "/manifest.webmanifest"):
        status, headers, _ = get(app_server, path)
        assert status == 200, path
        headers = {k.lower(): v for k, v in headers.items()}
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "geolocation=(self)" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # plain HTTP: no HSTS


def websocket_upgrade(origin: str, host: str) -> bytes:
    return (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n"
        f"Origin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()


def test_websocket_upgrades_from_other_origins_are_refused(app_server):
    host = f"localhost:{app_server.port}"
    own = raw_request(app_server, websocket_upgrade(f"http://{host}", host), timeout=5)
    assert own.startswith(b"HTTP/1.1 101"), own[:200]
    evil = raw_request(app_server, websocket_upgrade("https://evil.example", host), timeout=5)
    assert evil.startswith(b"HTTP/1.1 403"), evil[:200]


# What the probe's hostile page did (p1_evilpage.py): read the garage, POST fixes as a
# "simple" request and as JSON, open the event websocket. ``body`` decides what is posted.
ATTACK = """async ([app, trip, trip2, body]) => {
  const out = {};
  const fix = (id) => body === "fix"
    ? JSON.stringify({points: [{id, t: Date.now(), lat: 39.29, lon: -76.61}]}) : "{}";
  try {
    const r = await fetch(`${app}/api/v1/vehicles`, {credentials: "include"});
    out.read = `${r.status} ${await r.text()}`;
  } catch (e) { out.read = "blocked"; }
  try {  // a "simple" request: no preflight, the response is opaque either way
    await fetch(`${app}/api/v1/trips/${trip}/points`, {method: "POST", mode: "no-cors",
      credentials: "include", headers: {"content-type": "text/plain"}, body: fix("a")});
    out.simplePost = "sent";
  } catch (e) { out.simplePost = "blocked"; }
  try {
    const r = await fetch(`${app}/api/v1/trips/${trip2}/points`, {method: "POST",
      credentials: "include", headers: {"content-type": "application/json"}, body: fix("b")});
    out.jsonPost = `${r.status}`;
  } catch (e) { out.jsonPost = "blocked"; }
  out.websocket = await new Promise((resolve) => {
    const ws = new WebSocket(`${app.replace("http", "ws")}/_event/?EIO=4&transport=websocket`);
    ws.onmessage = () => { resolve("open"); ws.close(); };
    ws.onerror = () => resolve("refused");
    setTimeout(() => resolve("timeout"), 5000);
  });
  return out;
}"""
EVIL_PAGE = f"<!doctype html><title>not Kei Drive</title><script>window.attack = {ATTACK}</script>"


@contextmanager
def page_server(html: str):
    """Another origin on loopback: a different port serving ``html``."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_from_another_origin_can_neither_read_nor_write(browser, app_server):
    trip, trip2 = uuid.uuid4(), uuid.uuid4()
    context = browser.new_context()
    try:
        page = context.new_page()
        with page_server(EVIL_PAGE) as evil_origin:
            page.goto(f"{evil_origin}/")
            args = [app_server.url, str(trip), str(trip2), "fix"]
            result = page.evaluate("(args) => window.attack(args)", args)
        assert result["read"] == "blocked"
        assert result["jsonPost"] == "blocked"
        assert result["websocket"] == "refused"
        for key in (trip, trip2):  # nothing was stored, not even by the opaque simple POST
            status, _, body = get(app_server, f"/api/v1/trips/{key}")
            assert status == 404, body
        # Control: from the app's own origin the same requests get through (an empty
        # batch, answered 400 by the API, so that nothing is stored on the shared server).
        page.goto(f"{app_server.url}/manifest.webmanifest")
        own = page.evaluate(ATTACK, [app_server.url, str(trip), str(trip2), "empty"])
        assert own["read"].startswith("200 [") and own["jsonPost"] == "400"
        assert own["websocket"] == "open"
    finally:
        context.close()


def ensure_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.fail(f"this test needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def assert_answers_while_idle_sockets_are_open(server: AppServer, tls_handshake: bool) -> None:
    """The probe's H2 reproduction: idle connections must not starve a normal request."""
    ensure_file_limit(IDLE_SOCKETS + 512)
    context = ssl._create_unverified_context()
    with ExitStack() as stack:
        for _ in range(IDLE_SOCKETS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if tls_handshake:
                sock = context.wrap_socket(sock)
            stack.enter_context(sock)
        latencies = []
        for _ in range(3):
            started = time.monotonic()
            status, _, _ = get(server, "/api/v1/vehicles", timeout=5)
            latencies.append(time.monotonic() - started)
            assert status == 200
            time.sleep(0.5)
    assert max(latencies) < 1.0, latencies


def test_idle_sockets_do_not_starve_requests(app_server):
    assert_answers_while_idle_sockets_are_open(app_server, tls_handshake=False)


def test_a_body_shorter_than_announced_is_answered_not_hung(app_server):
    started = time.monotonic()
    body = b'{"points": ['
    request = (
        f"POST /api/v1/trips/{uuid.uuid4()}/points HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 100}\r\n\r\n"
    ).encode() + body
    result: list[bytes] = []
    thread = threading.Thread(target=lambda: result.append(raw_request(app_server, request, 60)))
    thread.start()
    time.sleep(1)
    status, _, _ = get(app_server, "/api/v1/vehicles", timeout=2)  # others keep being served
    assert status == 200
    thread.join(60)
    assert result and result[0].startswith(b"HTTP/1.1 408"), result
    assert json.loads(result[0].split(b"\r\n\r\n", 1)[1])["error"]
    assert time.monotonic() - started < 40
