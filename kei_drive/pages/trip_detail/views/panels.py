"""The trip's header, statistics, and the manage panel (rename, vehicle, export, delete)."""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.local_time import local_time, ticker
from kei_drive.components.vehicle_select import vehicle_select
from kei_drive.pages.trip_detail.state import TripState

REFRESH_MS = 10_000  # a recording trip's page reloads its figures this often


def header() -> rx.Component:
    s = TripState
    return rx.el.div(
        rx.el.a("‹ All trips", href=routes.TRIPS, class_name="kd-back"),
        rx.el.div(
            rx.el.h1(s.name, class_name="kd-h1", id="trip-name"),
            rx.cond(s.recording, rx.badge("recording", color_scheme="amber")),
            rx.cond(s.imported, rx.badge("imported", color_scheme="gray")),
            class_name="kd-detail-title",
        ),
        rx.el.span(
            local_time(value=s.started_at, end=s.ended_at, zone=s.time_zone, title=s.when),
            class_name="kd-note",
            id="trip-when",
        ),
        rx.el.span("Source: ", s.source, class_name="kd-note", id="trip-source"),
        rx.cond(
            s.recording,
            rx.fragment(
                rx.el.span(
                    "Still recording: figures, map and chart update every 10 s.",
                    class_name="kd-note",
                    id="trip-live",
                ),
                ticker(interval=REFRESH_MS, on_tick=s.refresh),
            ),
        ),
        rx.cond(s.checking, ticker(interval=REFRESH_MS, on_tick=s.refresh)),
        class_name="kd-detail-head",
    )


def stats_panel() -> rx.Component:
    return rx.el.section(
        rx.el.dl(
            rx.foreach(
                TripState.stats,
                lambda row: rx.el.div(
                    rx.el.dd(row.value), rx.el.dt(row.label), class_name="kd-stat-item"
                ),
            ),
            class_name="kd-stats-list",
            id="trip-stats",
        ),
        rx.el.div(
            rx.foreach(
                TripState.warnings, lambda w: rx.badge(w, color_scheme="red", variant="soft")
            ),
            class_name="kd-trip-warnings",
        ),
        class_name="kd-panel",
    )


def _button(label: str, button_id: str, cls: str = "kd-btn", **props) -> rx.Component:
    return rx.el.button(label, class_name=cls, id=button_id, type="button", **props)


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(_button("Delete trip", "trip-delete", "kd-btn kd-btn-danger")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this trip?"),
            rx.alert_dialog.description(
                "“",
                TripState.name,
                "” and all its recorded points will be deleted. "
                "This cannot be undone; export it first if you want to keep a copy.",
                rx.cond(
                    TripState.from_logger & TripState.recording,
                    rx.el.span(
                        " It is still recording: the rest of this drive is dropped as the "
                        "logger sends it; the next drive, after a stop, is a trip of its own.",
                        id="delete-logger-note",
                    ),
                ),
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
    )


def manage_panel() -> rx.Component:
    s = TripState
    return rx.el.section(
        rx.el.form(
            rx.el.input(
                name="name",
                value=s.name_draft,
                on_change=s.set_name_draft,
                aria_label="Trip name",
                id="trip-name-input",
                max_length=200,
            ),
            rx.el.button("Rename", type="submit", class_name="kd-btn", id="trip-rename"),
            on_submit=s.rename,
            reset_on_submit=False,
            class_name="kd-rename",
        ),
        rx.cond(
            s.rename_error != "",
            rx.el.p(s.rename_error, class_name="kd-field-error", role="alert"),
        ),
        vehicle_select("Vehicle ", s.vehicles, s.vehicle_value, s.set_vehicle, "trip-vehicle"),
        rx.el.div(
            _button("Export GPX", "export-gpx", on_click=s.export_gpx),
            _button("Export GeoJSON", "export-geojson", on_click=s.export_geojson),
            _delete_dialog(),
            class_name="kd-actions",
        ),
        rx.cond(
            s.message != "",
            rx.el.p(s.message, class_name="kd-note", role="status", id="trip-message"),
        ),
        class_name="kd-panel",
    )


def not_found() -> rx.Component:
    return rx.el.div(
        rx.el.h1("Trip not found", class_name="kd-h1", id="trip-not-found"),
        rx.el.p(TripState.not_found, class_name="kd-note"),
        rx.el.a("‹ All trips", href=routes.TRIPS, class_name="kd-btn kd-back"),
        class_name="kd-not-found",
    )
