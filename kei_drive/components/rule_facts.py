"""The States page's road-access facts and its "What changed" list (issue #10 point 7).

``rule_words`` and ``change_rows`` are pure (plain dicts of strings, as the page state
holds them); ``access_facts`` and ``what_changed`` render them. Everything shown is the
package research (or the driver's override), advice with sources, never clearance.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

PAST_DAYS = 2 * 365  # "What changed": the last two years and everything upcoming


def rule_words(rule: Any) -> dict[str, str]:
    """Access mode and requirements in plain words, visitors, routes, last checked."""
    routes = "; ".join(r["text"] for r in rule.registration_routes)
    visitors = rule.visitor_text()
    if rule.visitors.get("rule") == "may_not_operate":
        visitors = f"{visitors[:1].upper()}{visitors[1:]}: {rule.visitors['text']}"
    return {
        "access": rule.access_text(),
        "road_access": rule.road_access or "unverified",
        "visitors": visitors,
        "visitor_rule": rule.visitors.get("rule", "unknown"),
        "routes": routes,
        "last_checked": rule.last_checked.isoformat(),
    }


def change_rows(book: Any, day: date) -> list[dict[str, str]]:
    """Dated changes of the last two years and all upcoming ones, oldest first."""
    return [
        {
            "on": c.on.isoformat(),
            "state": c.state,
            "name": c.name,
            "status": c.status,
            "text": c.text,
            "upcoming": "yes" if c.upcoming else "",
        }
        for c in book.changes(day, past_days=PAST_DAYS)
    ]


def _fact(label: str, value: rx.Var | str, **props) -> rx.Component:
    return rx.el.div(rx.el.dt(label), rx.el.dd(value, **props), class_name="kd-fact")


def access_facts(d: rx.Var) -> rx.Component:
    """The detail panel's access block; ``d`` holds ``rule_words`` keys."""
    return rx.el.div(
        rx.el.p(
            rx.el.strong("Where a Kei may drive: "),
            d["access"],
            id="detail-access",
            custom_attrs={"data-access": d["road_access"]},
            class_name="kd-advice",
        ),
        rx.el.p(
            rx.el.strong("On another state's plates: "),
            d["visitors"],
            id="detail-visitors",
            custom_attrs={"data-visitors": d["visitor_rule"]},
            class_name="kd-text",
        ),
        rx.cond(
            d["routes"] != "",
            rx.el.p(
                rx.el.strong("Registration routes: "),
                d["routes"],
                id="detail-routes",
                class_name="kd-text",
            ),
        ),
        rx.el.dl(
            _fact("Last checked", d["last_checked"], id="detail-checked"), class_name="kd-facts"
        ),
    )


def what_changed(rows: rx.Var) -> rx.Component:
    """The dated changes list (``change_rows``), upcoming ones marked."""
    return rx.el.section(
        rx.el.h2("What changed", class_name="kd-subtitle"),
        rx.el.p(
            "Dated rule changes of the last two years and the ones already enacted for later.",
            class_name="kd-note",
        ),
        rx.el.ul(
            rx.foreach(
                rows,
                lambda c: rx.el.li(
                    rx.el.strong(c["on"], " · ", c["name"], ": "),
                    c["text"],
                    rx.cond(c["upcoming"] == "yes", rx.el.em(" (upcoming)")),
                    custom_attrs={"data-state": c["state"], "data-on": c["on"]},
                ),
            ),
            class_name="kd-periods",
        ),
        id="what-changed",
    )
