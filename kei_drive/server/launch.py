"""``reflex run --env prod`` with Kei Drive's app server settings (run by ``kei-drive serve``).

Reflex 0.10.1 compiles and builds the frontend, then starts granian (its production app
server) with fixed arguments in ``reflex.utils.exec.run_granian_backend_prod``. We keep all
of Reflex's steps and replace only that last one, so that granian, a maintained server:

- serves TLS itself under ``--https`` (no home-made proxy in front);
- bounds slow and idle clients: headers must arrive within ``HEADER_READ_TIMEOUT_MS`` (hyper
  applies the same limit to an idle keep-alive connection and to a connection that sends
  nothing), and each worker holds up to ``MAX_CONNECTIONS`` connections, far above what
  a few hundred idle sockets take (granian's default is 1,024, which 1,100 idle sockets
  exhausted);
- runs the app wrapped in the HTTP guard (``kei_drive.server.asgi:create_app``);
- gives each worker ``WORKERS_KILL_TIMEOUT_S`` to stop, so SIGTERM ends everything quickly.

Granian has no per-address cap: the HTTP guard caps the connections the app holds per
client address (websockets and requests in progress, ``server/http_guard.py``); a
connection that sends nothing never reaches the app and is closed after
``HEADER_READ_TIMEOUT_MS``.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import multiprocessing
import os
import resource
import sys
import warnings
from pathlib import Path

HEADER_READ_TIMEOUT_MS = 10_000
MAX_CONNECTIONS = 8_192  # per worker (granian "backpressure")
BACKLOG = 2_048
WORKERS_KILL_TIMEOUT_S = 4
TLS_CERT_ENV, TLS_KEY_ENV = "KEI_DRIVE_TLS_CERT", "KEI_DRIVE_TLS_KEY"


def raise_file_limit(wanted: int = 2 * MAX_CONNECTIONS + 1024) -> None:
    """Each connection is a file descriptor: lift the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run_granian(host: str, port: int, loglevel, app_target: str | None = None) -> None:
    """Stands in for ``reflex.utils.exec.run_granian_backend_prod`` (same signature)."""
    from granian.log import LogLevels
    from reflex.utils import exec as rx_exec

    if app_target is not None:
        raise RuntimeError("kei-drive serve runs the frontend and backend together")
    # Spawned workers import the app once. Forked ones inherit the build's registrations
    # and register every page again (Reflex then warns "Page … is being redefined").
    multiprocessing.set_start_method("spawn", force=True)
    server = app_server(
        "kei_drive.server.asgi:create_app",
        host,
        port,
        workers=int(os.getenv("GRANIAN_WORKERS", str(rx_exec._get_backend_workers()))),
        log_level=LogLevels(os.getenv("GRANIAN_LOG_LEVEL", loglevel.value)),
        log_dictconfig=rx_exec._granian_log_dictconfig(),
    )
    server.serve()


def app_server(target: str, host: str, port: int, *, workers: int = 1, **logging_options):
    """Granian with Kei Drive's limits, serving the ASGI factory ``target`` (tests serve a
    small app through the same settings)."""
    from granian.constants import HTTPModes, Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.server import Server

    cert, key = os.environ.get(TLS_CERT_ENV), os.environ.get(TLS_KEY_ENV)
    return Server(
        target=target,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,  # websockets over HTTP/1.1 upgrades, as Reflex's client uses
        websockets=True,
        workers=workers,
        backlog=BACKLOG,
        backpressure=MAX_CONNECTIONS,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS, keep_alive=True),
        ssl_cert=Path(cert) if cert else None,
        ssl_key=Path(key) if key else None,
        ssl_protocol_min=SSLProtocols.tls12,  # rustls offers only AEAD suites for 1.2
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
        **logging_options,
    )


class DropReflexNextSteps(logging.Filter):
    """On a first start Reflex initialises ``.web`` and ends with "Initialized kei_drive. Run
    `uv run reflex run` to start the app.": advice for Reflex projects, wrong here (serve is
    starting the app) and Reflex has no setting for it. Only that one message is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Initialized ") and "reflex run" in message)


def quiet_reflex_metadata_merge() -> None:
    """Reflex 0.10.1 builds its database metadata by copying every registered model's tables
    into a new MetaData. Our tables (and Reflex's own ``rx.Model``) all share SQLModel's one
    MetaData, so every copy after the first is skipped with "SAWarning: Table 'users' already
    exists within the given MetaData". The result is right (each table once) and Reflex has no
    setting for it, so only that warning, only from ``reflex.model``, is silenced."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings(
        "ignore",
        message=r"Table '[^']+' already exists within the given MetaData",
        category=SAWarning,
        module=r"reflex\.model",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kei_drive.server.launch")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    raise_file_limit()
    logging.getLogger("reflex.reflex").addFilter(DropReflexNextSteps())
    quiet_reflex_metadata_merge()

    from reflex.reflex import cli
    from reflex.utils import exec as rx_exec

    for name in ("run_granian_backend_prod", "notify_frontend"):
        if not hasattr(rx_exec, name):  # a Reflex upgrade moved it: fail loudly, not silently
            raise SystemExit(f"reflex.utils.exec.{name} is missing: update kei_drive/server")
    rx_exec.run_granian_backend_prod = run_granian
    # Reflex would print http://<bind address>; kei-drive serve prints the real URLs.
    rx_exec.notify_frontend = lambda url, backend_present=True: None
    port = str(args.port)
    code: int | str | None = 0
    try:
        cli.main(
            ["run", "--env", "prod", "--frontend-port", port, "--backend-port", port,
             "--backend-host", args.host],
            prog_name="reflex",
        )  # fmt: skip
    except SystemExit as stop:
        code = stop.code
    # Once granian has stopped, the interpreter's shutdown waits on granian's native
    # runtime for seconds ("<no Python frame>" in a faulthandler dump 2 s after Reflex's
    # exit handler ran). Everything is stopped and flushed by then: leave at once.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
