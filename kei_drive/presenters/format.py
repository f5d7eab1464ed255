"""Text for distances, durations, speeds and times: one module for every page and the API.

Two distance/duration styles exist on purpose: the Plan page's route texts
(``distance_text`` "2.7 mi (4.3 km)", ``duration_text`` "1 h 05 min") and the trip pages'
statistics (``fmt_distance`` "1.0 mi · 1.6 km", ``fmt_duration`` "4 min 05 s").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kei_drive.core.times import as_utc, iso_z, parse_iso
from kei_drive.core.units import METERS_PER_MILE, MPS_PER_MPH

__all__ = [
    "as_utc",
    "distance_text",
    "duration_text",
    "fmt_distance",
    "fmt_duration",
    "fmt_month",
    "fmt_speed",
    "fmt_when",
    "iso_utc",
    "iso_z",
    "LegendItem",
    "parse_iso",
    "short_distance",
    "span_text",
]

FEET_PER_METER = 3.28084
NO_VALUE = "–"

# --- route texts (Plan page) -----------------------------------------------------------


def distance_text(meters: float) -> str:
    """'12.3 mi (19.8 km)'; short distances in metres: '0.1 mi (150 m)'."""
    mi = meters / METERS_PER_MILE
    km = meters / 1000
    metric = f"{km:.1f} km" if km >= 1 else f"{meters:.0f} m"
    return f"{mi:.1f} mi ({metric})"


def short_distance(meters: float) -> str:
    """Turn-by-turn lengths: '0.4 mi' or '350 ft' below a tenth of a mile."""
    mi = meters / METERS_PER_MILE
    return f"{mi:.1f} mi" if mi >= 0.1 else f"{meters * FEET_PER_METER:.0f} ft"


def duration_text(seconds: float) -> str:
    """Whole minutes: 'under 1 min', '25 min', '1 h 05 min'."""
    minutes = int(round(seconds / 60))
    if minutes < 1:
        return "under 1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def span_text(from_m: float, to_m: float) -> str:
    """Where a warning sits: 'km 0.6–5.1 (mi 0.4–3.2)'."""
    return (
        f"km {from_m / 1000:.1f}–{to_m / 1000:.1f} "
        f"(mi {from_m / METERS_PER_MILE:.1f}–{to_m / METERS_PER_MILE:.1f})"
    )


# --- trip statistics (trip pages) -------------------------------------------------------


def fmt_distance(meters: float | None) -> str:
    """'1.0 mi · 1.6 km' ('–' when unknown)."""
    if meters is None:
        return NO_VALUE
    return f"{meters / METERS_PER_MILE:.1f} mi · {meters / 1000:.1f} km"


def fmt_duration(seconds: float | None) -> str:
    """To the second: '12 s', '4 min 05 s'; from an hour on, to the nearest minute:
    '1 h 02 min' (7,199 s is '2 h 00 min', not '1 h 59 min') ('–' when unknown)."""
    if seconds is None:
        return NO_VALUE
    total = round(seconds)
    if total >= 3600:
        hours, minutes = divmod((total + 30) // 60, 60)
        return f"{hours} h {minutes:02d} min"
    minutes, secs = divmod(total, 60)
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def fmt_speed(mps: float | None) -> str:
    """'45 mph' ('–' when unknown)."""
    if mps is None:
        return NO_VALUE
    return f"{mps / MPS_PER_MPH:.0f} mph"


# --- times ------------------------------------------------------------------------------


def fmt_when(value: str | datetime | None) -> str:
    """UTC text: the tooltip of the local time the browser shows (``local_time``)."""
    when = as_utc(value) if isinstance(value, datetime) else parse_iso(value)
    return when.strftime("%a %Y-%m-%d %H:%M UTC") if when else "Undated"


def iso_utc(value: str | None) -> str:
    """``...Z`` ISO text for the browser to format in its own zone ("" when unknown)."""
    return iso_z(parse_iso(value)) or ""


def fmt_month(key: str) -> str:
    """'2024-05' -> 'May 2024' (other keys unchanged)."""
    try:
        return datetime.strptime(key, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return key


@dataclass
class LegendItem:
    """A colour swatch and what it means (map legends)."""

    label: str
    color: str
