"""Synthetic GPS tracks of known length for trip tests (seeded, deterministic).

Tracks run along meridians (heading north or south), where the great-circle distance
is exactly the latitude difference, so the true length is known to the millimetre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from kei_drive.core.distance import EARTH_RADIUS_M
from kei_drive.core.gpx import TrackPoint

M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
T0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)


@dataclass
class TrackBuilder:
    lat: float = 40.0
    lon: float = -105.0
    t: datetime = T0
    interval_s: float = 1.0
    accuracy_m: float | None = 5.0
    seed: int = 0
    points: list[TrackPoint] = field(default_factory=list)
    true_distance_m: float = 0.0
    moving_s: float = 0.0

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def _noise(self, jitter_m: float) -> tuple[float, float]:
        if not jitter_m:
            return 0.0, 0.0
        dy, dx = self._rng.normal(0.0, jitter_m, 2)
        return dy / M_PER_DEG_LAT, dx / (M_PER_DEG_LAT * math.cos(math.radians(self.lat)))

    def _fix(self, jitter_m: float, speed: float | None = None, timed: bool = True) -> None:
        dlat, dlon = self._noise(jitter_m)
        self.points.append(
            TrackPoint(
                self.lat + dlat,
                self.lon + dlon,
                self.t if timed else None,
                accuracy_m=self.accuracy_m,
                speed_mps=speed,
            )
        )

    def start(self, jitter_m: float = 0.0) -> TrackBuilder:
        self._fix(jitter_m)
        return self

    def drive(
        self,
        distance_m: float,
        speed_mps: float,
        north: bool = True,
        jitter_m: float = 0.0,
        report_speed: bool = False,
        timed: bool = True,
    ) -> TrackBuilder:
        """Drive along the meridian, one fix every ``interval_s`` (last step shortened)."""
        step = speed_mps * self.interval_s
        steps = math.ceil(distance_m / step - 1e-9)
        for i in range(steps):
            this = min(step, distance_m - i * step)
            self.lat += (this if north else -this) / M_PER_DEG_LAT
            self.t += timedelta(seconds=this / speed_mps)
            self._fix(jitter_m, speed_mps if report_speed else None, timed)
        self.true_distance_m += distance_m
        self.moving_s += distance_m / speed_mps
        return self

    def stop(self, duration_s: float, jitter_m: float = 3.0) -> TrackBuilder:
        """Parked with the phone still logging: fixes scatter around one spot."""
        for _ in range(int(duration_s / self.interval_s)):
            self.t += timedelta(seconds=self.interval_s)
            self._fix(jitter_m)
        return self

    def hidden(self, duration_s: float, speed_mps: float) -> TrackBuilder:
        """Keep driving north with no fixes (page hidden): a gap in recording."""
        distance = speed_mps * duration_s
        self.lat += distance / M_PER_DEG_LAT
        self.t += timedelta(seconds=duration_s)
        self.true_distance_m += distance
        self.moving_s += duration_s
        return self

    def glitch(self, lat: float, lon: float) -> TrackBuilder:
        """One bogus fix far away, at the next tick; position does not change."""
        self.t += timedelta(seconds=self.interval_s)
        self.points.append(TrackPoint(lat, lon, self.t, accuracy_m=self.accuracy_m))
        return self


def straight_drive(distance_m: float = 10_000.0, speed_mps: float = 15.0, **kw) -> TrackBuilder:
    return TrackBuilder(**kw).start().drive(distance_m, speed_mps)


def meridian_points(n: int, spacing_m: float = 10.0, interval_s: float = 1.0) -> list[TrackPoint]:
    """``n`` evenly spaced timed fixes heading north (for benchmarks)."""
    return [
        TrackPoint(
            40.0 + i * spacing_m / M_PER_DEG_LAT,
            -105.0,
            T0 + timedelta(seconds=i * interval_s),
            accuracy_m=5.0,
        )
        for i in range(n)
    ]


# ------------------------------------------------------------------ database fixtures

POSTGRES_ENV = "KEI_DRIVE_TEST_POSTGRES_URL"


def _reset_postgres(url: str) -> None:
    """Empty the test database (it is a throwaway one: scripts/start_postgres.sh)."""
    import sqlalchemy as sa

    from kei_drive.db import get_engine

    with get_engine(url).begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    get_engine(url).dispose()
    del sa


def fresh_db_url(kind: str, tmp_path) -> str:
    """An empty database of ``kind`` ("sqlite" file in tmp_path, or "postgresql" from
    $KEI_DRIVE_TEST_POSTGRES_URL; skipped when unset, a failure under CI=true)."""

    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'kei_drive_test.db'}"
    from tests.conftest import require_env

    url = require_env(POSTGRES_ENV, "postgresql")
    _reset_postgres(url)
    return url


def drive_path(
    waypoints: list[tuple[float, float]],
    speed_mps: float = 10.0,
    *,
    interval_s: float = 1.0,
    noise_m: float = 0.0,
    accuracy_m: float | None = None,
    seed: int = 0,
    t0: datetime = T0,
) -> tuple[list[TrackPoint], float]:
    """Fixes along a polyline of (lat, lon) waypoints at a constant speed, with optional
    Gaussian noise (``noise_m`` per axis). Returns the fixes and the path's true length."""
    from kei_drive.core.distance import haversine_m

    rng = np.random.default_rng(seed)
    pts = np.asarray(waypoints, dtype=float)
    seg = haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    at = np.arange(0.0, cum[-1] + 1e-9, speed_mps * interval_s)
    if at[-1] < cum[-1]:
        at = np.append(at, cum[-1])
    lat = np.interp(at, cum, pts[:, 0])
    lon = np.interp(at, cum, pts[:, 1])
    if noise_m:
        lat = lat + rng.normal(0.0, noise_m, lat.size) / M_PER_DEG_LAT
        lon = lon + rng.normal(0.0, noise_m, lon.size) / (
            M_PER_DEG_LAT * math.cos(math.radians(float(pts[0, 0])))
        )
    fixes = [
        TrackPoint(
            float(a), float(b), t0 + timedelta(seconds=float(d) / speed_mps), accuracy_m=accuracy_m
        )
        for a, b, d in zip(lat, lon, at, strict=True)
    ]
    return fixes, float(cum[-1])
