"""The Drive screen's first paint: the speed readout as plain HTML in the prerendered page.

The live screen (``DriveScreen``, assets/kei/drive.jsx) renders only in the browser, after
the app's code has loaded. Until then this shell shows the readout's resting state ("--
mph") in the same place and size, so the page's first and largest paint is the readout
(see ``kei_drive.first_paint``). kei.css hides it once the live screen is in the page. It
has no element ids: the ids belong to the live screen.
"""

import reflex as rx


def drive_shell() -> rx.Component:
    return rx.el.div(
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
