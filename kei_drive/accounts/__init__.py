"""Accounts, pure logic: password hashing, secrets (session ids, API tokens, invitation
codes) and their digests, sign-in throttling, device labels.

No database, web framework or network here; ``kei_drive.db.accounts`` stores accounts,
``kei_drive.web_auth`` reads them from HTTP requests and Reflex events.
"""

from kei_drive.accounts.codes import (
    INVITATION_PREFIX,
    SESSION_PREFIX,
    TOKEN_PREFIX,
    digest,
    new_secret,
)
from kei_drive.accounts.passwords import (
    AccountError,
    check_password_rules,
    check_username,
    hash_password,
    verify_password,
)
from kei_drive.accounts.throttle import FAILURE_LIMIT, FAILURE_WINDOW_S, retry_after_s
from kei_drive.accounts.useragent import device_label

__all__ = [
    "FAILURE_LIMIT",
    "FAILURE_WINDOW_S",
    "INVITATION_PREFIX",
    "SESSION_PREFIX",
    "TOKEN_PREFIX",
    "AccountError",
    "check_password_rules",
    "check_username",
    "device_label",
    "digest",
    "hash_password",
    "new_secret",
    "retry_after_s",
    "verify_password",
]
