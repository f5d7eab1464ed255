"""The road under the phone's latest fixes, for the answer to a points batch (issue #13).

Asked for by the Drive screen only (``"want_road": true``), so background loggers and bulk
uploads never pay for it. The newest fix of the batch and the trip's stored fixes of the
``WINDOW_MS`` before it are map-matched (``routing.road_match``); the state at the newest
fix and its Kei cap come from the geography and the rule book. Every failure is an
"unknown" answer with its reason, never a guess and never an error for the batch, which
is stored before this runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool

from kei_drive import config
from kei_drive.core.access import permit_at
from kei_drive.core.geo import state_at
from kei_drive.core.local_permits import PermitError
from kei_drive.core.road_status import RoadUnknown, road_status, unknown
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.db.permits import user_permits
from kei_drive.routing.base import (
    NoRouteError,
    Router,
    RouterUnavailableError,
    RoutingError,
    TilesMissingError,
)
from kei_drive.routing.road_match import RoadNotFound, match_road

WINDOW_MS = 30_000  # the fixes that say which road: the last half minute
OLD_AFTER_MS = 60_000  # a newest fix older than this (vs the phone's clock) is a backlog
MAX_PARALLEL = 2  # road checks at once; more phones get "busy" rather than a queue
_SLOTS = threading.BoundedSemaphore(MAX_PARALLEL)
log = logging.getLogger(__name__)


def wants_road(body: Any, query_flag: str | None) -> bool:
    """The client asked: ``"want_road": true`` in the body or ``?road=1``."""
    return (isinstance(body, dict) and body.get("want_road") is True) or query_flag in (
        "1",
        "true",
    )


def _router() -> Router:
    """The configured engine, with a short timeout when it is a server."""
    url = config.valhalla_url()
    if url:
        from kei_drive.routing.valhalla_http import HttpValhallaRouter

        return HttpValhallaRouter(url, timeout_s=config.road_budget_s())
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    return LocalValhallaRouter(config.tiles_dir())


_BOOKS: dict[int | None, tuple[Any, Any]] = {}  # account -> (its overrides' version, book)


def _rule_book(user_id: int | None) -> Any:
    """The rule book with the account's own overrides, re-read only when they change
    (parsing costs ~10 ms, more than the whole road check; the version is one small read)."""
    from kei_drive.db.overrides import document_version
    from kei_drive.services.us_states import load_book

    version = None
    if user_id is not None:
        with app_session() as s:
            version = document_version(s, user_id)
    cached = _BOOKS.get(user_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    book = load_book(user_id)[0]
    if len(_BOOKS) > 256:  # many accounts: start over rather than grow
        _BOOKS.clear()
    _BOOKS[user_id] = (version, book)
    return book


def _cap(state: str | None, user_id: int | None, lat: float, lon: float) -> tuple[Any, Any]:
    """The Kei cap (mph or None) at (lat, lon) and the driver's permit that sets it (or
    None): inside one of the account's local permits with a cap, that cap replaces the
    state's, as in the route audit (``core/access.py``)."""
    if state is None:
        return None, None
    rule = _rule_book(user_id).rule_for(state)
    cap = getattr(rule, "max_road_speed_mph", None) if rule is not None else None
    if user_id is None:
        return cap, None
    try:
        with app_session() as s:
            permits = user_permits(s, user_id)
    except PermitError:
        log.exception("stored local permits do not parse; the state's cap applies")
        return cap, None
    permit = permit_at(permits, state, rule, lat, lon)
    if permit is not None and permit.cap_mph:
        return permit.cap_mph, permit
    return cap, None


def road_now(
    trip_id: int,
    newest_ms: int | None,
    phone_now_ms: int,
    router: Router | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """The ``road`` answer for a trip whose newest stored fix of the batch is at
    ``newest_ms`` (None: the batch stored no fix); the cap by ``user_id``'s own rules."""
    if newest_ms is None:
        return unknown(RoadUnknown.TOO_FEW_FIXES)
    if phone_now_ms - newest_ms > OLD_AFTER_MS:
        return unknown(RoadUnknown.OLD_FIXES, newest_ms)
    with app_session() as s:
        fixes = q.recent_fixes(s, trip_id, newest_ms, WINDOW_MS)
    try:
        road = match_road(router or _router(), fixes)
    except RoadNotFound as exc:
        return unknown(exc.reason, newest_ms)
    except TilesMissingError:
        return unknown(RoadUnknown.NO_TILES, newest_ms)
    except NoRouteError:
        return unknown(RoadUnknown.OUTSIDE_MAP, newest_ms)
    except RouterUnavailableError:
        return unknown(RoadUnknown.ENGINE_ERROR, newest_ms, "the routing server did not answer")
    except RoutingError:
        return unknown(RoadUnknown.ENGINE_ERROR, newest_ms)
    lat, lon, _acc = fixes[-1]
    hit = state_at(lat, lon)
    code = hit.code if hit is not None else None
    cap, permit = _cap(code, user_id, lat, lon)
    return road_status(road, code, cap, newest_ms, permit.label if permit is not None else None)


def _guarded(
    trip_id: int, newest_ms: int | None, phone_now_ms: int, user_id: int | None
) -> dict[str, Any]:
    if not _SLOTS.acquire(blocking=False):
        return unknown(RoadUnknown.BUSY, newest_ms)
    try:
        return road_now(trip_id, newest_ms, phone_now_ms, user_id=user_id)
    except Exception:  # the batch is stored already: its answer must not fail for the road
        log.exception("road check failed")
        return unknown(RoadUnknown.ENGINE_ERROR, newest_ms)
    finally:
        _SLOTS.release()


async def road_answer(
    trip_id: int,
    newest_ms: int | None,
    phone_now_ms: int,
    budget_s: float | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """``road_now`` in a worker thread, at most ``budget_s`` (``KEI_DRIVE_ROAD_BUDGET_S``):
    the event loop never waits on the engine, and a slow engine costs the batch its road,
    not its answer (the first check after a start also loads the engine and may not fit)."""
    budget_s = budget_s or config.road_budget_s()
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(
            run_in_threadpool(_guarded, trip_id, newest_ms, phone_now_ms, user_id), budget_s
        )
    except TimeoutError:
        return unknown(RoadUnknown.TIMEOUT, newest_ms)
    answer["check_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return answer
