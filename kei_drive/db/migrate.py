"""Alembic migrations, run from Python: ``migrate()`` upgrades the database to head.

The scripts live in ``alembic/`` next to ``alembic.ini`` at the project root (the layout
``reflex db init`` makes, so ``reflex db migrate`` / ``makemigrations`` use them too).
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from kei_drive.db.engine import get_engine, normalize_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_DIR = PROJECT_ROOT / "alembic"
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"

_DONE: set[str] = set()
_LOCK = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None) -> None:
    """Upgrade the database at ``url`` (default ``config.database_url()``) to the latest
    revision. Works on an empty database, SQLite or PostgreSQL."""
    url = normalize_url(url)
    cfg = alembic_config(url)
    with get_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    _DONE.add(url)


def ensure_migrated(url: str | None = None) -> None:
    """``migrate`` once per URL per process (cheap to call on every request)."""
    url = normalize_url(url)
    if url in _DONE:
        return
    with _LOCK:
        if url not in _DONE:
            migrate(url)


def current_revision(url: str | None = None) -> str | None:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
