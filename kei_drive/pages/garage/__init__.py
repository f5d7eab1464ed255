"""Route ``/garage``: the driver's Kei vehicles (add, edit, delete).

Each vehicle shows its US 25-year import eligibility date (month of manufacture + 25
years; a countdown while it is not yet eligible) and its home state's Kei rule status.
Validation: ``kei_drive.core.vehicles.clean_vehicle_form``; cards:
``kei_drive.presenters.vehicles``.
"""

from __future__ import annotations

import reflex as rx

from kei_drive import routes
from kei_drive.components.layout import kei_page
from kei_drive.page_auth import SessionState
from kei_drive.pages.garage.state import GarageState
from kei_drive.pages.garage.views.cards import vehicle_card
from kei_drive.pages.garage.views.form import vehicle_form


@kei_page(
    routes.GARAGE,
    "Garage · Kei Drive",
    on_load=[SessionState.require_user, GarageState.on_load],
    css=["states", "garage"],
)
def garage_page() -> list[rx.Component]:
    return [
        rx.el.div(
            rx.el.h1("Garage", class_name="kd-title"),
            rx.cond(
                ~GarageState.form_open,
                rx.el.button(
                    "Add vehicle",
                    id="vehicle-add",
                    on_click=GarageState.add_vehicle,
                    class_name="kd-btn",
                ),
            ),
            class_name="kd-detail-head",
        ),
        rx.el.p(
            "Your Kei trucks and vans. A vehicle may be imported to the US once it is 25 years "
            "old, counted from the month of manufacture (49 U.S.C. 30112(b)(9)).",
            class_name="kd-note",
        ),
        rx.cond(
            GarageState.load_error != "",
            rx.el.div(GarageState.load_error, class_name="kd-error", id="garage-error"),
        ),
        rx.cond(
            GarageState.flash != "",
            rx.el.div(GarageState.flash, class_name="kd-flash", id="garage-flash"),
        ),
        rx.cond(GarageState.form_open, vehicle_form()),
        rx.el.div(
            rx.foreach(GarageState.vehicles, vehicle_card),
            id="vehicle-list",
            custom_attrs={"data-loaded": rx.cond(GarageState.loaded, "yes", "no")},
        ),
        rx.cond(
            (GarageState.vehicles.length() == 0) & ~GarageState.form_open,
            rx.el.p("No vehicles yet.", class_name="kd-note"),
        ),
    ]
