"""Every failure of the HTTP API as a JSON answer a phone can act on.

- the client's fault: 4xx with a reason it can show;
- a momentary database lock: 503 + ``Retry-After`` (the phone keeps its fixes and retries);
- a read-only database: 503 + ``Retry-After`` with a plain reason;
- anything else: 500 with a generic message and a request id; the details go to the log
  only (internal error text can leak paths and versions).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.responses import JSONResponse

from kei_drive.db import health

log = logging.getLogger("kei_drive.api")

LOCKED_RETRY_AFTER_S = 2
READONLY_RETRY_AFTER_S = 30


class ApiError(Exception):
    def __init__(self, status: int, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


def error_response(
    status: int, message: str, retry_after_s: int | None = None, **extra
) -> JSONResponse:
    body = {"error": message, **extra}
    headers = {}
    if retry_after_s is not None:
        body["retry_after_s"] = retry_after_s
        headers["Retry-After"] = str(retry_after_s)
    return JSONResponse(body, status_code=status, headers=headers)


def unavailable(db_url: str | None, exc: BaseException) -> ApiError | None:
    """The 503 for a database error that is not the request's fault, or None."""
    kind = health.classify(exc)
    if kind == "locked":
        return ApiError(503, health.LOCKED_MESSAGE, LOCKED_RETRY_AFTER_S)
    if kind == "readonly":
        health.mark_readonly(db_url, str(getattr(exc, "orig", exc)))
        log.error("database write failed, treating it as read-only: %s", exc)
        return ApiError(503, health.READONLY_MESSAGE, READONLY_RETRY_AFTER_S)
    return None


def internal_error(exc: BaseException, where: str) -> JSONResponse:
    request_id = uuid.uuid4().hex[:12]
    log.error("internal error %s in %s", request_id, where, exc_info=exc)
    return error_response(
        500,
        f"internal error; nothing from this request was saved (request id {request_id})",
        request_id=request_id,
    )


async def read_capped_body(request: Any, limit: int, hint: str = "") -> bytes:
    """The request body, refused with 413 as soon as it is over ``limit`` bytes (announced
    or read so far): an oversized body is never held whole in memory."""
    too_big = f"; {hint}" if hint else ""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise ApiError(413, f"payload of {int(length)} bytes is over {limit} bytes{too_big}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(413, f"payload is over {limit} bytes{too_big}")
    return bytes(body)
