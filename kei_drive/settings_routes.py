"""``/settings``: the signed-in account's own page (server-rendered forms, like sign-in):
password, sessions (devices) with revoke, personal API tokens, invitations (owners), the
data export archive and deleting the account.

Every action is a same-origin POST checked against the session cookie; it acts on the
signed-in account only (an id that is not yours changes nothing), then redirects back
(POST/redirect/GET) with a fixed message. Secrets that are shown once (a new token, an
invitation link) are rendered directly on a ``no-store`` page instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from html import escape

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from kei_drive import web_auth
from kei_drive.accounts import AccountError, verify_password
from kei_drive.auth_routes import (
    db,
    field_html,
    forbidden,
    invitation_url,
    message_html,
    read_form,
    render_page,
    same_origin,
)
from kei_drive.components.layout import NAV_LINKS  # the app's own pages, same order
from kei_drive.db import accounts as acc
from kei_drive.db import data_export
from kei_drive.db.accounts import SignedIn
from kei_drive.db.queries import as_utc

MESSAGES = {  # ?done=… -> what the page says (never text taken from the request)
    "password": ("Password changed. Your other devices were signed out.", "info"),
    "session": ("That device was signed out.", "info"),
    "token": ("The token was revoked.", "info"),
    "invitation": ("The invitation was withdrawn.", "info"),
    "nothing": ("Nothing changed (it was already gone).", "error"),
}
TOKEN_ADVICE = (
    "Send it in a header: <code>Authorization: Bearer &lt;token&gt;</code>. A token in a URL "
    "(<code>?token=…</code>, which GPSLogger may need) works too, but is less safe than a "
    "header: URLs are kept in browser history, in server and proxy logs and in "
    "<code>Referer</code> headers, where a header is not. Use it only over HTTPS."
)


def _when(value: datetime | None) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _post_button(action: str, label: str, hidden: dict[str, str | int], cls: str = "small") -> str:
    fields = "".join(
        f'<input type="hidden" name="{k}" value="{escape(str(v))}">' for k, v in hidden.items()
    )
    return (
        f'<form method="post" action="{action}">{fields}'
        f'<button type="submit" class="{cls}">{escape(label)}</button></form>'
    )


def _who(request: Request) -> SignedIn | None:
    user = web_auth.from_cookie(request.headers.get("cookie"))
    return user if user is not None and user.scope in ("session", "single") else None


def _signed_in(
    handler: Callable[[Request, SignedIn], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Sign-in required (else to ``/signin``); POSTs must come from this site."""

    async def endpoint(request: Request) -> Response:
        if request.method == "POST" and not same_origin(request):
            return forbidden()
        user = await run_in_threadpool(_who, request)
        if user is None:
            return RedirectResponse("/signin?next=/settings", status_code=303)
        return await handler(request, user)

    return endpoint


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"/settings?done={done}", status_code=303)


def _int(form: dict[str, str], key: str) -> int:
    value = form.get(key, "")
    return int(value) if value.isdigit() and len(value) < 12 else -1


# ----------------------------------------------------------------------------- page


