"""Route ``/trips``: trip history (newest first, paginated), totals, and GPX import.

Rows are worded by ``kei_drive.presenters.trips``; the import is
``kei_drive.services.trips.import_gpx``.
"""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.layout import kei_page
from kei_drive.page_auth import SessionState
from kei_drive.pages.trips.state import TripsState
from kei_drive.pages.trips.views.history import trip_history
from kei_drive.pages.trips.views.importer import importer


@kei_page(
    routes.TRIPS,
    "Trips · Kei Drive",
    on_load=[SessionState.require_user, TripsState.on_load],
    css=["trips"],
)
def trips_page() -> list[rx.Component]:
    return [
        rx.el.h1("Trips", class_name="kd-h1"),
        importer(),
        rx.cond(
            TripsState.load_error != "",
            rx.el.div(TripsState.load_error, class_name="kd-import-error"),
        ),
        trip_history(),
        rx.el.p(
            "Times are shown in the time zone a trip was recorded or imported in (else in this "
            "device's), and monthly totals group trips by their start month there.",
            class_name="kd-note kd-foot-note",
        ),
    ]
