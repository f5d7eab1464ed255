"""The vehicle picker of the trip pages (a Radix select with a "No vehicle" entry)."""

from __future__ import annotations

from typing import Any

import reflex as rx

NO_VEHICLE = "none"  # Radix select items cannot have an empty value


def vehicle_id_of(value: str) -> int | None:
    """The picker's value as a vehicle id (None for "No vehicle")."""
    return None if value in (NO_VEHICLE, "") else int(value)


def vehicle_select(
    label: str, vehicles: rx.Var, value: rx.Var, on_change: Any, select_id: str
) -> rx.Component:
    """Shown only when the garage has vehicles; ``vehicles`` are ``VehicleOption``s."""
    return rx.cond(
        vehicles.length() > 0,
        rx.el.label(
            rx.el.span(label, class_name="kd-note"),
            rx.select.root(
                rx.select.trigger(id=select_id),
                rx.select.content(
                    rx.select.item("No vehicle", value=NO_VEHICLE),
                    rx.foreach(vehicles, lambda v: rx.select.item(v.label, value=v.value)),
                ),
                value=value,
                on_change=on_change,
                size="3",
            ),
            class_name="kd-import-vehicle",
        ),
    )
