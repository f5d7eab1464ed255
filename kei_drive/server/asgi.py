"""The ASGI app the app server runs: Reflex's backend wrapped in the HTTP guard.

Granian imports this in each worker (``kei_drive.server.asgi:create_app``, a factory).
The guard's settings come from ``kei-drive serve`` through the environment.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib
import re
from pathlib import Path

from kei_drive.server.compression import CompressPublicData
from kei_drive.server.http_guard import ASGIApp, GuardSettings, HttpGuard

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(build_dir: Path) -> tuple[str, ...]:
    """Base64 SHA-256 of every inline script in the built pages (for the CSP)."""
    digests = set()
    for page in sorted(build_dir.rglob("*.html")):
        for match in _INLINE_SCRIPT.finditer(page.read_text(encoding="utf-8", errors="replace")):
            digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
            digests.add(base64.b64encode(digest).decode("ascii"))
    return tuple(sorted(digests))


def create_app() -> ASGIApp:
    from reflex.utils import prerequisites
    from reflex_base import constants
    from reflex_base.config import get_config

    module = importlib.import_module(get_config().module)
    backend = module.app()  # rx.App.__call__ builds the Starlette backend with the pages mount
    build_dir = prerequisites.get_web_dir() / constants.Dirs.STATIC
    settings = dataclasses.replace(
        GuardSettings.from_env(), script_hashes=inline_script_hashes(build_dir)
    )
    return HttpGuard(CompressPublicData(backend), settings)
