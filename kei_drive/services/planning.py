"""The Plan page's work, without Reflex: resolve the two places, plan or check a route,
audit it and present it as a ``PlanResult``.

The page runs ``run_plan``/``run_check`` in a worker thread and copies the ``PlanOutcome``
into its state; tests call them directly on real tiles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kei_drive import config
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH, MAX_TOP_SPEED_MPH, MIN_TOP_SPEED_MPH
from kei_drive.presenters.route import PlanResult, present

log = logging.getLogger(__name__)

AMBIGUOUS_SPREAD_M = 2000.0  # candidates farther apart than this: ask which one
# The Plan page's top-speed field (the Drive screen's ±5 buttons stop at 5 and 80 mph).


@dataclass
class Place:
    """A resolved place: the page shows ``name`` and ``detail``, credits ``attribution``."""

    name: str
    lat: float
    lon: float
    source: str = ""
    attribution: str = ""
    detail: str = ""


@dataclass
class PlanError:
    """What went wrong, as the page's error box shows it ("" title: no error)."""

    title: str = ""
    message: str = ""
    hint: str = ""


@dataclass
class PlanRequest:
    """The Plan form."""

    origin_text: str = ""
    dest_text: str = ""
    origin_choice: Place | None = None  # a candidate the driver picked, or their location
    dest_choice: Place | None = None
    top_speed: str = f"{DEFAULT_TOP_SPEED_MPH:g}"
    avoid_banned: bool = False
    avoid_opt_in: bool = False  # states where Kei may use only locally allowed roads
    avoid_trunks: bool = True
    avoid_over_cap: bool = True
    trip_date: str = ""
    user_id: int | None = None  # whose rule overrides and local permits apply


@dataclass
class PlaceLookup:
    """One field's answer: a place, candidates to pick from, or an error for the driver."""

    place: Place | None = None
    candidates: list[Place] = field(default_factory=list)
    error: str = ""


@dataclass
class PlanOutcome:
    """What a plan or check changes on the page. Its ``result`` always replaces the one
    shown: a search that fails leaves no earlier verdict standing beside its error."""

    error: PlanError = field(default_factory=PlanError)
    result: PlanResult | None = None
    geometry: list[list[float]] = field(default_factory=list)  # for the GPX export
    origin: PlaceLookup | None = None  # None: the place fields were not looked at
    dest: PlaceLookup | None = None
    attributions: list[str] | None = None  # None: unchanged
    # What "Drive this route" posts to /api/v1/route (services.guidance): the same route.
    guide_request: dict[str, Any] | None = None


def routing_error(exc: Exception) -> PlanError:
    """A routing failure as the title/message/hint the page shows."""
    from kei_drive.routing import (
        NoRouteError,
        RouterUnavailableError,
        RoutingError,
        TilesMissingError,
    )

    if isinstance(exc, TilesMissingError):
        return PlanError(
            "No routing tiles on this server",
            str(exc),
            "Download an OpenStreetMap extract (e.g. your state's .osm.pbf) and run "
            "`kei-drive tiles build FILE.osm.pbf`, then try again.",
        )
    if isinstance(exc, RouterUnavailableError):
        return PlanError("The routing server did not answer", str(exc), "Try again in a moment.")
    if isinstance(exc, NoRouteError):
        return PlanError(
            "No route found",
            str(exc),
            "Both places must be on roads covered by the routing tiles. "
            "Try a point on a nearby street.",
        )
    if isinstance(exc, RoutingError):
        return PlanError("Routing failed", str(exc))
    log.exception("unexpected routing failure", exc_info=exc)
    return PlanError("Something went wrong", f"{type(exc).__name__}: {exc}")


def _place(found: Any) -> Place:
    detail = f"{found.lat:.4f}, {found.lon:.4f}"
    if found.population:
        detail = f"pop. {found.population:,} · {detail}"
    return Place(
        name=found.name,
        lat=found.lat,
        lon=found.lon,
        source=found.source,
        attribution=found.attribution or "",
        detail=detail,
    )


NO_CONNECTION_MESSAGE = 'No connection to the address search — use "City, ST" or lat,lon'
SEARCH_FAILED_MESSAGE = 'The address search could not answer — use "City, ST" or lat,lon'


