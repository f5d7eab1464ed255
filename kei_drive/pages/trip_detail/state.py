"""One trip's state: its figures, track layers, chart, and the rename/vehicle/export/delete
actions."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from kei_drive import routes
from kei_drive.components.vehicle_select import NO_VEHICLE, vehicle_id_of
from kei_drive.core.gap_roads import shown_along_road, stored_roads, with_roads_across_gaps
from kei_drive.core.thinning import thin_for_display
from kei_drive.core.trips import analyze_track
from kei_drive.core.units import MPS_PER_MPH
from kei_drive.core.vocabulary import HIGHWAY_CHECK_PENDING, RecordingState, TripFlag, TripSource
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.db.models import Trip
from kei_drive.page_auth import to_signin, user_id
from kei_drive.presenters.exports import ExportFormat, trip_export_url, trip_filename
from kei_drive.presenters.format import LegendItem, fmt_when, iso_z
from kei_drive.presenters.track_map import EMPTY_FC, TrackView, track_legend, track_view
from kei_drive.presenters.trips import (
    UNNAMED_TRIP,
    StatRow,
    highway_use_row,
    source_text,
    stats_rows,
    trip_warnings,
)
from kei_drive.presenters.vehicles import VehicleOption, vehicle_options


def read_trip(
    ref: str, seen: str | None, uid: int
) -> tuple[Trip, dict[str, Any] | None, float | None, list[VehicleOption], TrackView, str] | None:
    """The trip, its statistics, cap, the vehicle options, its (thinned) map view and a
    marker of what was read; None when ``seen`` already matches. Statistics come from
    every fix; the map draws at most ``core.thinning.MAX_DRAWN_POINTS``."""
    with app_session() as s:
        trip = q.get_trip(s, ref, uid)  # another account's: NotFound, like a missing one
        note = (trip.stats or {}).get("highway_use_note")
        marker = (
            f"{trip.id}|{trip.point_count}|{trip.recording_state}|{trip.vehicle_id}|{trip.name}"
            f"|{trip.highway_use}|{note}"
        )
        if seen is not None and marker == seen:
            return None  # nothing new since the last look: skip reading the points
        track = q.trip_arrays(s, trip.id)  # type: ignore[arg-type]
        cap = q.trip_cap_mps(s, trip)
        vehicles = vehicle_options(q.list_vehicles(s, uid))
    live = trip.recording_state == RecordingState.RECORDING or not trip.stats
    stats, view = trip.stats, TrackView()
    if len(track) >= 2:  # states only matter for live figures (stored otherwise)
        analysis = analyze_track(track, cap, with_states=live)
        if live:
            stats = analysis.stats.to_dict()  # live figures while recording
        elif stats is not None and _cap_changed(trip.cap_mps, cap):
            # measured against the vehicle's old cap (the sweeper stores the new figures
            # soon): the time above the cap this page's map and chart draw, a sparse log's
            # steps held over it along the road included (as the sweeper will count them)
            now = with_roads_across_gaps(analysis.stats, stored_roads(stats))
            stats = stats | {"over_cap_s": now.over_cap_s, "cap_mps": cap}
        analysis = shown_along_road(analysis, track.t, stats)  # a sparse log's road steps
        points, drawn = thin_for_display(track, analysis)
        view = track_view(points, cap, drawn)
    return trip, stats, cap, vehicles, view, marker


def _cap_changed(stored: float | None, current: float | None) -> bool:
    """The trip's figures were measured against another cap (the stored column, not the
    statistics' JSON, whose 3 decimals made every cap such as 45 mph read as changed)."""
    if stored is None or current is None:
        return stored is not current
    return abs(stored - current) > 1e-3


