"""The trips list's state: one page of trips, the totals, and the GPX import."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import tzinfo
from typing import Any

import reflex as rx

from kei_drive import routes
from kei_drive.components.vehicle_select import NO_VEHICLE, vehicle_id_of
from kei_drive.core.gpx import GpxError
from kei_drive.core.memory import trim_heap
from kei_drive.core.times import place_zone
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.page_auth import to_signin, user_id
from kei_drive.presenters.format import fmt_distance
from kei_drive.presenters.trips import (
    ImportedFile,
    ImportedTrip,
    TotalsRow,
    TripRow,
    imported_file,
    totals_row,
    trip_row,
)
from kei_drive.presenters.uploads import refused_files
from kei_drive.presenters.vehicles import VehicleOption, vehicle_options
from kei_drive.services import trips as trip_service

log = logging.getLogger(__name__)

PER_PAGE = 20
ZONE_JS = "Intl.DateTimeFormat().resolvedOptions().timeZone"


def _zone(name: str) -> tzinfo | None:
    return place_zone(name)


def _known_zone(name: str) -> bool:
    """An IANA zone name of a place this machine knows ("America/Chicago")."""
    return place_zone(name) is not None


IMPORTS_AT_ONCE = 1
_import_turn = threading.BoundedSemaphore(IMPORTS_AT_ONCE)  # the page's GPX imports
# Uploads wait for their turn on the event loop: waiting in ``asyncio.to_thread`` held one of
# the default pool's few threads (6 on two cores) that trip pages and plans run in too.
_page_import_turn = asyncio.Semaphore(IMPORTS_AT_ONCE)


def import_file(
    name: str,
    data: bytes,
    vehicle_id: int | None,
    uid: int | None = None,
    zone: tzinfo | None = None,
) -> ImportedFile:
    """Import one uploaded file in its own transaction: a bad file changes nothing. Trips
    without a name of their own are named by their start in ``zone`` (the browser's).

    One file at a time per server process (``IMPORTS_AT_ONCE``), its memory given back
    after: a 25 MB file holds ~250 MB while it is read, and three at once took a worker to
    991 MB, which it kept (an outside review)."""
    notes: list[str] = []  # points left out, routes set aside, tracks joined
    with _import_turn, app_session() as s:
        try:
            created = trip_service.import_gpx(
                s, data, vehicle_id=vehicle_id, user_id=uid, notes_out=notes, zone=zone
            )
        finally:
            trim_heap()
        return imported_file(
            name,
            [
                ImportedTrip(str(t.id), t.name, fmt_distance(st.distance_m), routes.trip(t.id))
                for t, st in created
            ],
            sum(st.distance_m or 0.0 for _, st in created),
            note=" ".join(notes),
        )


class TripsState(rx.State):
    rows: list[TripRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    per_vehicle: list[TotalsRow] = []
    per_month: list[TotalsRow] = []
    vehicles: list[VehicleOption] = []
    import_vehicle: str = NO_VEHICLE
    imported: list[ImportedFile] = []
    refused: list[str] = []  # files of the last drop the browser would not send
    import_errors: list[str] = []
    drop_stamp: int = 0  # the browser's stamp of the drop these results are of
    importing: bool = False
    load_error: str = ""
    loaded: bool = False
    client_zone: str = ""  # the browser's IANA time zone: imported trips are named in it

    def _load(self) -> None:
        uid = user_id(self)
        if uid is None:  # signed out: nothing to show (the page sends them to sign in)
            self.rows, self.total, self.per_vehicle, self.per_month = [], 0, [], []
            self.vehicles, self.loaded = [], True
            return
        try:
            with app_session() as s:
                result = q.list_trips(s, self.page, PER_PAGE, user_id=uid)
                if result.page > result.pages:  # e.g. the last trip of a page was deleted
                    result = q.list_trips(s, result.pages, PER_PAGE, user_id=uid)
                self.rows = [trip_row(t, v) for t, v in result.items]
                self.page, self.pages, self.total = result.page, result.pages, result.total
                self.per_vehicle = [totals_row(t) for t in q.totals_per_vehicle(s, uid)]
                zone = _zone(self.client_zone)
                self.per_month = [totals_row(t) for t in q.totals_per_month(s, uid, zone)]
                self.vehicles = vehicle_options(q.list_vehicles(s, uid))
            self.load_error = ""
        except Exception as exc:  # the page must say why it is empty
            self.load_error = f"Could not read the trip database: {exc}"
        self.loaded = True

    @rx.event
    def on_load(self):
        self._load()
        return rx.call_script(ZONE_JS, callback=TripsState.got_zone)

    @rx.event
    def got_zone(self, name: Any) -> None:
        zone = name if isinstance(name, str) and _known_zone(name) else ""
        if zone != self.client_zone:
            self.client_zone = zone
            self._load()  # the monthly totals, by months in this zone

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

    @rx.var
    def not_imported(self) -> list[str]:
        return self.refused + self.import_errors

    def _results_of(self, drop_stamp: Any) -> None:
        """A new drop's results replace the last one's. One drop's refusal (by socket) and its
        upload (over HTTP) reach the server in either order, with the same stamp: the upload
        cleared a refusal that came first, so a file over the limit was named, then not."""
        stamp = drop_stamp if isinstance(drop_stamp, int) else 0
        if stamp == self.drop_stamp and stamp:
            return
        self.drop_stamp = stamp
        self.refused, self.imported, self.import_errors = [], [], []

    @rx.event
    def files_refused(
        self, rejected: list[dict[str, Any]], drop_stamp: Any = 0, while_importing: Any = False
    ) -> None:
        """Files the drop zone would not send (over the size limit): said, not dropped. Of a
        drop made while an import ran (read after it: Reflex runs a tab's events one at a
        time), they are said beside that import's results, which they replaced."""
        if while_importing is True:
            self.refused = self.refused + refused_files(rejected)
            return
        self._results_of(drop_stamp)
        self.refused = refused_files(rejected)

    @rx.event
    async def import_files(self, files: list[rx.UploadFile], drop_stamp: Any = 0):
        uid = user_id(self)
        if uid is None:
            yield to_signin()
            return
        self._results_of(drop_stamp)
        if not files:  # every file of the drop was refused (said by files_refused)
            return
        self.importing = True
        yield
        vehicle_id = vehicle_id_of(self.import_vehicle)
        try:
            for upload in files:
                await self._import_one(upload, vehicle_id, uid)
        finally:
            self.importing = False
        self.page = 1
        self._load()

    async def _import_one(self, upload: rx.UploadFile, vehicle_id: int | None, uid: int) -> None:
        """One file of an upload; whatever goes wrong with it, the next files are read."""
        name = upload.name or "upload.gpx"
        try:
            data = await upload.read()
            zone = _zone(self.client_zone)
            async with _page_import_turn:  # queued here, not in a pool thread
                result = await asyncio.to_thread(import_file, name, data, vehicle_id, uid, zone)
        except (GpxError, q.NotFound, ValueError) as exc:
            self.import_errors.append(f"{name}: {exc}")
            return
        except Exception:  # a fault of ours: say so, store nothing of it, read the next file
            log.exception("importing %s failed", name)
            self.import_errors.append(
                f"{name}: Kei Drive could not read this file (an error of its own, logged); "
                "nothing of it was stored"
            )
            return
        if result.trips:
            self.imported.append(result)
        else:
            self.import_errors.append(
                f"{name}: no trip in this file (it needs a track or route with at least two points)"
            )
