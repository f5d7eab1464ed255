"""Route ``/plan``: plan a Kei route between two places, or check any GPX route.

The heavy work (geocoding, Valhalla, the audit) runs in plain functions (``run_plan``,
``run_check``) called from background events in a worker thread, so the page stays
responsive and shows a spinner. Their answers are dicts of state fields to set.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

import reflex as rx

from kei_drive.components.layout import page_frame
from kei_drive.components.map import kei_map, map_legend
from kei_drive.components.route_report import LEGEND, present

log = logging.getLogger(__name__)

AMBIGUOUS_SPREAD_M = 2000.0  # candidates farther apart than this: ask which one
MAX_GPX_BYTES = 20 * 1024 * 1024
MIN_TOP_SPEED_MPH, MAX_TOP_SPEED_MPH = 10.0, 80.0
GEOLOCATE_JS = """(new Promise((resolve) => {
  if (!navigator.geolocation) {
    resolve({error: "this browser cannot share its location"});
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => resolve({lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy}),
    (e) => resolve({error: e.code === 1 ? "permission denied" : (e.message || "no position")}),
    {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
}))"""

# On a phone the results are below the form: bring them into view once they are there.
SCROLL_TO_RESULTS_JS = """if (window.innerWidth < 900) {
  document.querySelector('#plan-error, #plan-results, .kp-field-error, .kp-candidates')
    ?.scrollIntoView({behavior: 'smooth', block: 'start'});
}"""

EMPTY_RESULT: dict[str, Any] = {
    "has_result": False,
    "result_kind": "",
    "result_title": "",
    "verdict": "",
    "legal": True,
    "notes": [],
    "distance": "",
    "duration": "",
    "duration_label": "",
    "engine": "",
    "warnings": [],
    "states": [],
    "maneuvers": [],
    "layers": [],
    "map_states": {},
    "_geometry": [],
}
NO_ERROR = {"error_title": "", "error_message": "", "error_hint": ""}


# --- the work (plain functions, no Reflex state) -----------------------------------------


def _error(title: str, message: str, hint: str = "") -> dict[str, str]:
    return {"error_title": title, "error_message": message, "error_hint": hint}


def routing_error(exc: Exception) -> dict[str, str]:
    """A routing failure as the title/message/hint the page shows."""
    from kei_drive.routing import (
        NoRouteError,
        RouterUnavailableError,
        RoutingError,
        TilesMissingError,
    )

    if isinstance(exc, TilesMissingError):
        return _error(
            "No routing tiles on this server",
            str(exc),
            "Download an OpenStreetMap extract (e.g. your state's .osm.pbf) and run "
            "`kei-drive tiles build FILE.osm.pbf`, then try again.",
        )
    if isinstance(exc, RouterUnavailableError):
        return _error("The routing server did not answer", str(exc), "Try again in a moment.")
    if isinstance(exc, NoRouteError):
        return _error(
            "No route found",
            str(exc),
            "Both places must be on roads covered by the routing tiles. "
            "Try a point on a nearby street.",
        )
    if isinstance(exc, RoutingError):
        return _error("Routing failed", str(exc))
    log.exception("unexpected routing failure", exc_info=exc)
    return _error("Something went wrong", f"{type(exc).__name__}: {exc}")


def _place_dict(place: Any) -> dict[str, Any]:
    detail = f"{place.lat:.4f}, {place.lon:.4f}"
    if place.population:
        detail = f"pop. {place.population:,} · {detail}"
    return {
        "name": place.name,
        "lat": place.lat,
        "lon": place.lon,
        "source": place.source,
        "attribution": place.attribution or "",
        "detail": detail,
    }


def resolve_place(text: str, choice: dict | None = None, *, online: bool = True) -> dict:
    """Geocode one field: {"place": dict} | {"candidates": [dict]} | {"error": str}.

    A candidate the user picked (``choice``) is kept while the text still shows its name.
    Several results far apart are "ambiguous": the user picks one.
    """
    from kei_drive.core.distance import haversine_m
    from kei_drive.geocoding import OFFLINE_MESSAGE, GeocoderOffline, GeocodingError, geocode

    text = (text or "").strip()
    if choice and choice.get("name") == text:
        return {"place": choice}
    try:
        places = geocode(text, online=online)
    except GeocoderOffline:
        return {
            "error": f"Offline: {OFFLINE_MESSAGE.removeprefix('offline: ')}. "
            "Type “City, ST” (e.g. “Leesburg, VA”) or “lat,lon”."
        }
    except GeocodingError as exc:
        return {"error": str(exc)}
    if not places:
        return {"error": f"No place found for “{text}”. Try “City, ST” or “lat,lon”."}
    first = places[0]
    spread = max(float(haversine_m(first.lat, first.lon, p.lat, p.lon)) for p in places)
    if len(places) > 1 and spread > AMBIGUOUS_SPREAD_M:
        return {"candidates": [_place_dict(p) for p in places]}
    return {"place": _place_dict(first)}


def parse_options(top_speed: str, trip_date: str) -> tuple[float, date | None]:
    """(top speed mph, date or None); ValueError with a message for the user."""
    try:
        speed = float(str(top_speed).strip() or 45)
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


def _result_fields(
    result: Any, *, kind: str, title: str, rules: Any, on, speed, start_label, end_label
) -> dict[str, Any]:
    data = result.to_dict()
    shown = present(
        data,
        rules=rules,
        on=on,
        top_speed_mph=speed,
        start_label=start_label,
        end_label=end_label,
    )
    return {
        **NO_ERROR,
        "has_result": True,
        "result_kind": kind,
        "result_title": title,
        "verdict": shown["verdict"],
        "legal": shown["legal"],
        "notes": shown["notes"],
        "distance": shown["distance"],
        "duration": shown["duration"],
        "duration_label": shown["duration_label"],
        "engine": shown["engine"],
        "warnings": shown["warnings"],
        "states": shown["states"],
        "maneuvers": shown["maneuvers"],
        "layers": shown["layers"],
        "map_states": shown["state_status"],
        "_geometry": data["geometry"],
    }


def run_plan(req: dict[str, Any], *, online: bool = True) -> dict[str, Any]:
    """Geocode both fields, plan and audit; returns the state fields to set."""
    from kei_drive.core.rules import load_rules
    from kei_drive.routing import KeiOptions, plan_route

    out: dict[str, Any] = {
        "origin_error": "",
        "dest_error": "",
        "origin_candidates": [],
        "dest_candidates": [],
        **NO_ERROR,
    }
    try:
        speed, on = parse_options(req.get("top_speed", "45"), req.get("trip_date", ""))
    except ValueError as exc:
        return {**out, **_error("Check the options", str(exc))}
    places = {}
    for field in ("origin", "dest"):
        found = resolve_place(
            req.get(f"{field}_text", ""), req.get(f"{field}_choice"), online=online
        )
        if "error" in found:
            out[f"{field}_error"] = found["error"]
        elif "candidates" in found:
            out[f"{field}_candidates"] = found["candidates"]
        else:
            places[field] = found["place"]
            out[f"{field}_choice"] = found["place"]
    if len(places) < 2:
        return out
    origin, dest = places["origin"], places["dest"]
    out["attributions"] = sorted({p["attribution"] for p in places.values() if p["attribution"]})
    options = KeiOptions(
        top_speed_mph=speed,
        avoid_banned_states=bool(req.get("avoid_banned")),
        avoid_opt_in_states=bool(req.get("avoid_opt_in")),
        avoid_trunks=bool(req.get("avoid_trunks", True)),
        avoid_over_cap_roads=bool(req.get("avoid_over_cap", True)),
        on=on,
    )
    try:
        rules = load_rules()
        result = plan_route(
            (origin["lat"], origin["lon"]),
            (dest["lat"], dest["lon"]),
            options=options,
            rules=rules,
        )
    except Exception as exc:  # shown to the user; the form keeps its values
        return {**out, **EMPTY_RESULT, **routing_error(exc)}
    return {
        **out,
        **_result_fields(
            result,
            kind="plan",
            title=f"{origin['name']} → {dest['name']}",
            rules=rules,
            on=on,
            speed=speed,
            start_label=f"Start: {origin['name']}",
            end_label=f"Destination: {dest['name']}",
        ),
    }


def run_check(data: bytes, name: str, req: dict[str, Any]) -> dict[str, Any]:
    """Read an uploaded GPX route, map-match and audit it; returns the state fields to set."""
    from kei_drive.core.gpx import GpxError, read_gpx_points
    from kei_drive.core.rules import load_rules
    from kei_drive.routing import check_track

    try:
        speed, on = parse_options(req.get("top_speed", "45"), req.get("trip_date", ""))
    except ValueError as exc:
        return _error("Check the options", str(exc))
    if len(data) > MAX_GPX_BYTES:
        return _error("File too large", f"{name} is over {MAX_GPX_BYTES // 2**20} MB.")
    try:
        points = read_gpx_points(data)
    except GpxError as exc:
        return {**EMPTY_RESULT, **_error(f"Cannot read {name}", str(exc))}
    if len(points) < 2:
        return {
            **EMPTY_RESULT,
            **_error(
                f"Cannot check {name}",
                f"the file has {len(points)} track/route point(s); a route needs at least two",
            ),
        }
    try:
        rules = load_rules()
        result = check_track(points, rules=rules, on=on, top_speed_mph=speed)
    except Exception as exc:
        return {**EMPTY_RESULT, **routing_error(exc)}
    return _result_fields(
        result,
        kind="check",
        title=f"Route check: {name}",
        rules=rules,
        on=on,
        speed=speed,
        start_label=f"Start of {name}",
        end_label=f"End of {name}",
    )


def load_vehicles(url: str | None = None) -> list[dict[str, str]]:
    """The garage's vehicles as select options with their speed caps ([] if none)."""
    from kei_drive import config
    from kei_drive.db import queries as q
    from kei_drive.db.engine import session
    from kei_drive.db.migrate import ensure_migrated

    url = url or config.database_url()
    ensure_migrated(url)
    with session(url) as db:
        return [
            {
                "value": str(v.id),
                "label": v.nickname
                + (f" (top speed {v.speed_cap_mph:g} mph)" if v.speed_cap_mph else ""),
                "speed": f"{v.speed_cap_mph:g}" if v.speed_cap_mph else "",
            }
            for v in q.list_vehicles(db)
        ]


def route_gpx(geometry: list, name: str, description: str = "") -> str:
    from kei_drive.core.gpx import TrackPoint, to_gpx

    points = [TrackPoint(lat=float(lat), lon=float(lon), time=None) for lat, lon in geometry]
    return to_gpx(points, name=name, description=description or None)


# --- state --------------------------------------------------------------------------------


class PlanState(rx.State):
    origin_text: str = ""
    dest_text: str = ""
    origin_note: str = ""
    origin_choice: dict[str, Any] = {}
    dest_choice: dict[str, Any] = {}
    origin_candidates: list[dict[str, Any]] = []
    dest_candidates: list[dict[str, Any]] = []
    origin_error: str = ""
    dest_error: str = ""
    attributions: list[str] = []

    top_speed: str = "45"
    vehicles: list[dict[str, str]] = []
    vehicle: str = ""
    avoid_banned: bool = False
    avoid_opt_in: bool = False
    avoid_trunks: bool = True
    avoid_over_cap: bool = True
    trip_date: str = ""

    busy: bool = False
    busy_label: str = ""
    error_title: str = ""
    error_message: str = ""
    error_hint: str = ""

    has_result: bool = False
    result_kind: str = ""
    result_title: str = ""
    verdict: str = ""
    legal: bool = True
    notes: list[str] = []
    distance: str = ""
    duration: str = ""
    duration_label: str = ""
    engine: str = ""
    warnings: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    maneuvers: list[dict[str, str]] = []
    layers: list[dict[str, Any]] = []
    map_states: dict[str, str] = {}

    _geometry: list[list[float]] = []
    _gpx_data: bytes = b""
    _gpx_name: str = ""

    def _apply(self, fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            setattr(self, key, value)

    def _request(self) -> dict[str, Any]:
        return {
            "origin_text": self.origin_text,
            "dest_text": self.dest_text,
            "origin_choice": dict(self.origin_choice),
            "dest_choice": dict(self.dest_choice),
            "top_speed": self.top_speed,
            "avoid_banned": self.avoid_banned,
            "avoid_opt_in": self.avoid_opt_in,
            "avoid_trunks": self.avoid_trunks,
            "avoid_over_cap": self.avoid_over_cap,
            "trip_date": self.trip_date,
        }

    @rx.event
    def on_load(self):
        if not self.trip_date:
            self.trip_date = date.today().isoformat()
        try:
            self.vehicles = load_vehicles()
        except Exception:  # the page works without the garage
            log.exception("cannot list vehicles")
            self.vehicles = []
        if self.vehicles and not self.vehicle:
            self._choose_vehicle(self.vehicles[0]["value"])

    @rx.event
    def set_vehicle(self, value: str):
        self._choose_vehicle(value)

    def _choose_vehicle(self, value: str) -> None:
        """Choosing a vehicle takes its top speed (the driver may still change it)."""
        self.vehicle = value
        for v in self.vehicles:
            if v["value"] == value and v["speed"]:
                self.top_speed = v["speed"]

    # Form fields.
    @rx.event
    def set_origin_text(self, value: str):
        self.origin_text = value
        self.origin_note = ""
        self.origin_error = ""

    @rx.event
    def set_dest_text(self, value: str):
        self.dest_text = value
        self.dest_error = ""

    @rx.event
    def set_top_speed(self, value: str):
        self.top_speed = value

    @rx.event
    def set_avoid_banned(self, value: bool):
        self.avoid_banned = bool(value)

    @rx.event
    def set_avoid_opt_in(self, value: bool):
        self.avoid_opt_in = bool(value)

    @rx.event
    def set_avoid_trunks(self, value: bool):
        self.avoid_trunks = bool(value)

    @rx.event
    def set_avoid_over_cap(self, value: bool):
        self.avoid_over_cap = bool(value)

    @rx.event
    def set_trip_date(self, value: str):
        self.trip_date = value

    # "My location": the browser's position (see GEOLOCATE_JS).
    @rx.event
    def locating(self):
        self.origin_note = "Finding your location…"
        self.origin_error = ""

    @rx.event
    def got_location(self, result: dict[str, Any]):
        if not isinstance(result, dict) or "lat" not in result:
            error = (result or {}).get("error") if isinstance(result, dict) else None
            self.origin_note = ""
            self.origin_error = f"Your location is unavailable ({error or 'no answer'}). Type it."
            return
        lat, lon = float(result["lat"]), float(result["lon"])
        text = f"{lat:.6f}, {lon:.6f}"
        self.origin_text = text
        self.origin_choice = {
            "name": text,
            "lat": lat,
            "lon": lon,
            "source": "browser",
            "attribution": "",
        }
        self.origin_candidates = []
        accuracy = result.get("accuracy")
        self.origin_note = "Your location" + (f" (±{float(accuracy):.0f} m)" if accuracy else "")

    # Candidates for an ambiguous place.
    @rx.event
    def pick_origin(self, index: int):
        if 0 <= index < len(self.origin_candidates):
            self.origin_choice = self.origin_candidates[index]
            self.origin_text = self.origin_choice["name"]
            self.origin_candidates = []
            if not self.dest_candidates:
                return PlanState.start_plan

    @rx.event
    def pick_dest(self, index: int):
        if 0 <= index < len(self.dest_candidates):
            self.dest_choice = self.dest_candidates[index]
            self.dest_text = self.dest_choice["name"]
            self.dest_candidates = []
            if not self.origin_candidates:
                return PlanState.start_plan

    # Planning.
    @rx.event
    def submit(self, form_data: dict[str, Any]):
        return PlanState.start_plan

    @rx.event
    def start_plan(self):
        if self.busy:
            return
        self.busy = True
        self.busy_label = "Planning your route…"
        self._apply(NO_ERROR)
        return PlanState.plan

    @rx.event(background=True)
    async def plan(self):
        async with self:
            req = self._request()
        try:
            fields = await asyncio.to_thread(run_plan, req)
        except Exception as exc:  # never leave the spinner running
            fields = routing_error(exc)
        async with self:
            self._apply(fields)
            self.busy = False
        yield rx.call_script(SCROLL_TO_RESULTS_JS)

    @rx.event
    def export_gpx(self):
        if len(self._geometry) < 2:
            return rx.toast.error("Plan or check a route first.")
        name = self.result_title or "Kei route"
        text = route_gpx(self._geometry, name, f"{self.distance}; {self.verdict}")
        return rx.download(data=text, filename="kei-route.gpx", mime_type="application/gpx+xml")

    # Checking an uploaded GPX route.
    @rx.event
    async def upload_gpx(self, files: list[rx.UploadFile]):
        if not files or self.busy:
            return
        upload = files[0]
        self._gpx_data = await upload.read()
        self._gpx_name = upload.name or "route.gpx"
        self.busy = True
        self.busy_label = f"Checking {self._gpx_name}…"
        self._apply(NO_ERROR)
        return PlanState.check_gpx

    @rx.event(background=True)
    async def check_gpx(self):
        async with self:
            data, name, req = self._gpx_data, self._gpx_name, self._request()
            self._gpx_data = b""
        try:
            fields = await asyncio.to_thread(run_check, data, name, req)
        except Exception as exc:
            fields = routing_error(exc)
        async with self:
            self._apply(fields)
            self.busy = False
        yield rx.call_script(SCROLL_TO_RESULTS_JS)


# --- view ---------------------------------------------------------------------------------


def _field_label(text: str, for_id: str) -> rx.Component:
    return rx.el.label(text, html_for=for_id, class_name="kp-label")


def _candidates(items, pick, prefix: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.el.div(
            rx.el.div("Which one do you mean?", class_name="kp-candidates-head"),
            rx.foreach(
                items,
                lambda c, i: rx.el.button(
                    rx.el.span(c["name"]),
                    rx.el.span(c["detail"], class_name="kp-attr"),
                    rx.el.span(c["attribution"], class_name="kp-attr"),
                    type="button",
                    on_click=pick(i),
                    class_name="kd-btn kp-candidate",
                ),
            ),
            id=f"{prefix}-candidates",
            class_name="kp-candidates",
        ),
    )


def _field_error(text) -> rx.Component:
    return rx.cond(text != "", rx.el.div(text, class_name="kp-field-error", role="alert"))


def _check(label: str, checked, on_change, id_: str) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=checked, on_change=on_change, id=id_, name=id_, size="3"),
        rx.el.span(label),
        class_name="kp-check",
    )


def plan_form() -> rx.Component:
    s = PlanState
    return rx.el.form(
        _field_label("From", "plan-origin"),
        rx.el.div(
            rx.input(
                id="plan-origin",
                name="origin",
                value=s.origin_text,
                on_change=s.set_origin_text,
                placeholder="Address, “City, ST” or lat,lon",
                size="3",
                class_name="kp-input",
            ),
            rx.el.button(
                "My location",
                type="button",
                id="plan-my-location",
                on_click=[s.locating, rx.call_script(GEOLOCATE_JS, callback=s.got_location)],
                class_name="kd-btn kp-locate",
            ),
            class_name="kp-row",
        ),
        rx.cond(s.origin_note != "", rx.el.div(s.origin_note, class_name="kd-note")),
        _field_error(s.origin_error),
        _candidates(s.origin_candidates, s.pick_origin, "origin"),
        _field_label("To", "plan-destination"),
        rx.input(
            id="plan-destination",
            name="destination",
            value=s.dest_text,
            on_change=s.set_dest_text,
            placeholder="Hardware store address, “City, ST” or lat,lon",
            size="3",
            class_name="kp-input",
        ),
        _field_error(s.dest_error),
        _candidates(s.dest_candidates, s.pick_dest, "dest"),
        rx.el.details(
            rx.el.summary(
                "Options · ",
                s.top_speed,
                " mph",
                rx.cond(s.avoid_banned, " · no banned states", ""),
                class_name="kp-summary",
                id="plan-options-summary",
            ),
            rx.el.div(
                rx.cond(
                    s.vehicles.length() > 0,
                    rx.el.label(
                        rx.el.span("Vehicle"),
                        rx.el.select(
                            rx.foreach(
                                s.vehicles,
                                lambda v: rx.el.option(v["label"], value=v["value"]),
                            ),
                            id="plan-vehicle",
                            name="vehicle",
                            value=s.vehicle,
                            on_change=s.set_vehicle,
                            class_name="kp-select",
                        ),
                        class_name="kp-inline",
                    ),
                ),
                rx.el.label(
                    rx.el.span("Top speed (mph)"),
                    rx.input(
                        id="plan-top-speed",
                        name="top_speed",
                        type="number",
                        min="10",
                        max="80",
                        value=s.top_speed,
                        on_change=s.set_top_speed,
                        size="3",
                        class_name="kp-speed",
                    ),
                    class_name="kp-inline",
                ),
                rx.el.label(
                    rx.el.span("Date (rules in force)"),
                    rx.input(
                        id="plan-date",
                        name="date",
                        type="date",
                        value=s.trip_date,
                        on_change=s.set_trip_date,
                        size="3",
                    ),
                    class_name="kp-inline",
                ),
                _check(
                    "Avoid trunk roads", s.avoid_trunks, s.set_avoid_trunks, "plan-avoid-trunks"
                ),
                _check(
                    "Avoid roads posted above the state's Kei cap",
                    s.avoid_over_cap,
                    s.set_avoid_over_cap,
                    "plan-avoid-cap",
                ),
                _check(
                    "Avoid states that ban Kei vehicles",
                    s.avoid_banned,
                    s.set_avoid_banned,
                    "plan-avoid-banned",
                ),
                _check(
                    "Also avoid states where Kei may use only locally allowed roads (Ohio, "
                    "Kentucky, Minnesota…)",
                    s.avoid_opt_in,
                    s.set_avoid_opt_in,
                    "plan-avoid-opt-in",
                ),
                rx.el.div("Motorways and interstates are always avoided.", class_name="kd-note"),
                class_name="kp-options",
            ),
            class_name="kp-details",
        ),
        rx.el.button(
            rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()),
            rx.el.span("Plan route"),
            type="submit",
            id="plan-submit",
            disabled=s.busy,
            class_name="kd-btn kd-btn-start kp-submit",
        ),
        rx.el.div(
            "Addresses need a connection; “City, ST” and “lat,lon” work offline.",
            class_name="kd-note",
        ),
        rx.foreach(s.attributions, lambda a: rx.el.div(a, class_name="kp-attr kp-attribution")),
        on_submit=s.submit,
        class_name="kp-form",
    )


