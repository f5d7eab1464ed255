"""Out-and-back spurs in a matched path (``routing.spurs.find_spurs``): pure geometry."""

from __future__ import annotations

import numpy as np

from kei_drive.routing.spurs import find_spurs

STEP = 0.0005  # degrees of latitude: ~56 m


def _north(*rows: float) -> np.ndarray:
    return np.array([(41.95 + r * STEP, -77.03) for r in rows])


def test_a_straight_path_has_no_spur():
    assert find_spurs(_north(0, 1, 2, 3)) == []


def test_up_a_side_street_and_back_is_one_spur_from_the_junction_to_the_return():
    east = np.array([(41.95, -77.03 + 0.0005)])
    path = np.concatenate((_north(0, 1, 2, 3, 2, 1), east))
    assert find_spurs(path) == [(1, 5)]


def test_a_turn_mid_edge_with_the_tip_repeated_is_found():
    assert find_spurs(_north(0, 1, 1.6, 1.6, 1, 2)) == [(1, 4)]


def test_round_the_block_is_no_spur():
    block = np.array([(41.95, -77.03), (41.955, -77.03), (41.955, -77.025), (41.95, -77.025),
                      (41.95, -77.03), (41.955, -77.03)])  # fmt: skip
    assert find_spurs(block) == []
