"""Phones' uploads before exports: one process serves everything, and an export is
CPU-bound Python that competes with uploads for the interpreter (the GIL). The security
probe saw upload p99 go from 15 ms to 3-4 s with 10 clients exporting.

An export produces its next piece of text only when no upload is being handled (waiting
at most ``MAX_YIELD_S`` so exports still progress under steady uploads), and at most
``EXPORT_SLOTS`` exports produce at once. A slow reader holds no slot while its socket
drains.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

EXPORT_SLOTS = 1
MAX_YIELD_S = 0.25
_POLL_S = 0.002

_uploads = 0
_uploads_lock = threading.Lock()
_export_slots = threading.BoundedSemaphore(EXPORT_SLOTS)


@contextmanager
def upload_in_progress() -> Iterator[None]:
    """Around the handling of one upload."""
    global _uploads
    with _uploads_lock:
        _uploads += 1
    try:
        yield
    finally:
        with _uploads_lock:
            _uploads -= 1


def uploads_in_progress() -> int:
    return _uploads


@contextmanager
def export_turn() -> Iterator[None]:
    """Around the production of one piece of an export."""
    deadline = time.monotonic() + MAX_YIELD_S
    while _uploads and time.monotonic() < deadline:
        time.sleep(_POLL_S)  # releases the interpreter to the uploads
    with _export_slots:
        yield


def paced(pieces: Iterator[str]) -> Iterator[str]:
    """``pieces`` produced one export turn at a time."""
    while True:
        with export_turn():
            piece = next(pieces, None)
        if piece is None:
            return
        yield piece
