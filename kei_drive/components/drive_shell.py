"""The Drive screen's first paint: the speed readout as plain HTML in the prerendered page.

The live screen (``DriveScreen``, assets/kei/drive.jsx) renders only in the browser, after
the app's code has loaded. Until then this shell shows the readout's resting state ("--
mph") in the same place and size, so the page's first and largest paint is the readout
(see ``kei_drive.first_paint``). On a phone that never gave a position it also shows the
first-run card's introduction (the same words as assets/kei/first_run.jsx, kept equal by a
test), which the live card then replaces in the same place. kei.css hides the shell once the
live screen is in the page. It has no element ids: the ids belong to the live screen.
"""

import reflex as rx

# position.js sets this once the phone gave a position; then there is no first-run card.
LOCATION_OK_KEY = "kei-drive.location-ok"
MARK_LOCATED = (
    f"try{{if(localStorage.getItem('{LOCATION_OK_KEY}'))"
    "document.documentElement.dataset.keiLocation='ok'}catch(e){}"
)
FIRST_RUN_TITLE = "Your speed and the Kei rules where you drive"
FIRST_RUN_TEXT = (
    "Kei Drive shows your speed from the phone’s GPS, warns above your Kei cap and on roads a "
    "Kei may not use, tells you the state’s Kei rule, and can record your trips. Your position "
    "stays on this phone unless you record a trip."
)


def first_run_intro() -> rx.Component:
    return rx.el.section(
        rx.el.h2(FIRST_RUN_TITLE, class_name="kd-first-title"),
        rx.el.p(FIRST_RUN_TEXT),
        rx.el.button("Use my location", class_name="kd-btn kd-btn-start", disabled=True),
        class_name="kd-first-run kd-shell-first-run",
    )


def drive_shell() -> rx.Component:
    return rx.el.div(
        rx.el.script(MARK_LOCATED),  # before the card is painted: no flash for a known phone
        first_run_intro(),
        rx.el.div(
            rx.el.div(
                rx.el.span("--", class_name="kd-big-number"),
                rx.el.span("mph", class_name="kd-big-unit"),
                class_name="kd-big",
            ),
            class_name="kd-speed",
        ),
        class_name="kd-drive kd-drive-shell",
        aria_hidden="true",
    )
