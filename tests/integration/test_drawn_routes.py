"""A drawn route of a point at each turn is audited along the roads between its points
(``routing.drawn_routes``), on the synthetic network and the real engine."""

from __future__ import annotations

import numpy as np
import pytest

from kei_drive.core.track import TrackArrays
from kei_drive.routing import check_track, get_router
from tests.support.osm_synth import place, synth_tiles


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


def test_points_along_one_street_follow_it_and_close_ones_are_left_as_drawn(router):
    """Points 400 m apart on Center Street are followed along it (the same length as
    drawn); points 80 m apart are the road already (no request, no note)."""
    far = [(41.9700, -77.0490 + 0.005 * k) for k in range(8)]  # 7 steps of ~415 m
    result = check_track(_drawn(far), router=router)
    assert any("7 of the route's 7 steps" in note for note in result.notes)
    assert result.to_dict()["distance_m"] == pytest.approx(2_900, rel=0.02)
    assert result.matched_share == pytest.approx(1.0)
    close = [(41.9700, -77.0490 + 0.001 * k) for k in range(30)]
    result = check_track(_drawn(close), router=router)
    assert not any("followed along" in note for note in result.notes)
    assert result.to_dict()["distance_m"] == pytest.approx(2_400, rel=0.02)


@pytest.mark.parametrize(
    "beyond",
    [(41.9000, -77.0300), (41.9700, -76.7200)],  # a field with no road within 100 m; no map
)
def test_a_point_off_the_map_keeps_its_line_and_no_road_is_invented(router, beyond):
    """The engine would take the nearest road up to 35 km away: an end past the map's edge
    was routed onto a motorway. Off the map (no road within 100 m, or no tile), the line
    stays and is said to be off any mapped road."""
    result = check_track(_drawn([place("grid_mid"), beyond]), router=router)
    assert not any("followed along" in note for note in result.notes)
    assert "highway" not in {w.kind for w in result.warnings}
    assert result.matched_share < 0.5


def test_long_steps_past_the_limit_are_named_not_left_silently(router, monkeypatch):
    """Only the first ``DRAWN_STEPS_MAX`` long steps are routed (the work for one route);
    the rest keep their straight lines, and the note says how many, instead of nothing."""
    from kei_drive.routing import drawn_routes

    monkeypatch.setattr(drawn_routes, "DRAWN_STEPS_MAX", 3)
    far = [(41.9700, -77.0490 + 0.005 * k) for k in range(8)]  # 7 steps of ~415 m
    result = check_track(_drawn(far), router=router)
    note = next(note for note in result.notes if "followed along" in note)
    assert "3 of the route's 7 steps" in note
    assert "4 steps over 100 m after the first 3 were left as straight lines" in note
