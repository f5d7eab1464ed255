"""Alembic environment for Kei Drive.

The URL comes from ``kei_drive.config.database_url()`` (``DATABASE_URL``), unless a
caller passes a connection (``kei_drive.db.migrate``) or sets ``sqlalchemy.url``.
"""

from logging.config import fileConfig

from sqlmodel import SQLModel

import kei_drive.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alembic import context
from kei_drive.db.engine import get_engine, normalize_url
from kei_drive.db.migrate import foreign_keys_off

config = context.config
connection = config.attributes.get("connection")

# Only configure logging for the alembic command line, never inside the running app.
if connection is None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    return normalize_url(config.get_main_option("sqlalchemy.url") or None)


def _configure(**kw) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
        **kw,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # (the command line: SQLite's foreign keys off, as ``kei_drive.db.migrate`` has them, or a
    # batch copy of ``trips`` deletes every track point)
    with get_engine(_url()).connect() as conn, foreign_keys_off(conn):
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