def resolve_place(
    text: str, choice: Place | None = None, *, online: bool = True, client: Any = None
) -> PlaceLookup:
    """Geocode one field (``client``: the online geocoder, default Nominatim).

    A candidate the user picked (``choice``) is kept while the text still shows its name.
    Several results far apart are "ambiguous": the user picks one. Errors are worded for
    the driver, never the network library's ("[Errno -2] Name or service not known").
    """
    from kei_drive.core.distance import haversine_m
    from kei_drive.geocoding import GeocoderOffline, GeocoderRefused, GeocodingError, geocode

    text = (text or "").strip()
    if choice is not None and choice.name == text:
        return PlaceLookup(place=choice)
    try:
        places = geocode(text, online=online, client=client)
    except GeocoderOffline:
        return PlaceLookup(error=NO_CONNECTION_MESSAGE)
    except GeocoderRefused as exc:
        log.warning("address search failed for %r: %s", text, exc)
        return PlaceLookup(error=SEARCH_FAILED_MESSAGE)
    except GeocodingError as exc:
        return PlaceLookup(error=str(exc))  # our own words: empty field, bad coordinates
    if not places:
        return PlaceLookup(error=f"No place found for “{text}”. Try “City, ST” or “lat,lon”.")
    first = places[0]
    spread = max(float(haversine_m(first.lat, first.lon, p.lat, p.lon)) for p in places)
    if len(places) > 1 and spread > AMBIGUOUS_SPREAD_M:
        return PlaceLookup(candidates=[_place(p) for p in places])
    return PlaceLookup(place=_place(first))


def parse_options(top_speed: str, trip_date: str) -> tuple[float, date | None]:
    """(top speed mph, date or None); ValueError with a message for the user."""
    try:
        speed = float(str(top_speed).strip() or DEFAULT_TOP_SPEED_MPH)
    except ValueError:
        raise ValueError(f"top speed must be a number of mph, not “{top_speed}”") from None
    if not MIN_TOP_SPEED_MPH <= speed <= MAX_TOP_SPEED_MPH:
        raise ValueError(
            f"top speed must be between {MIN_TOP_SPEED_MPH:g} and {MAX_TOP_SPEED_MPH:g} mph"
        )
    on = None
    if str(trip_date or "").strip():
        try:
            on = date.fromisoformat(str(trip_date).strip())
        except ValueError:
            raise ValueError(f"date must look like 2026-06-01, not “{trip_date}”") from None
    return speed, on


def _outcome(result: Any, rules: Any, on, speed: float, **labels: str) -> PlanOutcome:
    data = result.to_dict()
    shown = present(data, rules=rules, on=on, top_speed_mph=speed, **labels)
    return PlanOutcome(result=shown, geometry=data["geometry"])


def rules_and_permits(user_id: int | None) -> tuple[Any, list[Any]]:
    """The account's Kei rules (its overrides applied) and its local permits: what every
    route it plans or checks is judged by (the package rules and none for None).
    RulesError / PermitError when its stored documents are broken."""
    from kei_drive.services.us_states import user_rules

    rules = user_rules(user_id)
    if user_id is None:
        return rules, []
    from kei_drive.db import app_session
    from kei_drive.db.permits import user_permits

    with app_session() as s:
        return rules, user_permits(s, user_id)


def run_plan(req: PlanRequest, *, online: bool = True) -> PlanOutcome:
    """Geocode both fields, plan and audit (by the requesting account's rules)."""
    from kei_drive.routing import KeiOptions, plan_route

    out = PlanOutcome(origin=PlaceLookup(), dest=PlaceLookup())
    try:
        speed, on = parse_options(req.top_speed, req.trip_date)
    except ValueError as exc:
        out.error = PlanError("Check the options", str(exc))
        return out
    out.origin = resolve_place(req.origin_text, req.origin_choice, online=online)
    out.dest = resolve_place(req.dest_text, req.dest_choice, online=online)
    origin, dest = out.origin.place, out.dest.place
    if origin is None or dest is None:
        return out
    out.attributions = sorted({p.attribution for p in (origin, dest) if p.attribution})
    options = KeiOptions(
        top_speed_mph=speed,
        avoid_banned_states=req.avoid_banned,
        avoid_opt_in_states=req.avoid_opt_in,
        avoid_trunks=req.avoid_trunks,
        avoid_over_cap_roads=req.avoid_over_cap,
        on=on,
    )
    try:
        rules, permits = rules_and_permits(req.user_id)
        result = plan_route(
            (origin.lat, origin.lon),
            (dest.lat, dest.lon),
            options=options,
            rules=rules,
            permits=permits,
        )
    except Exception as exc:  # shown to the user; the form keeps its values
        out.error = routing_error(exc)
        return out
    shown = _outcome(
        result,
        rules,
        on,
        speed,
        title=f"{origin.name} → {dest.name}",
        start_label=f"Start: {origin.name}",
        end_label=f"Destination: {dest.name}",
    )
    out.result, out.geometry = shown.result, shown.geometry
    out.guide_request = _guide_request(
        speed, on, req, origin=(origin.lat, origin.lon), dest=(dest.lat, dest.lon), name=dest.name
    )
    return out


