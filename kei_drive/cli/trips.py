"""Trip history: ``trips import|list|show|export|recheck``. The database is migrated on first
use."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from kei_drive.cli._output import fail, number_in, print_json
from kei_drive.config import use_state_index_cache
from kei_drive.core.gpx import GpxError, read_gpx_columns
from kei_drive.core.units import METERS_PER_MILE, mps_to_mph
from kei_drive.presenters.exports import ExportFormat
from kei_drive.presenters.format import fmt_duration

EXPORT_FORMATS = tuple(f.value for f in ExportFormat)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands."""
    trips = subparsers.add_parser("trips", help="trip history: import, list, show, export, recheck")
    sub = trips.add_subparsers(dest="trips_command", required=True)

    p = sub.add_parser("import", help="import trips from a GPX file", allow_abbrev=False)
    p.add_argument("file", type=Path, help="GPX file (tracks, segments and routes)")
    p.add_argument("--vehicle", type=int, help="vehicle id the trips belong to")
    p.add_argument("--name", help="trip name (numbered when the file makes several trips)")
    p.add_argument(
        "--split-gap-min",
        type=number_in(0, above=True),
        default=30.0,
        help="a pause of over this many minutes starts a new trip: no fixes for that long, "
        "or fixes standing in one place (a tracker left on while parked; its parked fixes "
        "are left out) (default 30)",
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    _user_arg(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("list", help="trips, newest first", allow_abbrev=False)
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=20)
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    _user_arg(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one trip with its statistics", allow_abbrev=False)
    p.add_argument("trip", help="trip id or UUID")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    _user_arg(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "recheck",
        help="bring stored trips up to the current rules (statistics, highway use)",
        description="Recompute the statistics and judge again the highway use of every "
        "finished trip that older rules measured, or that no routing engine looked at (no "
        "tiles when it was stored). The server does this by itself, a little each minute.",
        allow_abbrev=False,
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_recheck)

    p = sub.add_parser("export", help="export a trip as GPX or GeoJSON", allow_abbrev=False)
    p.add_argument("trip", help="trip id or UUID")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="gpx")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    _user_arg(p)
    p.set_defaults(func=cmd_export)


def _user_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="the account (default: the only one)")


def _user_id(s, args: argparse.Namespace) -> int:
    """The ``--user`` account's id (``NoSuchUser`` when unknown or not named among several)."""
    from kei_drive.db import accounts

    return accounts.resolve_user(s, args.user).id  # type: ignore[return-value]


def _db():
    """The migrated database's sessions (imported lazily: keeps ``--help`` fast)."""
    from kei_drive.db import app_session

    return app_session


def _line(trip: dict) -> str:
    """One trip as the lists show it: its start (UTC, said so), distance, how long it took
    from start to end (as the web list's duration), top speed, states, vehicle, name."""
    stats = trip.get("stats") or {}
    miles = (stats.get("distance_m") or 0.0) / METERS_PER_MILE
    elapsed = stats.get("elapsed_s")
    top = stats.get("max_speed_mps")
    started = trip.get("started_at")
    parts = [
        f"{trip['id']:>5}",
        f"{started[:16].replace('T', ' ')} UTC" if started else "undated" + " " * 12,
        f"{miles:7.1f} mi",
        f"{fmt_duration(elapsed):>11}" if elapsed is not None else "          -",
        f"max {mps_to_mph(top):3.0f} mph" if top is not None else "max   - mph",
        ",".join(stats.get("states") or []) or "-",
        trip.get("vehicle") or "-",
        trip.get("name") or "",
    ]
    warnings = trip.get("warnings") or []
    return "  ".join(parts) + (f"  [{'; '.join(warnings)}]" if warnings else "")


# A bulk import shares the machine with the live server: it yields the CPU to the phones'
# uploads (the lowest priority costs nothing when the machine is otherwise idle).
IMPORT_NICE = 19