def _page_body(user: SignedIn, request: Request, error: str = "") -> str:
    with db() as s:
        sessions = acc.list_sessions(s, user.user_id)
        tokens = acc.list_tokens(s, user.user_id)
        invitations = acc.list_invitations(s, user.user_id) if user.role == "owner" else []
    done = MESSAGES.get(request.query_params.get("done", ""))
    notice = message_html(error) if error else (message_html(*done) if done else "")
    single = user.scope == "single"
    session_rows = "".join(
        f"<li><span>{escape(row.user_agent)} · {escape(row.address or '?')}<br>"
        f"<small>signed in {_when(row.created_at)}, last used {_when(row.last_seen_at)}"
        f"{' · this device' if row.id == user.session_id else ''}</small></span>"
        f"{_post_button('/settings/sessions/revoke', 'Sign out', {'id': row.id})}</li>"
        for row in sessions
    )
    token_rows = "".join(
        f"<li><span>{escape(t.name)} · <b>{escape(t.scope)}</b> · {escape(t.prefix)}…<br>"
        f"<small>created {_when(t.created_at)}, last used {_when(t.last_used_at)}</small></span>"
        f"{_post_button('/settings/tokens/revoke', 'Revoke', {'id': t.id})}</li>"
        for t in tokens
    )
    invitation_rows = "".join(
        f"<li><span>{escape(i.note or 'invitation')}<br><small>expires {_when(i.expires_at)}"
        f"</small></span>{_post_button('/settings/invitations/revoke', 'Withdraw', {'id': i.id})}"
        "</li>"
        for i in invitations
    )
    signout = "" if single else _post_button("/signout", "Sign out", {}, "small")
    app_links = "".join(f'<a href="{href}">{escape(label)}</a>' for label, href in NAV_LINKS)
    parts = [
        f'<nav class="topnav" id="settings-nav">{app_links}{signout}</nav>',
        notice,
        f'<p id="settings-user">Signed in as <b>{escape(user.username)}</b> '
        f"({escape(user.role)})</p>",
        "<section><h2>Password</h2>"
        '<form method="post" action="/settings/password" class="auth-form">'
        + field_html("current", "Current password", "password", "current-password")
        + field_html("new", "New password (at least 10 characters)", "password", "new-password")
        + field_html("new2", "New password again", "password", "new-password")
        + '<button type="submit" id="password-submit">Change password</button></form></section>',
        "<section><h2>Signed-in devices</h2>"
        "<p>Each stays signed in until 30 days after it was last used.</p>"
        f'<ul class="rows" id="sessions">{session_rows or "<li>none</li>"}</ul></section>',
        "<section><h2>API tokens</h2>"
        "<p>For other apps and scripts. <b>ingest</b> may only add trips and points; "
        f"<b>read</b> may also read your trips. {TOKEN_ADVICE}</p>"
        f'<ul class="rows" id="tokens">{token_rows or "<li>none</li>"}</ul>'
        '<form method="post" action="/settings/tokens" class="auth-form">'
        + field_html("name", "Device or app", "text", "off")
        + '<label for="scope">Scope</label><select id="scope" name="scope">'
        '<option value="ingest">ingest (add trips only)</option>'
        '<option value="read">read (add and read)</option></select>'
        '<button type="submit" id="token-submit">Create token</button></form></section>',
    ]
    if user.role == "owner":
        parts.append(
            "<section><h2>Invite someone</h2>"
            "<p>An invitation link makes one account; it expires after the days you choose. "
            "Each account's trips are private to it.</p>"
            f'<ul class="rows" id="invitations">{invitation_rows or "<li>none</li>"}</ul>'
            '<form method="post" action="/settings/invitations" class="auth-form">'
            + field_html("note", "For (a note for you)", "text", "off")
            + '<label for="days">Valid for</label><select id="days" name="days">'
            '<option value="1">1 day</option><option value="7" selected>7 days</option>'
            '<option value="30">30 days</option></select>'
            '<button type="submit" id="invite-submit">Create invitation link</button></form>'
            "</section>"
        )
    parts.append(
        "<section><h2>Your data</h2>"
        '<p><a href="/settings/export.zip" id="export-link" download>Download all my data</a> '
        "(a zip: every trip as GPX and GeoJSON, your garage and rule overrides as JSON).</p>"
        "</section>"
    )
    if not single:
        parts.append(
            "<section><h2>Delete my account</h2>"
            "<p>This deletes your account and everything it owns: vehicles, trips and their "
            "points, rule overrides, devices and tokens. It cannot be undone; download your "
            "data first.</p>"
            '<form method="post" action="/settings/delete" class="auth-form">'
            + field_html("password", "Password", "password", "current-password")
            + field_html("confirm", 'Type "delete" to confirm', "text", "off")
            + '<button type="submit" class="danger" id="delete-submit">Delete my account'
            "</button></form></section>"
        )
    return "\n".join(parts)


@_signed_in
async def settings_page(request: Request, user: SignedIn) -> Response:
    body = await run_in_threadpool(_page_body, user, request)
    return render_page("Settings", body, wide=True)


async def _redisplay(request: Request, user: SignedIn, error: str, status: int = 400) -> Response:
    body = await run_in_threadpool(_page_body, user, request, error)
    return render_page("Settings", body, status, wide=True)


# --------------------------------------------------------------------------- actions


@_signed_in
async def change_password(request: Request, user: SignedIn) -> Response:
    form = await read_form(request)
    if form.get("new", "") != form.get("new2", ""):
        return await _redisplay(request, user, "The two new passwords differ.")

    def change() -> None:
        with db() as s:
            acc.change_password(
                s, user.user_id, form.get("current", ""), form.get("new", ""), user.session_id
            )

    try:
        await run_in_threadpool(change)
    except AccountError as exc:
        return await _redisplay(request, user, str(exc).capitalize() + ".")
    return _back("password")


