"""The GPX import box of the trips list."""

from __future__ import annotations

import reflex as rx

from kei_drive import config
from kei_drive.components.refused_files import new_drop_stamp, refusal_records, this_drop_stamp
from kei_drive.components.vehicle_select import vehicle_select
from kei_drive.pages.trips.state import TripsState
from kei_drive.presenters.uploads import MAX_GPX_MB

UPLOAD_ID = "gpx-upload"


def _results() -> rx.Component:
    s = TripsState
    return rx.fragment(
        rx.cond(
            s.not_imported.length() > 0,
            rx.el.div(
                rx.el.strong("Not imported:"),
                rx.el.ul(rx.foreach(s.not_imported, lambda e: rx.el.li(e))),
                class_name="kd-import-error",
                id="import-errors",
                role="alert",
            ),
        ),
        rx.cond(
            s.imported.length() > 0,
            rx.el.div(
                rx.foreach(
                    s.imported,
                    lambda f: rx.el.div(
                        rx.el.strong(f.file),
                        rx.el.span(" → "),
                        rx.foreach(
                            f.trips,
                            lambda t: rx.el.a(
                                t.name,
                                " (",
                                t.distance,
                                ")",
                                href=t.href,
                                class_name="kd-import-trip",
                            ),
                        ),
                        rx.cond(f.more != "", rx.el.p(f.more, class_name="kd-import-more")),
                        rx.cond(f.note != "", rx.el.p(f.note, class_name="kd-import-note")),
                    ),
                ),
                class_name="kd-import-ok",
                id="import-ok",
                role="status",
            ),
        ),
    )


def importer() -> rx.Component:
    s = TripsState
    return rx.el.section(
        rx.el.div(
            rx.upload.root(
                rx.el.button(
                    rx.cond(s.importing, "Importing…", "Import GPX"),
                    class_name="kd-btn kd-btn-import",
                    type="button",
                    disabled=s.importing,
                ),
                id=UPLOAD_ID,
                multiple=True,
                max_size=config.MAX_GPX_BYTES,
                on_drop=s.import_files(rx.upload_files(upload_id=UPLOAD_ID), new_drop_stamp()),
                on_drop_rejected=lambda refused: s.files_refused(
                    refusal_records(refused), this_drop_stamp(), s.importing
                ),
                no_drag=False,
                class_name="kd-upload",
            ),
            vehicle_select(
                "Vehicle for imported trips",
                s.vehicles,
                s.import_vehicle,
                s.set_import_vehicle,
                "import-vehicle",
            ),
            class_name="kd-import-row",
        ),
        rx.el.p(
            "GPX files from other loggers: each track becomes a trip, cut where it pauses for "
            "over 30 min (no fixes, or a tracker logging while parked). Tap the button or drop "
            f"files on it (up to {MAX_GPX_MB} MB each; larger files: kei-drive trips import).",
            class_name="kd-note",
        ),
        rx.cond(
            s.importing,
            # Reflex's upload helper ignores a drop while its upload runs, with only a
            # console line; disabling the zone instead lets the browser open a dropped file
            rx.el.p(
                "Importing… A file dropped now is not read: drop it again when this ends.",
                class_name="kd-note",
                id="import-busy",
                role="status",
            ),
        ),
        _results(),
        class_name="kd-import",
        id="gpx-import",
        # the browser's time zone, once known: trips without a name are named in it
        custom_attrs={"data-zone": s.client_zone},
    )
