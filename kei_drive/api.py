"""HTTP API for trip recording and export (Starlette), mounted on the Reflex backend with
``rx.App(api_transformer=api)``. Every response is JSON; errors are ``{"error": "..."}``.

Routes (``{trip}`` is the client-generated UUID of the trip):

- ``PUT  /api/v1/trips/{trip}``           create the trip (idempotent). Body, all optional:
  ``{"vehicle_id": 1, "started_at": <epoch ms | ISO 8601>, "name": "..."}``.
  201 when created, 200 when it existed (empty fields are filled, nothing overwritten).
- ``POST /api/v1/trips/{trip}/points``    a batch of fixes
  ``{"points": [{"id", "t" (epoch ms), "lat", "lon", "acc", "speed", "heading", "alt"}],
  "sent_at": <the phone's clock when sending, epoch ms, optional>}``
  -> ``{"accepted": n, "duplicates": n, "rejected": [{"id", "reason", "retryable"}],
  "cleaned": [{"id", "reason"}], "point_count": n}``. A fix whose id the trip already has
  is a duplicate and stored once, so a retry is always safe. Bad fixes (NaN or out-of-range
  coordinates, a bad id, missing time, time before 2000 or after 2100, before the trip,
  out of step by more than ``BACKWARDS_TOLERANCE_MS`` with the batch's longest run in time
  order, oldest or newest first (a wrong clock), time in the future) are rejected one by
  one; bad optional fields (e.g. a negative speed) are dropped and listed in ``cleaned``.
  "In the future" is judged against the phone's own clock when ``sent_at`` is given (a
  server clock that runs slow must not refuse good fixes).
  After a 200 the client may delete every fix of the batch except the rejected ones with
  ``"retryable": true``, which it keeps and sends again later. With ``"want_road": true``
  (or ``?road=1``) the answer also carries ``"road"``: the road the latest fixes match, its
  posted limit and the state's Kei cap, or ``{"status": "unknown", "reason"}``
  (``kei_drive.services.road``). More than ``MAX_POINTS``
  fixes or a body over ``MAX_BODY_BYTES`` -> 413 (split the batch).
  An unknown trip is created implicitly (the phone may have started it offline and its
  PUT may still be queued); it starts at its earliest fix. Fixes arriving after the trip
  was finished are stored and its statistics recomputed.
- ``POST /api/v1/trips/{trip}/finish``    body optional ``{"ended_at": <epoch ms>,
  "time_zone": "America/Chicago", "utc_offset_min": -360}`` (the phone's zone: an unnamed
  trip is named by its local start time, and an IANA ``time_zone`` is kept as the trip's,
  its times shown in it); computes and stores the statistics
  -> ``{"trip": {...}, "stats": {...}}`` (the trip's ``time_zone``: null when not known).
- ``GET  /api/v1/trips/{trip}``           the trip with its stats and ``point_count``.
- ``GET  /api/v1/trips/{trip}/export.gpx`` and ``export.geojson``.
- ``GET  /api/v1/trips?page=1&per_page=20``  my trips, newest first (``read``).
- ``GET  /api/v1/me``                      who is signed in ``{"username", "role", "single_user"}``
  (the Drive screen sends queued fixes only to the account that recorded them).
- ``GET  /api/v1/rules?on=YYYY-MM-DD``    the Kei rules in force that day (public; a signed-in
  caller gets their own overrides applied);
  each rule also carries ``severity`` (the core's one order: compare the lists element by
  element, higher is stricter), ``road_access``, ``access_text``, ``visitors``,
  ``visitor_text`` and ``next_change`` (the next dated change, or null).
- ``GET  /api/v1/rules/order``             the status and road-access orders behind ``severity``.
- ``GET  /api/v1/vehicles``                the garage (for the Drive screen's vehicle picker).
- ``POST /api/v1/route``                   guidance for the Drive screen: a Kei route
  ``{"from", "to", "to_name", "options"}`` or an audited GPX route ``{"track", "name",
  "options"}`` -> ``{"version": 1, "request", "route", "announcements"}``
  (``kei_drive.services.guidance``); errors ``{"error", "detail"}`` with 400 (shape), 422
  (values, a track over 20,000 points or 2,000 km, or a body over 2 MB), 404 (no route),
  503 (no tiles).
  Sessions must post from this site (``Sec-Fetch-Site``/``Origin``).

Authentication (``kei_drive.web_auth``): the session cookie of a signed-in browser, or
``Authorization: Bearer <personal API token>``. Every route but ``rules`` needs one
(401 otherwise) and sees only its user's trips and vehicles: another user's trip answers
404 exactly like a missing one. An ``ingest`` token may only create trips and add points
or finish them (PUT, POST); reading needs a ``read`` token or a session (403 otherwise).

The database is ``kei_drive.config.database_url()`` at the time of each request; it is
migrated on first use. Errors (``kei_drive.api_errors``): 4xx ``{"error"}`` for bad
requests; 503 ``{"error", "retry_after_s"}`` + ``Retry-After`` when the database is busy
or read-only (keep the data, retry); 500 ``{"error", "request_id"}`` otherwise.
Exports are streamed: written as the rows are read, in constant memory, by worker processes
(``kei_drive.server.export_pool``: the uploads keep this process's CPU).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlmodel import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from kei_drive import auth_routes, config, ingest_api, settings_routes, web_auth
from kei_drive.api_errors import (
    LOCKED_RETRY_AFTER_S,
    READONLY_RETRY_AFTER_S,
    ApiError,
    error_response,
    internal_error,
    read_capped_body,
    unavailable,
)
from kei_drive.api_priority import paced, upload_in_progress
from kei_drive.api_validation import (
    EARLIEST_MS,
    LATEST_MS,
    InvalidInput,
    db_id,
    finite_number,
    fix_id_problem,
    is_encodable,
    parse_json,
    time_arg,
    trip_name,
    zone_arg,
)
from kei_drive.basemap.endpoint import app as basemap_tiles
from kei_drive.core.rules_vocab import order_document
from kei_drive.core.time_order import out_of_step
from kei_drive.core.vocabulary import RecordingState
from kei_drive.db import (
    app_session,
    group_commit,
    health,
    migrated_url,
    points,
    session,
    trip_export,
)
from kei_drive.db import queries as q
from kei_drive.db.accounts import SignedIn
from kei_drive.presenters.exports import ExportFormat, trip_filename
from kei_drive.presenters.trips import trip_dict
from kei_drive.presenters.vehicles import vehicle_dict
from kei_drive.server import export_pool
from kei_drive.services import road
from kei_drive.services import trips as trip_service
from kei_drive.services.us_states import load_book

MAX_POINTS = 5000
WRITE_WAIT_S = 30.0  # an upload waits this long for its group commit, then 503
MAX_BODY_BYTES = 2 * 1024 * 1024
BACKWARDS_TOLERANCE_MS = 5_000  # within a batch; phones sometimes reorder by a second
BEFORE_START_TOLERANCE_MS = 60_000
FUTURE_TOLERANCE_MS = 10 * 60_000
MAX_SPEED_MPS = 150.0
FUTURE_REASON = "time is in the future"

__all__ = ["EARLIEST_MS", "LATEST_MS", "ApiError", "api", "validate_points"]


async def _read_json(request: Request, required: bool = True) -> Any:
    body = await read_capped_body(request, MAX_BODY_BYTES)
    if not body.strip():
        if required:
            raise ApiError(400, "the request body must be JSON")
        return {}
    return parse_json(body)


def _trip_key(request: Request) -> str:
    try:
        return q.normalize_trip_uuid(request.path_params["trip"])
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


def _opt(item: dict, key: str, ok: Callable[[float], bool], cleaned: list, pid: str) -> Any:
    raw = item.get(key)
    if raw is None:
        return None
    number = finite_number(raw)
    if number is None or not ok(number):
        cleaned.append({"id": pid, "reason": f"{key} {raw!r:.40} is not valid and was dropped"})
        return None
    return number


def phone_now_ms(sent_at: Any, server_now_ms: int) -> int:
    """The phone's clock at sending (its ``sent_at``), or the server's when absent or
    implausible: "in the future" is judged against the clock that took the fixes."""
    number = finite_number(sent_at)
    if number is None or not EARLIEST_MS <= number < LATEST_MS:
        return server_now_ms
    return int(number)


def _rejection(pid: str | None, reason: str) -> dict:
    # Only a clock can change its mind; every other reason is final for that fix.
    return {"id": pid, "reason": reason, "retryable": reason == FUTURE_REASON}


def validate_points(
    items: list, trip_start_ms: int | None, now_ms: int | None = None
) -> tuple[list[q.PointIn], list[dict], list[dict]]:
    """Split a batch into valid fixes, rejected ``{"id", "reason", "retryable"}`` and
    cleaned notes. ``now_ms`` is the sender's clock (default: the server's)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    good: list[q.PointIn] = []
    rejected: list[dict] = []
    cleaned: list[dict] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(_rejection(None, f"item {index} is not an object"))
            continue
        raw_id = item.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            rejected.append(_rejection(None, f"item {index} has no valid id"))
            continue
        pid = str(raw_id)
        problem = fix_id_problem(pid)
        if problem:
            printable = is_encodable(pid) and "\x00" not in pid  # else not echoed back
            rejected.append(_rejection(pid[:64] if printable else None, problem))
            continue

        def reject(reason: str, pid: str = pid) -> None:
            rejected.append(_rejection(pid, reason))

        t = finite_number(item.get("t"))
        lat, lon = finite_number(item.get("lat")), finite_number(item.get("lon"))
        if t is None:
            reject("missing or invalid t (epoch milliseconds)")
        elif lat is None or lon is None:
            reject("lat/lon missing, NaN or infinite")
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
            reject(f"coordinates out of range (lat={lat}, lon={lon})")
        elif lat == 0 and lon == 0:
            reject("0,0 is not a real fix")
        elif t < EARLIEST_MS:
            reject("time is before the year 2000 (epoch seconds instead of milliseconds?)")
        elif t >= LATEST_MS:
            reject("time is in the future (after the year 2100)")  # final, unlike a clock skew
        elif t > now_ms + FUTURE_TOLERANCE_MS:
            reject(FUTURE_REASON)
        elif trip_start_ms is not None and t < trip_start_ms - BEFORE_START_TOLERANCE_MS:
            reject("time is before the trip started")
        else:
            good.append(
                q.PointIn(
                    client_id=pid,
                    time_ms=int(t),
                    lat=lat,
                    lon=lon,
                    accuracy_m=_opt(item, "acc", lambda v: v >= 0, cleaned, pid),
                    speed_mps=_opt(item, "speed", lambda v: 0 <= v <= MAX_SPEED_MPS, cleaned, pid),
                    heading_deg=_opt(item, "heading", lambda v: 0 <= v <= 360, cleaned, pid),
                    altitude_m=_opt(item, "alt", lambda v: -1000 <= v <= 20_000, cleaned, pid),
                )
            )
    return _in_step(good, rejected), rejected, cleaned


