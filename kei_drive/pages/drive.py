"""Route ``/``: the Drive screen a phone mounted in the cab shows."""

import reflex as rx

from kei_drive import routes
from kei_drive.components.drive_screen import drive_screen
from kei_drive.components.drive_shell import drive_shell
from kei_drive.components.layout import kei_page
from kei_drive.page_auth import SessionState


@kei_page(
    routes.DRIVE,
    "Kei Drive",
    on_load=SessionState.load_user,
    bare_class="kd-page kd-page-drive",
)
def drive() -> list[rx.Component]:
    return [drive_shell(), drive_screen()]  # the shell paints first, then the live screen
