"""Input checks for the HTTP API: hostile JSON, numbers, times, ids and text.

Everything a client sends is checked here before it reaches the database, so a bad value
gets a 400 with a reason (or, inside a batch of fixes, rejects that one fix), never a 500.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from kei_drive.core.times import place_zone
from kei_drive.core.xmltext import clean_text

MAX_INT_DIGITS = 20  # longer JSON integers become floats (a 400-digit one becomes inf)
MAX_DB_INT = 2**63 - 1  # SQLite / PostgreSQL BIGINT
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # older times are a broken clock
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # later ones too (and sort first forever)
EARLIEST_MS = int(EARLIEST.timestamp() * 1000)
LATEST_MS = int(LATEST.timestamp() * 1000)


class InvalidInput(ValueError):
    """The client sent something unusable; the message is safe to show to it."""


def _parse_int(text: str) -> int | float:
    # Python refuses to turn huge integers into floats later (OverflowError) and refuses
    # integers over 4,300 digits here; a float of them is simply infinite, then rejected.
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body; ``InvalidInput`` with a short reason otherwise."""
    try:
        return json.loads(body, parse_int=_parse_int)
    except RecursionError as exc:
        raise InvalidInput("the request body is nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput("the request body is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not valid JSON ({exc.msg} at {exc.pos})") from exc
    except ValueError as exc:
        raise InvalidInput("the request body is not valid JSON") from exc


def finite_number(value: Any) -> float | None:
    """A finite number, or None (bools, strings and overflowing integers are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def time_arg(value: Any, what: str) -> datetime | None:
    """Epoch milliseconds or ISO 8601 -> aware UTC datetime between 2000 and 2100."""
    if value is None:
        return None
    number = finite_number(value)
    if number is not None:
        if not EARLIEST_MS <= number < LATEST_MS:
            raise InvalidInput(f"{what} must be between the years 2000 and 2100 (epoch ms)")
        return datetime.fromtimestamp(number / 1000.0, UTC)
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            when = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
            try:
                when = when.astimezone(UTC)
            except OverflowError:  # year 9999 with a negative offset
                when = LATEST
            if not EARLIEST <= when < LATEST:
                raise InvalidInput(f"{what} must be between the years 2000 and 2100")
            return when
    raise InvalidInput(f"{what} must be epoch milliseconds or ISO 8601")


def db_id(value: Any, what: str) -> int | None:
    """A positive integer the database can hold, or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DB_INT:
        raise InvalidInput(f"{what} must be a positive integer")
    return value


def is_encodable(text: str) -> bool:
    """False for text holding lone surrogates (JSON allows ``"\\ud800"``; UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fix_id_problem(pid: str) -> str | None:
    """Why a fix id cannot be stored, or None when it can."""
    if not 1 <= len(pid) <= 64:
        return "id must be 1 to 64 characters"
    if not is_encodable(pid):
        return "id is not valid Unicode (lone surrogate)"
    if "\x00" in pid:
        return "id must not contain NUL characters"
    return None


def trip_name(value: Any, max_length: int = 200) -> str | None:
    """A trip name from a request, cleaned; ``InvalidInput`` when it is not text."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidInput(f"name must be text of at most {max_length} characters")
    return clean_text(value)


MAX_UTC_OFFSET_MIN = 14 * 60  # UTC-12 .. UTC+14 are the real extremes


def zone_arg(time_zone: Any, utc_offset_min: Any) -> tzinfo | None:
    """The phone's time zone for naming a trip in local time: an IANA name
    ("America/Chicago") when this machine knows it, else the phone's UTC offset in minutes
    (east positive), else None (UTC). ``InvalidInput`` for values of the wrong kind."""
    if time_zone is not None:
        if not isinstance(time_zone, str) or not 1 <= len(time_zone) <= 64:
            raise InvalidInput("time_zone must be a time zone name such as America/Chicago")
        zone = place_zone(time_zone)  # unknown here, or no place's ("localtime"): the offset
        if zone is not None:
            return zone
    if utc_offset_min is None:
        return None
    offset = finite_number(utc_offset_min)
    if isinstance(utc_offset_min, bool) or offset is None or abs(offset) > MAX_UTC_OFFSET_MIN:
        raise InvalidInput("utc_offset_min must be minutes east of UTC, -840 to 840")
    return timezone(timedelta(minutes=round(offset)))
