"""One state's rule: the detail panel with its periods, and the driver's override form."""

from __future__ import annotations

import reflex as rx

from kei_drive.components.forms import save_cancel_row
from kei_drive.components.kei_status import STATUSES, status_badge
from kei_drive.page_auth import SessionState
from kei_drive.pages.states.state import StatesState
from kei_drive.pages.states.views.rule_facts import access_facts
from kei_drive.presenters.us_states import INTERSTATE_CHOICES


def fact(label: str, value: rx.Var | str, **props) -> rx.Component:
    return rx.el.div(rx.el.dt(label), rx.el.dd(value, **props), class_name="kd-fact")


def override_form() -> rx.Component:
    form = StatesState.override_form
    return rx.form(
        rx.el.div(
            rx.el.label("Status", html_for="override-status"),
            rx.el.select(
                *[rx.el.option(s, value=s) for s in STATUSES],
                id="override-status",
                name="status",
                default_value=form["status"],
                class_name="kd-field",
            ),
            rx.el.label("Max road speed (mph, empty = no cap)", html_for="override-speed"),
            rx.el.input(
                id="override-speed",
                name="max_speed",
                type="text",
                input_mode="numeric",
                default_value=form["max_speed"],
                placeholder="e.g. 55",
                class_name="kd-field",
            ),
            rx.el.label("Interstates", html_for="override-interstate"),
            rx.el.select(
                *[rx.el.option(label, value=v) for v, label in INTERSTATE_CHOICES],
                id="override-interstate",
                name="interstate",
                default_value=form["interstate"],
                class_name="kd-field",
            ),
            rx.el.label("Where this comes from (required)", html_for="override-note"),
            rx.el.input(
                id="override-note",
                name="note",
                default_value=form["note"],
                placeholder="e.g. DMV letter of 2026-10-02",
                class_name="kd-field",
            ),
            class_name="kd-form-grid",
        ),
        rx.cond(
            StatesState.override_error != "",
            rx.el.div(StatesState.override_error, id="override-error", class_name="kd-error"),
        ),
        save_cancel_row("Save override", "override-save", StatesState.cancel_override),
        key=StatesState.override_key,
        on_submit=StatesState.save_override,
        id="override-form",
        class_name="kd-override-form",
    )


def override_section() -> rx.Component:
    d = StatesState.detail
    return rx.el.section(
        rx.el.h3("Your override"),
        rx.el.p(
            "Have a DMV letter or a newer law? Record your own rule for this state. It belongs "
            "to your account (no one else on this server sees it), is marked as yours "
            "everywhere, and you can remove it any time.",
            rx.cond(SessionState.username == "", " Sign in to record one.", ""),
            class_name="kd-note",
        ),
        rx.cond(
            StatesState.override_open,
            override_form(),
            rx.el.div(
                rx.el.button(
                    rx.cond(d.overridden, "Edit my override", "Add my override"),
                    id="override-open",
                    on_click=StatesState.open_override,
                    class_name="kd-btn",
                ),
                rx.cond(
                    d.overridden,
                    rx.el.button(
                        "Remove my override",
                        id="override-remove",
                        on_click=StatesState.remove_override,
                        class_name="kd-btn kd-btn-danger",
                    ),
                ),
                class_name="kd-row",
            ),
        ),
        class_name="kd-override",
    )


def detail_view() -> rx.Component:
    d = StatesState.detail
    return rx.el.section(
        rx.el.div(
            rx.el.h2(d.name, " (", d.state, ")", id="state-detail-name"),
            rx.el.button(
                "Close", on_click=StatesState.close_detail, class_name="kd-btn kd-btn-quiet"
            ),
            class_name="kd-detail-head",
        ),
        rx.el.div(
            status_badge(d.status),
            rx.el.span(d.hint, class_name="kd-note"),
            rx.cond(
                d.overridden,
                rx.el.span("Your override", class_name="kd-override-pill", id="detail-override"),
            ),
            class_name="kd-row",
        ),
        rx.cond(
            d.overridden,
            rx.el.div(
                "This rule is YOUR override, not the researched package rule: ",
                d.override_note,
                class_name="kd-override-banner",
            ),
        ),
        rx.el.p(d.advice, id="state-advice", class_name="kd-advice"),
        access_facts(),
        rx.el.dl(
            fact("Max road speed", d.speed, id="detail-speed"),
            fact("Interstates", d.interstate, id="detail-interstate"),
            fact("Confidence", d.confidence, id="detail-confidence"),
            fact("In force from", d.effective_from, id="detail-effective"),
            fact("Source date", d.source_date),
            fact("Last reviewed", d.last_reviewed, id="detail-reviewed"),
            class_name="kd-facts",
        ),
        rx.cond(
            d.next_change != "",
            rx.el.div(
                rx.el.strong("Upcoming change: "),
                d.next_change,
                class_name="kd-upcoming",
                id="detail-next-change",
            ),
        ),
        rx.cond(
            d.overridden,
            rx.el.p(
                "Conditions, citation and sources below are the package research; your "
                "override replaces the status, speed cap and interstate rule.",
                class_name="kd-note",
            ),
        ),
        rx.el.h3("Conditions"),
        rx.el.p(d.conditions, class_name="kd-text"),
        rx.el.h3("Citation"),
        rx.el.p(d.citation, class_name="kd-text"),
        rx.el.h3("Sources"),
        rx.cond(
            StatesState.sources.length() > 0,
            rx.el.ul(
                rx.foreach(
                    StatesState.sources,
                    lambda url: rx.el.li(
                        rx.el.a(url, href=url, target="_blank", rel="noopener noreferrer")
                    ),
                ),
                id="state-sources",
                class_name="kd-sources",
            ),
            rx.el.p("No sources recorded.", class_name="kd-note"),
        ),
        rx.cond(
            StatesState.periods.length() > 0,
            rx.el.div(
                rx.el.h3("Rule periods"),
                rx.el.ul(
                    rx.foreach(
                        StatesState.periods,
                        lambda p: rx.el.li(
                            rx.el.strong(p.start, ": "),
                            status_badge(p.status, size="1"),
                            " ",
                            p.speed,
                            ", interstates ",
                            p.interstate,
                            rx.cond(p.current, rx.el.em(" ← in force on the chosen date")),
                        ),
                    ),
                    class_name="kd-periods",
                ),
            ),
        ),
        override_section(),
        id="state-detail",
        custom_attrs={"data-state": d.state},
        class_name="kd-detail",
    )
