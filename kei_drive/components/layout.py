"""The shared page frame (a compact navigation bar that stays out of the driver's way) and
``kei_page``, the decorator every page registers with."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from kei_drive import routes
from kei_drive.components.offline_note import offline_note
from kei_drive.components.recording_indicator import recording_indicator
from kei_drive.page_auth import account_link

NAV_LINKS = (
    ("Drive", routes.DRIVE),
    ("Plan", routes.PLAN),
    ("Trips", routes.TRIPS),
    ("States", routes.STATES),
    ("Garage", routes.GARAGE),
)
PageContent = rx.Component | Sequence[rx.Component]


def nav_bar() -> rx.Component:
    return rx.el.nav(
        # While a trip is recorded (on every page: the recorder lives at the app level);
        # first, so a narrow phone never scrolls it out of sight.
        recording_indicator(),
        *[rx.el.a(label, href=href, class_name="kd-nav-link") for label, href in NAV_LINKS],
        account_link(),  # who is signed in (to Settings), or "Sign in"
        class_name="kd-nav",
    )


def page_frame(*children: rx.Component, wide: bool = False) -> rx.Component:
    """Navigation on top, then the page content."""
    return rx.el.div(
        nav_bar(),
        rx.el.main(offline_note(), *children, class_name="kd-main-wide" if wide else "kd-main"),
        class_name="kd-page",
    )


def stylesheet(name: str) -> rx.Component:
    """A page's own stylesheet, ``assets/kei/<name>.css``."""
    return rx.el.link(rel="stylesheet", href=f"/kei/{name}.css")


def kei_page(
    route: str,
    title: str,
    *,
    on_load: Any = None,
    css: Sequence[str] = (),
    wide: bool = False,
    bare_class: str = "",
) -> Callable[[Callable[[], PageContent]], Callable[[], rx.Component]]:
    """Register a page: ``rx.page`` + the frame + its stylesheets.

    The decorated function returns the page's content (one component or several).
    ``bare_class`` skips the ``<main>`` frame (the Drive screen fills the window).
    """

    def decorate(view: Callable[[], PageContent]) -> Callable[[], rx.Component]:
        @functools.wraps(view)
        def page() -> rx.Component:
            content = view()
            children = [content] if isinstance(content, rx.Component) else list(content)
            links = [stylesheet(name) for name in css]
            if bare_class:
                return rx.el.div(nav_bar(), *links, *children, class_name=bare_class)
            return page_frame(*links, *children, wide=wide)

        return rx.page(route=route, title=title, on_load=on_load)(page)

    return decorate
