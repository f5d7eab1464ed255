"""Small form pieces shared by the pages' forms."""

from typing import Any

import reflex as rx


def save_cancel_row(
    save_label: str, save_id: str, on_cancel: Any, save_class: str = "kd-btn"
) -> rx.Component:
    """A submit button and a Cancel button that calls ``on_cancel``."""
    return rx.el.div(
        rx.el.button(save_label, type="submit", id=save_id, class_name=save_class),
        rx.el.button("Cancel", type="button", on_click=on_cancel, class_name="kd-btn kd-btn-quiet"),
        class_name="kd-row",
    )
