"""The States legend (status counts) and the searchable table."""

from __future__ import annotations

import reflex as rx

from kei_drive.components.kei_status import STATUS_HINTS, STATUSES, status_badge
from kei_drive.pages.states.state import StatesState


def legend() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.span(
                rx.el.span(class_name=f"kd-swatch kd-swatch-{s}"),
                rx.el.span(f"{s} ", class_name="kd-legend-label"),
                rx.el.span(StatesState.counts[s], class_name="kd-legend-count"),
                class_name="kd-legend-item",
                title=STATUS_HINTS[s],
            )
            for s in STATUSES
        ],
        id="states-legend",
        class_name="kd-legend",
    )


def table_row(row: rx.Var) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.el.span(row.name, class_name="kd-state-name"),
            rx.el.span(row.state, class_name="kd-state-code"),
            rx.cond(
                row.overridden,
                rx.el.span("Your override", class_name="kd-override-pill"),
            ),
            class_name="kd-col-state",
        ),
        rx.el.td(status_badge(row.status)),
        rx.el.td(row.speed),
        rx.el.td(row.interstate),
        rx.el.td(row.confidence),
        rx.el.td(row.reviewed),
        on_click=StatesState.select_state(row.state),
        custom_attrs={
            "data-state": row.state,
            "data-overridden": rx.cond(row.overridden, "yes", ""),
        },
        class_name=rx.cond(
            row.state == StatesState.selected, "kd-state-row kd-selected", "kd-state-row"
        ),
    )


def states_table() -> rx.Component:
    return rx.el.div(
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th("State", class_name="kd-col-state"),
                    rx.el.th("Status"),
                    rx.el.th("Max road speed"),
                    rx.el.th("Interstates"),
                    rx.el.th("Confidence"),
                    rx.el.th("Reviewed"),
                )
            ),
            rx.el.tbody(rx.foreach(StatesState.filtered_rows, table_row)),
            id="states-table",
            class_name="kd-table",
        ),
        class_name="kd-table-wrap",
    )
