"""The Drive screen's first paint: the speed readout as plain HTML in the prerendered page.

The live screen (``DriveScreen``, assets/kei/drive.jsx) renders only in the browser, after
the app's code has loaded. Until then this shell shows the live screen's resting state in
the same places and sizes: the two status pills, on a phone that never gave a position the
first-run card's introduction (the same words as assets/kei/first_run.jsx, kept equal by a
test), and the readout ("-- mph", "-- km/h", the alert line, "road unknown"). The page's
first and largest paint is this shell (see ``kei_drive.first_paint``); kei.css hides it once
the live screen is in the page, which then takes over where the shell was, so the readout
does not move (a layout shift: tests/browser/test_drive_layout_shift.py). It has no element
ids: the ids belong to the live screen.
"""

import reflex as rx

from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH

# position.js sets this once the phone gave a position; then there is no first-run card.
LOCATION_OK_KEY = "kei-drive.location-ok"
# Runs before the shell is painted: no card flash for a known phone. It also asks the browser
# for the location permission now, long before the app's code arrives, so that the live
# screen's first render already knows whether to show the first-run card (drive.jsx).
MARK_LOCATED = (
    f"try{{if(localStorage.getItem('{LOCATION_OK_KEY}'))"
    "document.documentElement.dataset.keiLocation='ok'}catch(e){}"
    "try{navigator.permissions.query({name:'geolocation'})"
    ".then(function(s){window.__keiLocationPermission=s.state},function(){})}catch(e){}"
)
FIRST_RUN_TITLE = "Your speed and the Kei rules where you drive"
FIRST_RUN_TEXT = (
    "Kei Drive shows your speed from the phone’s GPS, warns above your Kei cap and on roads a "
    "Kei may not use, tells you the state’s Kei rule, and can record your trips. Your position "
    "stays on this phone unless you record a trip."
)
CAP_MPH = round(DEFAULT_TOP_SPEED_MPH)  # drive.jsx's default alert, until settings load
CAP_LINE = f"Alert above {CAP_MPH} mph / {round(CAP_MPH * 1.609344)} km/h"


def first_run_intro() -> rx.Component:
    return rx.el.section(
        rx.el.h2(FIRST_RUN_TITLE, class_name="kd-first-title"),
        rx.el.p(FIRST_RUN_TEXT),
        rx.el.button("Use my location", class_name="kd-btn kd-btn-start", disabled=True),
        class_name="kd-first-run kd-shell-first-run",
    )


def status_pills() -> rx.Component:
    """The GPS pill ("Location off" before the first position, else "Waiting for GPS…")
    and the state badge, as the live screen first shows them."""
    return rx.el.div(
        rx.el.span(
            rx.el.span("Location off", class_name="kd-shell-unlocated"),
            rx.el.span("Waiting for GPS…", class_name="kd-shell-located"),
            class_name="kd-pill kd-gps-waiting",
        ),
        rx.el.span("State: …", class_name="kd-pill kd-state-badge kd-state-none"),
        class_name="kd-top",
    )


def readout() -> rx.Component:
    """The digits with the posted-limit sign's kept room beside them (invisible until a limit
    is known, as in road_status.jsx), then the lines under them."""
    return rx.el.div(
        rx.el.div(
            rx.el.span("--", class_name="kd-big-number"),
            rx.el.span("mph", class_name="kd-big-unit"),
            rx.el.div(
                rx.el.span("SPEED LIMIT", class_name="kd-limit-words"),
                rx.el.span(class_name="kd-limit-number"),
                class_name="kd-limit-sign kd-limit-none",
            ),
            class_name="kd-big",
        ),
        rx.el.div(
            rx.el.div(
                rx.el.span("--", class_name="kd-small-number"), " km/h", class_name="kd-small"
            ),
            rx.el.div(CAP_LINE, class_name="kd-cap"),
            rx.el.div("road unknown", class_name="kd-road-now kd-road-unknown"),
            class_name="kd-speed-more",
        ),
        class_name="kd-speed",
    )


def drive_shell() -> rx.Component:
    return rx.el.div(
        rx.el.script(MARK_LOCATED),
        status_pills(),
        first_run_intro(),
        readout(),
        class_name="kd-drive kd-drive-shell",
        aria_hidden="true",
    )
