"""Route ``/states``: where may a Kei drive? Map, searchable table and per-state detail.

Everything shown is advice with its sources, never legal clearance. The rules come from
``services.us_states.load_book`` (package data + the signed-in account's own overrides), for the
date picked in "Rules on" (default today), so enacted changes (Colorado, 2028-01-01) show
on their date. ``/states?state=CO`` opens a state's detail directly. Rule statuses and
their severity are defined in ``kei_drive.core.rules_schema``/``core.rules``; the rows
here are worded by ``kei_drive.presenters.us_states``.
"""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.layout import kei_page
from kei_drive.components.map import LOWER_48, kei_map
from kei_drive.components.saved_rules import saved_rules
from kei_drive.page_auth import SessionState
from kei_drive.pages.states.state import StatesState
from kei_drive.pages.states.views.detail import detail_view
from kei_drive.pages.states.views.rule_facts import what_changed
from kei_drive.pages.states.views.table import legend, states_table


@kei_page(
    routes.STATES,
    "States · Kei Drive",
    on_load=[SessionState.load_user, StatesState.on_load],  # public page; nav shows who
    css=["states"],
)
def states_page() -> list[rx.Component]:
    return [
        rx.el.h1("States", class_name="kd-title"),
        rx.el.p(
            "Where may a Kei truck drive? Advice with sources, never legal clearance: check "
            "the sources and your DMV. Tap a state on the map or in the table.",
            class_name="kd-note",
        ),
        rx.el.div(
            rx.el.label("Rules on", html_for="rules-date"),
            rx.el.input(
                id="rules-date",
                type="date",
                value=StatesState.on_date,
                on_change=StatesState.set_on_date,
                class_name="kd-field kd-date",
            ),
            rx.el.button("Today", on_click=StatesState.today, class_name="kd-btn kd-btn-quiet"),
            class_name="kd-row kd-controls-row",
        ),
        rx.cond(
            StatesState.load_error != "",
            rx.el.div(StatesState.load_error, class_name="kd-error", id="rules-load-error"),
        ),
        rx.cond(
            StatesState.flash != "",
            rx.el.div(StatesState.flash, class_name="kd-flash", id="states-flash"),
        ),
        kei_map(
            map_id="states-map",
            fit_bounds=LOWER_48,
            state_status=StatesState.status_map,
            on_state_click=StatesState.select_state,
            height="clamp(240px, 42vh, 460px)",
        ),
        legend(),
        rx.cond(StatesState.has_detail, detail_view()),
        rx.el.div(
            rx.el.input(
                id="states-search",
                type="search",
                placeholder="Search state, code, status or 'override'…",
                value=StatesState.query,
                on_change=StatesState.set_query,
                class_name="kd-field kd-search",
                aria_label="Search states",
            ),
            rx.el.span(StatesState.shown_count, " of 51", class_name="kd-note"),
            class_name="kd-row kd-controls-row",
        ),
        states_table(),
        saved_rules(loaded=StatesState.rows.length() > 0),
        what_changed(),
        rx.el.p(
            StatesState.disclaimer,
            " Rules data version ",
            StatesState.data_version,
            ".",
            class_name="kd-note kd-foot-note",
        ),
    ]
