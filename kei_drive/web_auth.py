"""Who is asking: the session cookie, a Bearer token, or single-user mode.

One answer for the HTTP API, the sign-in routes and the Reflex event handlers (which see
the cookie the browser sent when it opened the websocket), so the Drive screen's
recorder needs no secret in JavaScript.

- ``KEI_DRIVE_SINGLE_USER=1`` (set by ``serve --single-user``, loopback only): every
  request acts as the first owner, no sign-in.
- ``KEI_DRIVE_SECURE_COOKIE=1`` (set by ``serve --https``): the cookie is ``Secure``; it is
  also ``Secure`` when the request itself came over HTTPS (``X-Forwarded-Proto: https``
  from a reverse proxy counts: a wrong value can only stop the cookie being sent).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

from sqlmodel import Session
from starlette.requests import HTTPConnection
from starlette.responses import Response

from kei_drive import auth_cache
from kei_drive.db import accounts as acc
from kei_drive.db import migrated_url, session
from kei_drive.db.accounts import SignedIn

COOKIE_NAME = "kei_session"
COOKIE_MAX_AGE_S = int(acc.SESSION_LIFETIME.total_seconds())
SINGLE_USER_ENV = "KEI_DRIVE_SINGLE_USER"
SECURE_COOKIE_ENV = "KEI_DRIVE_SECURE_COOKIE"


def single_user_mode() -> bool:
    return os.environ.get(SINGLE_USER_ENV) == "1"


def db_url() -> str:
    return migrated_url()


def _remembered(credential: str, find: Callable[[Session], SignedIn | None]) -> SignedIn | None:
    """``find`` in a session on the app's database, remembered briefly
    (``kei_drive.auth_cache``: revocations take effect within seconds). The caller that
    looked it up sees ``renewed`` (re-send the cookie); later ones do not."""
    url = db_url()
    fresh: list[SignedIn | None] = []

    def load() -> SignedIn | None:
        with session(url) as s:
            fresh.append(find(s))
        return dataclasses.replace(fresh[0], renewed=False) if fresh[0] else None

    remembered = auth_cache.lookup(url, credential, load)
    return fresh[0] if fresh else remembered


def _single_user() -> SignedIn:
    with session(db_url()) as s:  # not remembered: loopback only, and tests reset the data
        user = acc.first_owner(s)
        return SignedIn(user.id, user.username, user.role, None, "single")  # type: ignore[arg-type]


def cookie_value(cookie_header: str | None) -> str | None:
    """The session id from a raw ``Cookie`` header (None when absent or unparsable)."""
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        # one malformed cookie from another app on this host must not sign us out
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME:
                return value or None
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel else None


def from_cookie(cookie_header: str | None) -> SignedIn | None:
    """The signed-in user of a ``Cookie`` header (Reflex events: ``router.headers.cookie``)."""
    if single_user_mode():
        return _single_user()
    value = cookie_value(cookie_header)
    if value is None:
        return None
    return _remembered(f"cookie {value}", lambda s: acc.session_user(s, value))


def bearer_token(conn: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer`` header ("" when the header is malformed)."""
    header = conn.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def from_request(conn: HTTPConnection) -> SignedIn | None:
    """The caller of an HTTP request. An ``Authorization`` header is used alone (a bad
    token never falls back to the cookie)."""
    token = bearer_token(conn)
    if token is not None:
        if not token:
            return None
        return _remembered(f"token {token}", lambda s: acc.token_user(s, token))
    if single_user_mode():
        return _single_user()
    return from_cookie(conn.headers.get("cookie"))


def known_caller(conn: HTTPConnection) -> SignedIn | None:
    """The caller of ``from_request`` when it is remembered, else None (then ask
    ``from_request``). No database access: an upload's handler calls it on the event loop
    and skips a trip through the thread pool."""
    token = bearer_token(conn)
    if token:
        return auth_cache.peek(db_url(), f"token {token}")
    if token is not None or single_user_mode():
        return None
    value = cookie_value(conn.headers.get("cookie"))
    return auth_cache.peek(db_url(), f"cookie {value}") if value else None


def is_https(conn: HTTPConnection) -> bool:
    return (
        os.environ.get(SECURE_COOKIE_ENV) == "1"
        or conn.url.scheme == "https"
        or conn.headers.get("x-forwarded-proto", "").lower() == "https"
    )


def set_session_cookie(response: Response, conn: HTTPConnection, value: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,  # never readable by JavaScript
        samesite="lax",  # not sent on cross-site POSTs, sent when following a link here
        secure=is_https(conn),
    )


def clear_session_cookie(response: Response, conn: HTTPConnection) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=is_https(conn)
    )


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""
