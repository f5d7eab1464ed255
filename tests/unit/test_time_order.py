"""A sent batch's fixes out of step with the rest (``core.time_order.out_of_step``)."""

from __future__ import annotations

from kei_drive.core.time_order import out_of_step

TOLERANCE_MS = 5_000


def _seconds(*values: float) -> list[float]:
    return [v * 1000 for v in values]


def test_a_batch_in_order_or_reordered_by_a_second_refuses_nothing():
    assert out_of_step(_seconds(0, 1, 2, 3, 4), TOLERANCE_MS) == {}
    assert out_of_step(_seconds(0, 2, 1, 3, 5, 4), TOLERANCE_MS) == {}
    assert out_of_step([], TOLERANCE_MS) == {} and out_of_step([7.0], TOLERANCE_MS) == {}


def test_a_late_stamp_at_the_head_refuses_itself_only():
    refused = out_of_step(_seconds(3600, *range(10)), TOLERANCE_MS)
    assert list(refused) == [0] and "3600.0 s after" in refused[0]


def test_a_stale_fix_in_the_middle_goes_backwards():
    refused = out_of_step(_seconds(*range(10), 0, 10, 11), TOLERANCE_MS)
    assert list(refused) == [10] and refused[10] == "time goes backwards by 9.0 s"


def test_newest_first_is_an_order_and_its_odd_fix_is_found():
    assert out_of_step(_seconds(*range(20, 0, -1)), TOLERANCE_MS) == {}
    refused = out_of_step(_seconds(*range(20, 10, -1), 100, *range(10, 0, -1)), TOLERANCE_MS)
    assert list(refused) == [10]


def test_of_two_runs_as_long_the_one_sent_first_is_kept():
    refused = out_of_step(_seconds(600, 601, 602, 603, 604, 0, 1, 2, 3, 4), TOLERANCE_MS)
    assert sorted(refused) == [5, 6, 7, 8, 9]
    assert all("backwards" in reason for reason in refused.values())