def gpx_check() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Check a GPX route", class_name="kp-h2"),
        rx.el.p(
            "Bring a route from another app: it is matched to the road map and checked for "
            "highways, speed caps and the states it crosses.",
            class_name="kd-note",
        ),
        rx.upload(
            rx.el.div(
                rx.el.strong("Choose a .gpx file"),
                rx.el.span(" or drop it here", class_name="kd-note"),
                class_name="kp-drop-inner",
            ),
            id="gpx",
            multiple=False,
            max_files=1,
            max_size=MAX_GPX_BYTES,
            accept={"application/gpx+xml": [".gpx"], "application/xml": [".xml"]},
            disabled=PlanState.busy,
            on_drop=PlanState.upload_gpx(rx.upload_files(upload_id="gpx")),
            class_name="kp-drop",
        ),
        id="gpx-check",
        class_name="kp-panel kp-gpx-panel",
    )


def error_box() -> rx.Component:
    s = PlanState
    return rx.cond(
        s.error_title != "",
        rx.el.div(
            rx.el.strong(s.error_title),
            rx.el.div(s.error_message, class_name="kp-error-message"),
            rx.cond(s.error_hint != "", rx.el.div(s.error_hint, class_name="kp-error-hint")),
            id="plan-error",
            role="alert",
            class_name="kp-error",
        ),
    )


