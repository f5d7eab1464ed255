"""The HTTP guard around the backend, on a small Starlette app (the live app: tests/browser)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from kei_drive.server.http_guard import GuardSettings, HttpGuard, split_authority
from tests.support.aio import run_coroutine

PORT = 3000


async def echo(request):
    body = await request.body()
    return JSONResponse({"method": request.method, "bytes": len(body)})


async def moved(request):
    return RedirectResponse(str(request.url.replace(path="/trips/")), status_code=307)


async def socket(websocket):
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def backend() -> Starlette:
    # Reflex's own CORS middleware reflects any origin with credentials: the guard must
    # keep that from reaching other origins.
    cors = Middleware(
        CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"]
    )
    routes = [
        Route("/api/v1/vehicles", echo, methods=["GET", "POST"]),
        Route("/trips", moved),
        Route("/", lambda r: PlainTextResponse("page")),
        WebSocketRoute("/_event", socket),
    ]
    return Starlette(routes=routes, middleware=[cors])


def client(https: bool = False, host: str = f"localhost:{PORT}") -> TestClient:
    settings = GuardSettings.create(["192.168.1.20", "kei.example.org"], PORT, https)
    scheme = "https" if https else "http"
    return TestClient(HttpGuard(backend(), settings), base_url=f"{scheme}://{host}")


OWN = f"http://localhost:{PORT}"


def test_only_configured_hosts_are_served():
    assert client().get("/").status_code == 200
    for host in ("192.168.1.20:3000", "KEI.example.org", "127.0.0.1:3000", "[::1]:3000"):
        assert client(host=host).get("/").status_code == 200, host
    for host in ("evil.example", "evil.example:3000", "localhost.evil.example"):
        reply = client(host=host).get("/api/v1/vehicles")
        assert reply.status_code == 421, host
        assert "access-control-allow-origin" not in reply.headers
    assert client().get("/", headers={"host": "a b"}).status_code == 400


def test_split_authority():
    assert split_authority("LocalHost:3000") == ("localhost", 3000)
    assert split_authority("[::1]:80") == ("::1", 80)
    assert split_authority("kei.example.org.") == ("kei.example.org", None)
    for bad in ("", "::1", "host:port", "a@b", "x/y"):
        with pytest.raises(ValueError):
            split_authority(bad)


def test_state_changes_from_other_origins_are_refused():
    c = client()
    evil = {"origin": "https://evil.example"}
    assert c.post("/api/v1/vehicles", content=b"{}", headers=evil).status_code == 403
    text = {**evil, "content-type": "text/plain"}  # a "simple" request, no preflight
    assert c.post("/api/v1/vehicles", content=b"{}", headers=text).status_code == 403
    assert c.get("/api/v1/vehicles", headers=evil).status_code == 403
    assert c.post("/api/v1/vehicles", headers={"origin": "null"}).status_code == 403
    site = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}
    assert c.post("/api/v1/vehicles", headers=site).status_code == 403
    # the app's own origins, a LAN name of this server, and non-browser clients pass
    assert c.post("/api/v1/vehicles", headers={"origin": OWN}).status_code == 200
    lan = {"origin": f"http://192.168.1.20:{PORT}"}
    assert c.post("/api/v1/vehicles", headers=lan).status_code == 200
    assert c.post("/api/v1/vehicles", headers={"sec-fetch-site": "same-origin"}).status_code == 200
    assert c.post("/api/v1/vehicles").status_code == 200
    # another port on this machine is another origin
    other = {"origin": "http://localhost:8999"}
    assert c.post("/api/v1/vehicles", headers=other).status_code == 403


def test_authorization_header_is_exempt_from_the_origin_check():
    headers = {"origin": "https://evil.example", "authorization": "Bearer abc"}
    reply = client().post("/api/v1/vehicles", headers=headers)
    assert reply.status_code == 200
    assert "access-control-allow-origin" not in reply.headers  # still no CORS for it


def test_no_cors_for_other_origins():
    c = client()
    preflight = {
        "origin": "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    reply = c.options("/api/v1/vehicles", headers=preflight)
    assert reply.status_code == 403
    assert not any(k.startswith("access-control-") for k in reply.headers)
    # a page shell may be linked from anywhere, but gets no CORS grant
    navigate = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}
    reply = c.get("/", headers=navigate)
    assert reply.status_code == 200
    assert not any(k.startswith("access-control-") for k in reply.headers)
    reply = c.get("/api/v1/vehicles", headers={"origin": OWN})
    assert reply.headers["access-control-allow-origin"] == OWN


def test_websocket_from_another_origin_is_refused():
    c = client()
    host = {"host": f"localhost:{PORT}"}  # the test client's websockets say "testserver"
    with c.websocket_connect("/_event", headers={**host, "origin": OWN}) as ws:
        assert ws.receive_text() == "hello"
    for headers in (
        {**host, "origin": "https://evil.example"},
        {"host": "evil.example", "origin": "http://evil.example"},  # DNS rebinding
    ):
        with pytest.raises(WebSocketDisconnect), c.websocket_connect("/_event", headers=headers):
            pass


def test_redirects_keep_the_clients_scheme_and_host():
    reply = client(https=True).get("/trips", follow_redirects=False)
    assert reply.status_code == 307
    assert reply.headers["location"] == "/trips/"


def test_security_headers_everywhere_hsts_only_under_https():
    for c, https in ((client(), False), (client(https=True), True)):
        for path in ("/", "/api/v1/vehicles", "/nowhere"):
            headers = c.get(path).headers
            csp = headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert "geolocation=(self)" in headers["permissions-policy"]
            assert ("strict-transport-security" in headers) is https
    refused = client(host="evil.example").get("/").headers
    assert refused["x-content-type-options"] == "nosniff"


def test_build_assets_carry_no_csp_documents_and_the_worker_do():
    """A CSP applies to documents and workers only: the build's scripts, stylesheets, icons
    and data files go without its ~1.5 KB (the Drive screen's first-visit transfer)."""
    c = client()
    for path in ("/assets/entry.client-1.js", "/kei/kei.css", "/icons/icon-192.png"):
        headers = c.get(path).headers
        assert "content-security-policy" not in headers, path
        assert headers["x-content-type-options"] == "nosniff"
    for path in ("/", "/sw.js", "/api/v1/vehicles", "/nowhere"):
        assert "frame-ancestors 'none'" in c.get(path).headers["content-security-policy"]


def test_a_stalled_body_is_answered_408_instead_of_hanging():
    settings = GuardSettings.create([], PORT, False, body_idle_timeout_s=0.2)
    guard = HttpGuard(backend(), settings)
    sent: list[dict] = []

    async def receive():
        if not sent and not getattr(receive, "first", False):
            receive.first = True
            return {"type": "http.request", "body": b'{"po', "more_body": True}
        await asyncio.sleep(3600)  # the client promised more and sends nothing

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/vehicles",
        "raw_path": b"/api/v1/vehicles",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", PORT),
        "headers": [(b"host", b"localhost"), (b"content-length", b"100")],
    }
    run_coroutine(asyncio.wait_for(guard(scope, receive, send), 5))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
    assert len([m for m in sent if m["type"] == "http.response.start"]) == 1


def test_a_client_is_an_ipv4_address_or_an_ipv6_64():
    from kei_drive.server.http_guard import client_key

    assert client_key("203.0.113.5") == "203.0.113.5"
    assert client_key("::ffff:203.0.113.5") == "203.0.113.5"  # the same phone over IPv4
    assert (
        client_key("2001:db8:1:2::a") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::a") != client_key("2001:db8:1:2::a")


def test_loopback_is_exempt_from_the_address_cap_unless_asked():
    from kei_drive.server.http_guard import AddressSlots

    slots = AddressSlots(limit=2, cap_loopback=False)
    assert slots.address_of({"client": ("127.0.0.1", 5000)}) is None
    assert slots.address_of({"client": ("::1", 5000)}) is None
    assert slots.address_of({"client": ("192.168.1.7", 5000)}) == "192.168.1.7"
    assert AddressSlots(limit=0, cap_loopback=True).address_of({"client": ("10.0.0.2", 1)}) is None
    capped = AddressSlots(limit=2, cap_loopback=True)
    assert capped.take("127.0.0.1") and capped.take("127.0.0.1") and not capped.take("127.0.0.1")
    capped.give_back("127.0.0.1")
    assert capped.take("127.0.0.1")
