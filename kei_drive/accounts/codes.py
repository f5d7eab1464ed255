"""Random secrets and their digests.

Session ids, API tokens and invitation codes are 256-bit random values; the database
keeps only their SHA-256 digest, so a leaked database (or backup) cannot be used to sign
in. A fast digest is enough here (unlike passwords): nobody can guess 256 random bits.
"""

from __future__ import annotations

import hashlib
import secrets as _random

SESSION_PREFIX = "kds_"
TOKEN_PREFIX = "kdt_"  # personal API tokens: recognisable in logs and secret scanners
INVITATION_PREFIX = "kdi_"


def new_secret(prefix: str) -> tuple[str, str]:
    """``(secret, digest)``: hand the secret out once, store the digest."""
    value = prefix + _random.token_urlsafe(32)
    return value, digest(value)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
