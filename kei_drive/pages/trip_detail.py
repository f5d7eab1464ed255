"""Route ``/trips/[trip_id]``: one trip's track, speed chart, stats, export, rename, delete."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import reflex as rx

from kei_drive.components.layout import page_frame
from kei_drive.components.local_time import local_time, ticker
from kei_drive.components.map import kei_map
from kei_drive.components.trip_view import (
    GAP_COLOR,
    NO_SPEED_COLOR,
    OVER_CAP_COLOR,
    SPEED_BANDS,
    UNDER_CAP_COLOR,
    fmt_when,
    iso_utc,
    source_text,
    stats_rows,
    track_view,
)
from kei_drive.core.thinning import thin_for_display
from kei_drive.core.trips import analyze_track
from kei_drive.core.units import MPS_PER_MPH
from kei_drive.db import queries as q
from kei_drive.db.engine import session
from kei_drive.pages.trips import NO_VEHICLE, db_url, vehicle_options

EMPTY_FC: dict[str, Any] = {"type": "FeatureCollection", "features": []}
REFRESH_MS = 10_000  # a recording trip's page reloads its figures this often
SPEED_LEGEND = [{"color": c, "label": label} for _, c, label in SPEED_BANDS]


def _read_trip(ref: str, seen: str | None) -> tuple | None:
    """The trip, its cap, the vehicle options, its (thinned) map view and a marker of what
    was read; None when ``seen`` already matches. Statistics come from every fix; the map
    draws at most ``MAX_DRAWN_POINTS`` (core.thinning)."""
    with session(db_url()) as s:
        trip_row = q.get_trip(s, ref)
        marker = (
            f"{trip_row.id}|{trip_row.point_count}|{trip_row.recording_state}|"
            f"{trip_row.vehicle_id}|{trip_row.name}"
        )
        if seen is not None and marker == seen:
            return None
        vehicle = s.get(q.Vehicle, trip_row.vehicle_id) if trip_row.vehicle_id else None
        trip = q.trip_dict(trip_row, vehicle)
        track = q.trip_arrays(s, trip_row.id)  # type: ignore[arg-type]
        cap = q.trip_cap_mps(s, trip_row)
        vehicles = vehicle_options(s)
    live = trip["recording_state"] == "recording" or not trip["stats"]
    view = track_view([], cap, None)
    if len(track) >= 2:  # states only matter for live figures (stored otherwise)
        analysis = analyze_track(track, cap, with_states=live)
        if live:
            trip = {**trip, "stats": analysis.stats.to_dict()}  # live figures while recording
        points, drawn = thin_for_display(track, analysis)
        view = track_view(points, cap, drawn)
    return trip, cap, vehicles, view, marker


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60]
    return slug or fallback


class TripState(rx.State):
    loaded: bool = False
    not_found: str = ""
    ref: str = ""
    uuid: str = ""
    name: str = ""
    when: str = ""
    vehicle_value: str = NO_VEHICLE
    vehicles: list[dict[str, str]] = []
    recording: bool = False
    imported: bool = False
    source: str = ""  # "Drive screen", "OwnTracks · Sambar phone"…
    warnings: list[str] = []
    stats: list[dict[str, str]] = []
    mode: str = "speed"
    speed_geojson: dict[str, Any] = EMPTY_FC
    gaps_geojson: dict[str, Any] = EMPTY_FC
    cap_geojson: dict[str, Any] = EMPTY_FC
    chart: list[dict[str, Any]] = []
    cap_mph: float = 0.0
    has_speed: bool = False
    name_draft: str = ""
    rename_error: str = ""
    message: str = ""
    started_at: str = ""  # ISO UTC; the browser shows it in its own zone
    ended_at: str = ""
    _seen: str = ""  # backend only: what the last fill saw (trip, point count, state...)

    @rx.var
    def layers(self) -> list[dict[str, Any]]:
        geojson = self.cap_geojson if self.mode == "cap" else self.speed_geojson
        return [
            {"id": "gaps", "geojson": self.gaps_geojson, "property": "color", "weight": 2},
            {"id": "track", "geojson": geojson, "property": "color", "weight": 5},
        ]

    @rx.var
    def legend(self) -> list[dict[str, str]]:
        gap = [{"color": GAP_COLOR, "label": "gap: no fixes (straight line)"}]
        if not self.gaps_geojson.get("features"):
            gap = []
        if self.mode == "speed":
            return SPEED_LEGEND + [{"color": NO_SPEED_COLOR, "label": "speed unknown"}] + gap
        if self.cap_mph <= 0:
            return [{"color": NO_SPEED_COLOR, "label": "no speed cap set for this trip"}] + gap
        cap = f"{self.cap_mph:.0f} mph"
        return [
            {"color": UNDER_CAP_COLOR, "label": f"at or under cap ({cap})"},
            {"color": OVER_CAP_COLOR, "label": f"above cap ({cap})"},
        ] + gap

    def _set(self, **values: Any) -> None:
        """Assign only what changed: an unchanged var stays out of the delta, so a refresh
        without new fixes redraws nothing (the map keeps the driver's pan and zoom)."""
        for key, value in values.items():
            if getattr(self, key) != value:
                setattr(self, key, value)

    async def _fill(self, ref: str, refresh: bool = False) -> None:
        # reading and analysing a long track takes seconds: not on the event loop
        read = await asyncio.to_thread(_read_trip, ref, self._seen if refresh else None)
        if read is None:
            return  # nothing new since the last look
        trip, cap, vehicles, view, marker = read
        name = trip["name"] or "Unnamed trip"
        recording = trip["recording_state"] == "recording"
        if not refresh or self.name_draft == self.name:  # never clobber a name being typed
            self._set(name_draft=name)
        self._set(
            vehicles=vehicles,
            ref=str(trip["id"]),
            uuid=trip["uuid"],
            name=name,
            when=fmt_when(trip["started_at"]),
            started_at=iso_utc(trip["started_at"]),
            ended_at="" if recording else iso_utc(trip["ended_at"]),
            vehicle_value=str(trip["vehicle_id"]) if trip["vehicle_id"] else NO_VEHICLE,
            recording=recording,
            imported=trip["source"] == "imported",
            source=source_text(trip["source"], trip.get("device")),
            warnings=[w for w in trip["warnings"] if w != "still recording"],
            stats=stats_rows(trip),
            speed_geojson=view["speed_geojson"],
            cap_geojson=view["cap_geojson"],
            gaps_geojson=view["gaps_geojson"],
            chart=view["chart"],
            has_speed=view["has_speed"],
            cap_mph=round(cap / MPS_PER_MPH, 1) if cap else 0.0,
        )
        self._seen = marker

    @rx.event
    async def load(self) -> None:
        ref = str(self.router.page.params.get("trip_id", "")).strip()
        if ref != self.ref:  # a reload of the same trip keeps the driver's choices
            self.loaded, self.mode, self.rename_error, self.message = False, "speed", "", ""
        self.not_found = ""
        self._seen = ""
        try:
            await self._fill(ref)
        except q.NotFound:
            self.ref = ""
            self.not_found = f"No trip with id “{ref}”. It may have been deleted."
        except Exception as exc:  # say what went wrong instead of a blank page
            self.not_found = f"Could not load trip “{ref}”: {exc}"
        self.loaded = True

    @rx.event
    async def refresh(self) -> None:
        """Called every REFRESH_MS by the page's ticker while the trip is recording."""
        if not self.recording or not self.ref or self.not_found:
            return
        try:
            await self._fill(self.ref, refresh=True)
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
            with session(db_url()) as s:
                trip = q.rename_trip(s, self.ref, name)
                self.name = trip.name
        except (ValueError, q.NotFound) as exc:
            self.rename_error = str(exc)
            return
        self.name_draft, self.rename_error = self.name, ""
        self.message = "Renamed."

    @rx.event
    async def set_vehicle(self, value: str) -> None:
        vehicle_id = None if value == NO_VEHICLE else int(value)
        with session(db_url()) as s:
            q.set_trip_vehicle(s, self.ref, vehicle_id)
        mode = self.mode
        await self._fill(self.ref)
        self.mode = mode
        self.message = "Vehicle changed; time above cap recomputed."

    def _export(self, fmt: str):
        # the API streams the file in constant memory (a data: URL held it all, twice)
        stem = _slug(self.name, f"kei-drive-{self.uuid[:8]}")
        return rx.download(url=f"/api/v1/trips/{self.uuid}/export.{fmt}", filename=f"{stem}.{fmt}")

    @rx.event
    def export_gpx(self):
        return self._export("gpx")

    @rx.event
    def export_geojson(self):
        return self._export("geojson")

    @rx.event
    def delete(self):
        try:
            with session(db_url()) as s:
                q.delete_trip(s, self.ref)
        except q.NotFound:
            pass  # already gone: going back to the list is still right
        return rx.redirect("/trips")


# ----------------------------------------------------------------------------- view


def mode_button(label: str, mode: str, button_id: str) -> rx.Component:
    return rx.el.button(
        label,
        on_click=TripState.set_mode(mode),
        class_name=rx.cond(TripState.mode == mode, "kd-btn kd-btn-on", "kd-btn"),
        aria_pressed=rx.cond(TripState.mode == mode, "true", "false"),
        id=button_id,
        type="button",
    )


def map_panel() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.span("Colour by", class_name="kd-note"),
            mode_button("Speed", "speed", "mode-speed"),
            mode_button("Over cap", "cap", "mode-cap"),
            class_name="kd-mode",
        ),
        kei_map(
            layers=TripState.layers,
            fit_key=TripState.uuid,
            height="380px",
            map_id="trip-map",
            offline_button=True,
        ),
        rx.el.div(
            rx.foreach(
                TripState.legend,
                lambda item: rx.el.span(
                    rx.el.span(class_name="kd-swatch", style={"background": item["color"]}),
                    item["label"],
                ),
            ),
            class_name="kd-legend",
            id="trip-legend",
        ),
        rx.el.p(
            "Grey straight lines are gaps in recording (screen locked, no signal) or "
            "rejected GPS jumps: where the truck went there is unknown.",
            class_name="kd-note",
        ),
        class_name="kd-panel",
    )


