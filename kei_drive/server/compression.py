"""gzip for the public data the Drive screen fetches (the Kei rules: ~140 KB of JSON).

Only the paths listed: a compressed response that mixes a secret (a sign-in form's one-time
code, a session's data) with text an attacker can put in the request leaks the secret through
its length (BREACH). The rules hold neither. Pages and scripts are pre-compressed at build time.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware

from kei_drive.server.http_guard import ASGIApp, Receive, Scope, Send

COMPRESSED_PATHS = ("/api/v1/rules",)
MIN_BYTES = 1024


class CompressPublicData:
    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = COMPRESSED_PATHS):
        self.app = app
        self.paths = paths
        self.gzip = GZipMiddleware(app, minimum_size=MIN_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
