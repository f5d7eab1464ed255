"""Route ``/garage``: Garage (placeholder until its issue's page is built)."""

import reflex as rx

from kei_drive.components.layout import page_frame


@rx.page(route="/garage", title="Garage · Kei Drive")
def garage_page() -> rx.Component:
    return page_frame(rx.heading("Garage"), rx.text("Coming soon."))
