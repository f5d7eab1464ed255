"""UTC timestamps and their ISO-8601 text: the one home of these helpers.

Everything stored is UTC; SQLite hands back naive datetimes, so ``as_utc`` treats a naive
value as UTC. ISO text uses the ``Z`` suffix (``2026-06-01T12:00:00Z``), which every
browser and the GPX format read. Core code serialises with these; presenters re-export
them from ``kei_drive.presenters.format``.
"""

from __future__ import annotations

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
