"""Guidance for the Drive screen (``POST /api/v1/route``): a request checked and normalised,
the route planned (two points) or matched (an audited GPX route), and the document the
phone stores: ``{"version": 1, "request", "route", "announcements"}``.

The request forms (the shared contract, issue #13)::

    {"from": [lat, lon], "to": [lat, lon], "to_name": "…", "options": {…}}
    {"track": [[lat, lon], …], "name": "…", "options": {…}}     (+ "from" on a re-route)

A re-route may add ``"heading"`` (degrees from north, the truck's direction of travel): the
new route starts the way the truck is going. On a track it may add ``"along_m"`` (how far
along the route being followed the truck was): where the track passes the same place twice
(out and back), the pass nearest that progress is rejoined. The answer's request then
carries ``"track_offset_m"`` (where along the track that route's metre 0 lies), sent back
with the next re-route.

``options``: ``top_speed_mph`` (10–80, default 45), ``avoid_banned``, ``avoid_opt_in``,
``avoid_trunks`` (default true), ``avoid_over_cap`` (default true), ``date``
("YYYY-MM-DD" or null: today's rules). A track with a ``from`` (the truck left the route)
is driven from there: from the track's point nearest ``from``, after a Kei route from
``from`` to that point when the truck is more than 30 m away from it.

Bad input raises ``BadRouteRequest`` (status 400: not the expected shape; 422: a value out
of range); routing failures are the router's ``RoutingError`` subclasses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.presenters.guidance import announcements
from kei_drive.services.planning import MAX_TOP_SPEED_MPH, MIN_TOP_SPEED_MPH

GUIDANCE_VERSION = 1
MAX_TRACK_POINTS = 20_000
# A route to follow this long at most (about 28 hours at 45 mph): 20,000 points scattered
# across a city made 65,890 km of roads between them and held a worker for 271 s.
MAX_TRACK_KM = 2_000.0


def _line_km(points: Sequence[tuple[float, float]]) -> float:
    from kei_drive.core.distance import cumulative_m

    lat, lon = zip(*points, strict=True)
    return float(cumulative_m(list(lat), list(lon))[-1]) / 1000


MAX_NAME_CHARS = 200
NO_MANEUVERS_NOTE = (
    "Turn-by-turn directions are not available along this route (its points could not be "
    "matched to roads as one drive); the route line and its warnings are."
)
_OPTION_FLAGS = {  # request field -> default
    "avoid_banned": False,
    "avoid_opt_in": False,
    "avoid_trunks": True,
    "avoid_over_cap": True,
}


class BadRouteRequest(ValueError):
    """The request cannot be routed: an HTTP status, a short error and the detail (both
    safe to show). Raised with one text, that text is the detail of "Bad route request"."""

    def __init__(self, status: int, error: str, detail: str | None = None) -> None:
        if detail is None:
            error, detail = "Bad route request", error
        super().__init__(f"{error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


@dataclass(frozen=True)
class RouteOptions:
    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH
    avoid_banned: bool = False
    avoid_opt_in: bool = False
    avoid_trunks: bool = True
    avoid_over_cap: bool = True
    on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "top_speed_mph": self.top_speed_mph,
            "avoid_banned": self.avoid_banned,
            "avoid_opt_in": self.avoid_opt_in,
            "avoid_trunks": self.avoid_trunks,
            "avoid_over_cap": self.avoid_over_cap,
            "date": self.on.isoformat() if self.on else None,
        }

    def kei_options(self, heading: float | None = None):
        from kei_drive.routing import KeiOptions

        return KeiOptions(
            origin_heading=heading,
            top_speed_mph=self.top_speed_mph,
            avoid_banned_states=self.avoid_banned,
            avoid_opt_in_states=self.avoid_opt_in,
            avoid_trunks=self.avoid_trunks,
            avoid_over_cap_roads=self.avoid_over_cap,
            on=self.on,
        )


@dataclass(frozen=True)
class GuidanceRequest:
    """A checked request: a plan (``origin`` + ``destination``) or a track."""

    options: RouteOptions = field(default_factory=RouteOptions)
    origin: tuple[float, float] | None = None
    destination: tuple[float, float] | None = None
    to_name: str = ""
    track: tuple[tuple[float, float], ...] = ()
    name: str = ""
    heading: float | None = None  # the truck's direction at ``origin`` (a re-route)
    along_m: float | None = None  # how far along the followed route the truck was
    track_offset_m: float = 0.0  # where along the track the followed route's metre 0 lies

    def to_dict(self) -> dict[str, Any]:
        """The request as it can be sent again (a re-route replaces ``from``)."""
        out: dict[str, Any] = {}
        if self.track:
            out["track"] = [list(p) for p in self.track]
            out["name"] = self.name
            if self.origin is not None:
                out["from"] = list(self.origin)
            if self.track_offset_m:
                out["track_offset_m"] = round(self.track_offset_m, 1)
        else:
            out["from"] = list(self.origin or ())
            out["to"] = list(self.destination or ())
            out["to_name"] = self.to_name
        out["options"] = self.options.to_dict()
        return out


# --- checking ---------------------------------------------------------------------------


def _point(value: Any, what: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise BadRouteRequest(400, f"{what} must be [lat, lon]")
    lat, lon = value
    for v in (lat, lon):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise BadRouteRequest(400, f"{what} must be [lat, lon] numbers")
    try:
        lat, lon = float(lat), float(lon)
    except OverflowError:
        raise BadRouteRequest(422, f"{what} is not a finite number") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise BadRouteRequest(422, f"{what} is not a finite number (NaN or infinite)")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRouteRequest(422, f"{what} is out of range: lat -90..90, lon -180..180")
    return (round(lat, 6), round(lon, 6))


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRouteRequest(400, f"{what} must be text")
    text = " ".join(value.split())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON allows it, the answer could not
        raise BadRouteRequest(400, f"{what} is not valid text") from None
    if len(text) > MAX_NAME_CHARS:
        raise BadRouteRequest(422, f"{what} is over {MAX_NAME_CHARS} characters")
    return text


def parse_options(value: Any) -> RouteOptions:
    if value is None:
        return RouteOptions()
    if not isinstance(value, dict):
        raise BadRouteRequest(400, "options must be an object")
    speed: Any = value.get("top_speed_mph", DEFAULT_TOP_SPEED_MPH)
    if speed is None:
        speed = DEFAULT_TOP_SPEED_MPH
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise BadRouteRequest(400, "options.top_speed_mph must be a number")
    if not (math.isfinite(speed) and MIN_TOP_SPEED_MPH <= speed <= MAX_TOP_SPEED_MPH):
        raise BadRouteRequest(
            422,
            f"options.top_speed_mph must be between {MIN_TOP_SPEED_MPH:g} and "
            f"{MAX_TOP_SPEED_MPH:g} mph",
        )
    flags = {}
    for key, default in _OPTION_FLAGS.items():
        flag = value.get(key, default)
        if flag is None:
            flag = default
        if not isinstance(flag, bool):
            raise BadRouteRequest(400, f"options.{key} must be true or false")
        flags[key] = flag
    on = None
    raw_date = value.get("date")
    if raw_date not in (None, ""):
        if not isinstance(raw_date, str):
            raise BadRouteRequest(400, "options.date must be a date like 2026-06-01, or null")
        try:
            on = date.fromisoformat(raw_date.strip())
        except ValueError:
            raise BadRouteRequest(
                422, f"options.date must look like 2026-06-01, not {raw_date[:40]!r}"
            ) from None
    return RouteOptions(top_speed_mph=float(speed), on=on, **flags)


def parse_request(body: Any) -> GuidanceRequest:
    """Check a request body (any JSON value) and normalise it."""
    if not isinstance(body, dict):
        raise BadRouteRequest(400, "the body must be a JSON object")
    options = parse_options(body.get("options"))
    origin = _point(body["from"], "from") if body.get("from") is not None else None
    heading = _heading(body.get("heading"))
    if body.get("track") is not None:
        track = body["track"]
        if not isinstance(track, list):
            raise BadRouteRequest(400, "track must be a list of [lat, lon] points")
        if len(track) > MAX_TRACK_POINTS:
            raise BadRouteRequest(
                422, f"track has {len(track)} points; at most {MAX_TRACK_POINTS} (thin it first)"
            )
        points = tuple(_point(p, f"track[{i}]") for i, p in enumerate(track))
        if len(points) < 2:
            raise BadRouteRequest(422, "track needs at least two points")
        length_km = _line_km(points)
        if length_km > MAX_TRACK_KM:
            raise BadRouteRequest(
                422,
                f"track is {length_km:,.0f} km long in straight lines; at most "
                f"{MAX_TRACK_KM:,.0f} km (split it into days)",
            )
        return GuidanceRequest(
            options=options,
            origin=origin,
            track=points,
            name=_text(body.get("name"), "name"),
            heading=heading,
            along_m=_metres(body.get("along_m"), "along_m", low=0.0),
            track_offset_m=_metres(body.get("track_offset_m"), "track_offset_m") or 0.0,
        )
    missing = [key for key in ("from", "to") if body.get(key) is None]
    if missing:
        raise BadRouteRequest(
            400, f"missing {' and '.join(missing)}: send from + to (lat, lon) or a track"
        )
    return GuidanceRequest(
        options=options,
        origin=origin,
        destination=_point(body["to"], "to"),
        to_name=_text(body.get("to_name"), "to_name"),
        heading=heading,
    )


def _metres(value: Any, what: str, low: float = -math.inf) -> float | None:
    """A distance in metres (None: not sent)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRouteRequest(400, f"{what} must be a number of metres")
    if not (math.isfinite(value) and value >= low):
        raise BadRouteRequest(
            422, f"{what} must be a finite number of metres" + (" (0 or more)" if low == 0 else "")
        )
    return float(value)


