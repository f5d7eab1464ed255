"""``kei-drive route``, ``kei-drive check-route`` and ``kei-drive tiles build``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kei_drive.cli._account import account_rules_and_permits, add_user_arg
from kei_drive.cli._output import fail, number_in, print_json, unreadable_file
from kei_drive.config import use_state_index_cache
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH, MAX_TOP_SPEED_MPH, MIN_TOP_SPEED_MPH

if TYPE_CHECKING:
    from kei_drive.geocoding import Place

TOP_SPEED = number_in(MIN_TOP_SPEED_MPH, MAX_TOP_SPEED_MPH)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands."""
    p = subparsers.add_parser("route", help="plan a Kei route (no motorways) and audit it")
    p.add_argument("--from", dest="origin", required=True, help='"LAT,LON" or a place')
    p.add_argument("--to", dest="destination", required=True, help='"LAT,LON" or a place')
    p.add_argument("--tiles", type=Path, help="routing tiles dir (default: config)")
    p.add_argument(
        "--avoid-banned-states",
        action="store_true",
        help="never enter states banning Kei (or allowing them on no public road)",
    )
    p.add_argument(
        "--avoid-opt-in-states",
        action="store_true",
        help="also avoid states where Kei may use only designated or locally allowed roads "
        "(e.g. Ohio, Kentucky, Minnesota)",
    )
    p.add_argument(
        "--top-speed-mph",
        type=TOP_SPEED,
        default=DEFAULT_TOP_SPEED_MPH,
        help="vehicle top speed (10-80)",
    )
    p.add_argument("--on", type=date.fromisoformat, help="rules in force on DATE (YYYY-MM-DD)")
    p.add_argument("--offline", action="store_true", help="no online place search")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_user_arg(p)  # whose rule overrides and local permits apply
    p.set_defaults(func=_route)

    c = subparsers.add_parser("check-route", help="audit a GPX route or track")
    c.add_argument("gpx", type=Path, help="a .gpx file (track or route)")
    c.add_argument("--tiles", type=Path, help="routing tiles dir (default: config)")
    c.add_argument("--top-speed-mph", type=TOP_SPEED, default=DEFAULT_TOP_SPEED_MPH)
    c.add_argument("--on", type=date.fromisoformat, help="rules in force on DATE (YYYY-MM-DD)")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    add_user_arg(c)
    c.set_defaults(func=_check_route)

    t = subparsers.add_parser("tiles", help="routing tiles and the offline basemap")
    tsub = t.add_subparsers(dest="tiles_command", required=True)
    b = tsub.add_parser(
        "build", help="build routing tiles and the offline basemap from an OpenStreetMap .osm.pbf"
    )
    b.add_argument("pbf", type=Path, help="an OSM extract, e.g. a state's .osm.pbf")
    b.add_argument("--out", type=Path, help="tiles dir (default: config tiles dir)")
    b.add_argument("--no-basemap", action="store_true", help="routing tiles only (no tilemaker)")
    b.set_defaults(func=_tiles_build)


def _resolve(text: str, offline: bool) -> Place:
    from kei_drive.geocoding import geocode

    places = geocode(text, online=not offline)
    if not places:
        raise LookupError(f"no place found for {text!r}")
    best = places[0]
    if len(places) > 1 and best.source == "gazetteer":
        shown = places[:4]
        twins = len({p.name for p in shown}) < len(shown)  # two towns of one name in a state

        def named(place: Place) -> str:
            return f"{place.name} at {place.lat:.4f},{place.lon:.4f}" if twins else place.name

        others = "; ".join(named(p) for p in shown[1:])
        hint = " (give LAT,LON for another)" if twins else ""
        print(f"kei-drive: {text!r} -> {named(best)} (also: {others}){hint}", file=sys.stderr)
    return best


def _route(args: argparse.Namespace) -> int:
    from kei_drive.core.local_permits import PermitError
    from kei_drive.core.rules import RulesError
    from kei_drive.geocoding import GeocodingError
    from kei_drive.routing import KeiOptions, RoutingError, get_router, plan_route

    try:
        start = _resolve(args.origin, args.offline)
        end = _resolve(args.destination, args.offline)
    except (GeocodingError, LookupError) as exc:
        return fail(str(exc))
    options = KeiOptions(
        top_speed_mph=args.top_speed_mph,
        avoid_banned_states=args.avoid_banned_states,
        avoid_opt_in_states=args.avoid_opt_in_states,
        on=args.on,
    )
    try:
        rules, permits = account_rules_and_permits(args.user)
        router = get_router(args.tiles)
        result = plan_route(
            start.latlon, end.latlon, options=options, router=router, rules=rules, permits=permits
        )
    except (RoutingError, PermitError, RulesError) as exc:
        return fail(str(exc))
    data = result.to_dict()
    for key, query, place in (("from", args.origin, start), ("to", args.destination, end)):
        data[key] = {"query": query, "name": place.name, "lat": place.lat, "lon": place.lon}
        data[key]["attribution"] = place.attribution  # the place search's data, credited
    if args.json:
        print_json(data)
    else:
        _print_summary(data, title=f"{start.name} → {end.name}")
        credits = dict.fromkeys(p.attribution for p in (start, end) if p.attribution)
        if credits:
            print("  " + "; ".join(credits))
    return 0


