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

    def stop(
        self, duration_s: float, jitter_m: float = 3.0, report_speed: bool = False
    ) -> TrackBuilder:
        """Parked with the phone still logging: fixes scatter around one spot (with a speed
        of 0 when ``report_speed``)."""
        for _ in range(int(duration_s / self.interval_s)):
            self.t += timedelta(seconds=self.interval_s)
            self._fix(jitter_m, 0.0 if report_speed else None)
        return self

    def wind(
        self, distance_m: float, speed_mps: float, leg_m: float = 100.0, angle_deg: float = 55.0
    ) -> TrackBuilder:
        """Drive a winding road north, reporting the speed: legs of ``leg_m`` at
        ``angle_deg`` east and west of north in turn, so fixes far apart along the road are
        ``cos(angle_deg)`` of it apart in a straight line (57 % at 55 degrees)."""
        angle = math.radians(angle_deg)
        lat0, lon0 = self.lat, self.lon
        m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
        step = speed_mps * self.interval_s
        for i in range(1, math.ceil(distance_m / step - 1e-9) + 1):
            along = min(i * step, distance_m)
            leg, into = divmod(along, leg_m)
            east = math.sin(angle) * (into if leg % 2 == 0 else leg_m - into)
            self.lat = lat0 + along * math.cos(angle) / M_PER_DEG_LAT
            self.lon = lon0 + east / m_per_deg_lon
            self.t += timedelta(seconds=(along - min((i - 1) * step, distance_m)) / speed_mps)
            self._fix(0.0, speed_mps)
        self.true_distance_m += distance_m
        self.moving_s += distance_m / speed_mps
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
    noise_tau_s: float = 0.0,
) -> tuple[list[TrackPoint], float]:
    """Fixes along a polyline of (lat, lon) waypoints at a constant speed, with optional
    Gaussian noise (``noise_m`` per axis; with ``noise_tau_s``, correlated over that many
    seconds as a phone's error is: AR(1)). Returns the fixes and the path's true length."""
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
        north, east = rng.normal(0.0, noise_m, (2, lat.size))
        if noise_tau_s:
            keep = math.exp(-interval_s / noise_tau_s)
            for k in range(1, lat.size):  # stationary: the spread stays noise_m
                north[k] = keep * north[k - 1] + math.sqrt(1 - keep * keep) * north[k]
                east[k] = keep * east[k - 1] + math.sqrt(1 - keep * keep) * east[k]
        lat = lat + north / M_PER_DEG_LAT
        lon = lon + east / (M_PER_DEG_LAT * math.cos(math.radians(float(pts[0, 0]))))
    fixes = [
        TrackPoint(
            float(a), float(b), t0 + timedelta(seconds=float(d) / speed_mps), accuracy_m=accuracy_m
        )
        for a, b, d in zip(lat, lon, at, strict=True)
    ]
    return fixes, float(cum[-1])


def winding_road(
    radius_m: float, turn_deg: float, straight_m: float, curves: int = 60, seed: int = 0
) -> list[tuple[float, float]]:
    """(lat, lon) every metre of a road of bends of ``radius_m`` turning ``turn_deg``
    (+-30 %) left and right in turn, joined by straights of ``straight_m`` (+-50 %): S-bends,
    or with 180 degrees a mountain road's hairpins."""
    rng = np.random.default_rng(seed)
    x, y, heading, side = [0.0], [0.0], 0.0, 1.0
    for _ in range(curves):
        for _ in range(1, int(straight_m * rng.uniform(0.5, 1.5))):
            x.append(x[-1] + math.cos(heading))
            y.append(y[-1] + math.sin(heading))
        turn = side * math.radians(turn_deg * rng.uniform(0.7, 1.3))
        arc = abs(turn) * radius_m
        parts = max(int(arc), 2)
        for _ in range(parts):
            heading += turn / parts
            x.append(x[-1] + math.cos(heading) * arc / parts)
            y.append(y[-1] + math.sin(heading) * arc / parts)
        side = -side
    per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(37.0))
    return [
        (37.0 + north / M_PER_DEG_LAT, -83.0 + east / per_deg_lon)
        for east, north in zip(x, y, strict=True)
    ]


@dataclass(frozen=True)
class PhoneDrive:
    """A phone-like log of a drive of known length (``city_drive``)."""

    lat: np.ndarray
    lon: np.ndarray
    t: np.ndarray
    accuracy: np.ndarray
    speed: np.ndarray  # Doppler-like: the true speed with 0.2 m/s of noise
    true_m: float
    moving_s: float  # seconds with the truck moving


