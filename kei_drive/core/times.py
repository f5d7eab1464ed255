"""UTC timestamps and their ISO-8601 text: the one home of these helpers.

Everything stored is UTC; SQLite hands back naive datetimes, so ``as_utc`` treats a naive
value as UTC. ISO text uses the ``Z`` suffix (``2026-06-01T12:00:00Z``), which every
browser and the GPX format read. Core code serialises with these; presenters re-export
them from ``kei_drive.presenters.format``.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """``2026-06-01T12:00:00Z`` (None stays None)."""
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def parse_iso(value: str | None) -> datetime | None:
    """ISO-8601 text (``Z`` or offset; naive = UTC) as UTC; None when empty or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(parsed)


# Keys of the system's zone database that name no place: the server's own zone, a placeholder,
# and the database's internal copies (browsers reject them too).
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _place_zones() -> frozenset[str]:
    keys = zoneinfo.available_timezones()
    return frozenset(
        k for k in keys if k not in _NOT_PLACES and not k.startswith(("posix/", "right/"))
    )


def place_zone(name: object) -> zoneinfo.ZoneInfo | None:
    """The IANA time zone of a place ("America/Chicago"), or None for anything else (an
    unknown name, the server's "localtime", "Factory")."""
    if not isinstance(name, str) or name not in _place_zones():
        return None
    return zoneinfo.ZoneInfo(name)
