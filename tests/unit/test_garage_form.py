"""Vehicle form cleaning (clear messages, one set of limits) and the eligibility countdown."""

from __future__ import annotations

from datetime import date

import pytest

from kei_drive.core.vehicles import clean_vehicle_form
from kei_drive.presenters.vehicles import countdown

TODAY = date(2026, 11, 26)


def form(**values: str) -> dict[str, str]:
    return {"nickname": "Blue", "speed_cap_mph": "45", **values}


def test_clean_form_converts_types_and_blank_fields():
    out = clean_vehicle_form(
        form(make=" Subaru ", model_year="1991", manufacture_month="1991-3", home_state="fl"),
        TODAY,
    )
    assert out == {
        "nickname": "Blue",
        "make": "Subaru",
        "model": None,
        "model_year": 1991,
        "manufacture_month": "1991-03",
        "speed_cap_mph": 45.0,
        "home_state": "FL",
    }


@pytest.mark.parametrize(
    "values,message",
    [
        ({"nickname": " "}, "nickname"),
        ({"model_year": "1850"}, "between 1950 and 2027"),
        ({"model_year": "2030"}, "between 1950 and 2027"),
        ({"model_year": "nineties"}, "like 1991"),
        ({"manufacture_month": "1991-13"}, "must look like 1991-03"),
        ({"manufacture_month": "March 1991"}, "must look like 1991-03"),
        ({"model_year": "1991", "manufacture_month": "1995-01"}, "does not match model year"),
        ({"speed_cap_mph": "fast"}, "Speed cap"),
        ({"speed_cap_mph": "300"}, "Speed cap"),
        ({"home_state": "XX"}, "Unknown home state"),
    ],
)
def test_bad_input_gives_a_clear_message(values, message):
    with pytest.raises(ValueError, match=message):
        clean_vehicle_form(form(**values), TODAY)


def test_month_may_precede_model_year_by_one():
    out = clean_vehicle_form(form(model_year="1991", manufacture_month="1990-10"), TODAY)
    assert out["manufacture_month"] == "1990-10"


@pytest.mark.parametrize(
    "target,expected",
    [
        (date(2028, 5, 1), "1 year 5 months 5 days"),
        (date(2026, 12, 1), "5 days"),
        (date(2026, 11, 27), "1 day"),
        (date(2027, 11, 26), "1 year"),
        (date(2026, 11, 26), ""),
        (date(2016, 3, 1), ""),
    ],
)
def test_countdown(target, expected):
    assert countdown(TODAY, target) == expected


def test_countdown_clamps_month_end():
    assert countdown(date(2026, 1, 31), date(2026, 3, 1)) == "1 month 1 day"
