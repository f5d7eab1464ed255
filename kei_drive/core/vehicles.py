"""Vehicle facts: defaults and validation limits, the garage form's cleaning, and the
US 25-year import eligibility date.

A motor vehicle at least 25 years old may be imported without meeting FMVSS (49 U.S.C.
30112(b)(9)); age counts from the date of manufacture. With the month of manufacture
known, the vehicle is taken as eligible from the first day of that month 25 years on;
with only the model year, from 1 December of the model year + 25 (a conservative
estimate, flagged as such).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kei_drive.core.us_states import US_STATE_NAMES

IMPORT_AGE_YEARS = 25
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")

# One home for these: the garage form, the stored rows, the Plan page and the CLI use them
# (the Drive screen's default in assets/kei/drive.jsx mirrors DEFAULT_TOP_SPEED_MPH).
DEFAULT_TOP_SPEED_MPH = 45.0  # a typical Kei truck's comfortable top speed
MIN_TOP_SPEED_MPH, MAX_TOP_SPEED_MPH = 10.0, 80.0  # what planning takes (page, API, CLI)
OLDEST_MODEL_YEAR = 1950  # the first Kei cars; anything older is a typo
MIN_SPEED_CAP_MPH, MAX_SPEED_CAP_MPH = 5.0, 150.0  # a personal cap outside this is a typo
VEHICLE_FIELDS = (
    "nickname",
    "make",
    "model",
    "model_year",
    "manufacture_month",
    "speed_cap_mph",
    "home_state",
)


def newest_model_year(today: date | None = None) -> int:
    """Next year's models are on sale this year."""
    return (today or date.today()).year + 1


def check_model_year(year: int, today: date | None = None) -> int:
    """``year`` if plausible for a Kei vehicle, else ``ValueError`` saying the range."""
    newest = newest_model_year(today)
    if not OLDEST_MODEL_YEAR <= year <= newest:
        raise ValueError(
            f"Model year must be between {OLDEST_MODEL_YEAR} and {newest}, got {year}."
        )
    return year


def check_speed_cap(cap: float) -> float:
    """``cap`` (mph) if plausible, else ``ValueError`` saying the range."""
    if not (math.isfinite(cap) and MIN_SPEED_CAP_MPH <= cap <= MAX_SPEED_CAP_MPH):
        raise ValueError(
            f"Speed cap must be a number of mph from {MIN_SPEED_CAP_MPH:g} to "
            f"{MAX_SPEED_CAP_MPH:g}, got {cap:g}."
        )
    return cap


def check_home_state(code: str, known: Collection[str] = US_STATE_NAMES) -> str:
    """A USPS code, upper-cased; ``ValueError`` for anything else."""
    state = str(code).strip().upper()
    if state not in known:
        raise ValueError(f"Unknown home state {code!r}.")
    return state


def clean_vehicle_form(form: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """Form strings -> typed vehicle fields (``queries.create_vehicle``/``update_vehicle``);
    ``ValueError`` with a message a driver understands."""
    today = today or date.today()
    text = {k: str(form.get(k) or "").strip() for k in VEHICLE_FIELDS}
    if not text["nickname"]:
        raise ValueError("Give the vehicle a nickname (e.g. 'Blue Sambar').")
    year: int | None = None
    if text["model_year"]:
        if not text["model_year"].isdigit():
            raise ValueError(f"Model year must be a year like 1991, got {text['model_year']!r}.")
        year = check_model_year(int(text["model_year"]), today)
    month = text["manufacture_month"] or None
    if month:
        try:
            m_year, m_month = parse_month(month)
        except ValueError:
            raise ValueError(
                f"Month of manufacture must look like 1991-03 (year-month), got {month!r}."
            ) from None
        if not OLDEST_MODEL_YEAR - 1 <= m_year <= today.year:
            raise ValueError(f"Month of manufacture {month} is not a plausible build date.")
        if year is not None and abs(m_year - year) > 1:
            raise ValueError(
                f"Month of manufacture {month} does not match model year {year} "
                "(they may differ by at most one year)."
            )
        month = f"{m_year:04d}-{m_month:02d}"
    cap: float | None = None
    if text["speed_cap_mph"]:
        try:
            cap = float(text["speed_cap_mph"])
        except ValueError:
            raise ValueError(
                f"Speed cap must be a number of mph from {MIN_SPEED_CAP_MPH:g} to "
                f"{MAX_SPEED_CAP_MPH:g}, got {text['speed_cap_mph']!r}."
            ) from None
        check_speed_cap(cap)
    state = check_home_state(text["home_state"]) if text["home_state"] else None
    return {
        "nickname": text["nickname"],
        "make": text["make"] or None,
        "model": text["model"] or None,
        "model_year": year,
        "manufacture_month": month,
        "speed_cap_mph": cap,
        "home_state": state,
    }


@dataclass(frozen=True)
class ImportEligibility:
    eligible_on: date
    eligible: bool
    days_remaining: int  # 0 once eligible
    estimated: bool  # True when the month of manufacture is unknown


def parse_month(value: str) -> tuple[int, int]:
    """``"1991-03"`` -> ``(1991, 3)``; ``ValueError`` with a clear message otherwise."""
    match = _MONTH.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"month of manufacture must look like 1991-03, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def import_eligibility(
    model_year: int | None,
    manufacture_month: str | None = None,
    today: date | None = None,
) -> ImportEligibility:
    """When the vehicle is (or was) 25 years old, and how many days remain.

    ``manufacture_month`` is ``"YYYY-MM"`` (what an HTML month input gives); without it,
    ``model_year`` is used with December as the month.
    """
    today = today or date.today()
    if manufacture_month:
        year, month = parse_month(manufacture_month)
        estimated = False
    elif model_year:
        year, month, estimated = int(model_year), 12, True
    else:
        raise ValueError("need a model year or a month of manufacture")
    if (
        not 1886 <= year <= 9000
    ):  # a sanity guard for the date arithmetic; input limits: check_model_year
        raise ValueError(f"implausible year of manufacture: {year}")
    eligible_on = date(year + IMPORT_AGE_YEARS, month, 1)
    remaining = max(0, (eligible_on - today).days)
    return ImportEligibility(eligible_on, remaining == 0, remaining, estimated)
