"""Narrow-first matching's two rules (routing/track_check): which fixes search narrow, and
when a narrow match is kept rather than matched again at the full radius."""

from __future__ import annotations

import math

import numpy as np

from kei_drive.routing.track_check import (
    NARROW_END_FIXES,
    NARROW_RADIUS_M,
    _narrow_match_holds,
    _narrow_radii,
)

M_PER_DEG = 111_320.0


def _line(n: int, spacing_m: float = 100.0, turn_at: int | None = None):
    """``n`` fixes ``spacing_m`` apart heading north, turning east at ``turn_at``."""
    north, east = [0.0], [0.0]
    for k in range(1, n):
        if turn_at is not None and k > turn_at:
            north.append(north[-1])
            east.append(east[-1] + spacing_m)
        else:
            north.append(north[-1] + spacing_m)
            east.append(east[-1])
    lat = 39.3 + np.array(north) / M_PER_DEG
    lon = -76.6 + np.array(east) / (M_PER_DEG * math.cos(math.radians(39.3)))
    return lat, lon


def test_a_straight_track_searches_narrow_but_at_its_ends():
    radii = _narrow_radii(*_line(20), accuracy_m=3.0)
    assert radii is not None
    assert np.isnan(radii[:NARROW_END_FIXES]).all() and np.isnan(radii[-NARROW_END_FIXES:]).all()
    assert (radii[NARROW_END_FIXES:-NARROW_END_FIXES] == NARROW_RADIUS_M).all()


def test_fixes_near_a_turn_search_the_full_radius():
    radii = _narrow_radii(*_line(30, turn_at=15), accuracy_m=3.0)
    assert radii is not None
    wide = np.flatnonzero(np.isnan(radii[NARROW_END_FIXES:-NARROW_END_FIXES])) + NARROW_END_FIXES
    assert wide.tolist() == [13, 14, 15, 16, 17]  # the turn, two fixes either side


def test_the_narrow_radius_grows_with_the_error_and_goes_when_not_narrower():
    assert np.nanmax(_narrow_radii(*_line(20), accuracy_m=6.0)) == 30.0
    assert _narrow_radii(*_line(20), accuracy_m=12.0) is None  # 60 m: past the full 50 m


def _answer(types, far, edge_of, edges):
    points = [
        {"type": t, "distance_from_trace_point": d, "edge_index": e}
        for t, d, e in zip(types, far, edge_of, strict=True)
    ]
    return {"matched_points": points, "edges": edges}


JOINED = [
    {"begin_shape_index": 0, "end_shape_index": 5},
    {"begin_shape_index": 5, "end_shape_index": 9},
]
BROKEN = [
    {"begin_shape_index": 0, "end_shape_index": 5},
    {"begin_shape_index": 6, "end_shape_index": 9},
]
N = float("nan")


def test_a_narrow_match_well_inside_its_radius_holds():
    radii = np.array([N, 20, 20, 20, N])
    answer = _answer(["matched"] * 5, [1, 5, 14, 3, 40], [0, 0, 0, 1, 1], JOINED)
    assert _narrow_match_holds(answer, radii)


def test_a_narrow_fix_unmatched_or_far_out_is_matched_again():
    radii = np.array([N, 20, 20, 20, N])
    unmatched = _answer(
        ["matched", "matched", "unmatched", "matched", "matched"],
        [1, 5, 0, 3, 4],
        [0, 0, 2**64 - 1, 1, 1],
        JOINED,
    )
    assert not _narrow_match_holds(unmatched, radii)
    far = _answer(["matched"] * 5, [1, 5, 16, 3, 4], [0, 0, 0, 1, 1], JOINED)
    assert not _narrow_match_holds(far, radii)
    wide_unmatched = _answer(
        ["unmatched", "matched", "matched", "matched", "matched"],
        [0, 5, 5, 3, 4],
        [2**64 - 1, 0, 0, 1, 1],
        JOINED,
    )
    assert _narrow_match_holds(wide_unmatched, radii)  # searched at the full radius already


def test_a_break_between_narrow_fixes_is_matched_again_not_one_between_wide_fixes():
    answer = _answer(["matched"] * 5, [1, 2, 2, 2, 1], [0, 0, 0, 1, 1], BROKEN)
    assert not _narrow_match_holds(answer, np.array([N, 20, 20, 20, N]))
    assert _narrow_match_holds(answer, np.array([N, 20, N, N, N]))  # a U-turn's wide fixes
