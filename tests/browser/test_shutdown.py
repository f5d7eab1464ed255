"""``kei-drive serve`` stops cleanly when only its main process gets SIGTERM (a container
runtime or process manager): every child exits within 10 s and the port is free again."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.browser.app_server import AppServer


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as any server binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM])
def test_signal_to_the_main_process_stops_every_child_and_frees_the_port(tmp_path_factory, signum):
    server = AppServer(tmp_path_factory.mktemp("shutdown-home"), log_name="server-shutdown.log")
    server.start()
    try:
        children = server.descendants()
        assert len(children) >= 2  # the app server and at least one worker
        assert not port_is_free(server.port)
        started = time.monotonic()
        os.kill(server.process.pid, signum)  # the main process alone, not its group
        server.process.wait(timeout=10)
        while any(alive(pid) for pid in children) and time.monotonic() - started < 10:
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert not [pid for pid in children if alive(pid)], server.tail()
        assert elapsed < 10
        assert port_is_free(server.port)
        assert "Stopping Kei Drive" in server.tail()
    finally:
        server.stop()
