"""Run the Reflex app in production mode (one port serves pages, API and websocket).

``serve`` prepares the toolchain, the database and (``--https``) the certificate, then runs
``kei_drive.server.launch`` (Reflex's build + granian) in its own process group. SIGTERM or
SIGINT to this process stops that whole group: the app server gets the signal first and
``STOP_GRACE_S`` to finish; whatever is left then is killed, so the port is free again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from kei_drive import config
from kei_drive.server import tls, toolchain
from kei_drive.server.http_guard import DEFAULT_MAX_PER_ADDRESS, SETTINGS_ENV, GuardSettings
from kei_drive.server.launch import TLS_CERT_ENV, TLS_KEY_ENV

STOP_GRACE_S = 7.0  # then SIGKILL: everything is gone well within 10 s
ALLOWED_HOSTS_ENV = "KEI_DRIVE_ALLOWED_HOSTS"  # more names, comma-separated
WILDCARDS = ("0.0.0.0", "::", "")


class ServeError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServeOptions:
    host: str = "0.0.0.0"
    port: int = 3000
    https: bool = False
    public_host: str | None = None  # the name/IP phones use; defaults to the LAN address
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS  # connections held per client address


def project_root() -> Path:
    """The source checkout holding rxconfig.py (Reflex compiles the app there)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "rxconfig.py").exists():
        raise ServeError(f"rxconfig.py not found in {root}: run kei-drive from a source checkout")
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reflex_environment(bun_dir: Path, api_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    path = os.pathsep.join([str(toolchain.node_shim_dir(bun_dir)), str(bun_dir)])
    env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_BUN_PATH"] = str(bun_dir / "bun")
    env["REFLEX_USE_GRANIAN"] = "true"
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    registry = toolchain.npm_registry()
    if registry:
        env.setdefault("NPM_CONFIG_REGISTRY", registry)
    if api_url:
        env["REFLEX_API_URL"] = api_url
    return env


def public_host(options: ServeOptions) -> str | None:
    if options.public_host:
        return options.public_host
    if options.host in ("127.0.0.1", "localhost", "::1"):
        return None
    if options.host not in WILDCARDS:
        return options.host
    return tls.lan_address()


def allowed_hosts(options: ServeOptions) -> list[str]:
    """Host names the server answers to (anything else gets 421): loopback, the bind
    address, the public name, and with a wildcard bind this machine's names and addresses."""
    hosts = {"localhost", "127.0.0.1", "::1"}
    hosts.update(filter(None, [public_host(options)]))
    extra = os.environ.get(ALLOWED_HOSTS_ENV, "")
    hosts.update(name.strip() for name in extra.split(",") if name.strip())
    if options.host not in WILDCARDS:
        hosts.add(options.host)
    else:
        name = socket.gethostname()
        hosts.update([name, f"{name}.local"])
        with contextlib.suppress(OSError):
            hosts.update(info[4][0] for info in socket.getaddrinfo(name, None))
    return sorted(h.lower() for h in hosts)


def urls_to_open(options: ServeOptions) -> list[str]:
    scheme = "https" if options.https else "http"
    hosts = ["localhost"]
    if lan := public_host(options):
        hosts.append(f"[{lan}]" if ":" in lan else lan)
    return [f"{scheme}://{host}:{options.port}/" for host in hosts]


def image_origins() -> tuple[str, ...]:
    """The map tile server's origin, for the CSP's img-src."""
    from urllib.parse import urlsplit

    parts = urlsplit(config.raster_tile_url())
    return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme and parts.netloc else ()


def serve(options: ServeOptions, log=print) -> int:
    root = project_root()
    bun_dir = toolchain.ensure_bun(log)
    migrate_database(log)
    api_url = None
    env = {}
    public = public_host(options) or "127.0.0.1"
    if options.https:
        names = sorted({"localhost", "127.0.0.1", public})
        cert, key = tls.ensure_certificate(config.home_dir() / "tls", names)
        api_url = f"https://{public}:{options.port}"  # the page's websocket goes here
        env.update({TLS_CERT_ENV: str(cert), TLS_KEY_ENV: str(key)})
        log(f"TLS certificate (self-signed, accept it once on the phone): {cert}")
    guard = GuardSettings.create(
        allowed_hosts(options),
        options.port,
        options.https,
        image_origins=image_origins(),
        max_per_address=options.max_per_address,
    )
    env[SETTINGS_ENV] = guard.to_env()
    if options.host in WILDCARDS:
        log("Listening on every network interface: anyone on this network can reach the app.")
    log("Preparing the app (compiling the pages and building the web bundle, about 20-60 s)…")
    command = [sys.executable, "-m", "kei_drive.server.launch"]
    command += ["--host", options.host, "--port", str(options.port)]
    return run_until_signal(command, root, reflex_environment(bun_dir, api_url) | env, options, log)


def run_until_signal(
    command: list[str], cwd: Path, env: dict[str, str], options: ServeOptions, log
) -> int:
    """Run the app in its own process group; SIGTERM/SIGINT stop the whole group."""
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)  # granian stops its workers gracefully

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    threading.Thread(target=_announce_when_ready, args=(process, options, log), daemon=True).start()
    try:
        while process.poll() is None and not received:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        if received:
            log("Stopping Kei Drive…")
        _stop_group(process, STOP_GRACE_S if received else 0.0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if received else (process.returncode or 0)


def _stop_group(process: subprocess.Popen, grace_s: float) -> None:
    """Give the app server ``grace_s`` to stop, then end whatever is left of its group
    (orphans such as multiprocessing's resource tracker, which ignores SIGTERM)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 1.0
        while _group_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(process: subprocess.Popen) -> bool:
    """Whether any process other than a zombie is left in the app's process group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == process.pid and fields[0] != "Z":
                return True
    return False


def _announce_when_ready(process: subprocess.Popen, options: ServeOptions, log) -> None:
    import ssl

    context = ssl._create_unverified_context() if options.https else None
    scheme = "https" if options.https else "http"
    ping = f"{scheme}://127.0.0.1:{options.port}/ping"
    if options.host not in WILDCARDS + ("127.0.0.1", "localhost"):
        ping = f"{scheme}://{options.host}:{options.port}/ping"
    while process.poll() is None:
        with contextlib.suppress(OSError), urllib.request.urlopen(ping, timeout=2, context=context):
            for url in urls_to_open(options):
                log(f"Kei Drive is running at {url}")
            return
        time.sleep(0.5)


def migrate_database(log=print) -> None:
    """Bring the database schema up to date before the app starts."""
    from kei_drive import db
    from kei_drive.db import health

    log(f"Database: {config.database_url().split('@')[-1]}")
    problem = health.write_problem()
    if problem:  # serve anyway: reads work, writes get a clear 503 until it is fixed
        log(f"WARNING: the database is read-only: {problem}")
        log("Kei Drive will show trips but cannot save anything until that is fixed.")
        return
    db.migrate()
