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


@contextmanager
def app_session(url: str | None = None) -> Iterator[Session]:
    """A session on ``url`` (default: ``config.database_url()`` now), migrated on first use;
    commits on success, rolls back on error."""
    url = url or config.database_url()
    ensure_migrated(url)
    with session(url) as s:
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
    "normalize_url",
    "session",
]
