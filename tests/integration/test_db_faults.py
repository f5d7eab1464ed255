"""Database faults said plainly (security probe M4, M5, L8) and exports streamed in constant
memory (M1b), on a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import threading
import time
import tracemalloc
import uuid as uuidlib
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.core.gpx import read_gpx, to_geojson
from kei_drive.db import engine, health, migrate, session
from kei_drive.db import queries as q
from tests.support.trips import TrackBuilder

T0 = 1_714_834_800_000


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "data" / "kei_drive.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")  # about the database, not sign-in
    migrate(url)
    yield path, url
    engine.dispose_engines()


def fixes(n: int, start: int = 0, prefix: str = "f") -> list[dict]:
    return [
        {"id": f"{prefix}{i}", "t": T0 + i * 1000, "lat": 39.29 + i * 1e-5, "lon": -76.61}
        for i in range(start, start + n)
    ]


@contextmanager
def read_only(path: Path):
    """Make the database file (and its WAL) unwritable. Root ignores mode bits, so as
    root the files are made immutable (``chattr +i``), as the probe did."""
    files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, files)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [*files, path.parent]}
        for p in files:
            p.chmod(0o444)
        path.parent.chmod(0o555)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, files)], check=True)
        else:
            for p, mode in modes.items():
                p.chmod(stat.S_IMODE(mode))


def test_database_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    from kei_drive import config

    home = config.home_dir()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    path = tmp_path / "other" / "kei.db"
    url = f"sqlite:///{path}"
    try:
        migrate(url)
        with session(url) as s:
            q.create_vehicle(s, "Sammy")
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if name.exists():
                assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
    finally:
        engine.dispose_engines()


def test_momentary_lock_is_a_retryable_503(db, monkeypatch):
    path, url = db
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    engine.dispose_engines()
    trip = str(uuidlib.uuid4())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's single write lock
    try:
        with TestClient(api) as client:
            r = client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes(5)})
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"] == "2"
            assert r.json() == {
                "error": "the database is busy with another write; retry in a moment",
                "retry_after_s": 2,
            }
            holder.execute("ROLLBACK")
            r = client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes(5)})
            assert r.status_code == 200 and r.json()["accepted"] == 5
    finally:
        holder.close()


def test_read_only_database_is_503_then_recovers_without_restart(db, monkeypatch):
    path, url = db
    monkeypatch.setattr(health, "RECHECK_EVERY_S", 0.2)
    trip = str(uuidlib.uuid4())
    with TestClient(api) as client:
        assert (
            client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes(5)}).json()[
                "accepted"
            ]
            == 5
        )
        with read_only(path):
            assert health.write_problem(url) is not None  # what start-up reports
            for attempt in range(3):
                r = client.post(
                    f"/api/v1/trips/{trip}/points", json={"points": fixes(5, 5 + attempt * 5)}
                )
                assert r.status_code == 503, r.text
                assert r.json()["error"] == health.READONLY_MESSAGE
                assert int(r.headers["Retry-After"]) > 0
                time.sleep(0.25)
            assert client.get(f"/api/v1/trips/{trip}").json()["point_count"] == 5  # reads work
        assert health.write_problem(url) is None
        time.sleep(0.25)
        r = client.post(f"/api/v1/trips/{trip}/points", json={"points": fixes(5, 5)})
        assert r.status_code == 200, r.text
        assert r.json()["point_count"] == 10


def test_start_up_says_the_database_is_read_only(db, capsys):
    from kei_drive.server.runner import migrate_database

    path, _url = db
    lines: list[str] = []
    with read_only(path):
        migrate_database(log=lines.append)
    assert any("read-only" in line for line in lines), lines
    lines.clear()
    migrate_database(log=lines.append)
    assert not any("read-only" in line for line in lines), lines


def _big_trip(url: str, n: int) -> str:
    trip = str(uuidlib.uuid4())
    points = [
        q.PointIn(f"p{i}", T0 + i * 1000, 39.0 + i * 1e-5, -76.6, 5.0, 12.5, 90.0, 30.0)
        for i in range(n)
    ]
    with session(url) as s:
        row, _ = q.ensure_trip(s, trip, name="Long <haul> & back")
        q.add_points(s, row, points)
    return trip


def test_exports_stream_valid_documents(db):
    _path, url = db
    track = TrackBuilder().start().drive(2_000, 15.0)
    trip = str(uuidlib.uuid4())
    with session(url) as s:
        row, _ = q.ensure_trip(s, trip, name="Ferry\x0b run")
        q.add_points(
            s,
            row,
            [
                q.PointIn(f"x{i}", round(p.time.timestamp() * 1000), p.lat, p.lon, p.accuracy_m)
                for i, p in enumerate(track.points)
            ],
        )
        expected = to_geojson(
            q.trip_points(s, row.id), name="Ferry\x0b run", properties={"uuid": trip, "stats": None}
        )
    with TestClient(api) as client:
        gpx = client.get(f"/api/v1/trips/{trip}/export.gpx")
        assert gpx.headers["content-type"].startswith("application/gpx+xml")
        ET.fromstring(gpx.text)
        back = read_gpx(gpx.text)[0]
        assert len(back) == len(track.points)
        assert [(p.lat, p.lon) for p in back] == [(p.lat, p.lon) for p in track.points]
        geo = client.get(f"/api/v1/trips/{trip}/export.geojson")
        assert json.loads(geo.text) == expected
        assert client.get(f"/api/v1/trips/{uuidlib.uuid4()}/export.gpx").status_code == 404


def test_parallel_exports_take_constant_memory(db, monkeypatch):
    """Four clients export a 60,000-fix trip at once; the process allocates a small
    fraction of one document (the old exporter held every fix as objects, ~750 MB per
    export of 928k fixes). Written in this process (no export workers), so that
    tracemalloc sees the writer; the workers' memory: tests/integration/test_export_pool.py."""
    monkeypatch.setenv("KEI_DRIVE_EXPORT_WORKERS", "0")
    _path, url = db
    trip = _big_trip(url, 60_000)
    sizes: list[int] = []
    with TestClient(api) as client:

        def export(kind: str) -> None:
            total = 0
            with client.stream("GET", f"/api/v1/trips/{trip}/export.{kind}") as reply:
                for chunk in reply.iter_bytes():
                    total += len(chunk)
            sizes.append(total)

        tracemalloc.start()
        threads = [threading.Thread(target=export, args=(k,)) for k in ("gpx", "gpx", "geojson")]
        threads.append(threading.Thread(target=export, args=("geojson",)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"4 parallel exports: {sum(sizes) / 1e6:.1f} MB sent, peak {peak / 1e6:.1f} MB traced")
    assert min(sizes) > 2_500_000 and max(sizes) > 12_000_000  # documents of many MB ...
    assert peak < 10_000_000  # ... all four at once held less than the GPX alone
