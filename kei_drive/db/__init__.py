"""Database adapter: sqlmodel tables, engine/session, Alembic migrations, queries.

Public entry points: ``app_session()`` (what pages, the API and the CLI use: the configured
database, migrated on first use), ``migrate(url=None)``, ``get_engine(url=None)``,
``session(url=None)`` and the query functions in ``kei_drive.db.queries``.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from kei_drive import config
from kei_drive.db.engine import dispose_engines, get_engine, normalize_url, session
from kei_drive.db.migrate import ensure_migrated, migrate
from kei_drive.db.models import TrackPointRow, Trip, User, Vehicle


def migrated_url(url: str | None = None) -> str:
    """``url`` (default: ``config.database_url()`` now), migrated on first use."""
    url = url or config.database_url()
    ensure_migrated(url)
    return url


@contextmanager
def app_session(url: str | None = None, *, write: bool = False) -> Iterator[Session]:
    """A session on the migrated database (see ``migrated_url``); commits on success, rolls
    back on error; ``write`` takes SQLite's write lock at once (see ``engine.session``)."""
    with session(migrated_url(url), write=write) as s:
        yield s


__all__ = [
    "TrackPointRow",
    "Trip",
    "User",
    "Vehicle",
    "app_session",
    "dispose_engines",
    "ensure_migrated",
    "get_engine",
    "migrate",
    "migrated_url",
    "normalize_url",
    "session",
]
