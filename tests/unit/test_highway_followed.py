"""Whether the GPS followed a matched highway stretch or only crossed it, or wandered along it
(``track_check._followed``), on positions given in metres east and north of a point; and how
a stretch dropped for want of fixes is pointed out (``track_check.possible_notes``)."""

from __future__ import annotations

import pytest

from kei_drive.routing.track_check import _followed

ORIGIN_LAT, ORIGIN_LON = 39.3, -76.6


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    return (ORIGIN_LAT + north_m / 111_195.0, ORIGIN_LON + east_m / 86_030.0)


def _judge(road: list[tuple[float, float]], gps: list[tuple[float, float]]) -> bool:
    matched = [dict(zip(("lat", "lon"), _at(*p), strict=True)) for p in road]
    return _followed(list(range(len(road))), [_at(*p) for p in gps], matched)


def test_a_drive_along_the_road_follows_it():
    road = [(x, 0.0) for x in range(0, 600, 100)]
    assert _judge(road, [(x + 3.0, 8.0) for x, _ in road])


def test_out_and_back_on_the_other_carriageway_follows_it():
    """It ends where it began: judged on the line from the first fix to the last, the GPS
    went nowhere along 1 km of interstate."""
    road = [(x, 0.0) for x in range(0, 1001, 100)] + [(x, 30.0) for x in range(1000, -1, -100)]
    assert _judge(road, [(x, y + 5.0) for x, y in road])


def test_crossing_on_a_bridge_does_not_follow_it():
    road = [(-40.0, 0.0), (0.0, 0.0), (45.0, 0.0), (90.0, 0.0)]
    gps = [(0.0, -60.0), (0.0, -20.0), (0.0, 20.0), (0.0, 60.0)]
    assert not _judge(road, gps)


@pytest.mark.parametrize("back_to_m", [40.0, 0.0])
def test_matched_points_that_run_ahead_and_back_do_not_follow_it(back_to_m):
    """A frontage road's fixes matched to the motorway beside it: the matched points run
    120 m ahead and back while the truck goes on. Step by step, the two steps ahead
    counted as following, and they were more than half the road."""
    road = [(0.0, 0.0), (60.0, 0.0), (120.0, 0.0), (back_to_m, 0.0)]
    gps = [(0.0, 25.0), (50.0, 25.0), (100.0, 25.0), (105.0, 25.0)]
    assert not _judge(road, gps)


def test_a_possible_stretch_says_what_was_missing():
    from kei_drive.routing.track_check import PossibleHighway, possible_notes

    two = PossibleHighway(794.4, "motorway", "a ramp", 2, 60.0, 41.95, -77.0052)
    brief = PossibleHighway(157.0, "motorway", "", 7, 5.0, 39.2651, -76.5624)
    first, second = possible_notes([two, brief])
    assert first.startswith("Possibly on a highway, not counted: 794 m of a ramp (motorway)")
    assert "near 41.9500, -77.0052, where only 2 GPS fixes were matched to it" in first
    assert "157 m of an unnamed motorway road" in second
    assert "the GPS was on it for only 5 s (7 fixes)" in second
    many = possible_notes([two] * 7)
    assert len(many) == 6 and many[-1] == "... and 2 more such stretches."


@pytest.mark.parametrize(("fixes", "on_it"), [(0, "no GPS fix"), (1, "one GPS fix")])
def test_a_stretch_left_bare_by_sparse_fixes_says_so(fixes, on_it):
    from kei_drive.routing.track_check import PossibleHighway, possible_notes

    bare = PossibleHighway(827.0, "trunk", "President Street", fixes, None, 39.29, -76.6, 90.0)
    (note,) = possible_notes([bare])
    assert note.startswith("Possibly on a highway, not counted: 827 m of President Street (trunk)")
    assert (
        f"where {on_it} was matched to it, but the road between the fixes either side of it "
        "(90 s apart) runs along it: the log cannot tell whether the truck took it" in note
    )
