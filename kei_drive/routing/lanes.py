"""Engine calls side by side: many independent requests (a long track's chunks, a sparse log's
steps) on engines of their own, one per thread; the in-process engine lets go of the GIL, so
two lanes use two cores."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from kei_drive.routing.base import Router

# Lanes at most: on two cores a third engine gained nothing measurable and cost ~38 MB
# (docs/performance.md, session 9).
LANES = min(2, os.cpu_count() or 1)


def in_lanes[T, R](
    router: Router,
    ask: Callable[[Router, T], R],
    jobs: Sequence[T],
    lanes: int = LANES,
    min_jobs: int = 2,
) -> Iterator[R]:
    """``ask(lane, job)`` for each job, in order: on ``lanes`` engines of their own side by
    side when ``router`` has lanes (``LocalValhallaRouter.lanes``) and there are ``min_jobs``
    jobs or more; else on ``router`` itself, one by one (an HTTP router's server has threads
    of its own). Every job is handed to the lanes at the start, whatever the caller then
    takes. The lanes' engines go with the iterator: an engine keeps the memory of its largest
    request."""
    lanes_of = getattr(router, "lanes", None)
    if lanes_of is None or lanes < 2 or len(jobs) < max(min_jobs, 2):
        yield from (ask(router, job) for job in jobs)
        return
    free: queue.SimpleQueue[Router] = queue.SimpleQueue()
    for lane in lanes_of(lanes):
        free.put(lane)

    def run(job: T) -> R:
        lane = free.get()
        try:
            return ask(lane, job)
        finally:
            free.put(lane)

    with ThreadPoolExecutor(lanes) as pool:
        yield from pool.map(run, jobs)
