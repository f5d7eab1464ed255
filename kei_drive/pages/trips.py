"""Route ``/trips``: trip history (newest first, paginated), totals, and GPX import."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from kei_drive import config
from kei_drive.components.layout import page_frame
from kei_drive.components.local_time import local_time
from kei_drive.components.trip_view import fmt_distance, totals_row, trip_row
from kei_drive.core.gpx import GpxError
from kei_drive.db import queries as q
from kei_drive.db.engine import session
from kei_drive.db.migrate import ensure_migrated
from kei_drive.page_auth import SessionState, to_signin, user_id
from kei_drive.trip_roads import mark_highway_use

PER_PAGE = 20
UPLOAD_ID = "gpx-upload"
MAX_GPX_BYTES = 25 * 1024 * 1024
NO_VEHICLE = "none"  # Radix select items cannot have an empty value


def db_url() -> str:
    url = config.database_url()
    ensure_migrated(url)
    return url


def vehicle_options(s, uid: int) -> list[dict[str, str]]:
    return [{"value": str(v.id), "label": v.nickname} for v in q.list_vehicles(s, uid)]


def _import_one(
    url: str, name: str, data: bytes, vehicle_id: int | None, uid: int | None = None
) -> dict[str, Any]:
    """Import one uploaded file in its own transaction: a bad file changes nothing."""
    if len(data) > MAX_GPX_BYTES:
        raise GpxError(f"the file is larger than {MAX_GPX_BYTES // (1024 * 1024)} MB")
    with session(url) as s:
        created = q.import_gpx(s, data, vehicle_id=vehicle_id, user_id=uid)
        for trip, _stats in created:
            mark_highway_use(s, trip)
        return {
            "file": name,
            "trips": [
                {"id": str(t.id), "name": t.name, "distance": fmt_distance(st.distance_m)}
                for t, st in created
            ],
        }


class TripsState(rx.State):
    rows: list[dict[str, Any]] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    per_vehicle: list[dict[str, str]] = []
    per_month: list[dict[str, str]] = []
    vehicles: list[dict[str, str]] = []
    import_vehicle: str = NO_VEHICLE
    imported: list[dict[str, Any]] = []  # [{"file", "trips": [{"id", "name", "distance"}]}]
    import_errors: list[str] = []
    importing: bool = False
    load_error: str = ""
    loaded: bool = False

    def _load(self) -> None:
        uid = user_id(self)
        if uid is None:  # signed out: nothing to show (the page sends them to sign in)
            self.rows, self.total, self.per_vehicle, self.per_month = [], 0, [], []
            self.vehicles, self.loaded = [], True
            return
        try:
            with session(db_url()) as s:
                result = q.list_trips(s, self.page, PER_PAGE, user_id=uid)
                if result.page > result.pages:  # e.g. the last trip of a page was deleted
                    result = q.list_trips(s, result.pages, PER_PAGE, user_id=uid)
                self.rows = [trip_row(t) for t in result.items]
                self.page, self.pages, self.total = result.page, result.pages, result.total
                self.per_vehicle = [totals_row(t) for t in q.totals_per_vehicle(s, uid)]
                self.per_month = [totals_row(t) for t in q.totals_per_month(s, uid)]
                self.vehicles = vehicle_options(s, uid)
            self.load_error = ""
        except Exception as exc:  # the page must say why it is empty
            self.load_error = f"Could not read the trip database: {exc}"
        self.loaded = True

    @rx.event
    def load(self) -> None:
        self._load()

    @rx.event
    def next_page(self) -> None:
        self.page = min(self.pages, self.page + 1)
        self._load()

    @rx.event
    def prev_page(self) -> None:
        self.page = max(1, self.page - 1)
        self._load()

    @rx.event
    def set_import_vehicle(self, value: str) -> None:
        self.import_vehicle = value

    @rx.event
    def clear_import_messages(self) -> None:
        self.imported, self.import_errors = [], []

    @rx.event
    async def import_files(self, files: list[rx.UploadFile]):
        uid = user_id(self)
        if uid is None:
            yield to_signin()
            return
        self.importing = True
        self.imported, self.import_errors = [], []
        yield
        vehicle_id = None if self.import_vehicle == NO_VEHICLE else int(self.import_vehicle)
        url = db_url()
        for upload in files:
            name = upload.name or "upload.gpx"
            try:
                data = await upload.read()
                result = await asyncio.to_thread(_import_one, url, name, data, vehicle_id, uid)
            except GpxError as exc:
                self.import_errors.append(f"{name}: {exc}")
                continue
            except (q.NotFound, ValueError) as exc:
                self.import_errors.append(f"{name}: {exc}")
                continue
            if result["trips"]:
                self.imported.append(result)
            else:
                self.import_errors.append(
                    f"{name}: no trip in this file (it needs a track or route with at "
                    "least two points)"
                )
        self.importing = False
        self.page = 1
        self._load()


# ----------------------------------------------------------------------------- view


def warning_badges(warnings: rx.Var) -> rx.Component:
    return rx.foreach(
        warnings,
        lambda w: rx.badge(w, color_scheme="red", variant="soft", class_name="kd-trip-warning"),
    )


def stat(label: str, value: rx.Var, cls: str) -> rx.Component:
    return rx.el.div(
        rx.el.div(value, class_name="kd-ts-value"),
        rx.el.div(label, class_name="kd-ts-label"),
        class_name=f"kd-ts {cls}",
    )


def trip_card(row: rx.Var) -> rx.Component:
    return rx.el.a(
        rx.el.div(
            rx.el.span(row["name"], class_name="kd-trip-name"),
            rx.cond(
                row["recording"],
                rx.badge("recording", color_scheme="amber", variant="solid", class_name="kd-rec"),
            ),
            rx.cond(row["imported"], rx.badge("imported", color_scheme="gray", variant="soft")),
            class_name="kd-trip-head",
        ),
        rx.el.div(
            local_time(value=row["started_at"], title=row["when"], class_name="kd-trip-when"),
            rx.el.span(" · "),
            rx.el.span(row["vehicle"], class_name="kd-trip-vehicle"),
            rx.el.span(" · "),
            rx.el.span(row["source"], class_name="kd-trip-source"),  # Drive screen, OwnTracks…
            class_name="kd-trip-sub",
        ),
        rx.el.div(
            stat("distance", row["distance"], "kd-ts-dist"),
            stat("duration", row["duration"], "kd-ts-dur"),
            stat("avg moving", row["avg"], "kd-ts-avg"),
            stat("max", row["max"], "kd-ts-max"),
            stat("states", row["states"], "kd-ts-states"),
            class_name="kd-trip-stats",
        ),
        rx.el.div(warning_badges(row["warnings"].to(list[str])), class_name="kd-trip-warnings"),
        href=row["href"],
        class_name="kd-trip-card",
        data_trip_id=row["id"],
    )


def pager() -> rx.Component:
    return rx.el.div(
        rx.el.button(
            "‹ Newer",
            on_click=TripsState.prev_page,
            disabled=TripsState.page <= 1,
            class_name="kd-btn",
            id="trips-prev",
        ),
        rx.el.span(
            f"Page {TripsState.page} of {TripsState.pages} · {TripsState.total} trips",
            class_name="kd-note",
            id="trips-page",
        ),
        rx.el.button(
            "Older ›",
            on_click=TripsState.next_page,
            disabled=TripsState.page >= TripsState.pages,
            class_name="kd-btn",
            id="trips-next",
        ),
        class_name="kd-pager",
    )


def importer() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.upload.root(
                rx.el.button(
                    rx.cond(TripsState.importing, "Importing…", "Import GPX"),
                    class_name="kd-btn kd-btn-import",
                    type="button",
                    disabled=TripsState.importing,
                ),
                id=UPLOAD_ID,
                multiple=True,
                max_size=MAX_GPX_BYTES,
                on_drop=TripsState.import_files,
                no_drag=False,
                class_name="kd-upload",
            ),
            rx.cond(
                TripsState.vehicles.length() > 0,
                rx.el.label(
                    rx.el.span("Vehicle for imported trips", class_name="kd-note"),
                    rx.select.root(
                        rx.select.trigger(id="import-vehicle"),
                        rx.select.content(
                            rx.select.item("No vehicle", value=NO_VEHICLE),
                            rx.foreach(
                                TripsState.vehicles,
                                lambda v: rx.select.item(v["label"], value=v["value"]),
                            ),
                        ),
                        value=TripsState.import_vehicle,
                        on_change=TripsState.set_import_vehicle,
                        size="3",
                    ),
                    class_name="kd-import-vehicle",
                ),
            ),
            class_name="kd-import-row",
        ),
        rx.el.p(
            "GPX files from other loggers: each track becomes a trip, cut where fixes are more "
            "than 30 min apart. Tap the button or drop files on it.",
            class_name="kd-note",
        ),
        rx.cond(
            TripsState.import_errors.length() > 0,
            rx.el.div(
                rx.el.strong("Not imported:"),
                rx.el.ul(rx.foreach(TripsState.import_errors, lambda e: rx.el.li(e))),
                class_name="kd-import-error",
                id="import-errors",
                role="alert",
            ),
        ),
        rx.cond(
            TripsState.imported.length() > 0,
            rx.el.div(
                rx.foreach(
                    TripsState.imported,
                    lambda f: rx.el.div(
                        rx.el.strong(f["file"]),
                        rx.el.span(" → "),
                        rx.foreach(
                            f["trips"].to(list[dict[str, str]]),
                            lambda t: rx.el.a(
                                t["name"],
                                " (",
                                t["distance"],
                                ")",
                                href="/trips/" + t["id"].to(str),
                                class_name="kd-import-trip",
                            ),
                        ),
                    ),
                ),
                class_name="kd-import-ok",
                id="import-ok",
                role="status",
            ),
        ),
        class_name="kd-import",
    )


def totals_table(title: str, first: str, rows: rx.Var, table_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.h3(title, class_name="kd-h3"),
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th(first),
                    rx.el.th("Trips"),
                    rx.el.th("Distance"),
                    rx.el.th("Moving"),
                    rx.el.th("Above cap"),
                )
            ),
            rx.el.tbody(
                rx.foreach(
                    rows,
                    lambda r: rx.el.tr(
                        rx.el.td(r["label"]),
                        rx.el.td(r["trips"]),
                        rx.el.td(r["distance"]),
                        rx.el.td(r["moving"]),
                        rx.el.td(r["over_cap"]),
                    ),
                )
            ),
            class_name="kd-totals",
            id=table_id,
        ),
        class_name="kd-totals-box",
    )


def trip_history() -> rx.Component:
    totals = rx.el.section(
        totals_table("Per vehicle", "Vehicle", TripsState.per_vehicle, "totals-vehicle"),
        totals_table(
            "Per month (calendar months in UTC)", "Month", TripsState.per_month, "totals-month"
        ),
        class_name="kd-totals-grid",
    )
    listing = rx.el.div(
        rx.el.div(
            rx.foreach(TripsState.rows, trip_card), class_name="kd-trip-list", id="trip-list"
        ),
        pager(),
        totals,
    )
    empty = rx.el.p(
        "No trips yet. Start one on the Drive screen, or import a GPX file.",
        class_name="kd-note",
        id="trips-empty",
    )
    return rx.cond(
        TripsState.loaded,
        rx.cond(TripsState.total > 0, listing, empty),
        rx.el.p("Loading trips…", class_name="kd-note"),
    )


@rx.page(
    route="/trips", title="Trips · Kei Drive", on_load=[SessionState.require_user, TripsState.load]
)
def trips_page() -> rx.Component:
    return page_frame(
        rx.el.link(rel="stylesheet", href="/kei/trips.css"),
        rx.el.h1("Trips", class_name="kd-h1"),
        importer(),
        rx.cond(
            TripsState.load_error != "",
            rx.el.div(TripsState.load_error, class_name="kd-import-error"),
        ),
        trip_history(),
        rx.el.p(
            "Times are shown in this device's time zone; monthly totals group trips by "
            "their start month in UTC.",
            class_name="kd-note kd-foot-note",
        ),
    )
