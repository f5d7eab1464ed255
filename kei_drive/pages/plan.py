"""Route ``/plan``: Plan a route (placeholder until its issue's page is built)."""

import reflex as rx

from kei_drive.components.layout import page_frame


@rx.page(route="/plan", title="Plan a route · Kei Drive")
def plan_page() -> rx.Component:
    return page_frame(rx.heading("Plan a route"), rx.text("Coming soon."))
