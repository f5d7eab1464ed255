"""Sign in, sign out, first-run owner setup and invitations: small server-rendered HTML
forms (no JavaScript, no websocket), so they work on any phone and set the HttpOnly
session cookie themselves.

- ``GET/POST /signin``           fields ``username`` and ``password``, button ``#signin-submit``
- ``POST /signout``              ends this session (POST only: a link cannot sign you out)
- ``GET/POST /setup?code=…``     create the owner account; 404 without a valid setup code
- ``GET/POST /join?code=…``      create an account from an invitation; 404 without one

Every POST must come from this site (``Origin``/``Sec-Fetch-Site``), or it gets 403: a
hostile page cannot sign a phone into the attacker's account (login CSRF).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from kei_drive import web_auth
from kei_drive.accounts import AccountError
from kei_drive.db import accounts as acc
from kei_drive.db import session

MAX_FORM_FIELD = 1024  # characters; nothing legitimate is longer


def db():
    return session(web_auth.db_url())


def safe_next(value: str | None) -> str:
    """A same-site path to go to after signing in ("/" for anything else)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith(("//", "/\\")) or urlsplit(value).netloc:
        return "/"
    return value


def same_origin(request: Request) -> bool:
    """True unless the browser says the request came from another site.

    ``Sec-Fetch-Site`` decides when present (every current browser sends it); otherwise
    ``Origin`` must name this host; a request with neither (curl, old browsers) passes.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


# The sign-in, setup and invitation pages make the phone forget the previous account's
# data it kept for offline use (garage, rules, guidance; never the queued recordings).
FORGET_DEVICE_DATA = '<script type="module" src="/kei/signed_out.js"></script>\n'


def render_page(
    title: str,
    body: str,
    status: int = 200,
    headers: dict | None = None,
    wide: bool = False,
    forget_device_data: bool = False,
) -> HTMLResponse:
    script = FORGET_DEVICE_DATA if forget_device_data else ""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="same-origin">
<title>{escape(title)} · Kei Drive</title>
<link rel="stylesheet" href="/kei/auth.css">
<link rel="manifest" href="/manifest.webmanifest">
{script}</head><body><main class="auth{" wide" if wide else ""}">
<h1>{escape(title)}</h1>
{body}
</main></body></html>"""
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    return HTMLResponse(html, status_code=status, headers=all_headers)


def _not_found() -> HTMLResponse:
    return HTMLResponse("Not Found", status_code=404, headers={"Cache-Control": "no-store"})


def field_html(name: str, label: str, kind: str, autocomplete: str, value: str = "") -> str:
    extra = ' autocapitalize="none" autocorrect="off" spellcheck="false"' if kind == "text" else ""
    return (
        f'<label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}" '
        f'value="{escape(value)}" required maxlength="{MAX_FORM_FIELD}"{extra}>'
    )


def message_html(text: str, kind: str = "error") -> str:
    role = "alert" if kind == "error" else "status"
    return (
        f'<p class="msg {kind}" role="{role}" id="auth-message">{escape(text)}</p>' if text else ""
    )


def _signin_form(next_path: str, username: str = "", message: str = "", kind: str = "error") -> str:
    return f"""{message_html(message, kind)}
<form method="post" action="/signin" class="auth-form">
<input type="hidden" name="next" value="{escape(next_path)}">
{field_html("username", "User name", "text", "username", username)}
{field_html("password", "Password", "password", "current-password")}
<button type="submit" id="signin-submit">Sign in</button>
</form>
<p class="hint">Kei Drive keeps you signed in on this device for 30 days after you last
use it. Public pages: <a href="/">Drive</a> · <a href="/states">Kei rules</a>.</p>"""


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=10)
    return {k: str(v)[:MAX_FORM_FIELD] for k, v in form.items() if isinstance(v, str)}


def _signed_in_redirect(request: Request, cookie: str, next_path: str) -> Response:
    response = RedirectResponse(safe_next(next_path), status_code=303)
    web_auth.set_session_cookie(response, request, cookie)
    return response


def forbidden() -> HTMLResponse:
    return render_page(
        "Not allowed", message_html("This form must be sent from Kei Drive itself."), 403
    )


# ---------------------------------------------------------------------------- sign in