def run_check(data: bytes, name: str, req: PlanRequest) -> PlanOutcome:
    """Read an uploaded GPX route, map-match and audit it."""
    from kei_drive.core.gpx import GpxError
    from kei_drive.core.track import TrackArrays
    from kei_drive.routing import check_track

    try:
        speed, on = parse_options(req.top_speed, req.trip_date)
    except ValueError as exc:
        return PlanOutcome(error=PlanError("Check the options", str(exc)))
    if len(data) > config.MAX_GPX_BYTES:
        too_large = PlanError(
            "File too large", f"{name} is over {config.MAX_GPX_BYTES // 2**20} MB."
        )
        return PlanOutcome(error=too_large)
    read_notes: list[str] = []  # points of the file left out (a bad coordinate or time)
    try:
        points = TrackArrays.from_gpx(data, read_notes)  # times and accuracies help
    except (GpxError, ValueError) as exc:
        return PlanOutcome(error=PlanError(f"Cannot read {name}", str(exc)))
    if len(points) < 2:
        return PlanOutcome(
            error=PlanError(
                f"Cannot check {name}",
                f"the file has {len(points)} track/route point(s); a route needs at least two",
            )
        )
    try:
        rules, permits = rules_and_permits(req.user_id)
        result = check_track(points, rules=rules, on=on, top_speed_mph=speed, permits=permits)
    except Exception as exc:
        return PlanOutcome(error=routing_error(exc))
    result.notes[:0] = read_notes
    out = _outcome(
        result,
        rules,
        on,
        speed,
        title=f"Route check: {name}",
        start_label=f"Start of {name}",
        end_label=f"End of {name}",
    )
    drawn = list(zip(points.lat.tolist(), points.lon.tolist(), strict=True))
    out.guide_request = _guide_request(speed, on, req, track=drawn, name=name)
    return out


def _guide_request(
    speed: float,
    on: date | None,
    req: PlanRequest,
    *,
    origin: tuple[float, float] | None = None,
    dest: tuple[float, float] | None = None,
    track: list[tuple[float, float]] | None = None,
    name: str = "",
) -> dict[str, Any]:
    """The /api/v1/route body for what was just planned or checked, with the same options."""
    from kei_drive.services.guidance import (
        MAX_NAME_CHARS,
        MAX_TRACK_POINTS,
        GuidanceRequest,
        RouteOptions,
    )

    options = RouteOptions(
        top_speed_mph=speed,
        avoid_banned=req.avoid_banned,
        avoid_opt_in=req.avoid_opt_in,
        avoid_trunks=req.avoid_trunks,
        avoid_over_cap=req.avoid_over_cap,
        on=on,
    )
    name = " ".join(name.split())[:MAX_NAME_CHARS]
    if track is None:
        return GuidanceRequest(options, origin, dest, to_name=name).to_dict()
    points = [(round(lat, 6), round(lon, 6)) for lat, lon in track]
    if len(points) > MAX_TRACK_POINTS:  # the matcher thins to 20 m anyway
        from kei_drive.routing.track_check import thin_track

        spacing = 20.0
        while len(points) > MAX_TRACK_POINTS:
            points = thin_track(points, spacing)
            spacing *= 2
    return GuidanceRequest(options, track=tuple(points), name=name).to_dict()


def route_gpx(geometry: list[list[float]], name: str, description: str = "") -> str:
    """A planned route as a GPX track (the Plan page's "Export GPX")."""
    from kei_drive.core.gpx import TrackPoint, to_gpx

    points = [TrackPoint(lat=float(lat), lon=float(lon), time=None) for lat, lon in geometry]
    return to_gpx(points, name=name, description=description or None)
