"""The router interface: raw Valhalla actions driven by the same request JSON everywhere."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

# Valhalla messages / error codes that mean "no way there" rather than "broken request".
_NO_ROUTE_CODES = {170, 171, 172, 442, 443, 444, 445}
_NO_ROUTE_TEXT = (
    "no path could be found",
    "no suitable edges",
    "failed to find path",
    "exceeded breakage distance",  # a trace's fixes all too far apart to join (443)
)


class RoutingError(RuntimeError):
    """Routing failed; the message is meant for the user."""


class TilesMissingError(RoutingError):
    """No routing tiles where the local engine looks for them."""


class TilesDamagedError(TilesMissingError):
    """Tiles whose files differ from their build, or an unreadable config: no engine
    answer can be trusted (a track would read "not near any road"), so none is asked."""


class RouterUnavailableError(RoutingError):
    """The Valhalla server did not answer."""


class NoRouteError(RoutingError):
    """Valhalla found no route (or no road near a location)."""


def valhalla_error(message: str, code: int | None = None) -> RoutingError:
    """Map a Valhalla error to NoRouteError or a plain RoutingError."""
    text = message.lower()
    if (code in _NO_ROUTE_CODES) or any(t in text for t in _NO_ROUTE_TEXT):
        return NoRouteError(message)
    return RoutingError(f"routing engine error: {message}")


@runtime_checkable
class Router(Protocol):
    """A Valhalla engine: local (in-process) or remote (HTTP). Requests and answers are
    Valhalla's own JSON (as dicts); errors are RoutingError subclasses."""

    name: str

    def route(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def trace_attributes(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def trace_route(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def status(self) -> dict[str, Any]: ...


class ValhallaActions:
    """The Valhalla actions the app uses, each one JSON request in, JSON answer out through
    the engine's ``_call`` (in-process or over HTTP)."""

    def _call(self, action: str, request: dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def route(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._call("route", request)

    def trace_attributes(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._call("trace_attributes", request)

    def trace_route(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._call("trace_route", request)

    def locate(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        return self._call("locate", request)  # type: ignore[return-value]  (a JSON list)