class TripState(rx.State):
    loaded: bool = False
    not_found: str = ""
    ref: str = ""
    uuid: str = ""
    name: str = ""
    when: str = ""
    vehicle_value: str = NO_VEHICLE
    vehicles: list[VehicleOption] = []
    recording: bool = False
    checking: bool = False  # finished, its highway-use check not stored yet (a logger's trip)
    imported: bool = False
    from_logger: bool = False  # sent by a background logger (its device's log holds it)
    source: str = ""  # "Drive screen", "OwnTracks · Sambar phone"…
    warnings: list[str] = []
    stats: list[StatRow] = []
    mode: str = "speed"
    speed_geojson: dict[str, Any] = EMPTY_FC
    gaps_geojson: dict[str, Any] = EMPTY_FC
    cap_geojson: dict[str, Any] = EMPTY_FC
    chart: list[dict[str, Any]] = []
    cap_mph: float = 0.0
    name_draft: str = ""
    rename_error: str = ""
    message: str = ""
    started_at: str = ""  # ISO UTC; the browser shows it in the trip's zone, else its own
    ended_at: str = ""
    time_zone: str = ""  # the trip's IANA zone ("": the viewer's)
    _seen: str = ""  # backend only: what the last load saw (trip, point count, state...)

    @rx.var
    def layers(self) -> list[dict[str, Any]]:
        geojson = self.cap_geojson if self.mode == "cap" else self.speed_geojson
        return [
            {"id": "gaps", "geojson": self.gaps_geojson, "property": "color", "weight": 2},
            {"id": "track", "geojson": geojson, "property": "color", "weight": 5},
        ]

    @rx.var
    def legend(self) -> list[LegendItem]:
        return track_legend(self.mode, self.cap_mph, bool(self.gaps_geojson.get("features")))

    def _set(self, **values: Any) -> None:
        """Assign only what changed: an unchanged var stays out of the delta, so a refresh
        without new fixes redraws nothing (the map keeps the driver's pan and zoom)."""
        for key, value in values.items():
            if getattr(self, key) != value:
                setattr(self, key, value)

    def _uid(self) -> int:
        """The signed-in account, or ``NotFound`` (signed out sees no trip at all)."""
        uid = user_id(self)
        if uid is None:
            raise q.NotFound("sign in to see your trips")
        return uid

    async def _load(self, ref: str, refresh: bool = False) -> None:
        # reading and analysing a long track takes seconds: not on the event loop
        uid = self._uid()
        read = await asyncio.to_thread(read_trip, ref, self._seen if refresh else None, uid)
        if read is None:
            return  # nothing new since the last look
        trip, stats, cap, vehicles, view, marker = read
        recording = trip.recording_state == RecordingState.RECORDING
        checking = (
            not recording and (trip.stats or {}).get("highway_use_note") == HIGHWAY_CHECK_PENDING
        )
        name = trip.name or UNNAMED_TRIP
        if not refresh or self.name_draft == self.name:  # never clobber a name being typed
            self._set(name_draft=name)
        self._set(
            vehicles=vehicles,
            ref=str(trip.id),
            uuid=trip.uuid,
            name=name,
            when=fmt_when(trip.started_at),
            started_at=iso_z(trip.started_at) or "",
            ended_at="" if recording else iso_z(trip.ended_at) or "",
            time_zone=trip.time_zone or "",
            vehicle_value=str(trip.vehicle_id) if trip.vehicle_id else NO_VEHICLE,
            recording=recording,
            checking=checking,
            imported=trip.source == TripSource.IMPORTED,
            from_logger=trip.device_id is not None,
            source=source_text(trip),
            warnings=trip_warnings(trip, skip=frozenset({TripFlag.RECORDING})),
            stats=[*stats_rows(stats, trip.point_count), highway_use_row(trip)],
            speed_geojson=view.speed_geojson,
            cap_geojson=view.cap_geojson,
            gaps_geojson=view.gaps_geojson,
            chart=view.chart,
            cap_mph=round(cap / MPS_PER_MPH, 1) if cap else 0.0,
        )
        self._seen = marker

    @rx.event
    async def on_load(self) -> None:
        ref = str(self.router.page.params.get("trip_id", "")).strip()
        if ref != self.ref:  # a reload of the same trip keeps the driver's choices
            self.loaded, self.mode, self.rename_error, self.message = False, "speed", "", ""
        self.not_found = ""
        self._seen = ""
        try:
            await self._load(ref)
        except q.NotFound:
            self.ref = ""
            self.not_found = f"No trip with id “{ref}”. It may have been deleted."
        except Exception as exc:  # say what went wrong instead of a blank page
            self.not_found = f"Could not load trip “{ref}”: {exc}"
        self.loaded = True

    @rx.event
    async def refresh(self) -> None:
        """Called every REFRESH_MS by the page's ticker while the trip is recording, or
        finished and waiting for its highway-use check."""
        if not (self.recording or self.checking) or not self.ref or self.not_found:
            return
        try:
            await self._load(self.ref, refresh=True)
        except q.NotFound:
            self.ref, self.recording = "", False
            self.not_found = "This trip was deleted."
        except Exception:  # keep the last figures; the next tick retries
            return

    @rx.event
    def set_mode(self, mode: str) -> None:
        self.mode = "cap" if mode == "cap" else "speed"

    @rx.event
    def set_name_draft(self, value: str) -> None:
        self.name_draft = value

    @rx.event
    def rename(self, form_data: dict[str, Any]) -> None:
        name = str(form_data.get("name", self.name_draft))
        try:
            uid = self._uid()
            with app_session() as s:
                self.name = q.rename_trip(s, self.ref, name, uid).name
        except (ValueError, q.NotFound) as exc:
            self.rename_error = str(exc)
            return
        self.name_draft, self.rename_error = self.name, ""
        self.message = "Renamed."

    @rx.event
    async def set_vehicle(self, value: str):
        uid = user_id(self)
        if uid is None:
            return to_signin()
        try:
            with app_session() as s:
                q.set_trip_vehicle(s, self.ref, vehicle_id_of(value), uid)
        except (q.NotFound, ValueError):
            self.message = "That trip or vehicle is not yours or no longer exists."
            return
        mode = self.mode
        await self._load(self.ref)
        self.mode = mode
        self.message = "Vehicle changed; time above cap recomputed."

    def _export(self, fmt: ExportFormat):
        # the API streams the file in constant memory (a data: URL held it all, twice);
        # it checks the session cookie itself
        return rx.download(
            url=trip_export_url(self.uuid, fmt),
            filename=trip_filename(self.uuid, fmt, self.name),
        )

    @rx.event
    def export_gpx(self):
        return self._export(ExportFormat.GPX)

    @rx.event
    def export_geojson(self):
        return self._export(ExportFormat.GEOJSON)

    @rx.event
    def delete(self):
        uid = user_id(self)
        if uid is None:
            return to_signin()
        try:
            with app_session() as s:
                q.delete_trip(s, self.ref, uid)
        except q.NotFound:
            pass  # already gone: going back to the list is still right
        return rx.redirect(routes.TRIPS)
