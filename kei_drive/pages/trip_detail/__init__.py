"""Route ``/trips/[trip_id]``: one trip's track, speed chart, stats, export, rename, delete.

Words: ``kei_drive.presenters.trips``; map and chart: ``kei_drive.presenters.track_map``.
"""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.layout import kei_page
from kei_drive.page_auth import SessionState
from kei_drive.pages.trip_detail.state import TripState
from kei_drive.pages.trip_detail.views.panels import header, manage_panel, not_found, stats_panel
from kei_drive.pages.trip_detail.views.track import chart_panel, map_panel


@kei_page(
    routes.TRIP_DETAIL,
    "Trip · Kei Drive",
    on_load=[SessionState.require_user, TripState.on_load],
    css=["trips"],
    wide=True,
)
def trip_detail_page() -> rx.Component:
    return rx.cond(
        TripState.loaded,
        rx.cond(
            TripState.not_found != "",
            not_found(),
            rx.el.div(
                header(),
                rx.el.div(
                    rx.el.div(map_panel(), chart_panel(), class_name="kd-detail-grid-col"),
                    rx.el.div(stats_panel(), manage_panel(), class_name="kd-detail-grid-col"),
                    class_name="kd-detail-grid",
                ),
                rx.el.p(
                    "Speeds are smoothed; distance ignores GPS jitter while parked. "
                    "Times are in the time zone the trip was recorded or imported in (else in "
                    "this device's).",
                    class_name="kd-note",
                ),
                class_name="kd-detail-wrap",
            ),
        ),
        rx.el.p("Loading trip…", class_name="kd-note"),
    )
