from datetime import date

import pytest

from kei_drive.core.vehicles import import_eligibility, parse_month


def test_eligible_from_month_of_manufacture_plus_25_years():
    e = import_eligibility(1991, "1991-03", today=date(2024, 1, 1))
    assert e.eligible_on == date(2016, 3, 1) and e.eligible and e.days_remaining == 0
    assert not e.estimated


def test_countdown_when_not_yet_eligible():
    e = import_eligibility(2001, "2000-11", today=date(2025, 10, 31))
    assert e.eligible_on == date(2025, 11, 1)
    assert not e.eligible and e.days_remaining == 1
    assert import_eligibility(2001, "2000-11", today=date(2025, 11, 1)).eligible


def test_model_year_only_is_a_conservative_estimate():
    e = import_eligibility(2000, None, today=date(2025, 6, 1))
    assert e.eligible_on == date(2025, 12, 1) and e.estimated and e.days_remaining == 183


@pytest.mark.parametrize("bad", ["1991", "1991-13", "03/1991", "", "abcd-ef"])
def test_bad_month_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="1991-03"):
        parse_month(bad)


def test_needs_some_date():
    with pytest.raises(ValueError, match="model year"):
        import_eligibility(None, None)
