"""Kei rule status badges, coloured like the States map (legal/restricted/banned/unclear)."""

from __future__ import annotations

import reflex as rx

STATUSES = ("legal", "restricted", "banned", "unclear")
# Radix colour names close to the map fills in assets/kei/map.jsx
STATUS_COLORS = {"legal": "green", "restricted": "amber", "banned": "red", "unclear": "gray"}
STATUS_HINTS = {
    "legal": "registrable, ordinary rules",
    "restricted": "registrable, road use limited",
    "banned": "state refuses registration",
    "unclear": "no clear rule found",
}


def status_badge(status: rx.Var | str, **props) -> rx.Component:
    """A solid badge reading the status; ``data-status`` carries it for tests and CSS."""
    if isinstance(status, str):
        color = STATUS_COLORS.get(status, "gray")
    else:
        color = rx.match(status, *STATUS_COLORS.items(), "gray")
    props.setdefault("class_name", "kd-status-badge")
    props.setdefault("size", "2")
    return rx.badge(
        status, color_scheme=color, variant="solid", custom_attrs={"data-status": status}, **props
    )
