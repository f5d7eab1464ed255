"""The HTTP guard: an ASGI middleware around the whole backend (pages, ``/api``, ``/_event``,
``/_upload``) that ``kei-drive serve`` runs.

- **Host allow-list** (DNS rebinding): only the configured names and addresses are served;
  any other ``Host`` gets 421, a missing or malformed one 400.
- **Same-origin for anything that changes data**: a state-changing request (POST, PUT,
  PATCH, DELETE) or a read of ``/api``/``/_upload`` that a browser sends from another
  origin gets 403 (``Origin``, else ``Sec-Fetch-Site``). Requests carrying an
  ``Authorization`` header (API tokens of other apps and scripts) are exempt: a browser
  never adds that header on its own. Websocket upgrades from another origin are refused.
- **No CORS for other origins**: their preflights get 403 and no ``Access-Control-*``
  header ever leaves for them.
- **Redirects never carry the request's host**: an absolute ``Location`` on this server
  becomes a path, so the browser keeps the scheme and host it used (``--https`` reloads).
- **Security headers** on every response (CSP, nosniff, Referrer-Policy, frame-ancestors,
  Permissions-Policy; HSTS under ``--https``). The CSP (~1.5 KB with the build's script
  hashes) is left off the build's scripts, stylesheets, icons and data files
  (``SUBRESOURCE_PREFIXES``): a browser applies a CSP only to documents and workers, and on a
  phone's first visit it was ~40 KiB of the Drive screen's transfer (docs/performance.md).
- **Request bodies must keep coming**: a body that stalls for ``body_idle_timeout_s``
  (e.g. shorter than its ``Content-Length``) is answered 408 instead of holding a worker.
- **A cap per client address** (``max_per_address``): the connections the app holds for one
  address at a time (open websockets, which sit idle for hours, and requests in progress)
  are capped; one more gets 429 with ``Retry-After`` (a websocket is closed with 1013, "try
  again later"). Connections that send nothing never reach the app: granian closes them
  after its header timeout (``server/launch.py``). Loopback peers are exempt unless
  ``cap_loopback``: they are this machine, or a reverse proxy on it, which then caps per
  address itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SETTINGS_ENV = "KEI_DRIVE_GUARD"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRIVATE_PREFIXES = ("/api/", "/_upload")  # data, not public page shells
# Never a document or a worker (the service worker is /sw.js): no CSP needed on these.
SUBRESOURCE_PREFIXES = ("/assets/", "/kei/", "/icons/", "/data/")
CSP_HEADER = b"content-security-policy"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A phone holds one websocket per open tab and a few requests at a time; a household or a
# club behind one address (carrier NAT) stays far below this.
DEFAULT_MAX_PER_ADDRESS = 64
RETRY_AFTER_S = 5
WEBSOCKET_TRY_AGAIN_LATER = 1013


@dataclass(frozen=True)
class GuardSettings:
    hosts: frozenset[str]  # lower-case names and addresses (IPv6 without brackets)
    port: int  # the port browsers use
    https: bool = False
    script_hashes: tuple[str, ...] = ()  # CSP hashes of the build's inline scripts
    image_origins: tuple[str, ...] = ()  # map tiles
    body_idle_timeout_s: float = 15.0
    hsts_max_age_s: int = 31_536_000
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS  # 0: no cap
    cap_loopback: bool = False

    @classmethod
    def create(cls, hosts: Iterable[str], port: int, https: bool, **kw: Any) -> GuardSettings:
        names = {normalise_host(h) for h in (*LOOPBACK_HOSTS, *hosts) if h}
        return cls(hosts=frozenset(names - {""}), port=port, https=https, **kw)

    def to_env(self) -> str:
        data = {
            "hosts": sorted(self.hosts),
            "port": self.port,
            "https": self.https,
            "image_origins": list(self.image_origins),
            "body_idle_timeout_s": self.body_idle_timeout_s,
            "max_per_address": self.max_per_address,
            "cap_loopback": self.cap_loopback,
        }
        return json.dumps(data)

    @classmethod
    def from_env(cls, value: str | None = None) -> GuardSettings:
        raw = value if value is not None else os.environ.get(SETTINGS_ENV)
        if not raw:
            raise RuntimeError(f"{SETTINGS_ENV} is not set: start the app with kei-drive serve")
        data = json.loads(raw)
        return cls(
            hosts=frozenset(data["hosts"]),
            port=int(data["port"]),
            https=bool(data["https"]),
            image_origins=tuple(data.get("image_origins", ())),
            body_idle_timeout_s=float(data.get("body_idle_timeout_s", 15.0)),
            max_per_address=int(data.get("max_per_address", DEFAULT_MAX_PER_ADDRESS)),
            cap_loopback=bool(data.get("cap_loopback", False)),
        )


def normalise_host(host: str) -> str:
    return host.strip().lower().strip("[]").rstrip(".")


def split_authority(value: str) -> tuple[str, int | None]:
    """``host[:port]`` of a Host header -> (host, port); ValueError when malformed."""
    value = value.strip().lower()
    if not value or any(c in value for c in "/\\@ ?#"):
        raise ValueError(value)
    if value.startswith("["):
        end = value.index("]")
        host, rest = value[1:end], value[end + 1 :]
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
        rest = ":" + port
    elif ":" in value:
        raise ValueError(value)  # a bare IPv6 address must be bracketed
    else:
        host, rest = value, ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        raise ValueError(value)
    return host.rstrip("."), (int(rest[1:]) if rest else None)


def content_security_policy(settings: GuardSettings) -> str:
    """As strict as a Reflex app allows; each allowance says why."""
    own = []
    for host in sorted(h for h in settings.hosts if ":" not in h):  # CSP has no IPv6 literals
        for scheme in ("https", "wss") if settings.https else ("http", "ws"):
            own.append(f"{scheme}://{host}:{settings.port}")
    script = [
        "'self'",
        # Reflex runs rx.call_script and event callbacks through eval() (state.js).
        "'unsafe-eval'",
        # The inline scripts of the build (theme, service worker registration, React Router
        # hydration data), each pinned by its hash: no other inline script runs.
        *(f"'sha256-{digest}'" for digest in settings.script_hashes),
    ]
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        # Emotion (Radix/Reflex styling) inserts <style> elements and style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        # Map tiles come from the tile server (KEI_DRIVE_TILE_URL); Leaflet uses data: URLs.
        "img-src": ["'self'", "data:", "blob:", *settings.image_origins],
        "font-src": ["'self'", "data:"],
        # The websocket and uploads may go to another of this server's own names
        # (a page opened on localhost talks to the LAN address Reflex was built with).
        "connect-src": ["'self'", *own],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(settings: GuardSettings) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": content_security_policy(settings),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        # Tile servers ask for a Referer naming the site; the origin is enough, never a trip path.
        "referrer-policy": "strict-origin-when-cross-origin",
        "permissions-policy": (
            "geolocation=(self), screen-wake-lock=(self), camera=(), microphone=(), "
            "payment=(), usb=(), interest-cohort=()"
        ),
        "cross-origin-opener-policy": "same-origin",
    }
    if settings.https:
        headers["strict-transport-security"] = f"max-age={settings.hsts_max_age_s}"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class AddressSlots:
    """How many connections the app holds for each client address (one event loop per
    worker process, so no lock is needed; each worker counts its own)."""

    def __init__(self, limit: int, cap_loopback: bool) -> None:
        self.limit = limit
        self.cap_loopback = cap_loopback
        self.held: dict[str, int] = {}

    def address_of(self, scope: Scope) -> str | None:
        """The address to count, or None when it is not capped."""
        client = scope.get("client")
        if not self.limit or not client:
            return None
        address = client_key(str(client[0]))
        if not self.cap_loopback and _is_loopback(address):
            return None
        return address

    def take(self, address: str) -> bool:
        held = self.held.get(address, 0)
        if held >= self.limit:
            return False
        self.held[address] = held + 1
        return True

    def give_back(self, address: str) -> None:
        held = self.held.get(address, 0) - 1
        if held > 0:
            self.held[address] = held
        else:
            self.held.pop(address, None)


class HttpGuard:
    def __init__(self, app: ASGIApp, settings: GuardSettings) -> None:
        self.app = app
        self.settings = settings
        self.headers = security_headers(settings)
        self.subresource_headers = [h for h in self.headers if h[0] != CSP_HEADER]
        self.slots = AddressSlots(settings.max_per_address, settings.cap_loopback)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        address = self.slots.address_of(scope)
        if address is None:
            await self._guard(scope, receive, send)
            return
        if not self.slots.take(address):
            await self._too_many(scope, send)
            return
        try:
            await self._guard(scope, receive, send)
        finally:
            self.slots.give_back(address)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        try:
            host, port = split_authority(headers.get("host", ""))
        except ValueError:
            await self._refuse(scope, send, 400, "missing or malformed Host header")
            return
        if host not in self.settings.hosts:
            await self._refuse(scope, send, 421, "this server does not serve that host name")
            return
        own = self._own_origin(scope, headers, (host, port))
        if scope["type"] == "websocket":
            if own:
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        method = scope["method"]
        private = scope["path"].startswith(PRIVATE_PREFIXES)
        refused = method not in SAFE_METHODS or private or _is_preflight(method, headers)
        if refused and not own and "authorization" not in headers:
            await self._refuse(scope, send, 403, "cross-origin request refused")
            return
        await self._forward(scope, receive, send, own)

    def _own_origin(self, scope: Scope, headers: dict[str, str], authority: tuple) -> bool:
        """Whether a browser sent this from one of this server's own origins."""
        origin = headers.get("origin")
        if origin is None:
            site = headers.get("sec-fetch-site")
            if site in (None, "same-origin", "none"):
                return True  # not a browser, a same-origin request or a typed URL
            # Another site may link to a page (a top-level GET navigation), nothing more.
            return (
                scope["type"] == "http"
                and headers.get("sec-fetch-mode") == "navigate"
                and scope["method"] in ("GET", "HEAD")
            )
        parts = urlsplit(origin)
        if origin == "null" or not parts.hostname or parts.scheme not in DEFAULT_PORTS:
            return False
        if self.settings.https and parts.scheme != "https":
            return False
        origin_port = parts.port or DEFAULT_PORTS[parts.scheme]
        if (parts.hostname, parts.port) == authority:
            return True  # exactly the host the request was sent to
        # Another of our own names (localhost page -> LAN address), directly or behind a
        # reverse proxy on the default port.
        return parts.hostname in self.settings.hosts and origin_port in (
            self.settings.port,
            DEFAULT_PORTS[parts.scheme],
        )

    async def _forward(self, scope: Scope, receive: Receive, send: Send, own: bool) -> None:
        state = {"started": False, "timed_out": False, "body_done": False}
        timeout = self.settings.body_idle_timeout_s

        async def guarded_receive() -> Message:
            if state["body_done"] or state["timed_out"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    await self._plain(send, 408, "request body timed out")
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # the 408 has been sent; the app is unwinding
            if message["type"] == "http.response.start":
                state["started"] = True
                message["headers"] = self._response_headers(scope, message, own)
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not state["timed_out"]:
                raise  # a stalled body makes the app raise ClientDisconnect: expected

    def _response_headers(self, scope: Scope, message: Message, own: bool) -> list:
        kept = []
        for name, value in message.get("headers", []):
            lower = name.lower()
            if lower in _OWN_HEADER_NAMES:
                continue
            if lower.startswith(b"access-control-") and not own:
                continue
            if lower == b"location":
                value = _relative_location(value, scope)
            kept.append((name, value))
        subresource = scope.get("path", "").startswith(SUBRESOURCE_PREFIXES)
        return kept + (self.subresource_headers if subresource else self.headers)

    async def _refuse(self, scope: Scope, send: Send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self._plain(send, status, reason)

    async def _too_many(self, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting would read as a 403; "try again later" needs a frame.
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": WEBSOCKET_TRY_AGAIN_LATER})
            return
        await self._plain(send, 429, "too many connections from your address")

    async def _plain(self, send: Send, status: int, reason: str) -> None:
        body = json.dumps({"error": reason}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *([(b"retry-after", str(RETRY_AFTER_S).encode())] if status == 429 else []),
            *self.headers,
        ]
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})


_OWN_HEADER_NAMES = {name for name, _ in security_headers(GuardSettings(frozenset(), 0, True))}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def client_key(address: str) -> str:
    """What one client is: an IPv4 address (also when IPv4-mapped), or an IPv6 /64, since
    one home or phone gets a whole /64 and may pick any address in it."""
    try:
        ip = ipaddress.ip_address(normalise_host(address))
    except ValueError:
        return normalise_host(address)
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6 and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _is_loopback(key: str) -> bool:
    try:
        return ipaddress.ip_address(key).is_loopback
    except ValueError:
        return key == "localhost"


def _is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "access-control-request-method" in headers


def _relative_location(value: bytes, scope: Scope) -> bytes:
    """An absolute redirect to this server becomes a path: the client keeps its own scheme and
    host, and a forged Host header never reaches the Location."""
    parts = urlsplit(value.decode("latin-1"))
    if not parts.scheme and not parts.netloc:
        return value
    request_host = _headers(scope).get("host", "").lower()
    if parts.netloc.lower() != request_host:
        return value  # somewhere else entirely
    path = parts.path or "/"
    if path.startswith("//"):
        path = "/" + path.lstrip("/")  # never a scheme-relative URL to another host
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")
