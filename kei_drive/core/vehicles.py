"""Vehicle facts: the US 25-year import eligibility date.

A motor vehicle at least 25 years old may be imported without meeting FMVSS (49 U.S.C.
30112(b)(9)); age counts from the date of manufacture. With the month of manufacture
known, the vehicle is taken as eligible from the first day of that month 25 years on;
with only the model year, from 1 December of the model year + 25 (a conservative
estimate, flagged as such).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

IMPORT_AGE_YEARS = 25
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


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
    if not 1886 <= year <= 9000:
        raise ValueError(f"implausible year of manufacture: {year}")
    eligible_on = date(year + IMPORT_AGE_YEARS, month, 1)
    remaining = max(0, (eligible_on - today).days)
    return ImportEligibility(eligible_on, remaining == 0, remaining, estimated)
