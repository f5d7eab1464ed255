"""The per-address cap (issue 12, point 2) in the real app server: granian with Kei Drive's
settings serving a small app behind the HTTP guard, over real loopback sockets.

Loopback is exempt under ``kei-drive serve`` (this machine, or a reverse proxy on it); here the
guard counts it (``cap_loopback``) and 127.0.0.2 stands for a second client address."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from kei_drive.server.http_guard import SETTINGS_ENV, GuardSettings
from tests.browser.app_server import free_port

ROOT = Path(__file__).resolve().parents[2]
CAP = 8


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    settings = GuardSettings.create([], port, False, max_per_address=CAP, cap_loopback=True)
    env = os.environ | {SETTINGS_ENV: settings.to_env(), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.guarded_echo", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while request(port, "/ping") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def connect(port: int, source: str) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def request(port: int, path: str, source: str = "127.0.0.1") -> bytes | None:
    """The status line and headers of a GET, or None when nothing answers."""
    try:
        with connect(port, source) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
            )
            return read_head(sock)
    except OSError:
        return None


def open_websocket(port: int, source: str = "127.0.0.1") -> tuple[socket.socket, bytes]:
    """A page's websocket: the upgrade's answer, and the socket left open and idle."""
    sock = connect(port, source)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /_event HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return sock, read_head(sock)


def close_code(sock: socket.socket, head: bytes) -> int | None:
    """The close code of the server's first frame after an accepted upgrade."""
    assert status(head) == 101, head
    frame = head.split(b"\r\n\r\n", 1)[1]
    while len(frame) < 4:
        frame += sock.recv(64)
    assert frame[0] == 0x88, frame  # FIN + close
    return int.from_bytes(frame[2:4], "big")


def status(head: bytes | None) -> int | None:
    return int(head.split(b" ", 2)[1]) if head else None


def test_one_address_holds_at_most_the_cap_and_others_are_served(server):
    with ExitStack() as held:
        for _ in range(CAP):
            sock, head = open_websocket(server)
            held.enter_context(sock)
            assert status(head) == 101, head
        sock, head = open_websocket(server)
        held.enter_context(sock)
        assert close_code(sock, head) == 1013  # "try again later": the address holds its share
        answer = request(server, "/ping")
        assert status(answer) == 429, answer
        assert b"retry-after: 5" in answer.lower()
        started = time.monotonic()
        other = request(server, "/ping", source="127.0.0.2")  # another client is served
        assert status(other) == 200 and time.monotonic() - started < 1.0, other
    # The websockets closed: their slots are free again.
    deadline = time.monotonic() + 5
    while status(request(server, "/ping")) != 200:
        assert time.monotonic() < deadline, "slots were not given back"
        time.sleep(0.1)
    sock, head = open_websocket(server)
    with sock:
        assert status(head) == 101, head


def test_requests_in_progress_count_and_are_given_back(server):
    """Stalled uploads hold slots too (until the body timeout); finished requests do not."""
    for _ in range(3 * CAP):  # many sequential requests: each slot is given back
        assert status(request(server, "/ping")) == 200
    with ExitStack() as held:
        for _ in range(CAP):  # a body that never comes: the request stays in progress
            sock = held.enter_context(connect(server, "127.0.0.1"))
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n")
        time.sleep(0.5)
        assert status(request(server, "/ping")) == 429
        assert status(request(server, "/ping", source="127.0.0.2")) == 200
