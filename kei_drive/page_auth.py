"""Sign-in for Reflex pages and event handlers.

The browser sends the HttpOnly session cookie when it opens the ``/_event`` websocket;
every event handler reads it from ``self.router.headers.cookie`` and asks the database
who it belongs to (``web_auth.from_cookie``), on every event: a revoked or expired
session stops working at once, and nothing about the user is trusted from the browser.

Pattern for a handler that touches user data (``user_id`` goes to every query)::

    @rx.event
    def delete(self, trip_id: str):
        user = signed_in(self)
        if user is None:
            return to_signin()
        q.delete_trip(s, trip_id, user.user_id)  # another user's id: NotFound
"""

from __future__ import annotations

import reflex as rx

from kei_drive import web_auth
from kei_drive.db.accounts import SignedIn

# The browser goes to the server-rendered sign-in form and comes back here afterwards.
_TO_SIGNIN_JS = (
    "window.location.assign('/signin?next=' + "
    "encodeURIComponent(window.location.pathname + window.location.search))"
)


def signed_in(state: rx.State) -> SignedIn | None:
    """The signed-in account of the browser sending this event (None: signed out).
    API tokens never reach here: the websocket carries only the cookie."""
    user = web_auth.from_cookie(state.router.headers.cookie)
    return user if user is not None and user.scope in ("session", "single") else None


def user_id(state: rx.State) -> int | None:
    """The signed-in account's id for this event (None: signed out)."""
    user = signed_in(state)
    return user.user_id if user is not None else None


# Sign-out is a same-origin POST (a link cannot sign anyone out): the nav's button builds
# and submits that form (Reflex's own forms stay in the page). /signin then forgets the
# account's data kept on the phone (assets/kei/signed_out.js).
_SIGN_OUT_JS = (
    "(() => { const f = document.createElement('form'); f.method = 'post'; "
    "f.action = '/signout'; document.body.appendChild(f); f.submit(); })()"
)


_SERVER_PAGE = {"reloadDocument": True}  # a full page load, not the client-side router


def to_signin() -> rx.event.EventSpec:
    """Send the browser to the sign-in form (a full page load: the new websocket then
    carries the new cookie), coming back to this page afterwards."""
    return rx.call_script(_TO_SIGNIN_JS)


class SessionState(rx.State):
    """Who is signed in, for the nav (display only: handlers check the cookie themselves)."""

    username: str = ""
    single_user: bool = False

    @rx.event
    def load_user(self):
        user = signed_in(self)
        self.username = user.username if user else ""
        self.single_user = bool(user and user.scope == "single")

    @rx.event
    def require_user(self):
        """First ``on_load`` event of a private page: signed out -> the sign-in form."""
        self.load_user()
        if not self.username:
            return to_signin()


def account_link() -> rx.Component:
    """The nav's account entries: the signed-in name (to Settings) and "Sign out", or
    "Sign in" (single-user mode has no sign-out).

    /settings and /signin are server pages, not Reflex routes: the links load the whole
    document (``reloadDocument``; Reflex makes every ``<a>`` a client-side router link)."""
    return rx.cond(
        SessionState.username != "",
        rx.fragment(
            rx.el.a(
                SessionState.username,
                href="/settings",
                id="nav-account",
                class_name="kd-nav-link",
                custom_attrs=_SERVER_PAGE,
                title="Signed in: settings, devices, tokens, password",
            ),
            rx.cond(
                SessionState.single_user,
                rx.fragment(),
                rx.el.button(
                    "Sign out",
                    id="nav-signout",
                    type="button",
                    on_click=rx.call_script(_SIGN_OUT_JS),
                    class_name="kd-nav-link kd-nav-button",
                ),
            ),
        ),
        rx.el.a(
            "Sign in",
            href="/signin",
            id="nav-signin",
            class_name="kd-nav-link",
            custom_attrs=_SERVER_PAGE,
        ),
    )
