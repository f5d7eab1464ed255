"""Route ``/trips/[trip_id]``: Trip (placeholder until its issue's page is built)."""

import reflex as rx

from kei_drive.components.layout import page_frame


@rx.page(route="/trips/[trip_id]", title="Trip · Kei Drive")
def trip_detail_page() -> rx.Component:
    return page_frame(rx.heading("Trip"), rx.text("Coming soon."))
