"""A real ``valhalla_service`` on loopback over given tiles, for tests of the HTTP engine."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kei_drive.routing.tiles import make_config, subprocess_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def valhalla_service(tiles: Path, run: Path, timeout_s: float = 20) -> Iterator[str]:
    """Serve ``tiles`` on 127.0.0.1 (private IPC sockets under ``run``); yields the URL and
    stops the server on exit."""
    port = _free_port()
    config = make_config(tiles)
    config["httpd"]["service"]["listen"] = f"tcp://127.0.0.1:{port}"
    for section in ("loki", "thor", "odin", "meili"):
        config[section]["service"]["proxy"] = f"ipc://{run}/{section}"
    config["httpd"]["service"]["loopback"] = f"ipc://{run}/loopback"
    config["httpd"]["service"]["interrupt"] = f"ipc://{run}/interrupt"
    config["httpd"]["service"]["drain_seconds"] = 0
    config["httpd"]["service"]["shutdown_seconds"] = 0
    cfg = run / "valhalla.json"
    cfg.write_text(json.dumps(config))
    url = f"http://127.0.0.1:{port}"
    with (run / "service.log").open("w") as log:
        proc = subprocess.Popen(
            ["valhalla_service", str(cfg), "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
        )
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    urllib.request.urlopen(url + "/status", timeout=1).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"valhalla_service did not start: {(run / 'service.log').read_text()}"
                        ) from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
