"""Engines (one per URL, cached) and sessions. The URL comes from ``config.database_url()``
at call time, so tests and ``DATABASE_URL`` changes take effect without a restart."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from kei_drive import config

BUSY_TIMEOUT_MS = 5000  # wait this long for SQLite's single write lock, then 503
LOCK_POLL_S = 0.002  # begin_write tries for the lock this often
YIELD_S = 0.01  # a writer that has just committed lets a waiting one in (begin_write)
_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def normalize_url(url: str | None = None) -> str:
    """``config.database_url()`` by default; a bare ``postgresql://`` URL gets the driver
    that is installed (psycopg 3 preferred, as SQLAlchemy defaults to psycopg2)."""
    url = url or config.database_url()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            driver = "psycopg" if find_spec("psycopg") or not find_spec("psycopg2") else "psycopg2"
            return f"postgresql+{driver}://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SYNC_ENV = "KEI_DRIVE_SQLITE_SYNC"
SYNC_MODES = ("full", "normal")


def sqlite_sync_mode() -> str:
    """``full`` (default): a commit, so an upload's answer, waits until the disk has it.
    ``normal``: no flush per commit in WAL mode, so commits take microseconds instead of
    the disk's flush time, but a power cut or OS crash (not a crash of the app) can undo
    the last commits, including fixes a phone was told are stored and deleted."""
    mode = (os.environ.get(SYNC_ENV) or "full").strip().lower()
    if mode not in SYNC_MODES:
        raise ValueError(f"{SYNC_ENV} must be one of {', '.join(SYNC_MODES)}, not {mode!r}")
    return mode


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE for track points
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute(f"PRAGMA synchronous={sqlite_sync_mode().upper()}")
    cur.close()


def _private_sqlite_file(database: str) -> None:
    """Create the database 0600 in a 0700 folder: it holds the whole location history.
    SQLite gives its -wal and -shm files the database file's mode."""
    path = Path(database).expanduser()
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o600)  # made by an older version with the umask's 0644


def get_engine(url: str | None = None) -> sa.Engine:
    """The engine for ``url`` (default: the configured database), created once."""
    url = normalize_url(url)
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is not None:
            return engine
        if is_sqlite(url):
            database = make_url(url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                _private_sqlite_file(database)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            if database and database != ":memory:":
                with engine.connect() as conn:  # WAL: readers do not block the writer
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
        _ENGINES[url] = engine
        return engine


def dispose_engine(url: str | None = None) -> None:
    """Close the pooled connections of one engine: after a read-only or I/O error, SQLite
    connections stay broken; fresh ones work again once the file is writable."""
    with _LOCK:
        engine = _ENGINES.get(normalize_url(url))
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    """Close every cached engine (tests, forked workers)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


@contextmanager
def session(url: str | None = None, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error; objects stay readable
    after it closes (``expire_on_commit=False``).

    ``write=True`` takes SQLite's write lock at the start (``BEGIN IMMEDIATE``): a
    transaction that reads first and writes later cannot then fail at once with
    "database is locked" when another writer committed in between; it waits up to
    ``BUSY_TIMEOUT_MS`` instead.
    """
    engine = get_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        if write and engine.dialect.name == "sqlite":
            s.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def begin_write(s: Session) -> None:
    """Take SQLite's write lock now (``BEGIN IMMEDIATE``) on the session's connection,
    trying every ``LOCK_POLL_S`` for up to ``BUSY_TIMEOUT_MS`` (then the driver's
    "database is locked"). SQLite's own busy handler sleeps up to 100 ms between tries
    and so loses the lock, again and again, to a writer that takes it back within
    milliseconds (a bulk import, the uploads' group commit): polling lets them take
    turns. Any open transaction of the session is committed first (on every database);
    a writer that has just committed that way (a bulk import between its chunks) first
    waits ``YIELD_S``: without that pause it took the lock back before the uploads' next
    poll, again and again (uploads waited up to 360 ms for it in the load benchmark)."""
    committed = s.in_transaction()
    if committed:
        s.commit()
    if s.get_bind().dialect.name != "sqlite":
        return  # row locks: nothing to take in advance
    if committed:
        time.sleep(YIELD_S)
    conn = s.connection()
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL_S)
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
