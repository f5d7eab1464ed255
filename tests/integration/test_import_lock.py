"""A big GPX import commits in chunks, so phones' uploads keep flowing meanwhile
(security probe M5: a 177k-fix import blocked uploads for 10 s, two got a 500)."""

from __future__ import annotations

import threading
import uuid as uuidlib

import pytest
import sqlalchemy as sa
from sqlmodel import func, select
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.core.gpx import to_gpx
from kei_drive.db import TrackPointRow, Trip, engine, get_engine, migrate, session, trip_import
from kei_drive.db import queries as q
from tests.support.trips import TrackBuilder

T0 = 1_714_834_800_000


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")  # about locks, not sign-in
    migrate(url)
    yield url
    engine.dispose_engines()


def gpx_of(seconds: int) -> str:
    return to_gpx(TrackBuilder().start().drive(seconds * 15.0, 15.0).points, name="Long one")


def test_import_commits_in_chunks(db, monkeypatch):
    monkeypatch.setattr(trip_import, "IMPORT_COMMIT_ROWS", 100)
    commits = []
    sa.event.listen(get_engine(db), "commit", lambda _conn: commits.append(1))
    with session(db) as s:
        ((trip, _stats),) = trip_import.import_gpx(s, gpx_of(999))
    assert len(commits) >= 10
    with session(db) as s:
        assert q.count_points(s, trip.id) == 1000
        assert q.get_trip(s, trip.id).recording_state == "finished"


def test_an_import_failing_half_way_leaves_nothing(db, monkeypatch):
    monkeypatch.setattr(trip_import, "IMPORT_COMMIT_ROWS", 100)
    real_insert = q._insert_point_rows  # the bulk insert of one chunk
    calls = []

    def failing_insert(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(q, "_insert_point_rows", failing_insert)
    with pytest.raises(OSError), session(db) as s:
        trip_import.import_gpx(s, gpx_of(999))
    with session(db) as s:
        assert s.exec(select(func.count()).select_from(Trip)).one() == 0
        assert s.exec(select(func.count()).select_from(TrackPointRow)).one() == 0


def test_uploads_during_a_big_import_get_no_error(db, monkeypatch):
    monkeypatch.setattr(trip_import, "IMPORT_COMMIT_ROWS", 2000)
    text = gpx_of(20_000)
    done = threading.Event()

    def run_import() -> None:
        try:
            with session(db) as s:
                trip_import.import_gpx(s, text)
        finally:
            done.set()

    statuses = []
    worker = threading.Thread(target=run_import)
    with TestClient(api) as client:
        trip = str(uuidlib.uuid4())
        worker.start()
        i = 0
        while not done.is_set() or i < 20:
            batch = [
                {
                    "id": f"p{i}-{k}",
                    "t": T0 + (i * 5 + k) * 1000,
                    "lat": 39.3,
                    "lon": -76.6 + k * 1e-4,
                }
                for k in range(5)
            ]
            statuses.append(
                client.post(f"/api/v1/trips/{trip}/points", json={"points": batch}).status_code
            )
            i += 1
        worker.join()
        reply = client.get(f"/api/v1/trips/{trip}").json()
        assert reply.get("point_count") == 5 * i, reply
    assert set(statuses) == {200}, statuses
    with session(db) as s:
        assert s.exec(select(func.count()).select_from(TrackPointRow)).one() == 20_001 + 5 * i