def _sources(row) -> rx.Component:
    return rx.el.div(
        rx.cond(
            row["source_label"] != "",
            rx.el.span("Rule sources (", row["confidence"], " confidence):", class_name="kd-note"),
        ),
        rx.foreach(
            row["sources"].to(list[dict[str, str]]),
            lambda src: rx.el.a(
                src["label"], href=src["url"], target="_blank", rel="noopener", class_name="kp-src"
            ),
        ),
        class_name="kp-sources",
    )


def warning_item(row) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(row["label"], class_name="kp-kind kp-kind-" + row["kind"].to(str)),
            rx.cond(row["road"] != "", rx.el.strong(row["road"], class_name="kp-road")),
            rx.cond(row["state"] != "", rx.el.span(row["state"], class_name="kd-pill kp-st")),
            class_name="kp-warning-head",
        ),
        rx.el.div(row["where"], class_name="kd-note kp-where"),
        rx.el.div(row["message"], class_name="kp-message"),
        _sources(row),
        class_name="kp-warning kp-warning-" + row["kind"].to(str),
        custom_attrs={"data-kind": row["kind"]},
    )


def state_item(row) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.strong(row["name"]),
            rx.el.span(row["status"], class_name="kp-status kp-status-" + row["status"].to(str)),
            rx.el.span(row["distance"], class_name="kd-note"),
            class_name="kp-warning-head",
        ),
        rx.el.div(row["limits"], class_name="kd-note"),
        rx.cond(row["advice"] != "", rx.el.div(row["advice"], class_name="kp-message")),
        _sources(row),
        class_name="kp-state",
        custom_attrs={"data-state": row["code"]},
    )


