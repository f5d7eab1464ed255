"""A small ASGI app behind the real HTTP guard, for tests that need granian's real sockets
without building the Reflex frontend (``tests/integration/test_address_cap.py``).

Granian imports ``create_app`` (a factory); the guard's settings come from
``KEI_DRIVE_GUARD`` like under ``kei-drive serve``. Run it with
``python -m tests.support.guarded_echo PORT``."""

from __future__ import annotations

import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from kei_drive.server.http_guard import GuardSettings, HttpGuard


async def ping(_request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def upload(request: Request) -> JSONResponse:
    return JSONResponse({"bytes": len(await request.body())})


async def held_socket(websocket: WebSocket) -> None:
    """Stays open, idle, until the client leaves: like a page's ``/_event`` websocket."""
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass


def create_app():
    routes = [
        Route("/ping", ping),
        Route("/upload", upload, methods=["POST"]),
        WebSocketRoute("/_event", held_socket),
    ]
    return HttpGuard(Starlette(routes=routes), GuardSettings.from_env())


if __name__ == "__main__":
    from kei_drive.server.launch import app_server, raise_file_limit

    raise_file_limit()
    app_server("tests.support.guarded_echo:create_app", "127.0.0.1", int(sys.argv[1])).serve()
