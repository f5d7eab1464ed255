"""Vectorised great-circle distances (numpy haversine).

Haversine on a mean-radius sphere is within ~0.3% of the WGS84 geodesic and
~1000x faster than geopy's geodesic over 10k segments; use geopy where a single
exact distance matters.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray:
    """Distance in metres between points (degrees), element-wise."""
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    # np.minimum/np.maximum: the same as np.clip, without its Python wrapper's cost
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(np.maximum(a, 0.0), 1.0)))


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """``haversine_m`` for one pair of points, without numpy's per-call overhead."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The direction from the first point to the second, degrees clockwise from north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlam = math.radians(lon2 - lon1)
    y = math.sin(dlam) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlam)
    return math.degrees(math.atan2(y, x)) % 360.0


def bearings_deg(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray:
    """``initial_bearing_deg`` element-wise (a point to itself: 0)."""
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    dlam = lam2 - lam1
    y = np.sin(dlam) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    return np.degrees(np.arctan2(y, x)) % 360.0


def segment_lengths_m(lats: ArrayLike, lons: ArrayLike) -> NDArray:
    """Lengths of the n-1 segments of a polyline."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    if lats.size < 2:
        return np.zeros(0)
    return haversine_m(lats[:-1], lons[:-1], lats[1:], lons[1:])


def cumulative_m(lats: ArrayLike, lons: ArrayLike) -> NDArray:
    """Distance along a polyline at each vertex, starting at 0."""
    lengths = segment_lengths_m(lats, lons)
    return np.concatenate(([0.0], np.cumsum(lengths)))