def legend() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.span(
                rx.el.span(class_name="kp-swatch", style={"background": item["color"]}),
                item["label"],
                class_name="kp-legend-item",
            )
            for item in LEGEND
        ],
        class_name="kp-legend",
    )


def results() -> rx.Component:
    s = PlanState
    return rx.cond(
        s.has_result,
        rx.el.div(
            rx.el.section(
                rx.el.h2(s.result_title, class_name="kp-h2", id="plan-result-title"),
                rx.el.div(
                    rx.cond(s.legal, "✓ ", "✗ "),
                    s.verdict,
                    id="plan-verdict",
                    class_name=rx.cond(s.legal, "kp-verdict kp-legal", "kp-verdict kp-illegal"),
                ),
                rx.foreach(s.notes, lambda n: rx.el.div(n, class_name="kp-note-line")),
                rx.el.div(
                    rx.el.div(
                        rx.el.div(s.distance, id="plan-distance", class_name="kp-stat"),
                        rx.el.div("distance", class_name="kd-stat-label"),
                    ),
                    rx.el.div(
                        rx.el.div(s.duration, id="plan-duration", class_name="kp-stat"),
                        rx.el.div(s.duration_label, class_name="kd-stat-label"),
                    ),
                    class_name="kp-stats",
                ),
                rx.el.button(
                    "Export GPX",
                    type="button",
                    id="plan-export-gpx",
                    on_click=s.export_gpx,
                    class_name="kd-btn",
                ),
                class_name="kp-panel",
            ),
            rx.el.section(
                kei_map(
                    layers=s.layers,
                    state_status=s.map_states,
                    height="min(62vh, 520px)",
                    map_id="plan-map",
                    prefetch_route=True,  # the basemap along the route, for offline use
                    offline_button=True,
                ),
                legend(),
                map_legend(),
                class_name="kp-panel kp-map",
            ),
            rx.el.section(
                rx.el.h2("Warnings", class_name="kp-h2"),
                rx.cond(
                    s.warnings.length() > 0,
                    rx.el.ul(rx.foreach(s.warnings, warning_item), class_name="kp-list"),
                    rx.el.div(
                        "No warnings: no highways, over-cap roads or restricted states found.",
                        id="plan-no-warnings",
                        class_name="kp-ok",
                    ),
                ),
                id="plan-warnings",
                class_name="kp-panel",
            ),
            rx.el.section(
                rx.el.h2("States crossed", class_name="kp-h2"),
                rx.el.ul(rx.foreach(s.states, state_item), class_name="kp-list"),
                rx.el.div(
                    "Kei rules here are advice with sources, never legal clearance; "
                    "check with the state's DMV.",
                    class_name="kd-note",
                ),
                id="plan-states",
                class_name="kp-panel",
            ),
            rx.cond(
                s.maneuvers.length() > 0,
                rx.el.section(
                    rx.el.details(
                        rx.el.summary("Turn by turn", class_name="kp-summary kp-h2"),
                        rx.el.ol(
                            rx.foreach(
                                s.maneuvers,
                                lambda m: rx.el.li(
                                    rx.el.span(m["instruction"]),
                                    rx.el.span(m["distance"], class_name="kd-note kp-turn-dist"),
                                    class_name="kp-turn",
                                ),
                            ),
                            class_name="kp-turns",
                        ),
                        open=True,
                    ),
                    id="plan-turns",
                    class_name="kp-panel",
                ),
            ),
            rx.cond(
                s.engine != "",
                rx.el.div("Routing: Valhalla (", s.engine, ")", class_name="kd-note"),
            ),
            class_name="kp-results",
            id="plan-results",
        ),
    )


