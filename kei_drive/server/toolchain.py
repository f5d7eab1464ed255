"""The JavaScript runtime Reflex needs (bun >= 1.4.4), fetched from the npm registry.

Reflex 0.10 wants Node >= 22.22 or bun >= 1.4.4; without one it downloads bun from the
internet. We install the npm package ``bun`` into a per-user cache on first use, so
nobody has to install anything by hand and no non-registry download happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

BUN_VERSION = "1.4.5"


class ToolchainError(RuntimeError):
    pass


def tools_dir() -> Path:
    if explicit := os.environ.get("KEI_DRIVE_TOOLS"):
        return Path(explicit) / f"bun-{BUN_VERSION}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "kei-drive" / f"bun-{BUN_VERSION}"


def bun_bin_dir() -> Path:
    return tools_dir() / "node_modules" / ".bin"


def ensure_bun(log=print) -> Path:
    """Install bun from the npm registry if it is not in the cache yet; return its bin dir."""
    bin_dir = bun_bin_dir()
    bun = bin_dir / "bun"
    if bun.exists() and _version(bun) == BUN_VERSION:
        return bin_dir
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError(
            "npm not found: install Node.js 20+ (Debian/Ubuntu: apt install nodejs npm)"
        )
    target = tools_dir()
    target.mkdir(parents=True, exist_ok=True)
    log(f"Installing bun {BUN_VERSION} from the npm registry into {target} (first run only)…")
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(target),
            "--no-save",
            "--no-audit",
            "--no-fund",
            f"bun@{BUN_VERSION}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not bun.exists():
        raise ToolchainError(f"could not install bun with npm:\n{result.stderr.strip()[-2000:]}")
    return bin_dir


NODE_SHIM = """#!/bin/sh
# Written by kei-drive serve: Reflex's frontend build runs on bun, which stands in for node.
case "$1" in --version | -v) exec "{bun}" -e 'console.log(process.version)' ;; esac
exec "{bun}" "$@"
"""


def node_shim_dir(bun_bin: Path) -> Path:
    """A folder whose ``node`` runs bun, to put first on Reflex's PATH.

    Reflex checks the ``node`` on the PATH and, when it is older than it wants (Debian's
    20.x), warns "Node.js is out of date" and runs the build with ``bun --bun`` instead.
    With this ``node`` the build runs on bun all the same, and ``node --version`` answers
    the Node API level bun implements, so Reflex has nothing to warn about.
    """
    shim_dir = tools_dir() / "node-shim"
    shim = shim_dir / "node"
    text = NODE_SHIM.format(bun=(bun_bin / "bun").resolve())
    if shim.is_symlink() or not shim.exists() or shim.read_text() != text:
        shim_dir.mkdir(parents=True, exist_ok=True)
        shim.unlink(missing_ok=True)
        shim.write_text(text)
        shim.chmod(0o755)
    return shim_dir


def _version(bun: Path) -> str | None:
    try:
        out = subprocess.run([bun, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def npm_registry() -> str | None:
    """The registry npm is configured with (lets Reflex skip its registry speed probe)."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        out = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
