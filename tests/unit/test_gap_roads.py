"""``core.gap_roads``: which road counts across a gap, and what it changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kei_drive.core.gap_roads import (
    drivable_road_m,
    gap_key,
    stored_roads,
    with_roads_across_gaps,
)
from kei_drive.core.trips import compute_stats
from kei_drive.presenters.trips import gaps_distance
from tests.support.trips import TrackBuilder


def gapped_stats():
    track = TrackBuilder().start().drive(3_000, 15.0).hidden(120, 15.0).drive(3_000, 15.0)
    return compute_stats(track.points)


def test_a_drivable_road_replaces_the_straight_line_and_only_once():
    stats = gapped_stats()
    (gap,) = stats.gaps
    road = gap.distance_m + 400.0
    measured = with_roads_across_gaps(stats, {gap_key(gap): road})
    assert measured.distance_m == pytest.approx(stats.distance_m + 400.0)
    assert measured.avg_moving_speed_mps == pytest.approx(
        stats.avg_moving_speed_mps + 400.0 / stats.moving_s
    )
    assert measured.gaps[0].road_m == road
    assert measured.to_dict()["gaps"][0]["road_m"] == pytest.approx(road, abs=0.1)
    again = with_roads_across_gaps(measured, {gap_key(gap): road})  # stored stats re-stored
    assert again.distance_m == measured.distance_m
    # what a trip row keeps is found again for statistics computed anew
    anew = with_roads_across_gaps(stats, stored_roads(measured.to_dict()))
    assert anew.distance_m == pytest.approx(measured.distance_m, abs=0.1)
    assert anew.gaps[0].road_m == pytest.approx(road, abs=0.1)
    assert with_roads_across_gaps(stats, {}) is stats


def test_the_road_must_be_drivable_in_the_gap_and_never_shorter_than_the_line():
    (gap,) = gapped_stats().gaps  # 121 s, ~1,815 m
    assert drivable_road_m(gap, 2_400.0, 150.0) == 2_400.0
    assert drivable_road_m(gap, 2_400.0, 1.5 * gap.duration_s + 31) is None
    assert drivable_road_m(gap, 1_700.0, 100.0) == gap.distance_m  # the ends snapped inward


def test_a_top_speed_is_never_under_the_average_a_gaps_road_raised():
    stats = gapped_stats()  # 15 m/s throughout, 121 s across the gap
    (gap,) = stats.gaps
    measured = with_roads_across_gaps(stats, {gap_key(gap): 4.0 * gap.distance_m})
    assert measured.avg_moving_speed_mps > stats.max_speed_mps  # the road raised it
    assert measured.max_speed_mps == measured.avg_moving_speed_mps


def test_a_road_whose_ends_lie_far_from_the_gaps_fixes_is_not_counted():
    (gap,) = gapped_stats().gaps
    assert drivable_road_m(gap, 2_400.0, 150.0, snapped_m=30.0) == 2_400.0
    assert drivable_road_m(gap, 2_400.0, 150.0, snapped_m=60.0) is None


def test_in_a_sparse_log_a_gaps_road_over_its_ratio_is_a_detour():
    from dataclasses import replace

    from kei_drive.core.gap_roads import STEP_MAX_ROAD_RATIO

    (gap,) = gapped_stats().gaps  # a dense log: one-way streets may loop that far
    long_way = (STEP_MAX_ROAD_RATIO + 0.5) * gap.distance_m
    assert drivable_road_m(gap, long_way, 150.0) == long_way
    assert drivable_road_m(replace(gap, sparse_log=True), long_way, 150.0) is None


def test_the_distance_says_what_spans_gaps_and_how():
    gaps = [
        {"distance_m": 1_000.0, "road_m": 1_609.3},
        {"distance_m": 1_609.3},
        {"distance_m": 4.0},  # parked across it: no distance
    ]
    note = gaps_distance(gaps)
    assert "along the shortest road across 1 gap in recording" in note
    assert "in a straight line across 1 gap in recording" in note
    assert gaps_distance([{"distance_m": 4.0}]) == ""


def test_a_gap_knows_the_direction_of_travel_into_and_out_of_it():
    """The engine leaves and reaches the gap's fixes that way (not the other carriageway)."""
    (gap,) = gapped_stats().gaps  # TrackBuilder drives north
    into, out_of = gap.headings
    assert into == pytest.approx(0.0, abs=5.0) or into == pytest.approx(360.0, abs=5.0)
    assert out_of == pytest.approx(0.0, abs=5.0) or out_of == pytest.approx(360.0, abs=5.0)
    parked = TrackBuilder().start().stop(60).hidden(120, 0.0).stop(60)
    assert compute_stats(parked.points).gaps[0].headings == (None, None)


# --- a sparse log's steps (``step_roads``) ---------------------------------------------


