"""Trips in words: the flags a trip carries and their wording, default names, the JSON
summary the API and CLI print, and the typed rows the trip pages show.

Queries hand over ``Trip``/``Vehicle`` rows; everything a person reads is made here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from kei_drive import routes
from kei_drive.core.gap_roads import counts_distance
from kei_drive.core.trips import NO_MOVEMENT_M
from kei_drive.core.vocabulary import OVER_CAP_FLAG_S, RecordingState, TripFlag, TripSource
from kei_drive.presenters.format import (
    NO_VALUE,
    as_utc,
    fmt_distance,
    fmt_duration,
    fmt_month,
    fmt_speed,
    fmt_when,
    iso_z,
)

if TYPE_CHECKING:
    from kei_drive.db.models import Trip, Vehicle

UNNAMED_TRIP = "Unnamed trip"
NO_VEHICLE_LABEL = "No vehicle"
SOURCE_LABELS = {
    TripSource.RECORDED: "Drive screen",
    TripSource.IMPORTED: "GPX import",
    TripSource.OWNTRACKS: "OwnTracks",
    TripSource.OVERLAND: "Overland",
    TripSource.GPSLOGGER: "GPSLogger",
}


def source_text(trip: Trip) -> str:
    """Where the trip came from, and which device: "OwnTracks · Sambar phone"."""
    label = SOURCE_LABELS.get(trip.source, trip.source)  # type: ignore[call-overload]
    return f"{label} · {trip.device}" if trip.device else label


# --- flags ------------------------------------------------------------------------------


def trip_flags(trip: Trip) -> list[TripFlag]:
    """What the list points out about ``trip``, in display order."""
    flags = []
    if trip.over_cap_s and trip.over_cap_s >= OVER_CAP_FLAG_S:
        flags.append(TripFlag.OVER_CAP)
    if (trip.stats or {}).get("gaps"):
        flags.append(TripFlag.GAPS)
    if trip.highway_use:
        flags.append(TripFlag.HIGHWAY_USE)
    if trip.recording_state == RecordingState.RECORDING:
        flags.append(TripFlag.RECORDING)
    elif _never_moved(trip):
        flags.append(TripFlag.NO_MOVEMENT)
    return flags


def _never_moved(trip: Trip) -> bool:
    """A finished trip measured shorter than ``NO_MOVEMENT_M``: a logger's parked fixes that
    wandered like a drive, or a recording stopped where it began. Kept (its fixes are the
    driver's), and said to be no drive."""
    distance = (trip.stats or {}).get("distance_m")
    return distance is not None and float(distance) < NO_MOVEMENT_M


def flag_text(flag: TripFlag, trip: Trip) -> str:
    """The wording of one flag, e.g. "above cap for 4 min 05 s" (its time as the trip's page
    gives it: rounded to minutes, a 91 s gap read "2 min" in the list, "1 min 31 s" there)."""
    if flag is TripFlag.OVER_CAP:
        return f"above cap for {fmt_duration(trip.over_cap_s or 0.0)}"
    if flag is TripFlag.GAPS:
        gaps = (trip.stats or {}).get("gaps") or []
        lost = sum(g.get("duration_s", 0) for g in gaps)
        plural = "s" if len(gaps) > 1 else ""
        return f"{len(gaps)} gap{plural} in recording ({fmt_duration(lost)})"
    if flag is TripFlag.HIGHWAY_USE:
        return "highway use"
    if flag is TripFlag.NO_MOVEMENT:
        return "no movement: it never left one spot"
    return "still recording"


def trip_warnings(trip: Trip, skip: frozenset[TripFlag] = frozenset()) -> list[str]:
    """The worded flags (``skip`` leaves some out, e.g. RECORDING where a badge says it)."""
    return [flag_text(f, trip) for f in trip_flags(trip) if f not in skip]


def default_trip_name(trip: Trip, zone: tzinfo | None = None) -> str:
    """ "2024-05-04 08:00 MDT (CO, WY)" for a trip the driver did not name: the start in the
    driver's time zone (``zone``, from the phone), else in UTC ("2024-05-04 14:00 UTC")."""
    start = as_utc(trip.started_at)
    states = ", ".join(trip.states or [])
    if start is None:
        when = "Undated trip"
    elif zone is None:
        when = start.strftime("%Y-%m-%d %H:%M UTC")
    else:
        local = start.astimezone(zone)
        when = f"{local:%Y-%m-%d %H:%M} {zone_label(local)}"
    return when + (f" ({states})" if states else "")


def zone_label(local: datetime) -> str:
    """ "CST" for a named zone; "UTC-06:00" for a bare offset (its tzname would say so)."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- JSON (API, CLI) --------------------------------------------------------------------


def trip_dict(trip: Trip, vehicle: Vehicle | None = None) -> dict[str, Any]:
    """A JSON-ready summary of a trip; ``stats`` uses the documented stats keys."""
    return {
        "id": trip.id,
        "uuid": trip.uuid,
        "name": trip.name,
        "vehicle_id": trip.vehicle_id,
        "vehicle": vehicle.nickname if vehicle else None,
        "source": trip.source,
        "device": trip.device,
        "recording_state": trip.recording_state,
        "started_at": iso_z(trip.started_at),
        "ended_at": iso_z(trip.ended_at),
        "time_zone": trip.time_zone,  # IANA zone it was named in (None: not known)
        "point_count": trip.point_count,
        "highway_use": trip.highway_use,
        "highway_use_note": (trip.stats or {}).get("highway_use_note"),  # why unknown
        "warnings": trip_warnings(trip),
        "stats": trip.stats,
    }


# --- page rows ----------------------------------------------------------------------------


@dataclass
class TripRow:
    """One card of the trips list."""

    id: str
    href: str
    name: str
    when: str  # UTC text, the tooltip
    started_at: str  # ISO UTC; the browser shows it in the trip's zone, else its own
    time_zone: str  # the trip's IANA zone ("": the viewer's)
    vehicle: str
    distance: str
    duration: str
    moving: str
    avg: str
    max: str
    states: str
    points: str
    warnings: list[str] = field(default_factory=list)
    recording: bool = False
    imported: bool = False
    source: str = ""  # "Drive screen", "OwnTracks · Sambar phone"…


def trip_row(trip: Trip, vehicle: Vehicle | None = None) -> TripRow:
    """One card of the trips list (the "recording" badge replaces that flag's words)."""
    stats = trip.stats or {}
    recording = trip.recording_state == RecordingState.RECORDING
    distance = fmt_distance(stats.get("distance_m") if stats else None)
    if recording and not stats:  # statistics come when the trip is stopped
        distance = f"{trip.point_count or 0} points so far"
    return TripRow(
        id=str(trip.id),
        href=routes.trip(trip.id),
        name=trip.name or UNNAMED_TRIP,
        when=fmt_when(trip.started_at),
        started_at=iso_z(trip.started_at) or "",
        time_zone=trip.time_zone or "",
        vehicle=vehicle.nickname if vehicle else NO_VEHICLE_LABEL,
        distance=distance,
        duration=fmt_duration(stats.get("elapsed_s")),
        moving=fmt_duration(stats.get("moving_s")),
        avg=fmt_speed(stats.get("avg_moving_speed_mps")),
        max=fmt_speed(stats.get("max_speed_mps")),
        states=", ".join(stats.get("states") or []) or NO_VALUE,
        points=str(trip.point_count or 0),
        warnings=trip_warnings(trip, skip=frozenset({TripFlag.RECORDING})),
        recording=recording,
        imported=trip.source == TripSource.IMPORTED,
        source=source_text(trip),
    )


@dataclass
class TotalsRow:
    """A line of the per-vehicle or per-month totals."""

    key: str
    label: str
    trips: str
    distance: str
    moving: str
    over_cap: str


def totals_row(totals: Any) -> TotalsRow:
    """A ``queries.Totals`` as display text."""
    return TotalsRow(
        key=totals.key,
        label=fmt_month(totals.key) if totals.vehicle_id is None else totals.key,
        trips=str(totals.trips),
        distance=fmt_distance(totals.distance_m),
        moving=fmt_duration(totals.moving_s),
        over_cap=fmt_duration(totals.over_cap_s) if totals.over_cap_s else NO_VALUE,
    )


def gaps_distance(gaps: list[dict[str, Any]]) -> str:
    """The part of a trip's distance that spans gaps in recording, and how it was measured:
    "1.2 mi along the shortest road across 2 gaps in recording" ("" without any)."""
    counted = [g for g in gaps if counts_distance(g)]
    by_road = [float(g["road_m"]) for g in counted if g.get("road_m") is not None]
    straight = [float(g["distance_m"]) for g in counted if g.get("road_m") is None]
    parts = []
    if by_road:
        parts.append(
            f"{fmt_distance(sum(by_road))} along the shortest road across {_gaps(by_road)}"
        )
    if straight:
        parts.append(f"{fmt_distance(sum(straight))} in a straight line across {_gaps(straight)}")
    return "; ".join(parts)


def steps_distance(steps: list[dict[str, Any]]) -> str:
    """The part of a sparse log's distance measured along the road between its fixes:
    "3.6 mi · 5.8 km along the shortest road between fixes 60 s apart: 9 steps, 2.9 mi ·
    4.7 km in straight lines" ("" without any)."""
    measured = [g for g in steps if g.get("road_m") is not None]
    if not measured:
        return ""
    road = sum(float(g["road_m"]) for g in measured)
    counted = sum(float(g["distance_m"]) for g in measured)
    seconds = sorted(float(g.get("duration_s") or 0.0) for g in measured)
    apart = (
        f"{seconds[0]:.0f} s"
        if round(seconds[0]) == round(seconds[-1])
        else f"{seconds[0]:.0f}-{seconds[-1]:.0f} s"
    )
    plural = "s" if len(measured) != 1 else ""
    return (
        f"{fmt_distance(road)} along the shortest road between fixes {apart} apart: "
        f"{len(measured)} step{plural}, {fmt_distance(counted)} in straight lines"
    )


def _gaps(lengths: list[float]) -> str:
    return f"{len(lengths)} gap{'s' if len(lengths) != 1 else ''} in recording"


def _with_note(value: str, note: str) -> str:
    return f"{value} (incl. {note})" if note else value


@dataclass
class StatRow:
    label: str
    value: str


def stats_rows(stats: dict[str, Any] | None, point_count: int = 0) -> list[StatRow]:
    """Label/value pairs for the detail page's stats panel."""
    s = stats or {}
    gaps = s.get("gaps") or []
    lost = sum(g.get("duration_s", 0) for g in gaps)
    cap = s.get("cap_mps")
    rejected = s.get("rejected_points") or 0
    points = f"{s.get('points', point_count or 0)}"
    if rejected:
        points += f" ({rejected} rejected as inaccurate or glitches)"
    return [
        StatRow(
            "Distance",
            _with_note(
                fmt_distance(s.get("distance_m")),
                "; ".join(
                    n for n in (gaps_distance(gaps), steps_distance(s.get("road_steps") or [])) if n
                ),
            ),
        ),
        StatRow("Elapsed time", fmt_duration(s.get("elapsed_s"))),
        StatRow("Moving time", fmt_duration(s.get("moving_s"))),
        StatRow("Max speed (moving)", fmt_speed(s.get("max_speed_mps"))),
        StatRow("Average moving speed", fmt_speed(s.get("avg_moving_speed_mps"))),
        StatRow(
            f"Time above cap ({fmt_speed(cap)})" if cap else "Time above cap",
            fmt_duration(s.get("over_cap_s") or 0.0) if cap else "no cap set",
        ),
        StatRow("States visited", ", ".join(s.get("states") or []) or NO_VALUE),
        StatRow("Points", points),
        StatRow("Gaps in recording", f"{len(gaps)} ({fmt_duration(lost)})" if gaps else "none"),
    ]


@dataclass
class ImportedTrip:
    """A trip just made from an uploaded file (a link on the trips page)."""

    id: str
    name: str
    distance: str
    href: str


@dataclass
class ImportedFile:
    file: str
    trips: list[ImportedTrip] = field(default_factory=list)  # the first SHOWN_IMPORTED
    note: str = ""  # e.g. fixes of the file left out (a bad coordinate or time)
    more: str = ""  # "…and 199 more trips (…)" when there were more than those shown


# A year's log makes hundreds of trips: their links filled the screen in one block.
SHOWN_IMPORTED = 10


def imported_file(
    file: str, trips: list[ImportedTrip], total_m: float, note: str = ""
) -> ImportedFile:
    """The import box's entry for one file: its first trips' links, and how many more."""
    rest = len(trips) - SHOWN_IMPORTED
    more = ""
    if rest > 0:
        more = (
            f"…and {rest} more trips: {len(trips)} in all, {fmt_distance(total_m)}; "
            "every one is in the trips list, by date."
        )
    return ImportedFile(file=file, trips=trips[:SHOWN_IMPORTED], note=note, more=more)


def highway_use_row(trip: Trip) -> StatRow:
    """Whether the trip used a motorway or trunk, and why it is not known when it is not."""
    if trip.recording_state == RecordingState.RECORDING:
        value = "checked when the trip ends"
    elif trip.highway_use is None:
        note = (trip.stats or {}).get("highway_use_note")
        value = f"unknown. {note}" if note else "unknown"
    else:
        value = "yes (motorway or trunk)" if trip.highway_use else "no"
    return StatRow("Highway use", value)
