"""Route ``/states``: States (placeholder until its issue's page is built)."""

import reflex as rx

from kei_drive.components.layout import page_frame
from kei_drive.components.map import kei_map


@rx.page(route="/states", title="States · Kei Drive")
def states_page() -> rx.Component:
    return page_frame(rx.heading("States"), kei_map(map_id="states-map"))