def _steps(counted: list[float], seconds: float = 60.0) -> list:
    from kei_drive.core.trips import Gap

    t0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)
    out = []
    for k, metres in enumerate(counted):
        start = t0 + timedelta(seconds=k * seconds)
        pace = max(counted[max(k - 2, 0) : k + 3]) / seconds
        out.append(
            Gap(
                start, start + timedelta(seconds=seconds), seconds, metres, step=True, pace_mps=pace
            )
        )
    return out


def test_a_steps_road_counts_at_the_trucks_pace():
    from kei_drive.core.gap_roads import gap_key, step_roads

    steps = _steps([600.0, 610.0, 590.0, 600.0])
    roads = {gap_key(s): (640.0, 4.0) for s in steps}
    assert step_roads(steps, roads) == {gap_key(s): 640.0 for s in steps}


def test_a_detour_far_faster_than_the_trucks_pace_is_not_counted():
    """A 120 s step of a 10 m/s drive bridged by 4.4 km (36 m/s): the line stays; its
    neighbours' roads still count."""
    from kei_drive.core.gap_roads import gap_key, step_roads

    steps = _steps([1200.0, 1150.0, 860.0, 1200.0, 1100.0], seconds=120.0)
    roads = {gap_key(s): (1320.0, 4.0) for s in steps} | {gap_key(steps[2]): (4400.0, 4.0)}
    counted = step_roads(steps, roads)
    assert gap_key(steps[2]) not in counted
    assert len(counted) == 4


def test_a_street_grids_steps_are_paced_by_their_neighbours_roads():
    """Every 60 s step cuts a corner (lines 450 m, roads 600 m at 10 m/s): the lines alone
    would pace the truck at 7.6 m/s, under what the roads need; the neighbours' roads pace
    it."""
    from kei_drive.core.gap_roads import STEP_PACE_SLACK, gap_key, step_roads

    steps = _steps([450.0, 445.0, 456.0, 448.0, 452.0])
    assert STEP_PACE_SLACK * steps[1].pace_mps * 60.0 < 600.0  # the lines alone refuse it
    roads = {gap_key(s): (600.0, 4.0) for s in steps}
    assert step_roads(steps, roads) == {gap_key(s): 600.0 for s in steps}


def test_a_step_is_never_counted_shorter_than_its_line():
    from kei_drive.core.gap_roads import gap_key, step_roads

    steps = _steps([600.0, 600.0])
    assert step_roads(steps, {gap_key(s): (580.0, 4.0) for s in steps}) == {
        gap_key(s): 600.0 for s in steps
    }


def test_a_road_far_longer_than_its_steps_line_or_far_shorter_is_not_counted():
    """A slow step beside fast ones (a light at a corner) routed round the block (6.7x its
    line), and one whose ends snapped to one spot (0 m): both keep their lines."""
    from kei_drive.core.gap_roads import gap_key, step_roads

    steps = _steps([1100.0, 1130.0, 216.0, 1120.0, 1100.0])
    roads = {gap_key(s): (s.distance_m * 1.05, 4.0) for s in steps}
    roads[gap_key(steps[2])] = (1450.0, 4.0)
    roads[gap_key(steps[4])] = (0.0, 4.0)
    assert set(step_roads(steps, roads)) == {gap_key(s) for s in (steps[0], steps[1], steps[3])}


def test_fixes_lying_far_off_their_roads_keep_every_line():
    """30-40 m of GPS error: the steps' ends land on parallel streets; no road counts. One
    step whose ends lie 60 m off in a log otherwise on its roads keeps its line alone."""
    from kei_drive.core.gap_roads import STEP_MAX_MEDIAN_SNAP_M, gap_key, step_roads

    steps = _steps([600.0, 610.0, 590.0, 600.0])
    noisy = {gap_key(s): (640.0, STEP_MAX_MEDIAN_SNAP_M + 10) for s in steps}
    assert step_roads(steps, noisy) == {}
    one_off = {gap_key(s): (640.0, 4.0) for s in steps} | {gap_key(steps[1]): (640.0, 60.0)}
    assert set(step_roads(steps, one_off)) == {gap_key(s) for s in steps} - {gap_key(steps[1])}


def test_a_sparse_logs_steps_held_over_the_cap_along_the_road_are_time_above_it():
    """A log a minute apart on a winding highway: the lines read under the cap, the road
    over it. The time above the cap agrees with the top speed the roads gave."""
    track = TrackBuilder(interval_s=60.0).start().drive(7_200, 12.0)  # 10 steps of 720 m
    stats = compute_stats(track.points, cap_mps=20.0)
    assert stats.over_cap_s == 0.0 and len(stats.road_steps) == 10
    fast = {gap_key(s): 2.0 * s.distance_m for s in stats.road_steps[3:6]}  # 24 m/s
    measured = with_roads_across_gaps(stats, fast)
    assert measured.max_speed_mps > 20.0
    assert measured.over_cap_s == pytest.approx(180.0)
    assert with_roads_across_gaps(measured, fast).over_cap_s == pytest.approx(180.0)  # once
    lone = with_roads_across_gaps(stats, dict(list(fast.items())[:1]))  # one step: no speed
    assert lone.over_cap_s == 0.0
    slow = {gap_key(s): 1.1 * s.distance_m for s in stats.road_steps}
    assert with_roads_across_gaps(stats, slow).over_cap_s == 0.0