def cmd_import(args: argparse.Namespace) -> int:
    if args.split_gap_min <= 0:
        return fail("--split-gap-min must be positive")
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(IMPORT_NICE)
    read_notes: list[str] = []  # points left out (a bad coordinate or time), routes set aside
    try:
        # the one parse, before the database is touched
        tracks = read_gpx_columns(args.file, notes_out=read_notes)
    except GpxError as exc:  # named as check-route and states-along name it
        message = str(exc)
        return fail(
            message if message.startswith("cannot read") else f"cannot read {args.file}: {message}"
        )
    session = _db()
    use_state_index_cache()  # the trips' states: the index loaded, not built from the polygons
    from kei_drive.db import queries as q
    from kei_drive.db import trip_import
    from kei_drive.db.accounts import NoSuchUser
    from kei_drive.presenters.trips import trip_dict
    from kei_drive.routing.lanes import LANES
    from kei_drive.services.trips import import_gpx

    skipped: list[int] = []
    try:
        with session() as s:
            uid = _user_id(s, args)
            created = import_gpx(
                s,
                tracks,
                vehicle_id=args.vehicle,
                name=args.name,
                split_gap_s=args.split_gap_min * 60,
                user_id=uid,
                skipped_out=skipped,
                notes_out=read_notes,  # + routes set aside beside a track
                lanes=LANES,
            )
            vehicle = q.get_vehicle(s, args.vehicle, uid) if args.vehicle else None
            trips = [trip_dict(trip, vehicle) for trip, _stats in created]
    except trip_import.AlreadyImported as exc:
        if args.json:  # a program reading the answer learns which trips hold the file
            print_json({"trips": [], "already_imported": skipped, "notes": read_notes})
        else:  # what was read and held is said before the refusal (it was left unsaid)
            for note in read_notes:
                print(f"note: {note}", file=sys.stderr)
        return fail(str(exc))
    except (GpxError, q.NotFound, NoSuchUser, ValueError) as exc:
        return fail(str(exc))
    if not trips:
        return fail(f"{args.file}: no trip to import (only isolated single fixes)")
    if args.json:
        print_json({"trips": trips, "already_imported": skipped, "notes": read_notes})
    else:
        print(f"imported {len(trips)} trip(s) from {args.file}")
        for trip in trips:
            print(_line(trip))
        if skipped:
            print(f"already imported, not again: trip {', '.join(map(str, skipped))}")
        for note in read_notes:
            print(f"note: {note}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    if args.page < 1 or args.per_page < 1:
        return fail("--page and --per-page must be at least 1")
    session = _db()
    from kei_drive.db import queries as q
    from kei_drive.db.accounts import NoSuchUser
    from kei_drive.presenters.trips import trip_dict

    try:
        with session() as s:
            page = q.list_trips(
                s, page=args.page, per_page=args.per_page, user_id=_user_id(s, args)
            )
            trips = [trip_dict(t, v) for t, v in page.items]
    except NoSuchUser as exc:
        return fail(str(exc))
    if args.json:
        print_json(
            {
                "trips": trips,
                "total": page.total,
                "page": page.page,
                "per_page": page.per_page,
                "pages": page.pages,
            }
        )
    else:
        for trip in trips:
            print(_line(trip))
        print(f"page {page.page}/{page.pages}, {page.total} trip(s)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    session = _db()
    from kei_drive.db import queries as q
    from kei_drive.db.accounts import NoSuchUser
    from kei_drive.presenters.trips import steps_distance, trip_dict
    from kei_drive.presenters.vehicles import vehicle_dict

    try:
        with session() as s:
            uid = _user_id(s, args)
            trip = q.get_trip(s, args.trip, uid)
            vehicle = q.get_vehicle(s, trip.vehicle_id, uid) if trip.vehicle_id else None
            data = trip_dict(trip, vehicle)
            data["vehicle_detail"] = vehicle_dict(vehicle) if vehicle else None
    except (q.NotFound, NoSuchUser) as exc:
        return fail(str(exc))
    if args.json:
        print_json(data)
    else:
        print(_line(data))
        stats = data.get("stats") or {}
        for key, value in stats.items():
            if key not in ("gaps", "road_steps"):
                print(f"  {key}: {value}")
        if stats.get("road_steps"):
            print(f"  steps between fixes: {steps_distance(stats['road_steps'])}")
        for gap in (data.get("stats") or {}).get("gaps") or []:
            across = f"{gap['distance_m']:.0f} m in a straight line"
            if gap.get("road_m") is not None:
                across += f", {gap['road_m']:.0f} m along the shortest road (counted)"
            print(f"  gap: {gap['start']} .. {gap['end']} ({gap['duration_s']:.0f} s, {across})")
    return 0


def cmd_recheck(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from kei_drive.db import migrated_url
    from kei_drive.services.ingest import recheck_stored

    use_state_index_cache()
    try:
        done = recheck_stored(migrated_url())
    except RuntimeError as exc:
        return fail(str(exc))
    if args.json:
        print_json(asdict(done))
        return 0
    print(f"statistics recomputed: {done.stats} trip(s)")
    print(f"highway use judged again: {done.highway_use} trip(s)")
    if done.waiting:
        print(
            f"{done.waiting} trip(s) wait for a routing engine to judge their highway use: "
            "build tiles (kei-drive tiles build) or reach the routing server, then run this again"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    session = _db()
    from kei_drive.db import queries as q
    from kei_drive.db.accounts import NoSuchUser
    from kei_drive.services.trips import export_trip

    try:
        with session() as s:
            uid = _user_id(s, args)
            text = export_trip(s, args.trip, ExportFormat(args.format), user_id=uid, indent=2).text
    except (q.NotFound, NoSuchUser) as exc:
        return fail(str(exc))
    if args.output:
        try:
            args.output.write_text(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
