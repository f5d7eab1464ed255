"""The shared page frame: a compact navigation bar that stays out of the driver's way."""

import reflex as rx

from kei_drive.page_auth import account_link

NAV_LINKS = (
    ("Drive", "/"),
    ("Plan", "/plan"),
    ("Trips", "/trips"),
    ("States", "/states"),
    ("Garage", "/garage"),
)


def nav_bar() -> rx.Component:
    return rx.el.nav(
        *[rx.el.a(label, href=href, class_name="kd-nav-link") for label, href in NAV_LINKS],
        account_link(),  # who is signed in (to Settings), or "Sign in"
        class_name="kd-nav",
    )


def page_frame(*children: rx.Component, wide: bool = False) -> rx.Component:
    """Navigation on top, then the page content, then the data attributions."""
    return rx.el.div(
        nav_bar(),
        rx.el.main(*children, class_name="kd-main-wide" if wide else "kd-main"),
        class_name="kd-page",
    )
