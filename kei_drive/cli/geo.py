"""Geography and Kei rules: ``state-at``, ``rules``, ``states-along``."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date
from pathlib import Path

from kei_drive.cli._account import account_rules, add_user_arg
from kei_drive.cli._output import fail, number_in, print_json, unreadable_file
from kei_drive.config import use_state_index_cache


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _coordinate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    return number


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands."""
    p = subparsers.add_parser(
        "state-at", help="the US state at a point and its Kei rule", allow_abbrev=False
    )
    p.add_argument("lat", type=_coordinate, help="latitude in degrees")
    p.add_argument("lon", type=_coordinate, help="longitude in degrees (west is negative)")
    p.add_argument("--on", type=_date, help="date of the rule (YYYY-MM-DD, default today)")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    add_user_arg(p)  # whose rule overrides apply
    p.set_defaults(func=cmd_state_at)

    p = subparsers.add_parser("rules", help="Kei rules in force per state", allow_abbrev=False)
    p.add_argument("--state", help="one state (USPS code, e.g. CO)")
    p.add_argument("--on", type=_date, help="date (YYYY-MM-DD, default today)")
    p.add_argument(
        "--by-severity",
        action="store_true",
        help="most severe first (the one order of core/rules_vocab.py), not by state code",
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    add_user_arg(p)
    p.set_defaults(func=cmd_rules)

    p = subparsers.add_parser(
        "states-along", help="the states a GPX track or route passes through", allow_abbrev=False
    )
    p.add_argument("gpx", type=Path, help="GPX file (tracks and routes)")
    p.add_argument("--on", type=_date, help="date of the rules shown (default today)")
    p.add_argument(
        "--max-gap-km",
        type=number_in(0, above=True),
        default=50.0,
        help="treat jumps longer than this between points as gaps (GPS glitches, pauses), "
        "not as roads (default 50; 'inf' follows every segment, e.g. for sparse routes)",
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    add_user_arg(p)
    p.set_defaults(func=cmd_states_along)


def cmd_state_at(args: argparse.Namespace) -> int:
    from kei_drive.core.geo import state_at
    from kei_drive.core.rules import RulesError

    if not (math.isfinite(args.lat) and math.isfinite(args.lon)):
        return fail("latitude and longitude must be finite numbers")
    if not (-90 <= args.lat <= 90 and -180 <= args.lon <= 180):
        return fail("latitude must be within [-90, 90] and longitude within [-180, 180]")
    use_state_index_cache()
    hit = state_at(args.lat, args.lon)
    rule = None
    if hit is not None:
        try:
            rule = account_rules(args.user).rule_for(hit.code, args.on)
        except RulesError as exc:
            return fail(str(exc))
    result = {
        "state": hit.code if hit else None,
        "name": hit.name if hit else None,
        "near_border": hit.near_border if hit else False,
        "neighbours": list(hit.neighbours) if hit else [],
        "rule": rule.to_dict() if rule else None,
    }
    if args.json:
        print_json(result)
    elif hit is None:
        print(f"{args.lat}, {args.lon}: outside the 50 US states and DC (sea or abroad).")
    else:
        near = f" — within 2 km of {', '.join(hit.neighbours)}" if hit.near_border else ""
        print(f"{hit.name} ({hit.code}){near}")
        print(rule.advice() if rule else "No Kei rule on record for that date.")
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from kei_drive.core.rules import RulesError

    try:
        book = account_rules(args.user)
    except RulesError as exc:
        return fail(str(exc))
    if args.state:
        code = args.state.strip().upper()
        if code not in book.states():
            return fail(f"unknown state {args.state!r}: use a USPS code such as CO, NY or DC")
        rule = book.rule_for(code, args.on)
        rules = [rule] if rule else []
    else:
        rules = book.all_rules(args.on)
    if args.by_severity:
        rules.sort(key=lambda r: r.severity(), reverse=True)
    if args.json:
        print_json([r.to_dict() for r in rules])
        return 0
    for r in rules:
        cap = f"{r.max_road_speed_mph} mph" if r.max_road_speed_mph else "-"
        mark = " (your override)" if r.overridden else ""
        access = r.road_access or "unverified"
        print(
            f"{r.state}  {r.status:<10} {access:<16} {cap:>6}  {r.confidence:<6} {r.advice()}{mark}"
        )
    return 0


def cmd_states_along(args: argparse.Namespace) -> int:
    import numpy as np

    from kei_drive.core.geo import states_along
    from kei_drive.core.gpx import GpxError
    from kei_drive.core.rules import RulesError
    from kei_drive.core.track import TrackArrays
    from kei_drive.core.track_noise import untimed_log
    from kei_drive.core.track_pieces import cleaned_positions

    if problem := unreadable_file(args.gpx):  # (a str would be read as GPX text)
        return fail(problem)
    use_state_index_cache()
    read_notes: list[str] = []  # points of the file left out (a bad coordinate or time)
    try:
        track = TrackArrays.from_gpx(args.gpx, read_notes)  # in time order
    except (GpxError, OSError) as exc:
        return fail(f"cannot read {args.gpx}: {exc}")
    for note in read_notes:  # stderr: the JSON on stdout stays a list of states
        print(f"kei-drive: note: {note}", file=sys.stderr)
    if not len(track):
        return fail(f"{args.gpx} holds no track or route points")
    try:
        max_gap = args.max_gap_km * 1000.0 if math.isfinite(args.max_gap_km) else None
        lat, lon, gaps = track.lat, track.lon, None
        # A GPS log, timed or with its times stripped: its glitches, jumps and noise are not
        # roads (a drawn route's vertices are).
        if np.isfinite(track.t).any() or untimed_log(track):
            cut_m = math.inf if max_gap is None else max_gap
            lat, lon, gaps, _cut = cleaned_positions(track, cut_m)
        del track
        points = np.column_stack((lat, lon))
        spans = states_along(points, max_gap_m=max_gap, gaps=gaps)
        book = account_rules(args.user)
    except (ValueError, RulesError) as exc:
        return fail(str(exc))
    rows = []
    for span in spans:
        row = span.to_dict()
        rule = book.rule_for(span.state, args.on)
        row["status"] = rule.status if rule else None
        row["road_access"] = rule.road_access if rule else None
        rows.append(row)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("The track does not enter any US state.")
    for row in rows:
        print(f"{row['state']}  {row['km']:>9.1f} km  {row['status'] or '-':<10} {row['name']}")
    return 0
