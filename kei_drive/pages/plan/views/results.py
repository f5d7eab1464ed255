"""The Plan page's answer: the error box, the verdict and figures, the coloured map, the
warnings, the states crossed and the turns; all read from ``PlanState.result``."""

from __future__ import annotations

import reflex as rx

from kei_drive.components.map import kei_map, map_legend
from kei_drive.pages.plan.drive_route import STATUS_ID
from kei_drive.pages.plan.state import PlanState
from kei_drive.presenters.route import LEGEND


def error_box() -> rx.Component:
    e = PlanState.error
    return rx.cond(
        e.title != "",
        rx.el.div(
            rx.el.strong(e.title),
            rx.el.div(e.message, class_name="kp-error-message"),
            rx.cond(e.hint != "", rx.el.div(e.hint, class_name="kp-error-hint")),
            id="plan-error",
            role="alert",
            class_name="kp-error",
        ),
    )


def _sources(row) -> rx.Component:
    return rx.el.div(
        rx.cond(
            row.source_label != "",
            rx.el.span("Rule sources (", row.confidence, " confidence):", class_name="kd-note"),
        ),
        rx.foreach(
            row.sources,
            lambda src: rx.el.a(
                src.label, href=src.url, target="_blank", rel="noopener", class_name="kp-src"
            ),
        ),
        class_name="kp-sources",
    )


def warning_item(row) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(row.label, class_name="kp-kind kp-kind-" + row.kind),
            rx.cond(row.road != "", rx.el.strong(row.road, class_name="kp-road")),
            rx.cond(row.state != "", rx.el.span(row.state, class_name="kd-pill kp-st")),
            class_name="kp-warning-head",
        ),
        rx.el.div(row.where, class_name="kd-note kp-where"),
        rx.el.div(row.message, class_name="kp-message"),
        _sources(row),
        class_name="kp-warning kp-warning-" + row.kind,
        custom_attrs={"data-kind": row.kind},
    )


def state_item(row) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.strong(row.name),
            rx.el.span(
                row.label,
                class_name="kp-status kp-status-" + row.severity,
                custom_attrs={"data-status": row.status},
            ),
            rx.el.span(row.distance, class_name="kd-note"),
            class_name="kp-warning-head",
        ),
        rx.el.div(row.limits, class_name="kd-note"),
        rx.cond(row.advice != "", rx.el.div(row.advice, class_name="kp-message")),
        _sources(row),
        class_name="kp-state",
        custom_attrs={"data-state": row.code},
    )


def legend() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.span(
                rx.el.span(class_name="kp-swatch", style={"background": item.color}),
                item.label,
                class_name="kp-legend-item",
            )
            for item in LEGEND
        ],
        class_name="kp-legend",
    )


def _summary() -> rx.Component:
    r = PlanState.result
    return rx.el.section(
        rx.el.h2(r.title, class_name="kp-h2", id="plan-result-title"),
        rx.el.div(
            r.verdict_mark,
            r.verdict,
            id="plan-verdict",
            class_name=r.verdict_class,
        ),
        rx.foreach(r.notes, lambda n: rx.el.div(n, class_name="kp-note-line")),
        rx.el.div(
            rx.el.div(
                rx.el.div(r.distance, id="plan-distance", class_name="kp-stat"),
                rx.el.div("distance", class_name="kd-stat-label"),
            ),
            rx.el.div(
                rx.el.div(r.duration, id="plan-duration", class_name="kp-stat"),
                rx.el.div(r.duration_label, class_name="kd-stat-label"),
            ),
            class_name="kp-stats",
        ),
        rx.el.div(
            rx.el.button(
                "Drive this route",
                type="button",
                id="drive-route",
                on_click=PlanState.drive_route,
                class_name="kd-btn kp-drive",
            ),
            rx.el.button(
                "Export GPX",
                type="button",
                id="plan-export-gpx",
                on_click=PlanState.export_gpx,
                class_name="kd-btn",
            ),
            class_name="kp-actions",
        ),
        rx.el.div(id=STATUS_ID, role="status", class_name="kd-note"),
        class_name="kp-panel",
    )


def _turns() -> rx.Component:
    r = PlanState.result
    return rx.cond(
        r.maneuvers.length() > 0,
        rx.el.section(
            rx.el.details(
                rx.el.summary("Turn by turn", class_name="kp-summary kp-h2"),
                rx.el.ol(
                    rx.foreach(
                        r.maneuvers,
                        lambda m: rx.el.li(
                            rx.el.span(m.instruction),
                            rx.el.span(m.distance, class_name="kd-note kp-turn-dist"),
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
    )


def results() -> rx.Component:
    r = PlanState.result
    return rx.cond(
        PlanState.has_result,
        rx.el.div(
            _summary(),
            rx.el.section(
                kei_map(
                    layers=r.layers,
                    state_status=r.map_states,
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
                    r.warnings.length() > 0,
                    rx.el.ul(rx.foreach(r.warnings, warning_item), class_name="kp-list"),
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
                rx.el.ul(rx.foreach(r.states, state_item), class_name="kp-list"),
                rx.el.div(
                    "Kei rules here are advice with sources, never legal clearance; "
                    "check with the state's DMV.",
                    class_name="kd-note",
                ),
                id="plan-states",
                class_name="kp-panel",
            ),
            _turns(),
            rx.cond(
                r.engine != "",
                rx.el.div("Routing: Valhalla (", r.engine, ")", class_name="kd-note"),
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