def idle_map() -> rx.Component:
    """The map before (or without) a result: reopens where the driver left it, offline too,
    and offers "Download this area"."""
    return rx.cond(
        ~PlanState.has_result,
        rx.el.section(
            kei_map(layers=[], height="min(62vh, 520px)", map_id="plan-map", offline_button=True),
            map_legend(),
            class_name="kp-panel kp-map",
        ),
    )


@rx.page(route="/plan", title="Plan a route · Kei Drive", on_load=PlanState.on_load)
def plan_page() -> rx.Component:
    s = PlanState
    return page_frame(
        rx.el.link(rel="stylesheet", href="/kei/plan.css"),
        rx.el.div(
            rx.el.section(
                rx.el.h1("Plan a Kei route", class_name="kp-h1"),
                plan_form(),
                id="plan-side",
                class_name="kp-panel kp-form-panel",
            ),
            gpx_check(),
            rx.el.div(
                rx.cond(
                    s.busy,
                    rx.el.div(
                        rx.spinner(size="3"),
                        rx.el.span(s.busy_label),
                        id="plan-busy",
                        class_name="kp-busy",
                    ),
                ),
                error_box(),
                results(),
                rx.cond(
                    ~s.has_result & ~s.busy & (s.error_title == ""),
                    rx.el.div(
                        rx.el.p(
                            "Type where you start and where you are going: Kei Drive looks for a "
                            "way without motorways, trunk roads or roads above the state's Kei "
                            "speed cap, and tells you about anything it could not avoid."
                        ),
                        rx.el.div(
                            "The map colours the route by what is wrong with each stretch:",
                            class_name="kd-note",
                        ),
                        legend(),
                        class_name="kp-panel kp-intro",
                    ),
                ),
                idle_map(),
                class_name="kp-main",
            ),
            class_name="kp-layout",
        ),
        wide=True,
    )
