"""Unit conversions and vectorised distances."""

import math

import numpy as np
import pytest
from geopy.distance import geodesic

from kei_drive.core import distance, units


def test_speed_conversions_round_trip():
    assert units.mph_to_mps(30) == pytest.approx(13.4112)
    assert units.mps_to_mph(13.41) == pytest.approx(29.997, abs=1e-3)
    assert units.mps_to_kmh(13.41) == pytest.approx(48.276)
    assert units.kmh_to_mps(units.mps_to_kmh(7.5)) == pytest.approx(7.5)
    assert units.mph_to_kmh(45) == pytest.approx(72.42, abs=0.01)


def test_haversine_close_to_geodesic():
    # Baltimore to Philadelphia: haversine on the mean sphere is within 0.3 % of WGS84.
    a, b = (39.2904, -76.6122), (39.9526, -75.1652)
    exact = geodesic(a, b).meters
    assert distance.haversine_m(*a, *b) == pytest.approx(exact, rel=3e-3)


def test_cumulative_distance_along_a_line():
    lats = np.array([39.0, 39.001, 39.002, 39.002])
    lons = np.array([-77.0, -77.0, -77.0, -77.0])
    cumulative = distance.cumulative_m(lats, lons)
    assert cumulative[0] == 0
    assert cumulative[-1] == pytest.approx(2 * 111.195, rel=1e-3)
    assert cumulative[-1] == cumulative[-2]  # a repeated point adds nothing
    assert distance.segment_lengths_m([39.0], [-77.0]).size == 0


def test_haversine_is_vectorised_and_nan_propagates():
    result = distance.haversine_m([0, 0], [0, 0], [0, math.nan], [1, 1])
    assert result[0] == pytest.approx(111_195, rel=1e-3)
    assert math.isnan(result[1])
