"""Accounts in the database: users, sign-in, sessions, API tokens, invitations.

Every function takes an open ``Session`` (``kei_drive.db.session``). Secrets are handed
out once and stored as digests (``kei_drive.accounts.codes``). Whatever changes who may
sign in (new account, password, sign-out, revoked session or token, deleted account)
clears the brief credential cache of this process (``kei_drive.auth_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kei_drive import auth_cache
from kei_drive.accounts import (
    INVITATION_PREFIX,
    SESSION_PREFIX,
    TOKEN_PREFIX,
    AccountError,
    check_password_rules,
    check_username,
    device_label,
    digest,
    hash_password,
    new_secret,
    retry_after_s,
    verify_password,
)
from kei_drive.accounts.throttle import FAILURE_WINDOW_S
from kei_drive.db.models import (
    ROLES,
    TOKEN_SCOPES,
    ApiToken,
    Invitation,
    SigninFailure,
    User,
    UserSession,
    utcnow,
)

PLACEHOLDER_USERNAME = "local"  # the pre-accounts owner of everything; no password
SESSION_LIFETIME = timedelta(days=30)  # sliding: renewed on use
SESSION_TOUCH_EVERY = timedelta(minutes=10)  # write last_seen at most this often
INVITATION_LIFETIME = timedelta(days=7)
SETUP_CODE_LIFETIME = timedelta(days=7)
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
WRONG_CREDENTIALS = "wrong user name or password"


class NoSuchUser(LookupError):
    """No account by that name (or several accounts and none named)."""


class SigninThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _aware(value: datetime) -> datetime:
    from kei_drive.db.queries import as_utc

    return as_utc(value)  # type: ignore[return-value]


# ------------------------------------------------------------------------------ users


def accounts_exist(s: Session) -> bool:
    """True once any account has a password (the placeholder user does not count)."""
    return (
        s.exec(select(User.id).where(User.password_hash.is_not(None)).limit(1)).first() is not None
    )  # type: ignore[union-attr]


def find_user(s: Session, name: str) -> User | None:
    canonical = (name or "").strip().lower()
    return s.exec(select(User).where(User.username == canonical)).first()


def default_user(s: Session) -> User:
    """The only user (for the CLI without ``--user`` and ``--single-user`` serving).

    With no user yet, the placeholder is created (it owns what is recorded before the
    first account exists, and that account claims it). With several accounts, the first
    owner in single-user mode is not guessed here: ``NoSuchUser`` asks for a name.
    """
    users = s.exec(select(User).order_by(User.id).limit(2)).all()
    if not users:
        user = User(username=PLACEHOLDER_USERNAME, display_name="Local driver", role="owner")
        s.add(user)
        s.flush()
        return user
    if len(users) > 1:
        names = ", ".join(u.username for u in s.exec(select(User).order_by(User.id)))
        raise NoSuchUser(f"several accounts ({names}): name one with --user")
    return users[0]


def first_owner(s: Session) -> User:
    """The oldest owner (single-user serving acts as this account)."""
    owner = s.exec(select(User).where(User.role == "owner").order_by(User.id)).first()
    return owner or default_user(s)


def resolve_user(s: Session, name: str | None) -> User:
    """``--user NAME`` for the CLI: that account, or the only one when ``name`` is None."""
    if name is None:
        return default_user(s)
    user = find_user(s, name)
    if user is None:
        raise NoSuchUser(f"no account named {name!r}")
    return user


def create_account(
    s: Session, name: str, password: str, role: str | None = None, display_name: str = ""
) -> User:
    """A new account. The first one is the owner and claims the placeholder user (so the
    trips and vehicles recorded before accounts existed become its own)."""
    username = check_username(name)
    check_password_rules(password, username)
    first = not accounts_exist(s)
    role = "owner" if first else (role or "member")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if find_user(s, username) is not None:
        raise AccountError(f"the user name {username!r} is taken")
    placeholder = find_user(s, PLACEHOLDER_USERNAME) if first else None
    if placeholder is not None and placeholder.password_hash is None:
        user = placeholder
        user.username = username
    else:
        user = User(username=username)
    user.display_name = display_name.strip()[:120] or username
    user.role = role
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    s.add(user)
    s.flush()
    if first:
        from kei_drive.db.legacy_files import import_legacy_files

        import_legacy_files(s)  # the shared overrides and permits files become its own
    return user


def list_users(s: Session) -> list[User]:
    return list(s.exec(select(User).order_by(User.id)))


def set_password(s: Session, user: User, password: str) -> None:
    check_password_rules(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    s.add(user)
    s.flush()
    auth_cache.forget_on_commit(s)


def change_password(
    s: Session, user_id: int, current: str, new: str, keep_session_id: int | None = None
) -> int:
    """Change the password after checking the current one; signs out every other session
    and returns how many were signed out."""
    user = s.get(User, user_id)
    if user is None:
        raise NoSuchUser("no such account")
    ok, _ = verify_password(current, user.password_hash)
    if not ok:
        raise AccountError("the current password is wrong")
    set_password(s, user, new)
    stmt = sa.delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    return s.execute(stmt).rowcount or 0


def delete_account(s: Session, user_id: int) -> None:
    """Delete the account and everything it owns (the database cascades: vehicles, trips
    and their points, sessions, tokens, overrides, invitations it made)."""
    user = s.get(User, user_id)
    if user is None:
        raise NoSuchUser("no such account")
    if user.role == "owner":
        owners = s.exec(select(User.id).where(User.role == "owner")).all()
        others = s.exec(select(User.id).where(User.id != user_id).limit(1)).first()
        if len(owners) == 1 and others is not None:
            raise AccountError(
                "the only owner cannot delete their account while other accounts exist"
            )
    s.execute(sa.delete(User).where(User.id == user_id))
    s.flush()
    auth_cache.forget_on_commit(s)
    s.expunge_all()  # rows deleted by the cascade must not linger in the identity map


# --------------------------------------------------------------------------- sign-in


def _failures(s: Session, key: str, now: datetime) -> list[datetime]:
    since = now - timedelta(seconds=FAILURE_WINDOW_S)
    rows = s.exec(
        select(SigninFailure.at).where(SigninFailure.key == key, SigninFailure.at > since)
    )
    return [_aware(t) for t in rows]


def throttle_keys(name: str, address: str) -> list[str]:
    return [f"user:{(name or '').strip().lower()[:120]}", f"addr:{(address or '?')[:120]}"]


def check_throttle(s: Session, name: str, address: str, now: datetime | None = None) -> int:
    """Seconds to wait before another sign-in attempt for this name or address (0: go)."""
    now = now or utcnow()
    return max(retry_after_s(_failures(s, key, now), now) for key in throttle_keys(name, address))


def record_failure(s: Session, name: str, address: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    s.execute(sa.delete(SigninFailure).where(SigninFailure.at < now - timedelta(hours=1)))
    for key in throttle_keys(name, address):
        s.add(SigninFailure(key=key, at=now))
    s.flush()


def authenticate(s: Session, name: str, password: str, address: str) -> User | None:
    """The account for this name and password, or None for wrong credentials (the failure
    is recorded in ``s``: let the session commit). ``SigninThrottled`` after 5 failures
    in a minute for the name or for the address. Callers answer ``WRONG_CREDENTIALS``
    whether or not the name exists."""
    wait = check_throttle(s, name, address)
    if wait:
        raise SigninThrottled(wait)
    user = find_user(s, name) if name else None
    ok, new_hash = verify_password(password or "", user.password_hash if user else None)
    if user is None or not ok:
        record_failure(s, name, address)
        return None
    if new_hash:
        user.password_hash = new_hash
        s.add(user)
    return user


# --------------------------------------------------------------------------- sessions


def start_session(s: Session, user: User, user_agent: str = "", address: str = "") -> str:
    """A new session; returns the cookie value (shown once, stored as a digest)."""
    value, hashed = new_secret(SESSION_PREFIX)
    now = utcnow()
    s.add(
        UserSession(
            user_id=user.id,  # type: ignore[arg-type]
            id_hash=hashed,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            user_agent=device_label(user_agent)[:200],
            address=(address or "")[:64],
        )
    )
    s.flush()
    return value


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    role: str
    session_id: int | None  # None for API tokens and single-user mode
    scope: str  # "session" (full), "ingest" or "read" (API tokens), "single" (no sign-in)
    renewed: bool = False  # the session's expiry moved: re-send the cookie


def session_user(s: Session, cookie_value: str | None) -> SignedIn | None:
    """Who this session cookie belongs to (None: missing, unknown, expired or revoked).

    Use slides the expiry to 30 days from now (written at most every 10 minutes)."""
    if not cookie_value or not cookie_value.startswith(SESSION_PREFIX):
        return None
    row = s.exec(select(UserSession).where(UserSession.id_hash == digest(cookie_value))).first()
    now = utcnow()
    if row is None:
        return None
    if _aware(row.expires_at) <= now:
        s.delete(row)
        s.flush()
        return None
    user = s.get(User, row.user_id)
    if user is None or user.password_hash is None:
        return None
    renewed = now - _aware(row.last_seen_at) >= SESSION_TOUCH_EVERY
    if renewed:
        row.last_seen_at, row.expires_at = now, now + SESSION_LIFETIME
        s.add(row)
        s.flush()
    return SignedIn(user.id, user.username, user.role, row.id, "session", renewed)  # type: ignore[arg-type]


def end_session(s: Session, cookie_value: str | None) -> None:
    if cookie_value:
        s.execute(sa.delete(UserSession).where(UserSession.id_hash == digest(cookie_value)))
        auth_cache.forget_on_commit(s)


def list_sessions(s: Session, user_id: int) -> list[UserSession]:
    now = utcnow()
    rows = s.exec(
        select(UserSession)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.last_seen_at.desc())  # type: ignore[attr-defined]
    )
    return [r for r in rows if _aware(r.expires_at) > now]


def revoke_session(s: Session, user_id: int, session_id: int) -> bool:
    """Sign one of *my* sessions out (another user's id changes nothing)."""
    result = s.execute(
        sa.delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    auth_cache.forget_on_commit(s)
    return bool(result.rowcount)


def purge_expired_sessions(s: Session) -> int:
    result = s.execute(sa.delete(UserSession).where(UserSession.expires_at <= utcnow()))
    return result.rowcount or 0


# ---------------------------------------------------------------------------- tokens


def create_token(s: Session, user_id: int, name: str, scope: str) -> tuple[str, ApiToken]:
    """A personal API token; returns ``(token, row)``. The token is shown once only."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise AccountError("a token needs a device or app name of 1 to 80 characters")
    if scope not in TOKEN_SCOPES:
        raise AccountError(f"scope must be one of: {', '.join(TOKEN_SCOPES)}")
    if s.get(User, user_id) is None:
        raise NoSuchUser("no such account")
    value, hashed = new_secret(TOKEN_PREFIX)
    row = ApiToken(user_id=user_id, token_hash=hashed, prefix=value[:10], name=name, scope=scope)
    s.add(row)
    s.flush()
    return value, row


def token_user(s: Session, token: str | None) -> SignedIn | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = s.exec(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    if row is None:
        return None
    user = s.get(User, row.user_id)
    if user is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - _aware(row.last_used_at) >= TOKEN_TOUCH_EVERY:
        row.last_used_at = now
        s.add(row)
        s.flush()
    return SignedIn(user.id, user.username, user.role, None, row.scope)  # type: ignore[arg-type]


def list_tokens(s: Session, user_id: int) -> list[ApiToken]:
    return list(s.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_token(s: Session, user_id: int, token_id: int) -> bool:
    result = s.execute(
        sa.delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    auth_cache.forget_on_commit(s)
    return bool(result.rowcount)


# ----------------------------------------------------------------------- invitations


def create_invitation(
    s: Session,
    invited_by: int,
    note: str = "",
    lifetime: timedelta = INVITATION_LIFETIME,
    role: str = "member",
) -> tuple[str, Invitation]:
    """An invitation code for one new account (owners only); ``(code, row)``."""
    inviter = s.get(User, invited_by)
    if inviter is None or inviter.role != "owner":
        raise AccountError("only an owner can invite people")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    value, hashed = new_secret(INVITATION_PREFIX)
    now = utcnow()
    row = Invitation(
        code_hash=hashed,
        role=role,
        invited_by=invited_by,
        note=(note or "").strip()[:120],
        created_at=now,
        expires_at=now + lifetime,
    )
    s.add(row)
    s.flush()
    return value, row


def new_setup_code(s: Session) -> str | None:
    """The first-run code for creating the owner account, or None when an account exists.

    Each call replaces any earlier setup code (only the latest printed one works)."""
    if accounts_exist(s):
        return None
    s.execute(sa.delete(Invitation).where(Invitation.invited_by.is_(None)))  # type: ignore[union-attr]
    value, hashed = new_secret(INVITATION_PREFIX)
    now = utcnow()
    s.add(
        Invitation(
            code_hash=hashed,
            role="owner",
            invited_by=None,
            note="first-run setup",
            created_at=now,
            expires_at=now + SETUP_CODE_LIFETIME,
        )
    )
    s.flush()
    return value


def valid_invitation(s: Session, code: str | None) -> Invitation | None:
    """The unused, unexpired invitation for ``code`` (a setup code only while no account
    exists); None otherwise."""
    if not code or not code.startswith(INVITATION_PREFIX):
        return None
    row = s.exec(select(Invitation).where(Invitation.code_hash == digest(code))).first()
    if row is None or row.used_at is not None or _aware(row.expires_at) <= utcnow():
        return None
    if row.invited_by is None and accounts_exist(s):
        return None
    return row


def accept_invitation(s: Session, code: str, name: str, password: str) -> User:
    invitation = valid_invitation(s, code)
    if invitation is None:
        raise AccountError("this invitation is not valid (used, expired or withdrawn)")
    user = create_account(s, name, password, role=invitation.role)
    invitation.used_at = utcnow()
    s.add(invitation)
    s.flush()
    return user


def list_invitations(s: Session, invited_by: int) -> list[Invitation]:
    now = utcnow()
    rows = s.exec(
        select(Invitation).where(Invitation.invited_by == invited_by).order_by(Invitation.id)
    )
    return [r for r in rows if r.used_at is None and _aware(r.expires_at) > now]


def revoke_invitation(s: Session, invited_by: int, invitation_id: int) -> bool:
    result = s.execute(
        sa.delete(Invitation).where(
            Invitation.id == invitation_id, Invitation.invited_by == invited_by
        )
    )
    return bool(result.rowcount)
