"""Trip exports written by worker processes (``kei_drive.server.export_worker``), so
that the server's own process keeps its CPU and interpreter lock for the uploads.

At most ``workers()`` exports are written at once (``KEI_DRIVE_EXPORT_WORKERS``, default
2; 0 writes them in the server's process, paced by ``kei_drive.api_priority``); more wait
their turn. Workers start on first use and are reused; one whose client left mid-export
is ended (it would block writing) and a new one starts when needed. The server holds one
frame (~256 KB) per export in flight: a slow client slows its worker, nothing piles up.

A database only this process can open (SQLite in memory) is exported in-process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from typing import BinaryIO

from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

from kei_drive.db.queries import NotFound
from kei_drive.server.export_worker import HEADER

WORKERS_ENV = "KEI_DRIVE_EXPORT_WORKERS"
DEFAULT_WORKERS = 1
WAIT_POLL_S = 0.05  # an export waiting for a worker looks again this often

log = logging.getLogger("kei_drive.export_pool")


class ExportFailed(RuntimeError):
    pass


def workers() -> int:
    try:
        return max(0, int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS)))
    except ValueError:
        return DEFAULT_WORKERS


def usable(url: str) -> bool:
    """Whether exports of ``url`` go to worker processes."""
    if workers() == 0:
        return False
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in url


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kei_drive.server.export_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, request: dict) -> None:
        stdin: BinaryIO = self.process.stdin  # type: ignore[assignment]
        stdin.write(json.dumps(request).encode() + b"\n")
        stdin.flush()

    def read_frame(self) -> tuple[bytes, bytes]:
        stdout: BinaryIO = self.process.stdout  # type: ignore[assignment]
        header = stdout.read(HEADER.size)
        if len(header) < HEADER.size:
            raise ExportFailed("the export worker ended")
        kind, size = HEADER.unpack(header)
        payload = stdout.read(size) if size else b""
        if len(payload) < size:
            raise ExportFailed("the export worker ended")
        return kind, payload

    def end(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()  # its pipes close with this object (a reader may be in one)


class _Pool:
    def __init__(self, size: int) -> None:
        self.size = size
        self.slots = threading.BoundedSemaphore(size)
        self.idle: list[_Worker] = []
        self.lock = threading.Lock()

    async def take_slot(self) -> None:
        while not self.slots.acquire(blocking=False):
            await asyncio.sleep(WAIT_POLL_S)

    def checkout(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    return worker
                worker.end()
        return _Worker()

    def checkin(self, worker: _Worker) -> None:
        with self.lock:
            self.idle.append(worker)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _the_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.size != workers():
            _pool = _Pool(workers())
        return _pool


def shutdown() -> None:
    """End the idle workers (those in use end when their export does)."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        with pool.lock:
            idle, pool.idle = pool.idle, []
        for worker in idle:
            worker.end()


async def open_export(
    url: str, trip: str, fmt: str, user_id: int
) -> tuple[AsyncIterator[bytes], str]:
    """The export's body and file name; ``NotFound`` before anything is streamed."""
    pool = _the_pool()
    await pool.take_slot()
    worker: _Worker | None = None
    try:
        worker = await run_in_threadpool(pool.checkout)
        request = {"url": url, "trip": trip, "fmt": fmt, "user_id": user_id}
        await run_in_threadpool(worker.send, request)
        kind, payload = await run_in_threadpool(worker.read_frame)
    except BaseException:
        if worker is not None:
            worker.end()
        pool.slots.release()
        raise
    if kind != b"N":
        pool.checkin(worker)
        pool.slots.release()
        if kind == b"X":
            raise NotFound(payload.decode())
        raise ExportFailed(payload.decode() or "the export failed")
    return _body(pool, worker), payload.decode()


async def _body(pool: _Pool, worker: _Worker) -> AsyncIterator[bytes]:
    finished = False
    try:
        while True:
            kind, payload = await run_in_threadpool(worker.read_frame)
            if kind == b"D":
                yield payload
            elif kind == b"E":
                finished = True
                return
            else:  # the document is cut short: the client sees an incomplete download
                log.error("an export failed while streaming: %s", payload.decode())
                finished = True
                return
    finally:
        if finished:
            pool.checkin(worker)
        else:  # the client left mid-export: the worker would block writing the rest
            worker.end()
        pool.slots.release()
