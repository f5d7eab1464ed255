"""Who a credential belongs to, remembered for a few seconds.

A phone uploads every second or three; looking its session cookie (or API token) up in
the database each time cost about a third of an upload's CPU. An answer is remembered
for ``TTL_S`` seconds per database, per credential, in each server process:

- a revocation made in this process (sign-out, "sign out that device", a revoked token, a
  new password, a deleted account) forgets everything at once, and again when its
  transaction commits;
- one made elsewhere (``kei-drive users set-password``/``tokens revoke`` on the command
  line, another server worker) takes effect within ``TTL_S`` seconds.

Each answer is kept for a random part of ``TTL_S`` (from half to all of it): phones that
signed in together would otherwise all be looked up again in the same second, every
``TTL_S`` seconds (a burst of database reads in the thread pool that delayed every upload
behind it: the load benchmark's p99 of 0.3-0.7 s with the phones alone).

Only positive answers are kept (a stranger's guesses fill nothing), keyed by a digest of
the credential (the secret itself is not kept), at most ``MAX_ENTRIES``.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

TTL_S = float(os.environ.get("KEI_DRIVE_AUTH_CACHE_S") or 5.0)
MAX_ENTRIES = 10_000

_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, Any]] = {}  # key -> (expires, answer)


def _key(database: str, credential: str) -> tuple[str, str]:
    return database, hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()


def peek(database: str, credential: str) -> Any:
    """The remembered answer, or None (never touches the database: for the event loop)."""
    if TTL_S <= 0:
        return None
    with _lock:
        hit = _entries.get(_key(database, credential))
    return hit[1] if hit is not None and time.monotonic() < hit[0] else None


def lookup[T](database: str, credential: str, load: Callable[[], T | None]) -> T | None:
    """The remembered answer for ``credential``, else ``load()`` (remembered unless None)."""
    if TTL_S <= 0:
        return load()
    key, now = _key(database, credential), time.monotonic()
    with _lock:
        hit = _entries.get(key)
    if hit is not None and now < hit[0]:
        return hit[1]
    generation = _generation
    value = load()
    if value is not None:
        with _lock:
            if generation == _generation:  # nothing was revoked meanwhile
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = (now + TTL_S * random.uniform(0.5, 1.0), value)
    return value


_generation = 0


def forget_all() -> None:
    """After any change to who may sign in: every answer is looked up afresh."""
    global _generation
    with _lock:
        _entries.clear()
        _generation += 1


def forget_on_commit(session: Any) -> None:
    """``forget_all`` now and once ``session`` commits (a lookup in between could have
    read the rows as they were before the change)."""
    import sqlalchemy as sa

    forget_all()
    sa.event.listen(session, "after_commit", lambda _session: forget_all(), once=True)
