"""The trip's map (coloured by speed or by the cap) and its speed chart."""

from __future__ import annotations

import reflex as rx

from kei_drive.components.map import kei_map
from kei_drive.pages.trip_detail.state import TripState
from kei_drive.presenters.track_map import OVER_CAP_COLOR

CHART_LINE_COLOR = "#f5a623"
CHART_AXIS_COLOR = "#a1a1aa"
CHART_GRID_COLOR = "#333845"


def mode_button(label: str, mode: str, button_id: str) -> rx.Component:
    on = TripState.mode == mode
    return rx.el.button(
        label,
        on_click=TripState.set_mode(mode),
        class_name=rx.cond(on, "kd-btn kd-btn-on", "kd-btn"),
        aria_pressed=rx.cond(on, "true", "false"),
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
            offline_button=True,  # "Download this area"
        ),
        rx.el.div(
            rx.foreach(
                TripState.legend,
                lambda item: rx.el.span(
                    rx.el.span(class_name="kd-swatch", style={"background": item.color}),
                    item.label,
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
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=CHART_GRID_COLOR),
        rx.recharts.x_axis(
            data_key="min",
            type_="number",
            domain=["dataMin", "dataMax"],
            stroke=CHART_AXIS_COLOR,
            tick_count=6,
            allow_decimals=False,
        ),
        rx.recharts.y_axis(stroke=CHART_AXIS_COLOR, width=36, allow_decimals=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.line(
            data_key="mph",
            stroke=CHART_LINE_COLOR,
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
                stroke=OVER_CAP_COLOR,
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