def _in_step(good: list[q.PointIn], rejected: list[dict]) -> list[q.PointIn]:
    """The batch's fixes in time order, less those out of step with the rest by more than
    ``BACKWARDS_TOLERANCE_MS`` (added to ``rejected``): a wrong clock, not a reordering."""
    refused = out_of_step([p.time_ms for p in good], BACKWARDS_TOLERANCE_MS)
    rejected.extend(_rejection(good[i].client_id, reason) for i, reason in refused.items())
    kept = [p for i, p in enumerate(good) if i not in refused]
    return sorted(kept, key=lambda p: p.time_ms)


def _trip_payload(s, trip) -> dict[str, Any]:
    return trip_dict(trip, q.trip_vehicle(s, trip))


# ---------------------------------------------------------------------------- handlers


@contextmanager
def _writing() -> Iterator[Session]:
    """A write session, or a 503 at once while the database is known to be read-only
    (re-checked every few seconds, so writes resume by themselves)."""
    url = migrated_url()
    if health.readonly_reason(url):
        raise ApiError(503, health.READONLY_MESSAGE, READONLY_RETRY_AFTER_S)
    with session(url, write=True) as s:
        yield s


def _put_trip(key: str, body: dict, user_id: int) -> tuple[dict, bool]:
    vehicle_id = db_id(body.get("vehicle_id"), "vehicle_id")
    name = trip_name(body.get("name"))
    started_at = time_arg(body.get("started_at"), "started_at")
    with _writing() as s:
        trip, created = q.ensure_trip(
            s, key, vehicle_id=vehicle_id, started_at=started_at, name=name, user_id=user_id
        )
        return _trip_payload(s, trip), created


