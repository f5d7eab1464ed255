"""Engines (one per URL, cached) and sessions. The URL comes from ``config.database_url()``
at call time, so tests and ``DATABASE_URL`` changes take effect without a restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from kei_drive import config

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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE for track points
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


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
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            if database and database != ":memory:":
                with engine.connect() as conn:  # WAL: readers do not block the writer
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
        _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, forked workers)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error; objects stay readable
    after it closes (``expire_on_commit=False``)."""
    with Session(get_engine(url), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
