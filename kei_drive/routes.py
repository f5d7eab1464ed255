"""Every page path of the app, and builders for the ones with parameters.

Pages register with these (``kei_page(routes.PLAN, ...)``); links and redirects use them.
The HTTP API's paths are listed in ``kei_drive.api``.
"""

from __future__ import annotations

DRIVE = "/"
PLAN = "/plan"
TRIPS = "/trips"
TRIP_DETAIL = "/trips/[trip_id]"  # Reflex's dynamic segment; build links with trip()
STATES = "/states"
GARAGE = "/garage"


def trip(trip_id: int | str) -> str:
    """The detail page of one trip."""
    return f"{TRIPS}/{trip_id}"


def us_state(code: str) -> str:
    """The States page opened on one US state's rule."""
    return f"{STATES}?state={code}"
