"""A size limit on Reflex's upload endpoint (``/_upload``), enforced while the body arrives.

Reflex parses the whole multipart body and the page's handler then reads each file into
memory; the page's 25 MB limit is checked only in the browser. Without this wrapper one
anonymous 1 GB POST costs the server 1 GB of RAM. With it, a declared ``Content-Length``
over the limit is refused before a byte is read, and a body that grows past the limit
(chunked, or lying about its length) is cut off there: the app sees a disconnect, the
client gets a JSON 413.
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_FILE_BYTES = 25 * 1024 * 1024  # the trips page's GPX limit
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 1024 * 1024  # plus room for the multipart framing
UPLOAD_SUFFIX = "/_upload"
DRAIN_BYTES = 16 * 1024 * 1024  # after a 413, read and drop at most this much more ...
DRAIN_SECONDS = 3.0  # ... for at most this long


def _too_large_body(limit: int) -> bytes:
    mb = limit // (1024 * 1024)
    return json.dumps({"error": f"the upload is larger than {mb} MB"}).encode()


async def _send_413(send: Send, limit: int) -> None:
    body = _too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive, last: Message) -> None:
    """Read and drop a little more of the refused body, within bounds, so the connection
    closes cleanly: closing a socket with unread data resets it, and the client may then
    never see its 413."""
    drained, deadline = 0, time.monotonic() + DRAIN_SECONDS
    while last.get("more_body") and drained < DRAIN_BYTES and time.monotonic() < deadline:
        try:
            last = await asyncio.wait_for(receive(), deadline - time.monotonic())
        except TimeoutError:
            return
        if last["type"] != "http.request":
            return
        drained += len(last.get("body", b""))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class UploadSizeLimit:
    """ASGI middleware: POSTs to a path ending in ``/_upload`` carry at most ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _applies(self, scope: Scope) -> bool:
        return (
            scope.get("type") == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/").endswith(UPLOAD_SUFFIX)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return
        received = 0
        refused = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not response_started:
                        await _send_413(send, self.max_bytes)
                        await _drain(receive, message)
                    return {"type": "http.disconnect"}  # the app stops reading and cleans up
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the client already has its 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def upload_size_limit(app: ASGIApp) -> ASGIApp:
    """For ``rx.App(api_transformer=[..., upload_size_limit])``."""
    return UploadSizeLimit(app)
