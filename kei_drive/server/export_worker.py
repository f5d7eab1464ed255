"""A process that writes trip exports (GPX, GeoJSON) for the server, one at a time.

Run by ``kei_drive.server.export_pool`` as ``python -m kei_drive.server.export_worker``.
Producing an export's text is CPU-bound Python; in the server's own process it held the
interpreter lock against the uploads (security probe M2: upload p99 from 15 ms to 3-4 s
with 10 clients exporting). Here it runs in its own process, at a lower CPU priority
(``NICE``), and the server only copies the bytes it receives to the client.

Protocol: one JSON request a line on stdin ``{"url", "trip", "fmt", "user_id"}``; frames
on stdout, each a kind byte, a 4-byte big-endian length and that many bytes:

- ``N`` the file name (first, once the trip is found), then ``D`` pieces of the document
  (about ``FRAME_BYTES`` each), then ``E`` (end, empty);
- ``X`` no such trip (instead of ``N``), ``F`` the export failed (the log has why).

A write blocks while the server has not read the previous frames (a pipe holds ~64 KB),
so a slow client costs no memory here. The process ends when stdin closes (the server
went away) or a write fails (the server stopped reading: the client left).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import sys
from typing import BinaryIO

NICE = 19  # exports get the CPU the server's uploads (and everything else) leave
FRAME_BYTES = 256 * 1024
HEADER = struct.Struct(">cI")

log = logging.getLogger("kei_drive.export_worker")


def write_frame(out: BinaryIO, kind: bytes, payload: bytes = b"") -> None:
    out.write(HEADER.pack(kind, len(payload)))
    out.write(payload)


def export(out: BinaryIO, request: dict) -> None:
    """One export, written as frames on ``out``."""
    from kei_drive.db import queries as q
    from kei_drive.db import session, trip_export
    from kei_drive.presenters.exports import ExportFormat, trip_filename

    fmt = ExportFormat(request["fmt"])
    with session(request["url"]) as s:
        try:
            trip = q.get_trip(s, request["trip"], request["user_id"])
        except q.NotFound as exc:
            write_frame(out, b"X", str(exc).encode())
            out.flush()
            return
        stream = (
            trip_export.export_gpx_stream(s, trip.id, request["user_id"])  # type: ignore[arg-type]
            if fmt is ExportFormat.GPX
            else trip_export.export_geojson_stream(s, trip.id, request["user_id"])  # type: ignore[arg-type]
        )
        write_frame(out, b"N", trip_filename(trip.uuid, fmt, trip.name or "").encode())
        out.flush()
        pending: list[str] = []
        size = 0
        for piece in stream:
            pending.append(piece)
            size += len(piece)
            if size >= FRAME_BYTES:
                write_frame(out, b"D", "".join(pending).encode())
                pending, size = [], 0
        if pending:
            write_frame(out, b"D", "".join(pending).encode())
    write_frame(out, b"E")
    out.flush()


def serve(requests: BinaryIO, out: BinaryIO) -> None:
    for line in requests:
        try:
            export(out, json.loads(line))
        except (BrokenPipeError, ConnectionError):
            return  # the server stopped reading this export: it ends this process
        except Exception:
            log.exception("export failed")
            write_frame(out, b"F", b"the export failed")
            out.flush()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(OSError):  # not allowed: run at the same priority
        os.nice(NICE)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the frames
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