def _post_points(key: str, body: Any, user_id: int) -> Future:
    """Store a batch (``_store_batch``) in the next group commit (``db.group_commit``:
    concurrent uploads share one transaction and one disk flush). The future gets
    ``(answer, trip id, newest stored fix time)`` once the batch is on disk."""
    if not isinstance(body, dict) or not isinstance(body.get("points"), list):
        raise ApiError(400, 'the body must be {"points": [...]}')
    items = body["points"]
    if len(items) > MAX_POINTS:
        raise ApiError(413, f"{len(items)} points in one batch; at most {MAX_POINTS}")
    phone_now = phone_now_ms(body.get("sent_at"), int(time.time() * 1000))
    url = migrated_url()
    if health.readonly_reason(url):  # a dictionary look-up unless known read-only
        raise ApiError(503, health.READONLY_MESSAGE, READONLY_RETRY_AFTER_S)
    return group_commit.submit(url, partial(_store_batch, key, items, phone_now, user_id))


def _store_batch(
    key: str, items: list, phone_now: int, user_id: int, s: Session
) -> tuple[dict, int, int | None]:
    """In the writer's transaction: validate against the trip's start, store, count."""
    trip = points.trip_head(s, key)
    if trip is not None and trip.user_id != user_id:
        raise q.NotFound(f"no trip {key}")  # exactly like a missing trip
    good, rejected, cleaned = validate_points(items, trip.start_ms if trip else None, phone_now)
    if trip is None:  # started offline: its PUT may still be queued on the phone
        first = min((p.time_ms for p in good if p.time_ms is not None), default=None)
        started = datetime.fromtimestamp(first / 1000, UTC) if first else None
        q.ensure_trip(s, key, started_at=started, user_id=user_id)
        trip = points.trip_head(s, key)
        assert trip is not None
    accepted = points.store_fixes(s, trip, good)
    point_count = trip.point_count + accepted
    if accepted and trip.recording_state == RecordingState.FINISHED:  # late fixes
        finished = q.get_trip(s, trip.id, user_id)
        finished.highway_rules = None  # the sweeper judges the longer track's highway use
        point_count = q.refresh_stats(s, finished).points
    answer = {
        "accepted": accepted,
        "duplicates": len(good) - accepted,
        "rejected": rejected,
        "cleaned": cleaned,
        "point_count": point_count,
    }
    newest = max((p.time_ms for p in good if p.time_ms is not None), default=None)
    return answer, trip.id, newest


