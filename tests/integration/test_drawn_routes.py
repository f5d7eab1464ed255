"""A drawn route of a point at each turn is audited along the roads between its points
(``routing.drawn_routes``), on the synthetic network and the real engine."""

from __future__ import annotations

import numpy as np
import pytest

from kei_drive.core.track import TrackArrays
from kei_drive.routing import check_track, get_router
from tests.support.osm_synth import synth_tiles


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    return get_router(synth_tiles(tmp_path_factory))


def _drawn(points: list[tuple[float, float]]) -> TrackArrays:
    lat, lon = (np.array(column) for column in zip(*points, strict=True))
    return TrackArrays.from_columns(lat, lon, accuracy=np.zeros(lat.size))


def test_two_turn_points_across_the_motorway_follow_the_bridge(router):
    """From the grid to East Street: the roads go north a block and over the motorway on
    Bridge Street (3.1 km); the 2.2 km chord crosses the motorway and fields, and read 100 %
    "not near any mapped road" before."""
    result = check_track(_drawn([(41.9550, -77.0100), (41.9680, -76.9900)]), router=router)
    assert result.matched_share == pytest.approx(1.0)
    assert result.to_dict()["distance_m"] == pytest.approx(3_100, rel=0.03)
    kinds = {w.kind for w in result.warnings}
    assert "highway" not in kinds and "unknown_speed_limit" not in kinds
    assert any("followed along the shortest road" in note for note in result.notes)


def test_a_route_drawn_along_its_roads_is_left_as_drawn(router):
    """Points along one street (each step its road): nothing to follow, no note."""
    along = [(41.9700, -77.0490 + 0.002 * k) for k in range(20)]  # Center Street, 170 m steps
    result = check_track(_drawn(along), router=router)
    assert not any("followed along" in note for note in result.notes)
    assert result.to_dict()["distance_m"] == pytest.approx(3_150, rel=0.02)
