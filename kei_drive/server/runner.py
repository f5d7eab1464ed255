"""Run the Reflex app in production mode (one port serves pages, API and websocket)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kei_drive import config
from kei_drive.server import tls, toolchain


class ServeError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServeOptions:
    host: str = "0.0.0.0"
    port: int = 3000
    https: bool = False
    public_host: str | None = None  # the name/IP phones use; defaults to the LAN address


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
    env["PATH"] = f"{bun_dir}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_BUN_PATH"] = str(bun_dir / "bun")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    registry = toolchain.npm_registry()
    if registry:
        env.setdefault("NPM_CONFIG_REGISTRY", registry)
    if api_url:
        env["REFLEX_API_URL"] = api_url
    return env


def urls_to_open(options: ServeOptions) -> list[str]:
    scheme = "https" if options.https else "http"
    hosts = ["localhost"]
    if options.host not in ("127.0.0.1", "localhost"):
        lan = options.public_host or tls.lan_address()
        if lan:
            hosts.append(lan)
    return [f"{scheme}://{host}:{options.port}/" for host in hosts]


def serve(options: ServeOptions, log=print) -> int:
    root = project_root()
    bun_dir = toolchain.ensure_bun(log)
    migrate_database(log)
    proxy = None
    app_host, app_port, api_url = options.host, options.port, None
    if options.https:
        public = options.public_host or tls.lan_address() or "127.0.0.1"
        hosts = ["localhost", "127.0.0.1", public]
        cert, key = tls.ensure_certificate(config.home_dir() / "tls", hosts)
        app_host, app_port = "127.0.0.1", free_port()
        api_url = f"https://{public}:{options.port}"
        proxy = tls.TlsProxy(options.host, options.port, app_port, cert, key)
        proxy.start()
        log(f"TLS certificate (self-signed, accept it once on the phone): {cert}")
    command = [
        sys.executable, "-m", "reflex", "run", "--env", "prod",
        "--frontend-port", str(app_port), "--backend-port", str(app_port),
        "--backend-host", app_host,
    ]  # fmt: skip
    for url in urls_to_open(options):
        log(f"Kei Drive will be at {url}")
    try:
        env = reflex_environment(bun_dir, api_url)
        return subprocess.run(command, cwd=root, env=env).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        if proxy:
            proxy.stop()


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