def _finish(key: str, body: Any, user_id: int) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    ended_at = time_arg(body.get("ended_at"), "ended_at")
    zone = zone_arg(body.get("time_zone"), body.get("utc_offset_min"))  # names it in local time
    with app_session() as s:  # the engine's work reads only: other phones write meanwhile
        trip_id = q.get_trip(s, key, user_id).id
        use = trip_service.highway_use_of(s, trip_id)  # type: ignore[arg-type]
        roads = trip_service.gap_roads_of(s, trip_id)  # type: ignore[arg-type]
    with _writing() as s:
        trip = q.get_trip(s, key, user_id)
        stats = trip_service.finish_trip(
            s, trip, ended_at, highway_use=use, zone=zone, gap_roads=roads
        )
        return {"trip": _trip_payload(s, trip), "stats": stats.to_dict()}


def _get(key: str, user_id: int) -> dict:
    with app_session() as s:
        return _trip_payload(s, q.get_trip(s, key, user_id))


def _list(page: int, per_page: int, user_id: int) -> dict:
    with app_session() as s:
        result = q.list_trips(s, page=page, per_page=per_page, user_id=user_id)
    return {
        "trips": [trip_dict(t, v) for t, v in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
    }


def _export_chunks(key: str, fmt: ExportFormat, user_id: int) -> tuple[Iterator[str], str]:
    """The export's first piece is produced here (``NotFound`` -> 404 before streaming);
    the rest is produced as the client reads, with the session open until the end."""
    url = migrated_url()

    def pieces() -> Iterator[str]:
        with session(url) as s:
            trip = q.get_trip(s, key, user_id)
            export = (
                trip_export.export_gpx_stream
                if fmt is ExportFormat.GPX
                else trip_export.export_geojson_stream
            )
            stream = export(s, trip.id, user_id)  # type: ignore[arg-type]
            yield trip_filename(trip.uuid, fmt, trip.name or "")
            yield from paced(stream)  # uploads first (kei_drive.api_priority)

    gen = pieces()
    filename = next(gen)
    return gen, filename


async def _stream_export(request: Request, fmt: ExportFormat) -> Response:
    key, uid = _trip_key(request), _uid(request)
    url = migrated_url()
    chunks: Iterator[str] | AsyncIterator[bytes]
    if export_pool.usable(url):  # written by a worker process: uploads keep this one
        chunks, filename = await export_pool.open_export(url, key, fmt.value, uid)
    else:  # a sync iterator: Starlette reads it in the threadpool
        chunks, filename = await run_in_threadpool(_export_chunks, key, fmt, uid)
    return StreamingResponse(
        chunks,
        media_type=fmt.mime_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ------------------------------------------------------------------------------ routes


# What each kind of credential may do: a session (or single-user mode) everything, a
# ``read`` token reading and adding, an ``ingest`` token only adding.
ACCESS = {"ingest": {"session", "single", "read", "ingest"}, "read": {"session", "single", "read"}}
PUBLIC = "public"


def _endpoint(access: str) -> Callable[[Callable], Callable]:
    """Wrap a route: authenticate (unless ``access`` is PUBLIC), check the credential may
    do ``access`` ("ingest" or "read"), map errors to JSON answers. The caller is in
    ``request.state.user`` (a ``SignedIn``, or None on a public route)."""

    def wrap(fn: Callable) -> Callable:
        async def endpoint(request: Request) -> Response:
            try:
                user = web_auth.known_caller(request) or await run_in_threadpool(
                    web_auth.from_request, request
                )
                request.state.user = user
                if access != PUBLIC:
                    _check_access(user, access)
                response = await fn(request)
                if user is not None or access != PUBLIC:  # a person's data: never stored
                    response.headers.setdefault("Cache-Control", "private, no-store")
                if user is not None and user.renewed:  # sliding session: renew the cookie
                    value = web_auth.cookie_value(request.headers.get("cookie"))
                    if value:
                        web_auth.set_session_cookie(response, request, value)
                return response
            except ApiError as exc:
                response = error_response(exc.status, exc.message, exc.retry_after_s)
                if exc.status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="kei-drive"'
                return response
            except InvalidInput as exc:
                return error_response(400, str(exc))
            except q.NotFound as exc:
                return error_response(404, str(exc))
            except Exception as exc:
                busy = unavailable(config.database_url(), exc)
                if busy is not None:
                    return error_response(busy.status, busy.message, busy.retry_after_s)
                return internal_error(exc, f"{request.method} {request.url.path}")

        endpoint.access = access  # type: ignore[attr-defined]  (the isolation tests read it)
        return endpoint

    return wrap


def _check_access(user: SignedIn | None, access: str) -> None:
    if user is None:
        raise ApiError(401, "sign in first, or send Authorization: Bearer <API token>")
    if user.scope not in ACCESS[access]:
        raise ApiError(403, "this API token may only add trips and points")


def _uid(request: Request) -> int:
    return request.state.user.user_id


def _positive_int(request: Request, name: str, default: int, most: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ApiError(400, f"{name} must be a whole number from 1 to {most}")
    return int(raw)


@_endpoint("ingest")
async def put_trip(request: Request) -> Response:
    key = _trip_key(request)
    body = await _read_json(request, required=False)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    payload, created = await run_in_threadpool(_put_trip, key, body, _uid(request))
    return JSONResponse(payload, status_code=201 if created else 200)


@_endpoint("ingest")
async def post_points(request: Request) -> Response:
    with upload_in_progress():  # exports wait meanwhile
        key = _trip_key(request)
        body = await _read_json(request)
        stored = asyncio.wrap_future(_post_points(key, body, _uid(request)))
        try:
            answer, trip_id, newest_ms = await asyncio.wait_for(stored, WRITE_WAIT_S)
        except TimeoutError:  # may still be stored: a retry is a harmless duplicate
            raise ApiError(503, health.LOCKED_MESSAGE, LOCKED_RETRY_AFTER_S) from None
    if road.wants_road(body, request.query_params.get("road")):  # the Drive screen asks
        phone_now = phone_now_ms(body.get("sent_at"), int(time.time() * 1000))
        answer["road"] = await road.road_answer(
            trip_id,
            newest_ms,
            phone_now,
            user_id=_uid(request),  # the cap by its own rules
        )
    return JSONResponse(answer)


@_endpoint("ingest")
async def finish_trip(request: Request) -> Response:
    key = _trip_key(request)
    body = await _read_json(request, required=False)
    return JSONResponse(await run_in_threadpool(_finish, key, body, _uid(request)))


@_endpoint("read")
async def get_trip(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_get, _trip_key(request), _uid(request)))


@_endpoint("read")
async def list_trips(request: Request) -> Response:
    """My trips, newest first: ``?page=1&per_page=20`` (at most 200 a page)."""
    page = _positive_int(request, "page", 1, 1_000_000)
    per_page = _positive_int(request, "per_page", 20, 200)
    return JSONResponse(await run_in_threadpool(_list, page, per_page, _uid(request)))


@_endpoint("read")
async def export_gpx(request: Request) -> Response:
    return await _stream_export(request, ExportFormat.GPX)


@_endpoint("read")
async def export_geojson(request: Request) -> Response:
    return await _stream_export(request, ExportFormat.GEOJSON)


def _vehicles(user_id: int) -> list[dict[str, Any]]:
    with app_session() as s:
        return [vehicle_dict(v) for v in q.list_vehicles(s, user_id)]


@_endpoint("read")
async def get_vehicles(request: Request) -> Response:
    """The garage, for the Drive screen's vehicle picker (its cap drives the speed alert)."""
    return JSONResponse(await run_in_threadpool(_vehicles, _uid(request)))


@_endpoint("ingest")
async def get_me(request: Request) -> Response:
    """Who is signed in: no secret, just the name the phone tags its recordings with."""
    user: SignedIn = request.state.user
    return JSONResponse(
        {"username": user.username, "role": user.role, "single_user": user.scope == "single"}
    )


@_endpoint(PUBLIC)
async def get_rules(request: Request) -> Response:
    """The Kei rules in force on ``?on=YYYY-MM-DD`` (default today): with the caller's own
    overrides when signed in (or a ``read`` token), the package rules otherwise.

    The Drive screen keeps a copy so that its state badge works offline.
    """
    on = request.query_params.get("on")
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise ApiError(400, f"'on' must be a date like 2028-01-01, not {on[:40]!r}") from exc
    user: SignedIn | None = request.state.user
    reader = user.user_id if user is not None and user.scope in ACCESS["read"] else None
    book, _ = await run_in_threadpool(load_book, reader)  # broken overrides: package rules
    response = JSONResponse([_served_rule(book, rule, day) for rule in book.all_rules(day)])
    response.headers["Vary"] = "Cookie, Authorization"  # one answer per account
    return response


def _served_rule(book, rule, day: date | None) -> dict[str, Any]:
    data = rule.to_dict()
    # Backward compatible: ``sources`` stays a list of URLs; the records are beside it.
    data["source_records"], data["sources"] = data["sources"], data["source_urls"]
    nxt = book.next_change(rule.state, day)
    data["next_change"] = (
        {
            "on": nxt.effective_from.isoformat(),
            "status": nxt.status,
            "road_access": nxt.road_access,
            "text": nxt.change or nxt.access_text(),
        }
        if nxt and nxt.effective_from
        else None
    )
    return data


@_endpoint(PUBLIC)
async def get_rules_order(_request: Request) -> Response:
    """The one severity order (statuses, access modes), defined in ``core/rules_vocab.py``."""
    return JSONResponse(order_document())


def _route_error(status: int, error: str, detail: str = "") -> Response:
    return error_response(status, error, detail=detail)


def _guidance(body: Any, user_id: int) -> dict[str, Any]:
    """Check, route and word a ``POST /api/v1/route`` body (in a worker thread), by the
    caller's own rule overrides and local permits."""
    from kei_drive.routing import NoRouteError, RoutingError, TilesMissingError
    from kei_drive.routing.base import RouterUnavailableError
    from kei_drive.services import guidance as guide
    from kei_drive.services.planning import routing_error, rules_and_permits

    req = guide.parse_request(body)
    try:
        rules, permits = rules_and_permits(user_id)
        return guide.guidance(req, rules=rules, permits=permits)
    except RoutingError as exc:
        shown = routing_error(exc)
        status = 422
        if isinstance(exc, TilesMissingError | RouterUnavailableError):
            status = 503
        elif isinstance(exc, NoRouteError):
            status = 404
        detail = " ".join(t for t in (shown.message, shown.hint) if t)
        raise guide.BadRouteRequest(status, shown.title, detail) from exc
    except ValueError as exc:  # a track with nothing usable in it
        raise guide.BadRouteRequest(422, "Cannot follow this track", str(exc)) from exc


@_endpoint("read")
async def post_route(request: Request) -> Response:
    """Guidance for the Drive screen: a Kei route (from/to) or an audited GPX route (track)
    with maneuvers, warnings and announcements (``kei_drive.services.guidance``)."""
    from kei_drive.auth_routes import same_origin
    from kei_drive.services.guidance import BadRouteRequest

    if request.state.user.scope == "session" and not same_origin(request):
        return _route_error(403, "Cross-site request refused", "POST from this site only")
    try:
        body = await _read_json(request)
        uid = request.state.user.user_id
        return JSONResponse(await run_in_threadpool(_guidance, body, uid))
    except ApiError as exc:  # the body: too large or missing
        status = 422 if exc.status == 413 else exc.status
        return _route_error(status, "Bad route request", exc.message)
    except InvalidInput as exc:
        return _route_error(400, "Bad route request", str(exc))
    except BadRouteRequest as exc:
        return _route_error(exc.status, exc.error, exc.detail)


async def _http_error(_request: Request, exc: HTTPException) -> Response:
    return error_response(exc.status_code, str(exc.detail))


routes = [
    Route("/api/v1/rules", get_rules, methods=["GET"]),
    Route("/api/v1/rules/order", get_rules_order, methods=["GET"]),
    Route("/api/v1/vehicles", get_vehicles, methods=["GET"]),
    Route("/api/v1/trips", list_trips, methods=["GET"]),
    Route("/api/v1/me", get_me, methods=["GET"]),
    Route("/api/v1/route", post_route, methods=["POST"]),
    Route("/api/v1/trips/{trip}", put_trip, methods=["PUT"]),
    Route("/api/v1/trips/{trip}", get_trip, methods=["GET"]),
    Route("/api/v1/trips/{trip}/points", post_points, methods=["POST"]),
    Route("/api/v1/trips/{trip}/finish", finish_trip, methods=["POST"]),
    Route("/api/v1/trips/{trip}/export.gpx", export_gpx, methods=["GET"]),
    Route("/api/v1/trips/{trip}/export.geojson", export_geojson, methods=["GET"]),
    Mount("/tiles", app=basemap_tiles),  # offline basemap (kei_drive/basemap/endpoint.py)
    *ingest_api.routes,  # OwnTracks, Overland, GPSLogger (kei_drive/ingest_api.py)
]

api = Starlette(
    routes=[*routes, *auth_routes.routes, *settings_routes.routes],
    exception_handlers={HTTPException: _http_error},
)
