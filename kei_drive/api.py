"""HTTP API for trip recording and export (Starlette), mounted on the Reflex backend with
``rx.App(api_transformer=api)``. Every response is JSON; errors are ``{"error": "..."}``.

Routes (``{trip}`` is the client-generated UUID of the trip):

- ``PUT  /api/v1/trips/{trip}``           create the trip (idempotent). Body, all optional:
  ``{"vehicle_id": 1, "started_at": <epoch ms | ISO 8601>, "name": "..."}``.
  201 when created, 200 when it existed (empty fields are filled, nothing overwritten).
- ``POST /api/v1/trips/{trip}/points``    a batch of fixes
  ``{"points": [{"id", "t" (epoch ms), "lat", "lon", "acc", "speed", "heading", "alt"}]}``
  -> ``{"accepted": n, "duplicates": n, "rejected": [{"id", "reason"}],
  "cleaned": [{"id", "reason"}], "point_count": n}``. A fix whose id the trip already has
  is a duplicate and stored once, so a retry is always safe. Bad fixes (NaN or out-of-range
  coordinates, missing id/time, time before the trip or going backwards by more than
  ``BACKWARDS_TOLERANCE_MS`` within the batch, time in the future) are rejected one by one;
  bad optional fields (e.g. a negative speed) are dropped and listed in ``cleaned``. The
  client may delete the whole batch from its queue after a 200. More than ``MAX_POINTS``
  fixes or a body over ``MAX_BODY_BYTES`` -> 413 (split the batch).
  An unknown trip is created implicitly (the phone may have started it offline and its
  PUT may still be queued); it starts at its earliest fix. Fixes arriving after the trip
  was finished are stored and its statistics recomputed.
- ``POST /api/v1/trips/{trip}/finish``    body optional ``{"ended_at": <epoch ms>}``;
  computes and stores the statistics -> ``{"trip": {...}, "stats": {...}}``.
- ``GET  /api/v1/trips/{trip}``           the trip with its stats and ``point_count``.
- ``GET  /api/v1/trips/{trip}/export.gpx`` and ``export.geojson``.
- ``GET  /api/v1/rules?on=YYYY-MM-DD``    the Kei rules in force that day (overrides applied).
- ``GET  /api/v1/vehicles``                the garage (for the Drive screen's vehicle picker).

The database is ``kei_drive.config.database_url()`` at the time of each request; it is
migrated on first use.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from kei_drive import config, ingest_api
from kei_drive.basemap.endpoint import app as basemap_tiles
from kei_drive.core.rules import load_rules
from kei_drive.db import ensure_migrated, session
from kei_drive.db import queries as q
from kei_drive.trip_roads import mark_highway_use

MAX_POINTS = 5000
MAX_BODY_BYTES = 2 * 1024 * 1024
BACKWARDS_TOLERANCE_MS = 5_000  # within a batch; phones sometimes reorder by a second
BEFORE_START_TOLERANCE_MS = 60_000
FUTURE_TOLERANCE_MS = 10 * 60_000
EARLIEST_MS = 946_684_800_000  # 2000-01-01: older times are a broken clock
MAX_SPEED_MPS = 150.0


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_json(request: Request, required: bool = True) -> Any:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"payload of {int(length)} bytes is over {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"payload is over {MAX_BODY_BYTES} bytes")
    if not body.strip():
        if required:
            raise ApiError(400, "the request body must be JSON")
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from exc


def _trip_key(request: Request) -> str:
    try:
        return q.normalize_trip_uuid(request.path_params["trip"])
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


def _number(value: Any) -> float | None:
    """A finite number, or None (bools and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _time_arg(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return datetime.fromtimestamp(number / 1000.0, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ApiError(400, f"{what} must be epoch milliseconds or ISO 8601") from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ApiError(400, f"{what} must be epoch milliseconds or ISO 8601")


def _opt(item: dict, key: str, ok: Callable[[float], bool], cleaned: list, pid: str) -> Any:
    raw = item.get(key)
    if raw is None:
        return None
    number = _number(raw)
    if number is None or not ok(number):
        cleaned.append({"id": pid, "reason": f"{key} {raw!r} is not valid and was dropped"})
        return None
    return number


def validate_points(
    items: list, trip_start_ms: int | None, now_ms: int | None = None
) -> tuple[list[q.PointIn], list[dict], list[dict]]:
    """Split a batch into valid fixes, rejected ``{"id", "reason"}`` and cleaned notes."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    good: list[q.PointIn] = []
    rejected: list[dict] = []
    cleaned: list[dict] = []
    latest = None
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"id": None, "reason": f"item {index} is not an object"})
            continue
        raw_id = item.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            rejected.append({"id": None, "reason": f"item {index} has no valid id"})
            continue
        pid = str(raw_id)
        if not 1 <= len(pid) <= 64:
            rejected.append({"id": pid[:64], "reason": "id must be 1 to 64 characters"})
            continue

        def reject(reason: str, pid: str = pid) -> None:
            rejected.append({"id": pid, "reason": reason})

        t = _number(item.get("t"))
        lat, lon = _number(item.get("lat")), _number(item.get("lon"))
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
        elif t > now_ms + FUTURE_TOLERANCE_MS:
            reject("time is in the future")
        elif trip_start_ms is not None and t < trip_start_ms - BEFORE_START_TOLERANCE_MS:
            reject("time is before the trip started")
        elif latest is not None and t < latest - BACKWARDS_TOLERANCE_MS:
            reject(f"time goes backwards by {(latest - t) / 1000:.1f} s")
        else:
            latest = t if latest is None else max(latest, t)
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
    return good, rejected, cleaned


def _db_url() -> str:
    url = config.database_url()
    ensure_migrated(url)
    return url


def _trip_payload(s, trip) -> dict[str, Any]:
    vehicle = s.get(q.Vehicle, trip.vehicle_id) if trip.vehicle_id else None
    return q.trip_dict(trip, vehicle)


# ---------------------------------------------------------------------------- handlers


def _put_trip(key: str, body: dict) -> tuple[dict, bool]:
    vehicle_id = body.get("vehicle_id")
    if vehicle_id is not None and (isinstance(vehicle_id, bool) or not isinstance(vehicle_id, int)):
        raise ApiError(400, "vehicle_id must be an integer")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise ApiError(400, "name must be text of at most 200 characters")
    started_at = _time_arg(body.get("started_at"), "started_at")
    with session(_db_url()) as s:
        trip, created = q.ensure_trip(
            s, key, vehicle_id=vehicle_id, started_at=started_at, name=name
        )
        return _trip_payload(s, trip), created


def _post_points(key: str, body: Any) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("points"), list):
        raise ApiError(400, 'the body must be {"points": [...]}')
    items = body["points"]
    if len(items) > MAX_POINTS:
        raise ApiError(413, f"{len(items)} points in one batch; at most {MAX_POINTS}")
    with session(_db_url()) as s:
        try:
            trip = q.get_trip(s, key)
        except q.NotFound:
            trip = None
        start_ms = (
            int(q.as_utc(trip.started_at).timestamp() * 1000)
            if trip is not None and trip.started_at is not None
            else None
        )
        good, rejected, cleaned = validate_points(items, start_ms)
        if trip is None:  # started offline: its PUT may still be queued on the phone
            first = min((p.time_ms for p in good), default=None)
            started = datetime.fromtimestamp(first / 1000, UTC) if first else None
            trip, _ = q.ensure_trip(s, key, started_at=started)
        elif trip.started_at is None and good:
            trip.started_at = datetime.fromtimestamp(min(p.time_ms for p in good) / 1000, UTC)
        accepted, duplicates = q.add_points(s, trip, good)
        if accepted and trip.recording_state == "finished":
            q.refresh_stats(s, trip)  # late fixes from the phone's queue
        return {
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
            "cleaned": cleaned,
            "point_count": trip.point_count,
        }


def _finish(key: str, body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    ended_at = _time_arg(body.get("ended_at"), "ended_at")
    with session(_db_url()) as s:
        trip = q.get_trip(s, key)
        stats = q.finish_trip(s, trip, ended_at)
        mark_highway_use(s, trip)
        return {"trip": _trip_payload(s, trip), "stats": stats.to_dict()}


def _get(key: str) -> dict:
    with session(_db_url()) as s:
        return _trip_payload(s, q.get_trip(s, key))


def _export(key: str, fmt: str) -> tuple[str, str]:
    with session(_db_url()) as s:
        trip = q.get_trip(s, key)
        stem = f"kei-drive-{trip.uuid[:8]}"
        if fmt == "gpx":
            return q.export_gpx(s, trip.id), stem  # type: ignore[arg-type]
        return json.dumps(q.export_geojson(s, trip.id)), stem  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ routes


def _endpoint(fn: Callable) -> Callable:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            return _error(exc.status, exc.message)
        except q.NotFound as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))

    return endpoint


@_endpoint
async def put_trip(request: Request) -> Response:
    key = _trip_key(request)
    body = await _read_json(request, required=False)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    payload, created = await run_in_threadpool(_put_trip, key, body)
    return JSONResponse(payload, status_code=201 if created else 200)


@_endpoint
async def post_points(request: Request) -> Response:
    key = _trip_key(request)
    body = await _read_json(request)
    return JSONResponse(await run_in_threadpool(_post_points, key, body))


@_endpoint
async def finish_trip(request: Request) -> Response:
    key = _trip_key(request)
    body = await _read_json(request, required=False)
    return JSONResponse(await run_in_threadpool(_finish, key, body))


@_endpoint
async def get_trip(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_get, _trip_key(request)))


@_endpoint
async def export_gpx(request: Request) -> Response:
    text, stem = await run_in_threadpool(_export, _trip_key(request), "gpx")
    return Response(
        text,
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="{stem}.gpx"'},
    )


@_endpoint
async def export_geojson(request: Request) -> Response:
    text, stem = await run_in_threadpool(_export, _trip_key(request), "geojson")
    return Response(
        text,
        media_type="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{stem}.geojson"'},
    )


def _vehicles() -> list[dict[str, Any]]:
    with session(_db_url()) as s:
        return [q.vehicle_dict(v) for v in q.list_vehicles(s)]


@_endpoint
async def get_vehicles(_request: Request) -> Response:
    """The garage, for the Drive screen's vehicle picker (its cap drives the speed alert)."""
    return JSONResponse(await run_in_threadpool(_vehicles))


@_endpoint
async def get_rules(request: Request) -> Response:
    """The Kei rules in force on ``?on=YYYY-MM-DD`` (default today), with local overrides.

    The Drive screen keeps a copy so that its state badge works offline.
    """
    on = request.query_params.get("on")
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise ApiError(400, f"'on' must be a date like 2028-01-01, not {on!r}") from exc
    book = await run_in_threadpool(load_rules)
    return JSONResponse([rule.to_dict() for rule in book.all_rules(day)])


async def _http_error(_request: Request, exc: HTTPException) -> Response:
    return _error(exc.status_code, str(exc.detail))


routes = [
    Route("/api/v1/rules", get_rules, methods=["GET"]),
    Route("/api/v1/vehicles", get_vehicles, methods=["GET"]),
    Route("/api/v1/trips/{trip}", put_trip, methods=["PUT"]),
    Route("/api/v1/trips/{trip}", get_trip, methods=["GET"]),
    Route("/api/v1/trips/{trip}/points", post_points, methods=["POST"]),
    Route("/api/v1/trips/{trip}/finish", finish_trip, methods=["POST"]),
    Route("/api/v1/trips/{trip}/export.gpx", export_gpx, methods=["GET"]),
    Route("/api/v1/trips/{trip}/export.geojson", export_geojson, methods=["GET"]),
    Mount("/tiles", app=basemap_tiles),  # offline basemap (kei_drive/basemap/endpoint.py)
    *ingest_api.routes,  # OwnTracks, Overland, GPSLogger (kei_drive/ingest_api.py)
]

api = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
