"""Group commit (``kei_drive.db.group_commit``): concurrent uploads share one transaction
and one disk flush, a failing job rolls back alone, and an answer means "committed"."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.db import engine, get_engine, group_commit, migrate
from kei_drive.db import queries as q

T0 = 1_714_834_800_000


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "kei.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")  # about writing, not sign-in
    migrate(url)
    yield path, url
    engine.dispose_engines()


def _commits(url: str) -> list[int]:
    """Write transactions begun from now on (each ends in one commit: one disk flush)."""
    seen: list[int] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.strip().upper() == "BEGIN IMMEDIATE":
            seen.append(1)

    sa.event.listen(get_engine(url), "after_cursor_execute", count)  # succeeded
    return seen


def _vehicle(name: str, fail: bool = False):
    def job(s):
        q.create_vehicle(s, name)
        if fail:
            raise ValueError(f"{name} failed")
        return name

    return job


def _nicknames(path) -> list[str]:
    with sqlite3.connect(path) as conn:  # another connection: only committed rows
        return [r[0] for r in conn.execute("SELECT nickname FROM vehicles ORDER BY nickname")]


def test_jobs_queued_together_share_one_commit_and_fail_alone(db):
    path, url = db
    group_commit.run(url, _vehicle("warm-up"))  # the placeholder user exists
    release, holding = threading.Event(), threading.Event()

    def blocker(s):  # keeps the writer busy while the next group queues up
        holding.set()
        assert release.wait(10)

    first = group_commit.submit(url, blocker)
    assert holding.wait(10)
    commits = _commits(url)  # the blocker's transaction has begun already
    futures = [
        group_commit.submit(url, _vehicle("A")),
        group_commit.submit(url, _vehicle("B", fail=True)),
        group_commit.submit(url, _vehicle("C")),
    ]
    release.set()
    first.result(10)
    assert futures[0].result(10) == "A"
    with pytest.raises(ValueError, match="B failed"):
        futures[1].result(10)
    assert futures[2].result(10) == "C"
    assert len(commits) == 1  # A, B and C in one transaction
    assert _nicknames(path) == ["A", "C", "warm-up"]  # visible once answered; B rolled back


def test_concurrent_uploads_share_commits_and_every_ack_is_stored(db):
    path, url = db
    clients = 30
    with TestClient(api) as client:
        client.put(f"/api/v1/trips/{uuidlib.uuid4()}", json={})  # migrated, user exists
    commits = _commits(url)
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # uploads queue up behind this writer

    def upload(i: int) -> tuple[str, int, dict]:
        trip = str(uuidlib.uuid4())
        fixes = [{"id": f"f{k}", "t": T0 + k * 1000, "lat": 39.3, "lon": -76.6} for k in range(3)]
        with TestClient(api) as client:
            reply = client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes})
        return trip, reply.status_code, reply.json()

    with ThreadPoolExecutor(clients) as pool:
        running = [pool.submit(upload, i) for i in range(clients)]
        time.sleep(1.0)
        lock.execute("COMMIT")
        results = [r.result(60) for r in running]
    lock.close()
    assert [status for _trip, status, _answer in results] == [200] * clients, results
    assert all(answer["accepted"] == 3 for _trip, _status, answer in results)
    assert len(commits) < clients / 3, len(commits)  # the first waits, the rest share
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM track_points").fetchone()[0] == 3 * clients


def test_a_held_lock_answers_503_and_loses_nothing_else(db, monkeypatch):
    path, url = db
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    trip = str(uuidlib.uuid4())
    fix = {"id": "f0", "t": T0, "lat": 39.3, "lon": -76.6}
    try:
        with TestClient(api) as client:
            reply = client.post(f"/api/v1/trips/{trip}/points", json={"points": [fix]})
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert reply.status_code == 503 and reply.headers["Retry-After"], reply.text
    with TestClient(api) as client:  # the phone retries once the lock is free
        again = client.post(f"/api/v1/trips/{trip}/points", json={"points": [fix]})
    assert again.status_code == 200 and again.json()["accepted"] == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM track_points").fetchone()[0] == 1


@pytest.mark.parametrize(("setting", "level"), [(None, 2), ("normal", 1), ("full", 2)])
def test_commits_wait_for_the_disk_unless_told_otherwise(tmp_path, monkeypatch, setting, level):
    """``KEI_DRIVE_SQLITE_SYNC``: full (2) by default, normal (1) only when asked."""
    if setting is None:
        monkeypatch.delenv(engine.SYNC_ENV, raising=False)
    else:
        monkeypatch.setenv(engine.SYNC_ENV, setting)
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    try:
        with get_engine(url).connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == level
    finally:
        engine.dispose_engines()


def test_an_unknown_sync_setting_is_refused(monkeypatch):
    monkeypatch.setenv(engine.SYNC_ENV, "off")
    with pytest.raises(ValueError, match="KEI_DRIVE_SQLITE_SYNC must be one of full, normal"):
        engine.sqlite_sync_mode()