def _check_route(args: argparse.Namespace) -> int:
    from kei_drive.core.gpx import GpxError
    from kei_drive.core.local_permits import PermitError
    from kei_drive.core.rules import RulesError
    from kei_drive.core.track import TrackArrays
    from kei_drive.routing import RoutingError, check_track, get_router

    if problem := unreadable_file(args.gpx):  # (a str would be read as GPX text)
        return fail(problem)
    use_state_index_cache()
    read_notes: list[str] = []  # points of the file left out (a bad coordinate or time)
    try:
        points = TrackArrays.from_gpx(args.gpx, read_notes)  # times and accuracies help
    except (GpxError, OSError, ValueError) as exc:
        return fail(f"cannot read {args.gpx}: {exc}")
    if len(points) < 2:
        return fail(f"{args.gpx} has fewer than two points: nothing to check")
    try:
        rules, permits = account_rules_and_permits(args.user)
        router = get_router(args.tiles) if args.tiles else None
        result = check_track(
            points,
            router=router,
            on=args.on,
            top_speed_mph=args.top_speed_mph,
            rules=rules,
            permits=permits,
        )
    except (RoutingError, PermitError, RulesError, ValueError) as exc:
        return fail(str(exc))
    result.notes[:0] = read_notes
    data = result.to_dict()
    del result  # its geometry is in ``data`` now: a long track's is held once while printed
    data.pop("maneuvers", None)
    if args.json:
        print_json(data)
    else:
        _print_summary(data, title=str(args.gpx))
    return 0


def _tiles_build(args: argparse.Namespace) -> int:
    from kei_drive import config
    from kei_drive.routing.tiles import TilesError, build_tiles

    out = args.out or config.tiles_dir()
    try:
        cfg = build_tiles(args.pbf, out, progress=lambda line: print(line, flush=True))
    except TilesError as exc:
        return fail(str(exc))
    print(f"routing tiles ready: {out} (config {cfg})")
    return 0 if args.no_basemap else _basemap_build(args.pbf, out)


def _basemap_build(pbf: Path, out: Path) -> int:
    """The offline basemap is optional: without tilemaker, say so and keep the routing tiles."""
    from kei_drive.basemap.build import BasemapError, TilemakerMissing, build_basemap

    try:
        build_basemap(pbf, out, progress=lambda line: print(line, flush=True))
    except TilemakerMissing as exc:
        print(f"kei-drive: {exc}; maps will use online OpenStreetMap tiles.", file=sys.stderr)
        print("Install it and run this command again to get offline maps.", file=sys.stderr)
    except BasemapError as exc:
        return fail(f"the offline basemap was not built (routing tiles are ready): {exc}", 1)
    return 0


def _print_summary(data: dict, *, title: str) -> None:
    from kei_drive.core.units import METERS_PER_MILE

    miles = data["distance_m"] / METERS_PER_MILE
    minutes = data["duration_s"] / 60
    legal = data.get("legal")
    verdict = (
        "Kei-legal as far as we can tell"
        if legal
        else "Kei-legal or not cannot be told (see the notes)"
        if legal is None
        else "NOT Kei-legal"
    )
    print(f"{title}\n  {miles:.1f} mi, about {minutes:.0f} min at Kei speeds — {verdict}")
    for note in data.get("notes", []):
        print(f"  note: {note}")
    if data["states"]:
        crossed = " → ".join(f"{s['state']} ({s['status']})" for s in data["states"])
        print(f"  states: {crossed}")
    if data["warnings"]:
        print("  warnings:")
        for w in data["warnings"]:
            print(f"   - [{w['kind']}] {w['message']}")
    else:
        print("  no warnings")
    if data.get("maneuvers"):
        print("  directions:")
        for m in data["maneuvers"]:
            dist = m["distance_m"] / METERS_PER_MILE
            print(f"   {m['instruction']}" + (f" ({dist:.1f} mi)" if dist >= 0.05 else ""))
