"""The Plan page's state: the form, the busy flag, the error box and one ``PlanResult``.

The work runs in ``kei_drive.services.planning`` (in a worker thread); the state only
copies its ``PlanOutcome`` in (``_show``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

import reflex as rx

from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.page_auth import to_signin, user_id
from kei_drive.pages.plan.drive_route import drive_route_script
from kei_drive.presenters.exports import PLANNED_ROUTE_FILENAME, ExportFormat
from kei_drive.presenters.route import PlanResult
from kei_drive.presenters.uploads import refused_files
from kei_drive.presenters.vehicles import VehicleOption, vehicle_options
from kei_drive.services.planning import (
    Place,
    PlaceLookup,
    PlanError,
    PlanOutcome,
    PlanRequest,
    route_gpx,
    routing_error,
    run_check,
    run_plan,
)

log = logging.getLogger(__name__)

# On a phone the results are below the form: bring them into view once they are there.
SCROLL_TO_RESULTS_JS = """if (window.innerWidth < 900) {
  document.querySelector('#plan-error, #plan-results, .kp-field-error, .kp-candidates')
    ?.scrollIntoView({behavior: 'smooth', block: 'start'});
}"""


class PlanState(rx.State):
    origin_text: str = ""
    dest_text: str = ""
    origin_note: str = ""
    origin_choice: Place | None = None
    dest_choice: Place | None = None
    origin_candidates: list[Place] = []
    dest_candidates: list[Place] = []
    origin_error: str = ""
    dest_error: str = ""
    attributions: list[str] = []

    top_speed: str = f"{DEFAULT_TOP_SPEED_MPH:g}"
    vehicles: list[VehicleOption] = []
    vehicle: str = ""
    avoid_banned: bool = False
    avoid_opt_in: bool = False
    avoid_trunks: bool = True
    avoid_over_cap: bool = True
    trip_date: str = ""

    busy: bool = False
    busy_label: str = ""
    error: PlanError = PlanError()
    result: PlanResult | None = None

    _geometry: list[list[float]] = []
    _guide_request: dict[str, Any] = {}  # what "Drive this route" posts (drive_route.py)
    _gpx_data: bytes = b""
    _gpx_name: str = ""

    @rx.var
    def has_result(self) -> bool:
        return self.result is not None

    def _show(self, out: PlanOutcome) -> None:
        """Copy a plan or check outcome in (see ``PlanOutcome`` for what each part means)."""
        self.error = out.error
        if out.origin is not None:
            self._show_place("origin", out.origin)
        if out.dest is not None:
            self._show_place("dest", out.dest)
        if out.attributions is not None:
            self.attributions = out.attributions
        self.result, self._geometry = out.result, out.geometry
        self._guide_request = out.guide_request or {}

    def _show_place(self, prefix: str, found: PlaceLookup) -> None:
        setattr(self, f"{prefix}_error", found.error)
        setattr(self, f"{prefix}_candidates", found.candidates)
        if found.place is not None:
            setattr(self, f"{prefix}_choice", found.place)

    def _request(self, uid: int | None) -> PlanRequest:
        return PlanRequest(
            origin_text=self.origin_text,
            dest_text=self.dest_text,
            origin_choice=self.origin_choice,
            dest_choice=self.dest_choice,
            top_speed=self.top_speed,
            avoid_banned=self.avoid_banned,
            avoid_opt_in=self.avoid_opt_in,
            avoid_trunks=self.avoid_trunks,
            avoid_over_cap=self.avoid_over_cap,
            trip_date=self.trip_date,
            user_id=uid,  # its own rule overrides and local permits
        )

    @rx.event
    def on_load(self):
        if not self.trip_date:
            self.trip_date = date.today().isoformat()
        uid = user_id(self)
        if uid is None:  # the page sends signed-out visitors to sign in
            self.vehicles = []
            return
        try:
            with app_session() as s:
                self.vehicles = vehicle_options(q.list_vehicles(s, uid), with_cap=True)
        except Exception:  # the page works without the garage
            log.exception("cannot list vehicles")
            self.vehicles = []
        if self.vehicles and not self.vehicle:
            self._choose_vehicle(self.vehicles[0].value)

    @rx.event
    def set_vehicle(self, value: str):
        self._choose_vehicle(value)

    def _choose_vehicle(self, value: str) -> None:
        """Choosing a vehicle takes its top speed (the driver may still change it)."""
        self.vehicle = value
        for v in self.vehicles:
            if v.value == value and v.speed:
                self.top_speed = v.speed

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

    # "My location": the browser's position (see views/form.py GEOLOCATE_JS).
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
        self.origin_choice = Place(name=text, lat=lat, lon=lon, source="browser")
        self.origin_candidates = []
        accuracy = result.get("accuracy")
        self.origin_note = "Your location" + (f" (±{float(accuracy):.0f} m)" if accuracy else "")

    # Candidates for an ambiguous place.
    @rx.event
    def pick_origin(self, index: int):
        if 0 <= index < len(self.origin_candidates):
            self.origin_choice = self.origin_candidates[index]
            self.origin_text = self.origin_choice.name
            self.origin_candidates = []
            if not self.dest_candidates:
                return PlanState.start_plan

    @rx.event
    def pick_dest(self, index: int):
        if 0 <= index < len(self.dest_candidates):
            self.dest_choice = self.dest_candidates[index]
            self.dest_text = self.dest_choice.name
            self.dest_candidates = []
            if not self.origin_candidates:
                return PlanState.start_plan

    # Planning.
    @rx.event
    def submit(self, form_data: dict[str, Any]):
        return PlanState.start_plan

    @rx.event
    def start_plan(self):
        if user_id(self) is None:  # routing spends server work: signed-in users only
            return to_signin()
        if self.busy:
            return
        self.busy = True
        self.busy_label = "Planning your route…"
        self.error = PlanError()
        return PlanState.plan

    @rx.event(background=True)
    async def plan(self):
        async with self:
            uid = user_id(self)
            if uid is None:  # also when this event is sent on its own
                return
            req = self._request(uid)
        try:
            out = await asyncio.to_thread(run_plan, req)
        except Exception as exc:  # never leave the spinner running
            out = PlanOutcome(error=routing_error(exc))
        async with self:
            self._show(out)
            self.busy = False
        yield rx.call_script(SCROLL_TO_RESULTS_JS)

    @rx.event
    def export_gpx(self):
        if len(self._geometry) < 2 or self.result is None:
            return rx.toast.error("Plan or check a route first.")
        name = self.result.title or "Kei route"
        text = route_gpx(self._geometry, name, f"{self.result.distance}; {self.result.verdict}")
        return rx.download(
            data=text, filename=PLANNED_ROUTE_FILENAME, mime_type=ExportFormat.GPX.mime_type
        )

    @rx.event
    def drive_route(self):
        """Hand the route shown to the browser: it stores the guidance and opens Drive."""
        if self.result is None or not self._guide_request:
            return rx.toast.error("Plan or check a route first.")
        return rx.call_script(drive_route_script(self._guide_request))

    # Checking an uploaded GPX route.
    @rx.event
    def gpx_refused(self, rejected: list[dict[str, Any]]) -> None:
        """A file the drop zone would not send (over the size limit): said, not dropped."""
        hint = "check it from the command line (kei-drive check-route FILE), or split it"
        self.error = PlanError("File not checked", "; ".join(refused_files(rejected, hint)))

    @rx.event
    async def upload_gpx(self, files: list[rx.UploadFile]):
        if user_id(self) is None:
            return to_signin()
        if not files or self.busy:  # one at a time: the page says a drop meanwhile is not read
            return
        upload = files[0]
        self._gpx_data = await upload.read()
        self._gpx_name = upload.name or "route.gpx"
        self.busy = True
        self.busy_label = f"Checking {self._gpx_name}…"
        self.error = PlanError()
        return PlanState.check_gpx

    @rx.event(background=True)
    async def check_gpx(self):
        async with self:
            uid = user_id(self)
            if uid is None:
                return
            data, name, req = self._gpx_data, self._gpx_name, self._request(uid)
            self._gpx_data = b""
        try:
            out = await asyncio.to_thread(run_check, data, name, req)
        except Exception as exc:
            out = PlanOutcome(error=routing_error(exc))
        async with self:
            self._show(out)
            self.busy = False
        yield rx.call_script(SCROLL_TO_RESULTS_JS)
