"""``kei-drive devices list|set``: background loggers (OwnTracks, Overland, GPSLogger) and
when their fixes split into trips. A device appears with its first fix; it is named by
the API token it uses."""

from __future__ import annotations

import argparse

from kei_drive.cli._output import fail, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    devices = subparsers.add_parser(
        "devices", help="background loggers: list them, tune when their trips split and end"
    )
    sub = devices.add_subparsers(dest="devices_command", required=True)
    p = sub.add_parser("list", help="the account's logger devices and their trip rules")
    p.add_argument("--user", help="account (default: the only one)")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("set", help="when a device's fixes make a new trip, and end one")
    p.add_argument("name", help="the device (as `devices list` shows it)")
    p.add_argument("--user", help="account (default: the only one)")
    p.add_argument("--gap-min", type=float, help="a longer pause starts a new trip (default 5)")
    p.add_argument(
        "--stop-min", type=float, help="standing still this long ends a trip (default 5)"
    )
    p.add_argument(
        "--vehicle",
        help="the vehicle its trips are driven in (its nickname or id; 'none': the account's "
        "only vehicle); applies to trips from now on",
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_set)


def _row(device, vehicle: str | None) -> dict:
    return {
        "name": device.name,
        "source": device.source,
        "vehicle": vehicle,
        "gap_min": round(device.gap_s / 60, 2),
        "stop_min": round(device.stop_s / 60, 2),
        "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
    }


def _show(rows: list[dict], as_json: bool) -> None:
    if as_json:
        print_json({"devices": rows})
        return
    if not rows:
        print("No logger has sent fixes yet (see the README: background loggers).")
    for r in rows:
        vehicle = r["vehicle"] or "the account's only vehicle, if it has one"
        print(f"{r['name']}  [{r['source']}]  new trip after {r['gap_min']:g} min without fixes,"
              f" ends after {r['stop_min']:g} min standing; driven in: {vehicle}")  # fmt: skip


def _vehicle_name(session, device) -> str | None:
    from kei_drive.db.models import Vehicle

    vehicle = session.get(Vehicle, device.vehicle_id) if device.vehicle_id is not None else None
    return vehicle.nickname if vehicle is not None else None


def cmd_list(args: argparse.Namespace) -> int:
    from kei_drive.db import accounts as acc
    from kei_drive.db import devices as dev
    from kei_drive.db import ensure_migrated, session

    ensure_migrated()
    try:
        with session() as s:
            user = acc.resolve_user(s, args.user)
            rows = [
                _row(d, _vehicle_name(s, d))
                for d in dev.list_devices(s, user.id)  # type: ignore[arg-type]
            ]
    except acc.NoSuchUser as exc:
        return fail(str(exc))
    _show(rows, args.json)
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from kei_drive.db import accounts as acc
    from kei_drive.db import devices as dev
    from kei_drive.db import ensure_migrated, session

    if args.gap_min is None and args.stop_min is None and args.vehicle is None:
        return fail("give --gap-min, --stop-min and/or --vehicle")
    ensure_migrated()
    try:
        with session() as s:
            user = acc.resolve_user(s, args.user)
            vehicle_id: int | None | dev.Unchanged = dev.UNCHANGED
            if args.vehicle is not None and args.vehicle.strip().casefold() == "none":
                vehicle_id = None
            elif args.vehicle is not None:
                vehicle_id = dev.vehicle_by_name(s, user.id, args.vehicle).id  # type: ignore[arg-type]
            device = dev.set_device_rules(
                s,
                user.id,  # type: ignore[arg-type]
                args.name,
                gap_s=args.gap_min * 60 if args.gap_min is not None else None,
                stop_s=args.stop_min * 60 if args.stop_min is not None else None,
                vehicle_id=vehicle_id,
            )
            row = _row(device, _vehicle_name(s, device))
    except acc.NoSuchUser as exc:
        return fail(str(exc))
    except LookupError as exc:
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))
    _show([row], args.json)
    return 0
