"""Endpoints for background loggers, mounted with the HTTP API (``kei_drive.api``).

- ``POST /api/v1/ingest/owntracks``: OwnTracks in HTTP mode. Token as the password of
  HTTP Basic (any user name; the app sends ``user:password`` from its settings) or
  ``Authorization: Bearer``. Answers ``[]`` (200), as OwnTracks expects.
- ``POST /api/v1/ingest/overland``: Overland. Token as ``Authorization: Bearer`` (the
  app's "access token" setting) or ``access_token`` in the JSON body. Answers
  ``{"result": "ok"}`` once the fixes are committed (Overland then deletes its queue), with
  ``"rejected": [{"id", "reason"}]`` added when some fixes were refused.
- ``GET|POST /api/v1/ingest/gpslogger``: GPSLogger for Android, "Log to custom URL", query
  or form parameters. Token as ``token=`` (or ``access_token=``) parameter, or
  ``Authorization: Bearer`` / Basic header. Answers ``{"accepted", "duplicates",
  "rejected"}``.

A token is a personal API token (``kei-drive tokens create --scope ingest``); it names the
device, and its account owns the fixes. ``ingest`` and ``read`` tokens may post here;
sessions (cookies) may not. Each fix is validated like the points API's
(``kei_drive.api.validate_points``): a bad fix is refused with a reason and the rest of the
batch is kept. A payload that is not the protocol's shape answers 400 and stores nothing;
a request whose every fix was refused answers 400 with the reasons (except Overland, whose
queue would never drain: it gets "ok" with the reasons, unless a fix was refused only for
now, as one stamped in the future: then 503 with ``Retry-After``, and Overland keeps the
batch for later). A busy database answers 503 with
``Retry-After`` (the apps keep their fixes and send them again), as the points API does.
Fixes become trips by themselves (``kei_drive.services.ingest``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import kei_drive.api as points_api  # module reference: api.py mounts these routes
from kei_drive import config
from kei_drive.accounts import digest
from kei_drive.api_errors import (
    ApiError,
    error_response,
    internal_error,
    read_capped_body,
    unavailable,
)
from kei_drive.api_validation import InvalidInput, parse_json
from kei_drive.core.ingest import (
    Batch,
    IngestFormatError,
    read_gpslogger,
    read_overland,
    read_owntracks,
)
from kei_drive.db import accounts as acc
from kei_drive.db import ensure_migrated, session
from kei_drive.db.models import ApiToken
from kei_drive.services import ingest

log = logging.getLogger("kei_drive.ingest")

TOKEN_SCOPES = ("ingest", "read")  # a token that may add points; never a browser session
TOKEN_PARAMS = ("token", "access_token")
SWEEP_ENV = "KEI_DRIVE_INGEST_SWEEP_S"  # how often quiet devices' trips are finished; 0: never


class IngestError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass(frozen=True)
class Caller:
    user_id: int
    token_name: str  # the device the token was made for


# ---------------------------------------------------------------------- authentication


def _header_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer …`` or the password of ``Basic …``."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _authenticate(token: str | None) -> Caller:
    if not token:
        raise IngestError(401, "send your API token (see the README for each app)")
    url = _db_url()
    with ingest.writer_lock(url), session(url) as s:  # checking a token may write last use
        signed = acc.token_user(s, token)
        if signed is None or signed.scope not in TOKEN_SCOPES:
            raise IngestError(401, "this API token is not valid (revoked or mistyped?)")
        name = s.exec(select(ApiToken.name).where(ApiToken.token_hash == digest(token))).one()
    return Caller(signed.user_id, name)


def _challenge(request: Request) -> str:
    challenge = 'Bearer realm="kei-drive"'
    if request.url.path.endswith("/owntracks"):  # OwnTracks sends its password as Basic
        challenge += ', Basic realm="kei-drive", charset="UTF-8"'
    return challenge


# ----------------------------------------------------------------------------- bodies


async def _body(request: Request) -> bytes:
    try:
        return await read_capped_body(request, points_api.MAX_BODY_BYTES, "send smaller batches")
    except ApiError as exc:
        raise IngestError(exc.status, exc.message) from None


def _json(body: bytes, empty_ok: bool = False) -> Any:
    if not body.strip():
        if empty_ok:
            return None
        raise IngestError(400, "the request body must be JSON")
    try:
        return parse_json(body)  # the points API's parser: deep nesting, huge numbers…
    except InvalidInput as exc:
        raise IngestError(400, str(exc)) from exc


def _db_url() -> str:
    url = config.database_url()
    ensure_migrated(url)
    return url


# ------------------------------------------------------------------------------ store

RETRY_LATER_S = 60  # Overland's batch with fixes refused only for now: sent again after this
# ...when one of them is at most this far ahead (a clock minutes or hours off; one a year off
# would hold the phone's queue for a year: such fixes alone are refused for good)
RETRY_FUTURE_MAX_MS = 24 * 3600 * 1000


def _earliest_ms(batch: Batch, rejected: list[dict]) -> float:
    """The earliest stamp among the ``rejected`` fixes of the batch: one of them will be
    taken by then (a batch's fixes a year ahead drain it once the others are stored)."""
    ids = {r.get("id") for r in rejected}
    times = [f.get("t") for f in batch.fixes if isinstance(f, dict) and f.get("id") in ids]
    return min((t for t in times if isinstance(t, int | float)), default=math.inf)


@dataclass
class Outcome:
    accepted: int
    duplicates: int
    rejected: list[dict]

    @property
    def all_refused(self) -> bool:
        return bool(self.rejected) and self.accepted == self.duplicates == 0


def _device_name(caller: Caller, named: str | None) -> str:
    """The token names the device; a device named in the payload too (two phones sharing
    a token) keeps its fixes apart."""
    if not named or named == caller.token_name:
        return caller.token_name
    return f"{caller.token_name} · {named}"


def _store(caller: Caller, source: str, batch: Batch, named: str | None) -> Outcome:
    if len(batch.fixes) > points_api.MAX_POINTS:
        raise IngestError(
            413, f"{len(batch.fixes)} fixes in one request; at most {points_api.MAX_POINTS}"
        )
    good, rejected, _cleaned = points_api.validate_points(batch.fixes, None)
    outcome = Outcome(0, 0, rejected)
    if good:
        result = ingest.ingest_batch(
            _db_url(), caller.user_id, _device_name(caller, named), source, good
        )
        outcome.accepted, outcome.duplicates = result.accepted, result.duplicates
    if rejected:
        log.info("%s: %d fix(es) refused: %s", source, len(rejected), rejected[:5])
    return outcome


def _refused(outcome: Outcome) -> IngestError:
    return IngestError(400, "no fix in this request could be stored", rejected=outcome.rejected)


# --------------------------------------------------------------------------- endpoints


def _endpoint(fn: Callable) -> Callable:
    async def endpoint(request: Request) -> Response:
        start_sweeper()
        try:
            return await fn(request)
        except IngestError as exc:
            response = JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = _challenge(request)
            return response
        except IngestFormatError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:  # as the points API: a busy database is 503 + Retry-After
            busy = unavailable(config.database_url(), exc)
            if busy is not None:
                return error_response(busy.status, busy.message, busy.retry_after_s)
            return internal_error(exc, f"{request.method} {request.url.path}")

    endpoint.access = "ingest"  # type: ignore[attr-defined]  (an API token that may add)
    return endpoint


@_endpoint
async def owntracks(request: Request) -> Response:
    caller = await run_in_threadpool(_authenticate, _header_token(request))
    batch = read_owntracks(_json(await _body(request), empty_ok=True))
    named = request.headers.get("x-limit-d") or batch.device  # the Recorder's device header
    outcome = await run_in_threadpool(_store, caller, "owntracks", batch, named)
    if outcome.all_refused:
        raise _refused(outcome)
    return JSONResponse([])


@_endpoint
async def overland(request: Request) -> Response:
    token = _header_token(request)
    payload = _json(await _body(request))
    if token is None and isinstance(payload, dict) and isinstance(payload.get("access_token"), str):
        token = payload["access_token"]
    caller = await run_in_threadpool(_authenticate, token)
    batch = read_overland(payload)
    outcome = await run_in_threadpool(_store, caller, "overland", batch, batch.device)
    later = [r for r in outcome.rejected if r.get("retryable")]
    if later and _earliest_ms(batch, later) <= time.time() * 1000 + RETRY_FUTURE_MAX_MS:
        # Not "ok": Overland keeps the batch and sends it again (the fixes it stored are
        # then duplicates). With "ok" it deleted fixes refused only for now: a phone clock
        # 15 min fast lost a whole day (an outside check).
        answer = {
            "result": "error",
            "error": f"{len(later)} fix(es) cannot be stored yet ({later[0]['reason']}): "
            "keep the batch and send it again later",
            "rejected": outcome.rejected,
        }
        return JSONResponse(answer, status_code=503, headers={"Retry-After": str(RETRY_LATER_S)})
    answer: dict[str, Any] = {"result": "ok"}  # only now: the fixes are committed
    if outcome.rejected:
        answer["rejected"] = outcome.rejected
    return JSONResponse(answer)


async def _gpslogger_params(request: Request) -> tuple[dict[str, str], IngestError | None]:
    """Query and form parameters, and what is wrong with the body (reported only after
    the caller is known: an anonymous request learns nothing but 401)."""
    params = dict(request.query_params)
    if request.method != "POST":
        return params, None
    body = await _body(request)
    if not body.strip():
        return params, None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded", "text/plain"):
        return params, IngestError(
            400, "send GPSLogger's fields as URL parameters or an x-www-form-urlencoded body"
        )
    try:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        return params, IngestError(400, f"the form body is not readable: {exc}")
    return params, None


@_endpoint
async def gpslogger(request: Request) -> Response:
    params, problem = await _gpslogger_params(request)
    token = _header_token(request) or next((params[p] for p in TOKEN_PARAMS if p in params), None)
    caller = await run_in_threadpool(_authenticate, token)
    if problem is not None:
        raise problem
    batch = read_gpslogger(params)
    outcome = await run_in_threadpool(_store, caller, "gpslogger", batch, batch.device)
    if outcome.all_refused:
        raise _refused(outcome)
    return JSONResponse(
        {
            "accepted": outcome.accepted,
            "duplicates": outcome.duplicates,
            "rejected": outcome.rejected,
        }
    )


routes = [
    Route("/api/v1/ingest/owntracks", owntracks, methods=["POST"]),
    Route("/api/v1/ingest/overland", overland, methods=["POST"]),
    Route("/api/v1/ingest/gpslogger", gpslogger, methods=["GET", "POST"]),
]


# --------------------------------------------------------------------------- sweeper

_SWEEPER: threading.Thread | None = None
_SWEEPER_LOCK = threading.Lock()


def _sweep_every_s() -> float:
    try:
        return float(os.environ.get(SWEEP_ENV, "60"))
    except ValueError:
        return 60.0


def _sweep_forever(every_s: float) -> None:
    while True:
        time.sleep(every_s)
        try:
            ingest.finish_idle(_db_url())
        except Exception:  # keep sweeping; the next request or minute tries again
            log.exception("finishing quiet devices' trips failed")


def start_sweeper() -> None:
    """Finish the trips of devices that went quiet, and check trips whose highway check never
    came, once a minute: started with the app server (a lifespan task: after a restart no
    upload may come for days, and a quiet phone's trip would stay "recording"), and by a
    logger request in a process that was not started that way."""
    global _SWEEPER
    every_s = _sweep_every_s()
    if _SWEEPER is not None or every_s <= 0:
        return
    with _SWEEPER_LOCK:
        if _SWEEPER is None:
            _SWEEPER = threading.Thread(
                target=_sweep_forever, args=(every_s,), name="ingest-sweeper", daemon=True
            )
            _SWEEPER.start()