def test_steps_over_the_cap_along_the_road_add_to_those_the_positions_held():
    """A sparse log over the cap by its lines for 5 min, later over it along the road for
    3 min: 8 min above the cap, not the larger of the two."""
    track = TrackBuilder(interval_s=60.0).start().drive(9_000, 25.0).drive(7_200, 12.0)
    stats = compute_stats(track.points, cap_mps=20.0)
    assert stats.over_cap_s == pytest.approx(300.0, abs=60.0)
    late = [s for s in stats.road_steps if s.start >= stats.road_steps[-10].start]
    fast = {gap_key(s): 2.0 * s.distance_m for s in late[3:6]}
    measured = with_roads_across_gaps(stats, fast)
    assert measured.over_cap_s == pytest.approx(stats.over_cap_s + 180.0)


def test_the_chart_and_map_of_a_sparse_log_show_what_its_roads_held():
    """A trip page's chart and cap map draw the per-fix speeds: on a 60 s log whose steps
    were measured along the road they charted the lines (12 m/s) beside a top speed of
    24 m/s and 3 min above the cap, with no stretch above the cap on the map (review:
    I 95 every 60 s charted 34.7 mph beside "max 52 mph, 2 min above the cap")."""
    from kei_drive.core.gap_roads import shown_along_road
    from kei_drive.core.track import TrackArrays
    from kei_drive.core.trips import analyze_track

    track = TrackBuilder(interval_s=60.0).start().drive(7_200, 12.0)  # 10 steps of 720 m
    arrays = TrackArrays.from_points(track.points)
    analysis = analyze_track(arrays, cap_mps=20.0, with_states=False)
    stats = analysis.stats
    fast = {gap_key(s): 2.0 * s.distance_m for s in stats.road_steps[3:6]}  # 24 m/s
    stored = with_roads_across_gaps(stats, fast).to_dict()
    assert stored["over_cap_s"] == pytest.approx(180.0)
    assert float(max(analysis.speed_mps)) == pytest.approx(12.0, rel=0.02)  # the lines
    assert not analysis.over_cap.any()

    shown = shown_along_road(analysis, arrays.t, stored)
    assert float(max(shown.speed_mps)) == pytest.approx(stored["max_speed_mps"], abs=0.01)
    assert shown.over_cap.tolist() == [3 <= i <= 6 for i in range(11)]  # the 3 steps' fixes
    assert (shown.speed_mps >= analysis.speed_mps).all()  # only raised, never lowered
    assert shown_along_road(analysis, arrays.t, stats.to_dict()) is analysis  # no roads


def test_a_dense_logs_gap_is_crossed_at_most_a_little_faster_than_the_truck_went():
    """The road checked across a dense log's gap in recording must fit the truck's pace
    around it (30 % over the fastest 10 s within a minute either side, or the gap's line):
    the fastest car road at 90 mph fitted any gap, and a Kei drive's 92 s gap read
    "possibly on a highway" from a detour along a trunk."""
    from kei_drive.core.track import TrackArrays
    from kei_drive.routing.gap_highways import STEP_MAX_SPEED_MPS, pace_across_gaps

    track = TrackBuilder().start().drive(1_200, 12.0).hidden(90, 12.0).drive(600, 8.0)
    arrays = TrackArrays.from_points(track.points)
    (gap,) = [(i, i + 1) for i in range(len(arrays) - 1) if arrays.t[i + 1] - arrays.t[i] > 60]
    assert pace_across_gaps(arrays, [gap])[gap] == pytest.approx(1.3 * 12.0, rel=0.01)
    parked = TrackBuilder().start().stop(120, 0.0).hidden(90, 20.0).stop(120, 0.0)
    arrays = TrackArrays.from_points(parked.points)
    (gap,) = [(i, i + 1) for i in range(len(arrays) - 1) if arrays.t[i + 1] - arrays.t[i] > 60]
    assert pace_across_gaps(arrays, [gap])[gap] == pytest.approx(1.3 * 1800 / 91, rel=0.01)  # line
    fast = TrackBuilder().start().drive(3_000, 38.0).hidden(90, 38.0).drive(3_000, 38.0)
    arrays = TrackArrays.from_points(fast.points)
    (gap,) = [(i, i + 1) for i in range(len(arrays) - 1) if arrays.t[i + 1] - arrays.t[i] > 60]
    assert pace_across_gaps(arrays, [gap])[gap] == STEP_MAX_SPEED_MPS
