"""The States page's road-access facts and its "What changed" list (issue #10 point 7).

The words come from ``presenters.us_states`` (``UsStateDetail``, ``ChangeRow``). Everything
shown is the package research (or the driver's override): advice with sources, never
clearance.
"""

from __future__ import annotations

import reflex as rx

from kei_drive.pages.states.state import StatesState


def _fact(label: str, value: rx.Var | str, **props) -> rx.Component:
    return rx.el.div(rx.el.dt(label), rx.el.dd(value, **props), class_name="kd-fact")


def access_facts() -> rx.Component:
    """The detail panel's access block."""
    d = StatesState.detail
    return rx.el.div(
        rx.el.p(
            rx.el.strong("Where a Kei may drive: "),
            d.access,
            id="detail-access",
            custom_attrs={"data-access": d.road_access},
            class_name="kd-advice",
        ),
        rx.el.p(
            rx.el.strong("On another state's plates: "),
            d.visitors,
            id="detail-visitors",
            custom_attrs={"data-visitors": d.visitor_rule},
            class_name="kd-text",
        ),
        rx.cond(
            d.routes != "",
            rx.el.p(
                rx.el.strong("Registration routes: "),
                d.routes,
                id="detail-routes",
                class_name="kd-text",
            ),
        ),
        rx.el.dl(_fact("Last checked", d.last_checked, id="detail-checked"), class_name="kd-facts"),
    )


def what_changed() -> rx.Component:
    """The dated changes list, upcoming ones marked."""
    return rx.el.section(
        rx.el.h2("What changed", class_name="kd-subtitle"),
        rx.el.p(
            "Dated rule changes of the last two years and the ones already enacted for later.",
            class_name="kd-note",
        ),
        rx.el.ul(
            rx.foreach(
                StatesState.changes,
                lambda c: rx.el.li(
                    rx.el.strong(c.on, " · ", c.name, ": "),
                    c.text,
                    rx.cond(c.upcoming, rx.el.em(" (upcoming)")),
                    custom_attrs={"data-state": c.state, "data-on": c.on},
                ),
            ),
            class_name="kd-periods",
        ),
        id="what-changed",
    )
