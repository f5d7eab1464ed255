"""Database adapter: sqlmodel tables, engine/session, Alembic migrations, queries.

Public entry points: ``migrate(url=None)``, ``get_engine(url=None)``, ``session(url=None)``
and the query functions in ``kei_drive.db.queries``.
"""

from kei_drive.db.engine import dispose_engines, get_engine, normalize_url, session
from kei_drive.db.migrate import ensure_migrated, migrate
from kei_drive.db.models import TrackPointRow, Trip, User, Vehicle

__all__ = [
    "TrackPointRow",
    "Trip",
    "User",
    "Vehicle",
    "dispose_engines",
    "ensure_migrated",
    "get_engine",
    "migrate",
    "normalize_url",
    "session",
]
