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


# What a first start printed before (issue #8 point 9): none of it was a fault.
FAULT_LIKE = (
    "is being redefined",  # pages registered twice in forked workers
    "Node.js is out of date",  # Reflex judged Debian's node although bun runs the build
    "Traceback",
    "Error",
    "uv run reflex run",  # Reflex's next-steps advice after initialising .web
    "SAWarning",  # Reflex merging the tables' shared metadata
    "Warning:",
)


def assert_clean_start_up(server: AppServer) -> None:
    """The start-up output says what is prepared and where the app is, and nothing alarming."""
    deadline = time.monotonic() + 10  # printed as soon as the app first answers
    while "Kei Drive is running at" not in server.log_path.read_text():
        assert time.monotonic() < deadline, server.tail()
        time.sleep(0.2)
    output = server.log_path.read_text()
    assert "Preparing the app" in output
    assert f"Kei Drive is running at http://localhost:{server.port}/" in output
    found = [line for line in output.splitlines() if any(f in line for f in FAULT_LIKE)]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("signum", [signal.SIGTERM])
def test_signal_to_the_main_process_stops_every_child_and_frees_the_port(tmp_path_factory, signum):
    server = AppServer(tmp_path_factory.mktemp("shutdown-home"), log_name="server-shutdown.log")
    server.start()
    try:
        assert_clean_start_up(server)
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
