"""Download all my data: one zip archive of everything an account owns.

- ``account.json``            name, role, dates (never the password hash or any secret)
- ``garage.json``             the vehicles
- ``rule_overrides.json``     the account's Kei rule overrides document
- ``local_permits.json``      the account's "my town allows Kei" statements
- ``trips.json``              every trip's summary and statistics
- ``trips/<id>-<uuid8>.gpx`` and ``.geojson``  every trip's track

Written into a file object (a spooled temporary file: memory for small archives, disk for
large ones), one trip at a time, so a long history does not sit in memory.
"""

from __future__ import annotations

import json
import zipfile
from typing import IO, Any

from sqlmodel import Session, select

from kei_drive.core.times import as_utc
from kei_drive.db import overrides as ov
from kei_drive.db import permits as pm
from kei_drive.db import queries as q
from kei_drive.db import trip_export
from kei_drive.db.models import Trip, User
from kei_drive.presenters.trips import trip_dict
from kei_drive.presenters.vehicles import vehicle_dict

ARCHIVE_README = """Kei Drive data export

account.json          your account (no password or secret is included)
garage.json           your vehicles
rule_overrides.json   your own Kei rule overrides
local_permits.json    your "my town allows Kei" statements (kei-drive permit)
trips.json            every trip with its statistics
trips/*.gpx           every trip's track as GPX 1.1 (opens in most map and GPS apps)
trips/*.geojson       the same tracks as GeoJSON
"""


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def archive_name(username: str) -> str:
    return f"kei-drive-{username}.zip"


def write_archive(s: Session, user_id: int, out: IO[bytes]) -> int:
    """Write the account's archive into ``out``; returns the number of trips."""
    user = s.get(User, user_id)
    if user is None:
        raise q.NotFound("no such account")
    trips = list(
        s.exec(select(Trip).where(Trip.user_id == user_id).order_by(Trip.id))  # type: ignore[arg-type]
    )
    vehicles = {v.id: v for v in q.list_vehicles(s, user_id)}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", ARCHIVE_README)
        zf.writestr(
            "account.json",
            _dump(
                {
                    "username": user.username,
                    "display_name": user.display_name,
                    "role": user.role,
                    "created_at": as_utc(user.created_at),
                }
            ),
        )
        zf.writestr("garage.json", _dump([vehicle_dict(v) for v in vehicles.values()]))
        zf.writestr("rule_overrides.json", _dump(ov.load_document(s, user_id)))
        zf.writestr("local_permits.json", _dump(pm.load_document(s, user_id)))
        summaries = [trip_dict(t, vehicles.get(t.vehicle_id)) for t in trips]  # type: ignore[arg-type]
        zf.writestr("trips.json", _dump(summaries))
        for trip in trips:
            stem = f"trips/{trip.id}-{trip.uuid[:8]}"
            with zf.open(f"{stem}.gpx", "w") as fh:
                for piece in trip_export.export_gpx_stream(s, trip.id, user_id):  # type: ignore[arg-type]
                    fh.write(piece.encode("utf-8"))
            with zf.open(f"{stem}.geojson", "w") as fh:
                for piece in trip_export.export_geojson_stream(s, trip.id, user_id):  # type: ignore[arg-type]
                    fh.write(piece.encode("utf-8"))
    return len(trips)