def _chart(with_cap: bool) -> rx.Component:
    children = [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="#333845"),
        rx.recharts.x_axis(
            data_key="min",
            type_="number",
            domain=["dataMin", "dataMax"],
            stroke="#a1a1aa",
            tick_count=6,
            allow_decimals=False,
        ),
        rx.recharts.y_axis(stroke="#a1a1aa", width=36, allow_decimals=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.line(
            data_key="mph",
            stroke="#f5a623",
            dot=False,
            connect_nulls=False,
            is_animation_active=False,
            stroke_width=2,
            name="speed",
        ),
    ]
    if with_cap:
        children.append(
            rx.recharts.reference_line(
                y=TripState.cap_mph.to(int),
                stroke="#ef4444",
                stroke_dasharray="6 4",
                label="cap",
                if_overflow="extendDomain",
            )
        )
    return rx.recharts.line_chart(
        *children,
        data=TripState.chart,
        width="100%",
        height=240,
        margin={"top": 10, "right": 12, "left": 0, "bottom": 0},
    )


def chart_panel() -> rx.Component:
    return rx.el.section(
        rx.el.h3("Speed (mph) over time (minutes from start)", class_name="kd-h3"),
        rx.cond(
            TripState.chart.length() > 0,
            rx.el.div(
                rx.cond(TripState.cap_mph > 0, _chart(True), _chart(False)),
                id="speed-chart",
            ),
            rx.el.p(
                "No timed fixes: this track has no speeds to chart.",
                class_name="kd-note",
                id="speed-chart-empty",
            ),
        ),
        class_name="kd-panel",
    )


