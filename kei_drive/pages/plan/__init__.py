"""Route ``/plan``: plan a Kei route between two places, or check any GPX route.

The work is ``kei_drive.services.planning`` (run in a worker thread), the words and map
layers ``kei_drive.presenters.route.PlanResult``; ``state.py`` holds them, ``views/`` draw.
"""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.layout import kei_page
from kei_drive.page_auth import SessionState
from kei_drive.pages.plan.state import PlanState
from kei_drive.pages.plan.views.form import gpx_check, plan_form
from kei_drive.pages.plan.views.results import error_box, idle_map, legend, results


def _intro() -> rx.Component:
    s = PlanState
    return rx.cond(
        ~s.has_result & ~s.busy & (s.error.title == ""),
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
    )


@kei_page(
    routes.PLAN,
    "Plan a route · Kei Drive",
    on_load=[SessionState.require_user, PlanState.on_load],  # routing spends server work
    css=["plan"],
    wide=True,
)
def plan_page() -> rx.Component:
    s = PlanState
    return rx.el.div(
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
                    # Reflex's upload helper ignores a drop while a check's upload runs
                    rx.el.span(
                        "A file dropped now is not read: drop it again when this ends.",
                        id="plan-busy-note",
                    ),
                    id="plan-busy",
                    class_name="kp-busy",
                ),
            ),
            error_box(),
            results(),
            _intro(),
            idle_map(),
            class_name="kp-main",
        ),
        class_name="kp-layout",
    )