def _speed_profile(rng: np.random.Generator, kind: str, duration_s: float) -> np.ndarray:
    """Speed every 0.1 s: cycles of speeding up (1.5 m/s2), cruising, braking (2 m/s2) and
    standing; "city" 10-14 m/s, "stopgo" 4-10 m/s, "crawl" (a queue) 1-3 m/s; "parked"
    never moves."""
    if kind == "parked":
        return np.zeros(int(duration_s * 10))
    tops = {"city": (10, 14, 10, 40, 0, 30), "stopgo": (4, 10, 3, 15, 3, 25)}
    tops["crawl"] = (1, 3, 2, 8, 2, 10)
    v_lo, v_hi, c_lo, c_hi, s_lo, s_hi = tops[kind]
    out: list[float] = []
    while len(out) < duration_s * 10:
        top, cruise, stand = (
            rng.uniform(v_lo, v_hi),
            rng.uniform(c_lo, c_hi),
            rng.uniform(s_lo, s_hi),
        )
        out += list(np.arange(0.15, top, 0.15)) + [top] * int(cruise * 10)
        out += list(np.arange(top, 0.0, -0.2)[1:]) + [0.0] * int(stand * 10)
    return np.asarray(out[: int(duration_s * 10)])


def city_drive(
    seed: int,
    kind: str = "city",
    *,
    duration_s: float = 900.0,
    interval_s: float = 1.0,
    wander_m: float = 3.0,
    white_m: float = 1.0,
    road: str = "grid",
) -> PhoneDrive:
    """A drive through a street grid (blocks of 90-210 m, right-angle turns of 8 m radius)
    as a phone logs it: position error that wanders (AR(1), ``wander_m`` per axis, 20 s)
    plus ``white_m`` of white noise, a Doppler speed and a reported accuracy of 5 m.
    ``road="hairpins"``: a mountain road instead, legs of 60-140 m joined by hairpin
    turns (180 degrees, 15 m radius) to the left and right in turn."""
    rng = np.random.default_rng(seed)
    speed = _speed_profile(rng, kind, duration_s)
    along = np.concatenate(([0.0], np.cumsum(speed[:-1] * 0.1)))
    leg_m, radius_m, quarter_turns = (150, 8, 1) if road == "grid" else (100, 15, 2)
    xy, heading, side = [np.zeros(2)], 0.0, 1.0
    while len(xy) < along[-1] + 400:  # ~1 m apart
        direction = np.array([np.cos(heading), np.sin(heading)])
        xy += [xy[-1] + direction * k for k in range(1, int(leg_m * rng.uniform(0.6, 1.4)))]
        side = rng.choice([-1.0, 1.0]) if road == "grid" else -side
        turn = side * quarter_turns * np.pi / 2
        arc = abs(turn) * radius_m
        for k in range(1, 13 * quarter_turns):
            h = heading + turn * k / (13 * quarter_turns - 1)
            xy.append(xy[-1] + np.array([np.cos(h), np.sin(h)]) * arc / (13 * quarter_turns - 1))
        heading += turn
    path = np.asarray(xy)
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))))
    every = int(round(interval_s * 10))
    at, v = along[::every], speed[::every]
    n = at.size
    fade = np.exp(-interval_s / 20.0)
    error = np.zeros((n, 2))
    error[0] = rng.normal(0, wander_m, 2)
    kicks = rng.normal(0, wander_m * np.sqrt(1 - fade * fade), (n, 2))
    for k in range(1, n):
        error[k] = fade * error[k - 1] + kicks[k]
    error += rng.normal(0, white_m, (n, 2))
    east = np.interp(at, cum, path[:, 0]) + error[:, 0]
    north = np.interp(at, cum, path[:, 1]) + error[:, 1]
    per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(39.3))
    return PhoneDrive(
        lat=39.3 + north / M_PER_DEG_LAT,
        lon=-76.6 + east / per_deg_lon,
        t=T0.timestamp() + np.arange(n) * interval_s,
        accuracy=np.full(n, 5.0),
        speed=np.abs(v + rng.normal(0, 0.2, n)),
        true_m=float(at[-1] - at[0]),
        moving_s=float(np.count_nonzero(speed > 0) * 0.1),
    )
