"""Group commit: the write jobs of concurrent requests share one transaction.

A durable SQLite commit waits for the disk (``fsync``: ~9 ms on the machine the load
benchmark ran on), and SQLite has one write lock. One commit per upload capped a server
at about a hundred uploads a second however little CPU each took: phones queued behind
each other's fsync (p99 in seconds, security probe M2). Here one writer thread per
database takes every job queued while the previous transaction was committing and runs
them together: one ``BEGIN IMMEDIATE``, each job in its own savepoint (a job that fails
rolls back alone and its caller gets its exception), one commit. A caller's future is
resolved only after that commit, so an answer still means "stored on disk".

The writer takes SQLite's lock with ``engine.begin_write`` (short polls, so it takes
turns with a bulk import); after ``BUSY_TIMEOUT_MS`` it gives up with the driver's
"database is locked" (the API answers 503 + ``Retry-After``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlmodel import Session

from kei_drive.db.engine import begin_write, get_engine

MAX_JOBS = 200  # per transaction
IDLE_EXIT_S = 30.0  # a writer with nothing to do for this long ends its thread

Job = Callable[[Session], Any]

_registry_lock = threading.Lock()
_writers: dict[str, _Writer] = {}


def submit(url: str, job: Job) -> Future:
    """Run ``job(session)`` in the next group transaction on ``url``; the future gets
    its result (or exception) once the transaction has committed. A job returns plain
    data: the ORM objects it loaded are detached as soon as it is done."""
    future: Future = Future()
    with _registry_lock:
        writer = _writers.get(url)
        if writer is None or not writer.thread.is_alive():  # first use, or it died
            writer = _writers[url] = _Writer(url)
            writer.thread.start()
        writer.jobs.put((job, future))
    return future


def run(url: str, job: Job, timeout_s: float = 120.0) -> Any:
    """``submit`` and wait (for callers in a thread)."""
    return submit(url, job).result(timeout=timeout_s)


class _Writer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.jobs: queue.SimpleQueue[tuple[Job, Future]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="kei-group-commit", daemon=True)

    def _loop(self) -> None:
        while True:
            try:
                group = [self.jobs.get(timeout=IDLE_EXIT_S)]
            except queue.Empty:
                with _registry_lock:  # submit() puts under this lock: no job is lost
                    if self.jobs.empty():
                        _writers.pop(self.url, None)
                        return
                continue
            while len(group) < MAX_JOBS:
                try:
                    group.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            group = [(job, f) for job, f in group if f.set_running_or_notify_cancel()]
            if not group:  # every caller gave up waiting
                continue
            try:
                self._run(group)
            except BaseException as exc:  # the thread ends: nobody is left waiting
                for _job, future in group:
                    if not future.done():
                        future.set_exception(exc)
                raise

    def _run(self, group: list[tuple[Job, Future]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            engine = get_engine(self.url)
            with Session(engine, expire_on_commit=False) as s:
                try:
                    begin_write(s)
                    for job, _future in group:
                        try:
                            with s.begin_nested():
                                outcomes.append((True, job(s)))
                        except Exception as exc:  # this job only: its savepoint rolled back
                            outcomes.append((False, exc))
                        s.expunge_all()  # the next job reads the rows afresh
                    s.commit()
                except BaseException:
                    s.rollback()
                    raise
        except Exception as exc:  # nothing of the group was stored
            for _job, future in group:
                future.set_exception(exc)
            return
        for (_job, future), (ok, value) in zip(group, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