def stats_panel() -> rx.Component:
    return rx.el.section(
        rx.el.dl(
            rx.foreach(
                TripState.stats,
                lambda row: rx.el.div(
                    rx.el.dd(row["value"]), rx.el.dt(row["label"]), class_name="kd-stat-item"
                ),
            ),
            class_name="kd-stats-list",
            id="trip-stats",
        ),
        rx.el.div(
            rx.foreach(
                TripState.warnings,
                lambda w: rx.badge(w, color_scheme="red", variant="soft"),
            ),
            class_name="kd-trip-warnings",
        ),
        class_name="kd-panel",
    )


def vehicle_select() -> rx.Component:
    return rx.cond(
        TripState.vehicles.length() > 0,
        rx.el.label(
            rx.el.span("Vehicle ", class_name="kd-note"),
            rx.select.root(
                rx.select.trigger(id="trip-vehicle"),
                rx.select.content(
                    rx.select.item("No vehicle", value=NO_VEHICLE),
                    rx.foreach(
                        TripState.vehicles, lambda v: rx.select.item(v["label"], value=v["value"])
                    ),
                ),
                value=TripState.vehicle_value,
                on_change=TripState.set_vehicle,
                size="3",
            ),
            class_name="kd-import-vehicle",
        ),
    )


def manage_panel() -> rx.Component:
    return rx.el.section(
        rx.el.form(
            rx.el.input(
                name="name",
                value=TripState.name_draft,
                on_change=TripState.set_name_draft,
                aria_label="Trip name",
                id="trip-name-input",
                max_length=200,
            ),
            rx.el.button("Rename", type="submit", class_name="kd-btn", id="trip-rename"),
            on_submit=TripState.rename,
            reset_on_submit=False,
            class_name="kd-rename",
        ),
        rx.cond(
            TripState.rename_error != "",
            rx.el.p(TripState.rename_error, class_name="kd-field-error", role="alert"),
        ),
        vehicle_select(),
        rx.el.div(
            rx.el.button(
                "Export GPX",
                on_click=TripState.export_gpx,
                class_name="kd-btn",
                id="export-gpx",
                type="button",
            ),
            rx.el.button(
                "Export GeoJSON",
                on_click=TripState.export_geojson,
                class_name="kd-btn",
                id="export-geojson",
                type="button",
            ),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.el.button(
                        "Delete trip",
                        class_name="kd-btn kd-btn-danger",
                        id="trip-delete",
                        type="button",
                    )
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete this trip?"),
                    rx.alert_dialog.description(
                        "“",
                        TripState.name,
                        "” and all its recorded points will be deleted. "
                        "This cannot be undone; export it first if you want to keep a copy.",
                    ),
                    rx.flex(
                        rx.alert_dialog.cancel(
                            rx.el.button("Cancel", class_name="kd-btn", id="delete-cancel")
                        ),
                        rx.alert_dialog.action(
                            rx.el.button(
                                "Delete",
                                class_name="kd-btn kd-btn-danger",
                                on_click=TripState.delete,
                                id="delete-confirm",
                            )
                        ),
                        gap="3",
                        justify="end",
                        margin_top="16px",
                    ),
                ),
            ),
            class_name="kd-actions",
        ),
        rx.cond(
            TripState.message != "",
            rx.el.p(TripState.message, class_name="kd-note", role="status", id="trip-message"),
        ),
        class_name="kd-panel",
    )


