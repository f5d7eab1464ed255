"""The garage's add/edit vehicle form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kei_drive.components.forms import save_cancel_row
from kei_drive.core.us_states import US_STATE_NAMES
from kei_drive.pages.garage.state import GarageState


def text_input(ident: str, name: str, value: Any, placeholder: str) -> rx.Component:
    return rx.el.input(
        id=ident,
        name=name,
        default_value=value,
        placeholder=placeholder,
        class_name="kd-field",
        max_length=80,
    )


def field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    """A label above its control (the control's ``id`` links them) and an optional hint."""
    return rx.el.div(
        rx.el.label(label, html_for=str(control.id)),
        control,
        *([rx.el.div(hint, class_name="kd-hint-text")] if hint else []),
        class_name="kd-form-field",
    )


def vehicle_form() -> rx.Component:
    f = GarageState.form
    return rx.form(
        rx.el.h2(
            rx.cond(GarageState.editing_id > 0, "Edit vehicle", "Add a vehicle"), id="form-title"
        ),
        rx.el.div(
            field(
                "Nickname",
                text_input("vehicle-nickname", "nickname", f["nickname"], "Blue Sambar"),
            ),
            field(
                "Make",
                text_input("vehicle-make", "make", f["make"], "Subaru"),
            ),
            field(
                "Model",
                text_input("vehicle-model", "model", f["model"], "Sambar"),
            ),
            field(
                "Model year",
                rx.el.input(
                    id="vehicle-year",
                    name="model_year",
                    default_value=f["model_year"],
                    placeholder="1991",
                    input_mode="numeric",
                    class_name="kd-field",
                ),
            ),
            field(
                "Month of manufacture",
                rx.el.input(
                    id="vehicle-month",
                    name="manufacture_month",
                    type="month",
                    default_value=f["manufacture_month"],
                    placeholder="1991-03",
                    class_name="kd-field",
                ),
                "On the chassis plate or export certificate (YYYY-MM).",
            ),
            field(
                "Personal speed cap (mph)",
                rx.el.input(
                    id="vehicle-cap",
                    name="speed_cap_mph",
                    default_value=f["speed_cap_mph"],
                    input_mode="decimal",
                    class_name="kd-field",
                ),
                "The Drive screen warns above it.",
            ),
            field(
                "Home state",
                rx.el.select(
                    rx.el.option("— not set —", value=""),
                    *[
                        rx.el.option(f"{name} ({code})", value=code)
                        for code, name in sorted(US_STATE_NAMES.items())
                    ],
                    id="vehicle-home",
                    name="home_state",
                    default_value=f["home_state"],
                    class_name="kd-field",
                ),
            ),
            class_name="kd-vehicle-grid",
        ),
        rx.cond(
            GarageState.form_error != "",
            rx.el.div(
                GarageState.form_error, id="vehicle-form-error", class_name="kd-error", role="alert"
            ),
        ),
        save_cancel_row(
            "Save", "vehicle-save", GarageState.cancel_form, save_class="kd-btn kd-btn-start"
        ),
        key=GarageState.form_key,
        on_submit=GarageState.save_vehicle,
        id="vehicle-form",
        class_name="kd-detail",
    )
