"""Password hashing (argon2id through pwdlib) and the rules for names and passwords."""

from __future__ import annotations

import re
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256  # argon2 takes any length; a cap keeps hashing cheap to ask for
RESERVED_USERNAMES = frozenset({"local", "admin", "root", "system"})


class AccountError(ValueError):
    """A user-facing problem with a name, password, code or token (the message says which)."""


@cache
def _hasher() -> PasswordHash:
    # argon2id with pwdlib's defaults (RFC 9106 parameters); old hashes are upgraded on sign-in
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: ``new_hash`` is set when the stored hash uses old parameters.

    A missing hash (the pre-accounts placeholder user) never verifies, but a hash is still
    computed so that the answer takes as long as for a real account.
    """
    if not password_hash:
        _hasher().hash(password)
        return False, None
    try:
        return _hasher().verify_and_update(password, password_hash)
    except Exception:  # a corrupt stored hash: refuse, never crash the sign-in
        return False, None


def check_username(name: str) -> str:
    """The canonical (lower-case) user name, or ``AccountError``."""
    canonical = (name or "").strip().lower()
    if not USERNAME_RE.match(canonical):
        raise AccountError(
            "a user name is 1 to 32 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if canonical in RESERVED_USERNAMES:
        raise AccountError(f"the user name {canonical!r} is reserved")
    return canonical


def check_password_rules(password: str, username: str = "") -> str:
    """``password`` if acceptable (length rules as NIST SP 800-63B: long, not composed)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"a password is at most {MAX_PASSWORD_CHARS} characters")
    if username and password.strip().lower() == username.lower():
        raise AccountError("the password cannot be the user name")
    return password
