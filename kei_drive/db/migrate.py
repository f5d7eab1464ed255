"""Alembic migrations, run from Python: ``migrate()`` upgrades the database to head.

The scripts live in ``alembic/`` next to ``alembic.ini`` at the project root (the layout
``reflex db init`` makes, so ``reflex db migrate`` / ``makemigrations`` use them too).

Alembic is imported only when a database is not at head: ``ensure_migrated`` first reads
the revision the database records and compares it with the head revision of the scripts
(read from their ``revision`` / ``down_revision`` lines), which costs milliseconds where
loading Alembic and its migration context cost ~0.3 s of every CLI command.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from kei_drive.db.engine import get_engine, normalize_url

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_DIR = PROJECT_ROOT / "alembic"
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"

_DONE: set[str] = set()
_LOCK = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None) -> None:
    """Upgrade the database at ``url`` (default ``config.database_url()``) to the latest
    revision. Works on an empty database, SQLite or PostgreSQL."""
    from alembic import command

    url = normalize_url(url)
    cfg = alembic_config(url)
    with (
        get_engine(url).connect() as connection,
        foreign_keys_off(connection),
        connection.begin(),
    ):
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    _DONE.add(url)


@contextmanager
def foreign_keys_off(connection) -> Iterator[None]:
    """SQLite: foreign keys off while migrating. A batch migration copies a table and
    drops the old one; with them on, the drop cascades (``ON DELETE CASCADE``): adding a
    key to ``ingest_devices`` deleted every logger fix. The copy keeps every row and
    reference. (The pragma is set between transactions: inside one it does nothing.)"""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # pooled: as the engine sets it
        connection.commit()


def ensure_migrated(url: str | None = None) -> None:
    """``migrate`` once per URL per process (cheap to call on every request); a database
    already at head is only read (its version table), Alembic is not loaded."""
    url = normalize_url(url)
    if url in _DONE:
        return
    with _LOCK:
        if url not in _DONE:
            if at_head(url):
                _DONE.add(url)
            else:
                migrate(url)


_ASSIGNED = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.M)


@cache
def script_head() -> str | None:
    """The head revision of the scripts in ``alembic/versions``, read from their
    ``revision`` and ``down_revision`` assignments without loading Alembic; None when
    that is not one plain head (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((ALEMBIC_DIR / "versions").glob("*.py")):
        found = dict(_ASSIGNED.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else (down or ()))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(url: str | None = None) -> bool:
    """Does the database record exactly the scripts' head revision?"""
    head = script_head()
    if head is None:
        return False
    try:
        with get_engine(url).connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except sa.exc.DBAPIError:  # no version table yet (a new database)
        return False
    return [row[0] for row in rows] == [head]


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
