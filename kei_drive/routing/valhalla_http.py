"""A Valhalla server (``valhalla_service`` or a Docker image) over HTTP, stdlib only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from kei_drive import version
from kei_drive.routing.base import (
    RouterUnavailableError,
    RoutingError,
    ValhallaActions,
    valhalla_error,
)


class HttpValhallaRouter(ValhallaActions):
    """Posts the same request JSON as the local engine to ``{url}/{action}``."""

    name = "valhalla-http"

    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _call(self, action: str, request: dict[str, Any] | None) -> dict[str, Any]:
        data = None if request is None else json.dumps(request).encode()
        req = urllib.request.Request(
            f"{self.url}/{action}",
            data=data,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"kei-drive/{version()}",
            },
            method="GET" if data is None else "POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:  # Valhalla answers 4xx with a JSON error
            body = exc.read()
            try:
                err = json.loads(body)
            except ValueError:
                raise RoutingError(
                    f"Valhalla server at {self.url} answered HTTP {exc.code}"
                ) from exc
            raise valhalla_error(str(err.get("error", err)), err.get("error_code")) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RouterUnavailableError(
                f"cannot reach the Valhalla server at {self.url} ({reason}); check "
                "KEI_DRIVE_VALHALLA_URL or unset it to use local tiles"
            ) from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RoutingError(f"Valhalla server at {self.url} sent a non-JSON answer") from exc

    def status(self) -> dict[str, Any]:
        return self._call("status", None)
