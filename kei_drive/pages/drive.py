"""Route ``/``: the Drive screen a phone mounted in the cab shows."""

import reflex as rx

from kei_drive.components.drive_screen import drive_screen
from kei_drive.components.layout import nav_bar
from kei_drive.page_auth import SessionState


@rx.page(route="/", title="Kei Drive", on_load=SessionState.load_user)
def drive() -> rx.Component:
    return rx.el.div(
        nav_bar(),
        drive_screen(),
        class_name="kd-page kd-page-drive",
    )
