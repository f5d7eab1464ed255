"""The trips list itself: trip cards, the pager and the totals tables."""

from __future__ import annotations

import reflex as rx

from kei_drive.components.local_time import local_time
from kei_drive.pages.trips.state import TripsState


def warning_badges(warnings: rx.Var) -> rx.Component:
    return rx.foreach(
        warnings,
        lambda w: rx.badge(w, color_scheme="red", variant="soft", class_name="kd-trip-warning"),
    )


def stat(label: str, value: rx.Var, cls: str) -> rx.Component:
    return rx.el.div(
        rx.el.div(value, class_name="kd-ts-value"),
        rx.el.div(label, class_name="kd-ts-label"),
        class_name=f"kd-ts {cls}",
    )


def trip_card(row: rx.Var) -> rx.Component:
    return rx.el.a(
        rx.el.div(
            rx.el.span(row.name, class_name="kd-trip-name"),
            rx.cond(
                row.recording,
                rx.badge("recording", color_scheme="amber", variant="solid", class_name="kd-rec"),
            ),
            rx.cond(row.imported, rx.badge("imported", color_scheme="gray", variant="soft")),
            class_name="kd-trip-head",
        ),
        rx.el.div(
            local_time(
                value=row.started_at,
                zone=row.time_zone,
                title=row.when,
                class_name="kd-trip-when",
            ),
            rx.el.span(" · "),
            rx.el.span(row.vehicle, class_name="kd-trip-vehicle"),
            rx.el.span(" · "),
            rx.el.span(row.source, class_name="kd-trip-source"),  # Drive screen, OwnTracks…
            class_name="kd-trip-sub",
        ),
        rx.el.div(
            stat("distance", row.distance, "kd-ts-dist"),
            stat("duration", row.duration, "kd-ts-dur"),
            stat("avg moving", row.avg, "kd-ts-avg"),
            stat("max", row.max, "kd-ts-max"),
            stat("states", row.states, "kd-ts-states"),
            class_name="kd-trip-stats",
        ),
        rx.el.div(warning_badges(row.warnings), class_name="kd-trip-warnings"),
        href=row.href,
        class_name="kd-trip-card",
        data_trip_id=row.id,
    )


def pager() -> rx.Component:
    s = TripsState
    return rx.el.div(
        rx.el.button(
            "‹ Newer",
            on_click=s.prev_page,
            disabled=s.page <= 1,
            class_name="kd-btn",
            id="trips-prev",
        ),
        rx.el.span(
            f"Page {s.page} of {s.pages} · {s.total} trips",
            class_name="kd-note",
            id="trips-page",
        ),
        rx.el.button(
            "Older ›",
            on_click=s.next_page,
            disabled=s.page >= s.pages,
            class_name="kd-btn",
            id="trips-next",
        ),
        class_name="kd-pager",
    )


def totals_table(title: str, first: str, rows: rx.Var, table_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.h3(title, class_name="kd-h3"),
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    *[rx.el.th(h) for h in (first, "Trips", "Distance", "Moving", "Above cap")]
                )
            ),
            rx.el.tbody(
                rx.foreach(
                    rows,
                    lambda r: rx.el.tr(
                        rx.el.td(r.label),
                        rx.el.td(r.trips),
                        rx.el.td(r.distance),
                        rx.el.td(r.moving),
                        rx.el.td(r.over_cap),
                    ),
                )
            ),
            class_name="kd-totals",
            id=table_id,
        ),
        class_name="kd-totals-box",
    )


def trip_history() -> rx.Component:
    s = TripsState
    totals = rx.el.section(
        totals_table("Per vehicle", "Vehicle", s.per_vehicle, "totals-vehicle"),
        totals_table("Per month", "Month", s.per_month, "totals-month"),
        class_name="kd-totals-grid",
    )
    listing = rx.el.div(
        rx.el.div(rx.foreach(s.rows, trip_card), class_name="kd-trip-list", id="trip-list"),
        pager(),
        totals,
    )
    empty = rx.el.p(
        "No trips yet. Start one on the Drive screen, or import a GPX file.",
        class_name="kd-note",
        id="trips-empty",
    )
    return rx.cond(
        s.loaded,
        rx.cond(s.total > 0, listing, empty),
        rx.el.p("Loading trips…", class_name="kd-note"),
    )
