"""Is the database usable for writing? Read-only files and momentary locks, said plainly.

``write_problem(url)`` is the start-up check (and the per-request re-check while the
database is known to be read-only); ``classify(exc)`` turns a driver error into
``"locked"`` (retry in a moment) or ``"readonly"`` (retry once someone fixes the file).
After a read-only or I/O error the engine's pooled connections are disposed, so writes
work again by themselves once the file is writable, without a restart.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from kei_drive.db.engine import dispose_engine, get_engine, is_sqlite, normalize_url

RECHECK_EVERY_S = 2.0  # while read-only, probe at most this often (each probe writes)
READONLY_MESSAGE = (
    "the database is read-only, so nothing can be saved right now; your data is kept and "
    "writes resume by themselves once the database file and its folder are writable again"
)
LOCKED_MESSAGE = "the database is busy with another write; retry in a moment"

_LOCK = threading.Lock()
_READONLY: dict[str, tuple[str, float]] = {}  # url -> (reason, time of the last probe)

_READONLY_MARKERS = (
    "readonly database",
    "read-only",
    "disk i/o error",
    "unable to open database file",
    "read only",  # PostgreSQL: cannot execute INSERT in a read-only transaction
)


def classify(exc: BaseException) -> str | None:
    """``"locked"``, ``"readonly"`` or None for an exception from the database driver."""
    if not isinstance(exc, sa.exc.DBAPIError | sqlite3.Error):
        return None
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "database is locked" in text or "database table is locked" in text:
        return "locked"
    if any(marker in text for marker in _READONLY_MARKERS):
        return "readonly"
    return None


def _sqlite_probe(database: str) -> str | None:
    """Commit an unchanged ``user_version`` through a fresh connection.
    A file we cannot open read-write makes SQLite fall back to read-only silently, and a
    read-only -wal file shows only when a commit writes to it."""
    path = Path(database).expanduser()
    if not path.exists():
        folder = path.parent
        return None if folder.exists() else f"the database folder {folder} does not exist"
    try:
        conn = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    except sqlite3.Error as exc:
        return f"cannot open {path}: {exc}"
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower():
            return None  # busy is not read-only
        return f"{path} is not writable ({exc})"
    finally:
        conn.close()
    return None


def write_problem(url: str | None = None) -> str | None:
    """Why the database cannot be written right now, or None when it can."""
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return _sqlite_probe(database)
    try:
        with get_engine(url).connect() as conn:
            if conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                return "the database server only allows reading"
    except sa.exc.DBAPIError as exc:
        return f"cannot reach the database ({type(exc.orig).__name__})"
    return None


def mark_readonly(url: str | None, reason: str) -> None:
    """Remember that writes fail, and drop the broken pooled connections."""
    url = normalize_url(url)
    with _LOCK:
        _READONLY[url] = (reason, time.monotonic())
    dispose_engine(url)


def readonly_reason(url: str | None = None) -> str | None:
    """The reason writes fail, re-probing at most every ``RECHECK_EVERY_S``; None once
    the database is writable again (recovery needs no restart)."""
    url = normalize_url(url)
    with _LOCK:
        known = _READONLY.get(url)
    if known is None:
        return None
    reason, checked = known
    if time.monotonic() - checked < RECHECK_EVERY_S:
        return reason
    problem = write_problem(url)
    with _LOCK:
        if problem is None:
            _READONLY.pop(url, None)
        else:
            _READONLY[url] = (problem, time.monotonic())
    if problem is None:
        dispose_engine(url)
    return problem
