"""Whether the GPS followed a matched highway stretch or only crossed it, or wandered along it
(``track_check._followed``), on positions given in metres east and north of a point."""

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
