"""Opening a database already at the latest migration reads its version table and does not
load Alembic (db/migrate.ensure_migrated); any other database is migrated by Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kei_drive.db.migrate import at_head, current_revision, head_revision, script_head

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from kei_drive.db.migrate import ensure_migrated
ensure_migrated(sys.argv[1])
print("alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
"""


def open_database(url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_head_is_read_from_the_scripts_as_alembic_reads_it():
    assert script_head() == head_revision()


def test_a_database_at_head_is_opened_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    assert not at_head(url)  # a new database has no version table
    assert open_database(url) == "alembic loaded"  # so it is migrated
    assert at_head(url)
    assert current_revision(url) == head_revision()
    assert open_database(url) == "alembic not loaded"


def test_a_database_recording_another_revision_is_not_at_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    open_database(url)
    from kei_drive.db.engine import get_engine

    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    assert not at_head(url)
