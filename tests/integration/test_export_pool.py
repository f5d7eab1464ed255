"""Exports written by worker processes (``kei_drive.server.export_pool``): the same
documents as the in-process writer, 404 before streaming, bounded memory in the worker,
and a client leaving mid-export ends that worker without stopping later exports."""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.db import engine, migrate, session
from kei_drive.db import queries as q
from kei_drive.server import export_pool
from tests.support.trips import fresh_db_url

T0 = 1_714_834_800_000


@pytest.fixture
def db(tmp_path, monkeypatch):
    yield from _database(f"sqlite:///{tmp_path / 'kei_drive.db'}", monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path, monkeypatch):
    yield from _database(fresh_db_url(request.param, tmp_path), monkeypatch)


def _database(url: str, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv(export_pool.WORKERS_ENV, "2")
    migrate(url)
    export_pool.shutdown()
    yield url
    export_pool.shutdown()
    engine.dispose_engines()


def _trip(url: str, n: int, name: str = "Long <haul> & back") -> str:
    trip = str(uuidlib.uuid4())
    with session(url) as s:
        row, _ = q.ensure_trip(s, trip, name=name)
        q.add_points(
            s,
            row,
            [
                q.PointIn(f"p{i}", T0 + i * 1000, 39.0 + i * 1e-5, -76.6, 5.0, 12.5, 90.0, 30.0)
                for i in range(n)
            ],
        )
    return trip


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _idle_worker_pids() -> list[int]:
    return [w.process.pid for w in export_pool._the_pool().idle if w.alive()]


def test_worker_exports_match_the_in_process_writer(any_db, monkeypatch):
    trip = _trip(any_db, 3_000, name="Ferry\x0b run")
    with TestClient(api) as client:
        by_worker = {k: client.get(f"/api/v1/trips/{trip}/export.{k}") for k in ("gpx", "geojson")}
        assert _idle_worker_pids(), "the exports went through a worker"
        missing = client.get(f"/api/v1/trips/{uuidlib.uuid4()}/export.gpx")
        monkeypatch.setenv(export_pool.WORKERS_ENV, "0")
        in_process = {k: client.get(f"/api/v1/trips/{trip}/export.{k}") for k in ("gpx", "geojson")}
    assert missing.status_code == 404 and "error" in missing.json()
    for kind in ("gpx", "geojson"):
        assert by_worker[kind].status_code == 200
        assert by_worker[kind].content == in_process[kind].content
        assert (
            by_worker[kind].headers["content-disposition"]
            == (in_process[kind].headers["content-disposition"])
        )
    assert "\x0b" not in by_worker["gpx"].text


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_worker_memory_stays_flat_on_a_big_export(db):
    """A 120,000-fix export (~30 MB of GPX) raises the worker's peak RSS by far less than
    the document: it is written as the rows are read."""
    small, big = _trip(db, 100), _trip(db, 120_000)
    with TestClient(api) as client:
        assert client.get(f"/api/v1/trips/{small}/export.gpx").status_code == 200
        (pid,) = _idle_worker_pids()
        before = _peak_rss_kb(pid)
        size = 0
        with client.stream("GET", f"/api/v1/trips/{big}/export.gpx") as reply:
            for chunk in reply.iter_bytes():
                size += len(chunk)
        assert _idle_worker_pids() == [pid]  # the same worker, reused
        grown_mb = (_peak_rss_kb(pid) - before) / 1024
    print(f"export of {size / 1e6:.0f} MB: worker peak RSS grew {grown_mb:.1f} MB")
    assert size > 25_000_000
    assert grown_mb < 15


def run_async[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: in a full test run, Playwright's sync API
    (the browser tests) leaves an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_client_leaving_mid_export_ends_its_worker_only(db):
    trip = _trip(db, 60_000)

    async def scenario() -> tuple[int, int]:
        body, _name = await export_pool.open_export(db, trip, "gpx", None)  # type: ignore[arg-type]
        first = await anext(body)
        assert _idle_worker_pids() == []
        await body.aclose()  # the client left
        assert _idle_worker_pids() == []  # that worker was ended, not put back
        total = 0
        body, _name = await export_pool.open_export(db, trip, "gpx", None)  # type: ignore[arg-type]
        async for chunk in body:
            total += len(chunk)
        return len(first), total

    first, total = run_async(scenario())
    assert 0 < first < total
    assert total > 12_000_000 and len(_idle_worker_pids()) == 1


def test_exports_beyond_the_workers_wait_their_turn(db):
    trip = _trip(db, 20_000)

    async def scenario() -> list[int]:
        async def one() -> int:
            body, _name = await export_pool.open_export(db, trip, "geojson", None)  # type: ignore[arg-type]
            return sum([len(chunk) async for chunk in body])

        return await asyncio.gather(*(one() for _ in range(5)))

    sizes = run_async(scenario())
    assert len(set(sizes)) == 1 and sizes[0] > 900_000
    assert 1 <= len(_idle_worker_pids()) <= 2  # never more workers than the limit
