"""Unit conversions used everywhere (SI inside, mph/km/h/miles at the edges)."""

from __future__ import annotations

MPS_PER_MPH = 0.44704  # exact: 1 mile = 1609.344 m
MPS_PER_KMH = 1 / 3.6
METERS_PER_MILE = 1609.344


def mps_to_mph(speed_mps: float) -> float:
    return speed_mps / MPS_PER_MPH


def mps_to_kmh(speed_mps: float) -> float:
    return speed_mps * 3.6


def mph_to_mps(speed_mph: float) -> float:
    return speed_mph * MPS_PER_MPH


def kmh_to_mps(speed_kmh: float) -> float:
    return speed_kmh / 3.6


def mph_to_kmh(speed_mph: float) -> float:
    return mps_to_kmh(mph_to_mps(speed_mph))
