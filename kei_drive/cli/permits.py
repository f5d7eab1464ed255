"""``kei-drive permit add|list|remove``: "my town / county allows Kei" statements.

A permit is the driver's own statement that a local ordinance allows Kei on the roads of a
place (a gazetteer place with a radius, or a polygon), with the ordinance's cap. The
router and the audit count those roads as allowed and say it is the driver's statement.
Permits belong to an account (``--user NAME``, default the only one), kept in the database.
"""

from __future__ import annotations

import argparse
import json

from kei_drive.cli._account import account_id, add_user_arg
from kei_drive.cli._output import fail, number_in, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("permit", help="local permissions: 'my town allows Kei'")
    sub = p.add_subparsers(dest="permit_command", required=True)
    a = sub.add_parser("add", help="record that a place's ordinance allows Kei")
    where = a.add_mutually_exclusive_group(required=True)
    where.add_argument("--place", help='a place from the offline gazetteer, e.g. "Coldwater, OH"')
    where.add_argument(
        "--polygon", help='JSON list of [lat, lon] corners, e.g. "[[40.1,-84.6],[40.1,-84.5],…]"'
    )
    a.add_argument(
        "--radius-km",
        type=number_in(0, 500, above=True),
        default=3.0,
        help="around the place (default 3)",
    )
    a.add_argument("--state", help="USPS code (default: the place's state)")
    a.add_argument("--label", help="name shown (default: the place's name)")
    a.add_argument("--cap-mph", type=int, help="the ordinance's posted-speed cap")
    a.add_argument("--note", required=True, help="which ordinance, where you read it")
    a.add_argument("--json", action="store_true")
    add_user_arg(a)
    a.set_defaults(func=_add)
    ls = sub.add_parser("list", help="the recorded permits")
    ls.add_argument("--json", action="store_true")
    add_user_arg(ls)
    ls.set_defaults(func=_list)
    rm = sub.add_parser("remove", help="delete a permit by its id")
    rm.add_argument("id")
    add_user_arg(rm)
    rm.set_defaults(func=_remove)


def _add(args: argparse.Namespace) -> int:
    from kei_drive.core.geo import state_at
    from kei_drive.core.local_permits import PermitError, make_permit
    from kei_drive.db import app_session
    from kei_drive.db import permits as stored
    from kei_drive.geocoding import gazetteer_lookup

    center = polygon = None
    label, state = args.label, args.state
    if args.place:
        found = gazetteer_lookup(args.place, limit=1)
        if not found:
            return fail(f"no place {args.place!r} in the offline gazetteer (try 'Town, ST')")
        place = found[0]
        center, label, state = place.latlon, label or place.name, state or place.state
    else:
        try:
            polygon = [tuple(p) for p in json.loads(args.polygon)]
        except (ValueError, TypeError) as exc:
            return fail(f"--polygon must be a JSON list of [lat, lon] pairs: {exc}")
        if not label:
            return fail("--label is required with --polygon")
        if not state and polygon and all(len(p) == 2 for p in polygon):
            hit = state_at(*polygon[0])
            state = hit.code if hit else None
    if not state:
        return fail("cannot tell the state: give --state")
    uid = account_id(args.user)
    try:
        permit = make_permit(
            state=state.upper(),
            label=label,
            note=args.note,
            cap_mph=args.cap_mph,
            center=center,
            radius_m=args.radius_km * 1000 if center else None,
            polygon=polygon,
        )
        with app_session(write=True) as s:
            stored.add_permit(s, uid, permit)
    except PermitError as exc:
        return fail(str(exc))
    if args.json:
        print_json(permit.to_dict())
    else:
        print(f"recorded {permit.id}: {permit.describe()}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from kei_drive.core.local_permits import PermitError
    from kei_drive.db import app_session
    from kei_drive.db.permits import user_permits

    uid = account_id(args.user)
    try:
        with app_session() as s:
            permits = user_permits(s, uid)
    except PermitError as exc:
        return fail(str(exc))
    if args.json:
        print_json([p.to_dict() for p in permits])
        return 0
    for p in permits:
        print(f"{p.id}  {p.describe()}")
    if not permits:
        print("No local permissions recorded.")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from kei_drive.core.local_permits import PermitError
    from kei_drive.db import app_session
    from kei_drive.db.permits import remove_permit

    uid = account_id(args.user)
    try:
        with app_session(write=True) as s:
            removed = remove_permit(s, uid, args.id)
    except PermitError as exc:
        return fail(str(exc))
    if not removed:
        return fail(f"no permit {args.id!r} (see 'kei-drive permit list')")
    print(f"removed {args.id}")
    return 0
