"""Start the real app (``kei-drive serve``, production build) for browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ARTIFACTS, PROJECT_ROOT

BROWSER_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM = "/usr/bin/chromium"
# What the app needs to build and run; copied so that each server builds in its own
# folder (Reflex compiles into ./.web, which parallel servers must not share).
APP_FILES = ("kei_drive", "assets", "rxconfig.py", "reflex.lock", "alembic", "alembic.ini")
_web_template: Path | None = None  # an initialised .web to copy (saves the bun install)


def copy_app(target: Path) -> Path:
    global _web_template
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target / name)
    template = _web_template or (PROJECT_ROOT / ".web")
    if (template / "node_modules").is_dir():

        def skip_build_output(folder: str, names: list[str]) -> list[str]:
            return ["build"] if Path(folder) == template else []

        shutil.copytree(template, target / ".web", symlinks=True, ignore=skip_build_output)
    _web_template = target / ".web"
    # Developers working in parallel: build with the committed version of files that
    # someone else is editing (space-separated paths relative to the project root).
    for name in os.environ.get("KEI_DRIVE_TEST_FILES_FROM_HEAD", "").split():
        committed = subprocess.run(
            ["git", "show", f"HEAD:{name}"], cwd=PROJECT_ROOT, capture_output=True, check=True
        )
        (target / name).write_bytes(committed.stdout)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """One running ``kei-drive serve``; only one may build the frontend at a time."""

    def __init__(
        self,
        home: Path,
        *,
        https: bool = False,
        log_name: str = "server.log",
        env: dict[str, str] | None = None,
        single_user: bool = True,
    ):
        """``single_user``: no sign-in (``serve --single-user``), the default for tests that
        are not about accounts; with False, sign in through ``/signin`` first."""
        self.home = home
        self.single_user = single_user
        self.extra_env = env or {}
        self.https = https
        self.port = free_port()
        self.log_path = ARTIFACTS / log_name
        self.process: subprocess.Popen | None = None
        scheme = "https" if https else "http"
        host = "127.0.0.1" if https else "localhost"
        self.url = f"{scheme}://{host}:{self.port}"

    @property
    def database_url(self) -> str:
        return self.extra_env.get("DATABASE_URL") or f"sqlite:///{self.home / 'kei_drive.db'}"

    def start(self, timeout_s: float = 300) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        app_dir = copy_app(self.home / "app")
        env = dict(os.environ, KEI_DRIVE_HOME=str(self.home), DATABASE_URL=self.database_url)
        env.update(self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(app_dir), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "kei_drive.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        if self.single_user:
            command.append("--single-user")
        if self.https:
            command += ["--https", "--public-host", "127.0.0.1"]
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited early; see {self.log_path}:\n{self.tail()}")
            if self._responds():
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app did not answer within {timeout_s} s; see {self.log_path}")

    def _responds(self) -> bool:
        import ssl

        context = ssl._create_unverified_context() if self.https else None
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=2, context=context) as reply:
                if reply.status != 200:
                    return False
            with urllib.request.urlopen(f"{self.url}/", timeout=2, context=context) as reply:
                return reply.status == 200
        except OSError:
            return False

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def descendants(self) -> set[int]:
        """Every live process started under this server (not zombies)."""
        assert self.process is not None
        return descendants_of(self.process.pid)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Signal the main process only (as a process manager does); it stops the rest."""
        if self.process and self.process.poll() is None:
            left = self.descendants()
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for pid in left:  # never leave a stray server behind a failed test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process = None


def descendants_of(root: int) -> set[int]:
    """Live (non-zombie) processes whose parent chain leads to ``root`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found