def _heading(value: Any) -> float | None:
    """The truck's direction of travel, degrees from north (None: not known)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRouteRequest(400, "heading must be a number of degrees")
    if not (math.isfinite(value) and 0 <= value <= 360):
        raise BadRouteRequest(422, "heading must be between 0 and 360 degrees")
    return float(value) % 360


# --- routing ----------------------------------------------------------------------------


# Nearer than this the truck is on the track; farther, a Kei route leads it back to the
# track's nearest point (by Kei rules: a map matcher's shortcut could be a motorway ramp).
ON_TRACK_M = 30.0


NEAR_TIE_M = 25.0  # track points this much farther than the nearest are as near (noise)
SAME_WAY_DEG = 60.0  # a track going within this of the truck's heading goes its way


def _nearest(
    track: Sequence[tuple[float, float]],
    at: tuple[float, float],
    heading: float | None = None,
    expected_m: float | None = None,
) -> tuple[int, float]:
    """Index of the track point nearest ``at`` and its distance in metres. A track passes
    some places twice (out and back, a loop home): of the points about as near, the one
    nearest ``expected_m`` along the track wins (the truck's progress), else one where the
    track goes the truck's ``heading`` (within ``SAME_WAY_DEG``; a truck turned back after a
    missed turn heads the way of the other pass, so progress decides first)."""
    from kei_drive.core.distance import bearings_deg, cumulative_m, haversine_m

    pts = np.asarray(track, dtype=float)
    gaps = haversine_m(at[0], at[1], pts[:, 0], pts[:, 1])
    k = int(np.argmin(gaps))
    near = np.flatnonzero(gaps <= gaps[k] + NEAR_TIE_M)
    if len(pts) < 2 or near.size < 2:
        return k, float(gaps[k])
    if expected_m is not None:
        along = cumulative_m(pts[:, 0], pts[:, 1])[near]
        k = int(near[np.argmin(np.abs(along - expected_m))])
    elif heading is not None:
        ahead = np.minimum(near + 1, len(pts) - 1)
        behind = np.maximum(ahead - 1, 0)  # the last point takes its segment's direction
        going = bearings_deg(pts[behind, 0], pts[behind, 1], pts[ahead, 0], pts[ahead, 1])
        same_way = near[np.abs((going - heading + 180.0) % 360.0 - 180.0) <= SAME_WAY_DEG]
        if same_way.size:
            k = int(same_way[np.argmin(gaps[same_way])])
    return k, float(gaps[k])


def _follow_track(
    points: list, router: Any, rules: Any, opts: RouteOptions, permits: Any, start_m: float = 0.0
):
    """The audited track (what the Plan page's check shows) with turn-by-turn directions;
    ``start_m``: how far the driver goes before it (its warnings say "at mile" from there)."""
    from kei_drive.routing import check_track
    from kei_drive.routing.base import RoutingError
    from kei_drive.routing.track_check import track_maneuvers

    result = check_track(
        points, router=router, rules=rules, on=opts.on, top_speed_mph=opts.top_speed_mph,
        permits=permits, start_m=start_m,
    )  # fmt: skip
    try:
        result.maneuvers = track_maneuvers(points, result.report.geometry, router)
    except RoutingError:
        result.maneuvers = []
    if not result.maneuvers:
        result.notes.append(NO_MANEUVERS_NOTE)
    return result


def route_for(
    req: GuidanceRequest, *, router: Any = None, rules: Any = None, permits: Any = None
) -> dict[str, Any]:
    """``RouteResult.to_dict()`` for the request (raises the router's RoutingError)."""
    return _route_and_offset(req, router=router, rules=rules, permits=permits)[0]


def _route_and_offset(
    req: GuidanceRequest, *, router: Any = None, rules: Any = None, permits: Any = None
) -> tuple[dict[str, Any], float]:
    """The route, and where along the track its metre 0 lies (0 but on a track re-route)."""
    from kei_drive.core.distance import cumulative_m
    from kei_drive.core.rules import load_rules
    from kei_drive.routing import get_router, plan_route
    from kei_drive.routing.planner import join_results
    from kei_drive.routing.track_check import fill_route

    router = router or get_router()  # TilesMissingError before any work
    rules = rules if rules is not None else load_rules()
    opts = req.options

    def kei_route(a: tuple[float, float], b: tuple[float, float]):
        heading = req.heading if a == req.origin else None
        return plan_route(
            a, b, options=opts.kei_options(heading), router=router, rules=rules, permits=permits
        )

    if not req.track:
        return kei_route(req.origin, req.destination).to_dict(), 0.0  # type: ignore[arg-type]
    track = list(req.track)
    if req.origin is None:
        return _follow_track(track, router, rules, opts, permits).to_dict(), 0.0
    # Filled in first: on a drawn route the nearest vertex can be kilometres up the road.
    lat, lon = fill_route(*np.asarray(track, dtype=float).T, spacing_m=ON_TRACK_M / 2)
    track = list(zip(lat.tolist(), lon.tolist(), strict=True))
    expected = None if req.along_m is None else req.track_offset_m + req.along_m
    k, gap = _nearest(track, req.origin, req.heading, expected)
    rest = track[k:] if len(track) - k >= 2 else track[-2:]
    start_m = float(cumulative_m(lat, lon)[min(k, len(track) - 2)])
    if gap <= ON_TRACK_M:
        return _follow_track(rest, router, rules, opts, permits).to_dict(), start_m
    lead = kei_route(req.origin, rest[0])
    follow = _follow_track(rest, router, rules, opts, permits, lead.report.distance_m)
    joined = join_results(lead, follow)
    joined.notes.insert(0, "A Kei route leads from where you are back to your route.")
    return joined.to_dict(), start_m - lead.report.distance_m


def guidance(
    req: GuidanceRequest, *, router: Any = None, rules: Any = None, permits: Any = None
) -> dict[str, Any]:
    """The document the Drive screen follows (version 1 of the shared contract)."""
    route, offset = _route_and_offset(req, router=router, rules=rules, permits=permits)
    return {
        "version": GUIDANCE_VERSION,
        "request": replace(req, track_offset_m=offset).to_dict(),
        "route": route,
        "announcements": announcements(route.get("warnings") or []),
    }