async def signin_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if web_auth.single_user_mode():
        return RedirectResponse(next_path, status_code=303)
    note = ""
    if request.query_params.get("signed_out"):
        note = "You are signed out."
    elif request.query_params.get("deleted"):
        note = "Your account and everything it owned were deleted."
    form = _signin_form(next_path, message=note, kind="info")
    return render_page("Sign in", form, forget_device_data=True)


def _signin(form: dict[str, str], request: Request) -> str | None:
    """The new session's cookie value, or None for wrong credentials."""
    address = web_auth.client_address(request)
    with db() as s:
        user = acc.authenticate(s, form.get("username", ""), form.get("password", ""), address)
        if user is None:
            return None  # the failure is committed with the session
        return acc.start_session(s, user, request.headers.get("user-agent", ""), address)


async def signin(request: Request) -> Response:
    if not same_origin(request):
        return forbidden()
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    username = form.get("username", "")
    try:
        cookie = await run_in_threadpool(_signin, form, request)
    except acc.SigninThrottled as exc:
        body = _signin_form(next_path, username, str(exc))
        return render_page("Sign in", body, 429, {"Retry-After": str(exc.retry_after_s)})
    if cookie is None:
        return render_page("Sign in", _signin_form(next_path, username, acc.WRONG_CREDENTIALS), 401)
    return _signed_in_redirect(request, cookie, next_path)


async def signout(request: Request) -> Response:
    if not same_origin(request):
        return forbidden()
    value = web_auth.cookie_value(request.headers.get("cookie"))

    def end() -> None:
        with db() as s:
            acc.end_session(s, value)

    await run_in_threadpool(end)
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    web_auth.clear_session_cookie(response, request)
    return response


# ------------------------------------------------------------- setup and invitations


def _account_form(
    action: str, code: str, title_note: str, username: str = "", msg: str = ""
) -> str:
    return f"""{message_html(msg)}
<p>{escape(title_note)}</p>
<form method="post" action="{action}" class="auth-form">
<input type="hidden" name="code" value="{escape(code)}">
{field_html("username", "User name", "text", "username", username)}
{field_html("password", "Password (at least 10 characters)", "password", "new-password")}
{field_html("password2", "Password again", "password", "new-password")}
<button type="submit" id="account-submit">Create account and sign in</button>
</form>"""


def _invitation_valid(code: str, owner_setup: bool) -> bool:
    with db() as s:
        row = acc.valid_invitation(s, code)
        return row is not None and (row.invited_by is None) == owner_setup


def _create_from_code(form: dict[str, str], request: Request) -> str:
    if form.get("password", "") != form.get("password2", ""):
        raise AccountError("the two passwords differ")
    address = web_auth.client_address(request)
    with db() as s:
        user = acc.accept_invitation(
            s, form.get("code", ""), form.get("username", ""), form.get("password", "")
        )
        return acc.start_session(s, user, request.headers.get("user-agent", ""), address)


def _code_page(action: str, title: str, note: str, owner_setup: bool):
    async def page(request: Request) -> Response:
        code = request.query_params.get("code", "")
        if not await run_in_threadpool(_invitation_valid, code, owner_setup):
            return _not_found()  # without a valid code the page does not exist
        return render_page(title, _account_form(action, code, note), forget_device_data=True)

    async def submit(request: Request) -> Response:
        if not same_origin(request):
            return forbidden()
        form = await read_form(request)
        code = form.get("code", "")
        if not await run_in_threadpool(_invitation_valid, code, owner_setup):
            return _not_found()
        try:
            cookie = await run_in_threadpool(_create_from_code, form, request)
        except AccountError as exc:
            body = _account_form(action, code, note, form.get("username", ""), str(exc))
            return render_page(title, body, 400)
        return _signed_in_redirect(request, cookie, "/")

    return page, submit


setup_page, setup_submit = _code_page(
    "/setup",
    "Create the owner account",
    "This is the first account on this Kei Drive server. It owns the server: it can invite "
    "other people, and it gets every trip and vehicle recorded before accounts existed.",
    owner_setup=True,
)
join_page, join_submit = _code_page(
    "/join",
    "Join Kei Drive",
    "You were invited to this Kei Drive server. Your trips are private to your account.",
    owner_setup=False,
)


def setup_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/setup?code={quote(code)}"


def invitation_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/join?code={quote(code)}"


routes = [
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/setup", setup_page, methods=["GET"]),
    Route("/setup", setup_submit, methods=["POST"]),
    Route("/join", join_page, methods=["GET"]),
    Route("/join", join_submit, methods=["POST"]),
]
