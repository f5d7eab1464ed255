"""A failing page event: plain words for a read-only or busy database, an error id and
no internal text otherwise (security probe M4, L7)."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys

import sqlalchemy as sa

from kei_drive.db import health
from kei_drive.page_errors import backend_exception_handler, page_error_message
from tests.conftest import PROJECT_ROOT


def db_error(text: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError(text))


def test_read_only_and_locked_databases_are_said_plainly(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    message = page_error_message(db_error("attempt to write a readonly database"))
    assert message == f"Not saved: {health.READONLY_MESSAGE}."
    assert page_error_message(db_error("database is locked")).startswith("Not saved: the database")


def test_other_errors_get_an_id_and_no_internal_text(caplog):
    with caplog.at_level(logging.ERROR, logger="kei_drive.pages"):
        message = page_error_message(RuntimeError("secret /srv/kei path"))
    assert "secret" not in message and "Error id" in message
    error_id = message.split("Error id ")[1].split(" ")[0]
    assert error_id in caplog.text and "secret /srv/kei path" in caplog.text
    assert backend_exception_handler(RuntimeError("x")) is not None


def test_reflex_accepts_the_handler():
    # In a process of its own: Reflex allows one App per process, and other tests build one.
    check = (
        "from reflex.app import App\n"
        "from kei_drive.page_errors import backend_exception_handler as handler\n"
        "App(backend_exception_handler=handler)._validate_exception_handlers()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
