"""A vehicle card: its import eligibility, facts, home state's rule and actions."""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.kei_status import status_badge
from kei_drive.pages.garage.state import GarageState


def eligibility(v: rx.Var) -> rx.Component:
    return rx.cond(
        ~v.has_eligibility,
        rx.el.p(
            "Import eligibility: add a model year or month of manufacture.", class_name="kd-note"
        ),
        rx.cond(
            v.eligible,
            rx.el.div(
                rx.el.strong("25-year import eligible"),
                " since ",
                v.eligible_month,
                " (from ",
                v.eligible_on,
                ").",
                class_name="kd-elig kd-elig-yes",
            ),
            rx.el.div(
                rx.el.strong("Import-eligible from ", v.eligible_month),
                " (",
                v.eligible_on,
                ")",
                rx.el.div(
                    "in ",
                    rx.el.span(v.countdown, class_name="kd-countdown-value"),
                    " — ",
                    v.days,
                    " days",
                    class_name="kd-countdown",
                ),
                class_name="kd-elig kd-elig-no",
            ),
        ),
    )


def vehicle_card(v: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.div(
            rx.el.h2(v.nickname, class_name="kd-vehicle-name"),
            rx.el.span(v.title, class_name="kd-vehicle-title"),
            class_name="kd-vehicle-head",
        ),
        eligibility(v),
        rx.cond(
            v.estimated,
            rx.el.p(
                "Estimated from the model year (December assumed): add the month of manufacture.",
                class_name="kd-note",
            ),
        ),
        rx.el.dl(
            rx.el.div(
                rx.el.dt("Built"),
                rx.el.dd(rx.cond(v.manufactured != "", v.manufactured, "month unknown")),
                class_name="kd-fact",
            ),
            rx.el.div(rx.el.dt("Speed cap"), rx.el.dd(v.cap), class_name="kd-fact"),
            rx.el.div(
                rx.el.dt("Home state"),
                rx.el.dd(
                    rx.cond(
                        v.home_state != "",
                        rx.el.a(
                            v.home_name,
                            " (",
                            v.home_state,
                            ")",
                            href=routes.STATES + "?state=" + v.home_state,
                        ),
                        "not set",
                    )
                ),
                class_name="kd-fact",
            ),
            class_name="kd-facts",
        ),
        rx.cond(
            v.home_status != "",
            rx.el.div(
                status_badge(v.home_status),
                rx.el.span(v.home_advice, class_name="kd-home-advice"),
                class_name="kd-row kd-home-rule",
            ),
        ),
        rx.cond(
            GarageState.confirm_delete == v.id,
            rx.el.div(
                rx.el.span(
                    "Delete ", v.nickname, "? Its trips are kept.", class_name="kd-confirm-text"
                ),
                rx.el.button(
                    "Yes, delete",
                    on_click=GarageState.delete_vehicle(v.id),
                    class_name="kd-btn kd-btn-stop kd-confirm-delete",
                ),
                rx.el.button(
                    "Keep", on_click=GarageState.cancel_delete, class_name="kd-btn kd-btn-quiet"
                ),
                class_name="kd-row kd-confirm",
            ),
            rx.el.div(
                rx.el.button(
                    "Edit", on_click=GarageState.edit_vehicle(v.id), class_name="kd-btn kd-edit"
                ),
                rx.el.button(
                    "Delete",
                    on_click=GarageState.ask_delete(v.id),
                    class_name="kd-btn kd-btn-danger kd-delete",
                ),
                class_name="kd-row",
            ),
        ),
        custom_attrs={"data-id": v.id, "data-nickname": v.nickname},
        class_name="kd-vehicle",
    )