def _revoker(kind: str, revoke: Callable) -> Callable:
    @_signed_in
    async def endpoint(request: Request, user: SignedIn) -> Response:
        form = await read_form(request)

        def run() -> bool:
            with db() as s:
                return revoke(s, user.user_id, _int(form, "id"))  # only ever *my* rows

        return _back(kind if await run_in_threadpool(run) else "nothing")

    return endpoint


revoke_session = _revoker("session", acc.revoke_session)
revoke_token = _revoker("token", acc.revoke_token)
revoke_invitation = _revoker("invitation", acc.revoke_invitation)


def _shown_once(title: str, secret: str, note: str) -> Response:
    body = (
        f'<p>{note}</p><code class="secret" id="secret">{escape(secret)}</code>'
        "<p>It is shown this once only: copy it now.</p>"
        '<p><a href="/settings">Back to settings</a></p>'
    )
    return render_page(title, body, wide=True)


@_signed_in
async def create_token(request: Request, user: SignedIn) -> Response:
    form = await read_form(request)

    def create() -> str:
        with db() as s:
            return acc.create_token(s, user.user_id, form.get("name", ""), form.get("scope", ""))[0]

    try:
        token = await run_in_threadpool(create)
    except AccountError as exc:
        return await _redisplay(request, user, str(exc).capitalize() + ".")
    return _shown_once("Your new API token", token, TOKEN_ADVICE)


@_signed_in
async def create_invitation(request: Request, user: SignedIn) -> Response:
    form = await read_form(request)
    days = _int(form, "days")
    if days not in (1, 7, 30):
        return await _redisplay(request, user, "Choose how long the invitation is valid.")

    def create() -> str:
        with db() as s:
            code, _ = acc.create_invitation(
                s, user.user_id, note=form.get("note", ""), lifetime=timedelta(days=days)
            )
            return code

    try:
        code = await run_in_threadpool(create)
    except AccountError as exc:
        return await _redisplay(request, user, str(exc).capitalize() + ".", 403)
    scheme = "https" if web_auth.is_https(request) else "http"
    base = f"{scheme}://{request.headers.get('host', request.url.netloc)}"
    note = f"Send this link to the person you invite. It makes one account within {days} day(s)."
    return _shown_once("Invitation link", invitation_url(base, code), note)


@_signed_in
async def export_archive(request: Request, user: SignedIn) -> Response:
    # closed by the background task once sent (a with-block would close it too early)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115

    def build() -> None:
        with db() as s:
            data_export.write_archive(s, user.user_id, spool)
        spool.seek(0)

    await run_in_threadpool(build)

    def chunks():
        while piece := spool.read(256 * 1024):
            yield piece

    name = data_export.archive_name(user.username)
    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
        background=BackgroundTask(spool.close),
    )


@_signed_in
async def delete_account(request: Request, user: SignedIn) -> Response:
    form = await read_form(request)
    if user.scope == "single":
        return await _redisplay(request, user, "Single-user mode: delete accounts from the shell.")
    if form.get("confirm", "").strip().lower() != "delete":
        return await _redisplay(request, user, 'Type "delete" to confirm.')

    def delete() -> None:
        with db() as s:
            row = acc.find_user(s, user.username)
            ok, _ = verify_password(form.get("password", ""), row.password_hash if row else None)
            if not ok:
                raise AccountError("the password is wrong")
            acc.delete_account(s, user.user_id)

    try:
        await run_in_threadpool(delete)
    except AccountError as exc:
        return await _redisplay(request, user, str(exc).capitalize() + ".")
    response = RedirectResponse("/signin?deleted=1", status_code=303)
    web_auth.clear_session_cookie(response, request)
    return response


routes = [
    Route("/settings", settings_page, methods=["GET"]),
    Route("/settings/password", change_password, methods=["POST"]),
    Route("/settings/sessions/revoke", revoke_session, methods=["POST"]),
    Route("/settings/tokens", create_token, methods=["POST"]),
    Route("/settings/tokens/revoke", revoke_token, methods=["POST"]),
    Route("/settings/invitations", create_invitation, methods=["POST"]),
    Route("/settings/invitations/revoke", revoke_invitation, methods=["POST"]),
    Route("/settings/export.zip", export_archive, methods=["GET"]),
    Route("/settings/delete", delete_account, methods=["POST"]),
]
