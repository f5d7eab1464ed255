"""Route ``/trips``: Trips (placeholder until its issue's page is built)."""

import reflex as rx

from kei_drive.components.layout import page_frame


@rx.page(route="/trips", title="Trips · Kei Drive")
def trips_page() -> rx.Component:
    return page_frame(rx.heading("Trips"), rx.text("Coming soon."))