def header() -> rx.Component:
    return rx.el.div(
        rx.el.a("‹ All trips", href="/trips", class_name="kd-back"),
        rx.el.div(
            rx.el.h1(TripState.name, class_name="kd-h1", id="trip-name"),
            rx.cond(TripState.recording, rx.badge("recording", color_scheme="amber")),
            rx.cond(TripState.imported, rx.badge("imported", color_scheme="gray")),
            class_name="kd-detail-title",
        ),
        rx.el.span(
            local_time(value=TripState.started_at, end=TripState.ended_at, title=TripState.when),
            class_name="kd-note",
            id="trip-when",
        ),
        rx.el.span("Source: ", TripState.source, class_name="kd-note", id="trip-source"),
        rx.cond(
            TripState.recording,
            rx.fragment(
                rx.el.span(
                    "Still recording: figures, map and chart update every 10 s.",
                    class_name="kd-note",
                    id="trip-live",
                ),
                ticker(interval=REFRESH_MS, on_tick=TripState.refresh),
            ),
        ),
        class_name="kd-detail-head",
    )


def not_found() -> rx.Component:
    return rx.el.div(
        rx.el.h1("Trip not found", class_name="kd-h1", id="trip-not-found"),
        rx.el.p(TripState.not_found, class_name="kd-note"),
        rx.el.a("‹ All trips", href="/trips", class_name="kd-btn kd-back"),
        class_name="kd-not-found",
    )


@rx.page(route="/trips/[trip_id]", title="Trip · Kei Drive", on_load=TripState.load)
def trip_detail_page() -> rx.Component:
    return page_frame(
        rx.el.link(rel="stylesheet", href="/kei/trips.css"),
        rx.cond(
            TripState.loaded,
            rx.cond(
                TripState.not_found != "",
                not_found(),
                rx.el.div(
                    header(),
                    rx.el.div(
                        rx.el.div(map_panel(), chart_panel(), class_name="kd-detail-grid-col"),
                        rx.el.div(stats_panel(), manage_panel(), class_name="kd-detail-grid-col"),
                        class_name="kd-detail-grid",
                    ),
                    rx.el.p(
                        "Speeds are smoothed; distance ignores GPS jitter while parked. "
                        "Times are in this device's time zone.",
                        class_name="kd-note",
                    ),
                    class_name="kd-detail-wrap",
                ),
            ),
            rx.el.p("Loading trip…", class_name="kd-note"),
        ),
        wide=True,
    )
