"""Narrow-first map-matching (issue 11, big files): a chunk is matched searching 20 m
around each fix where the track runs straight, and again at the full radius (50 m) when
that match may not be the full one's. The audit must be the full radius's either way.

The real engine on the synthetic network (tests/support/osm_synth.py) and on the real
Baltimore extract; the requests are counted by a thin wrapper around the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kei_drive.core.trips import TrackArrays
from kei_drive.routing import KeiOptions, track_check
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.polyline import decode
from kei_drive.routing.tiles import build_tiles
from kei_drive.routing.track_check import check_track
from kei_drive.routing.valhalla_local import LocalValhallaRouter
from tests.conftest import missing
from tests.support.osm_synth import shared_fixture, synth_tiles
from tests.support.trips import drive_path

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")
A, B = (39.2850, -76.6050), (39.3040, -76.5320)  # downtown to the north-east (uses I 95)
# On the synthetic network: a grid street, I 99 up its ramps, a grid street again.
VIA_MOTORWAY = [
    (41.9550, -77.0100),
    (41.9500, -77.0100),
    (41.9500, -77.0000),
    (41.9900, -77.0000),
    (41.9900, -77.0100),
    (41.9850, -77.0100),
]


class CountingRouter:
    """The real engine; counts the map-matching requests, narrow (with per-fix radii) or
    full. No ``lanes``: chunks are matched in order on this one engine."""

    lanes = None

    def __init__(self, router: LocalValhallaRouter) -> None:
        self.router = router
        self.name = router.name
        self.narrow = self.full = 0

    def trace_attributes(self, request: dict) -> dict:
        if any("radius" in point for point in request["shape"]):
            self.narrow += 1
        else:
            self.full += 1
        return self.router.trace_attributes(request)

    def __getattr__(self, name: str):
        return getattr(self.router, name)


def _route(router: LocalValhallaRouter, a, b) -> list[tuple[float, float]]:
    answer = router.route(kc.route_request(a, b, KeiOptions(), hard=False))
    return decode(answer["trip"]["legs"][0]["shape"])


def _audit(result) -> dict:
    data = result.to_dict()
    return {key: data[key] for key in ("distance_m", "legal", "warnings", "matched_share")}


def _full_radius_audit(track: TrackArrays, router, monkeypatch) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(track_check, "NARROW_RADIUS_M", 1e9)  # never narrower than full
        return _audit(check_track(track, router=router))


def _beside(fixes, metres: float) -> TrackArrays:
    """The fixes moved ``metres`` to the right of their way (a logger that reads off)."""
    track = TrackArrays.from_points(fixes)
    lat, lon = track.lat.copy(), track.lon.copy()
    k = 111_320.0
    east = np.gradient(lon) * k * math.cos(math.radians(float(lat[0])))
    north = np.gradient(lat) * k
    norm = np.hypot(east, north)
    lat -= east / norm * metres / k
    lon += north / norm * metres / (k * math.cos(math.radians(float(lat[0]))))
    return TrackArrays.from_columns(lat, lon, t=track.t, accuracy=track.accuracy)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> LocalValhallaRouter:
    return LocalValhallaRouter(synth_tiles(tmp_path_factory))


@pytest.fixture(scope="module")
def baltimore(tmp_path_factory) -> LocalValhallaRouter:
    if not BALTIMORE.is_file():
        missing(f"the real OSM extract {BALTIMORE}", "fixtures")
    out = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def test_a_clean_drive_is_matched_narrow_with_the_full_radius_audit(baltimore, monkeypatch):
    """Downtown, I 95 and back on real roads, 3 m of noise: most chunks' narrow match holds
    (one request; the turn back at B is matched again) and the audit is the full
    radius's to the metre."""
    there, back = _route(baltimore, A, B), _route(baltimore, B, A)
    fixes, _ = drive_path(there + back[1:], 15.0, noise_m=3.0, accuracy_m=3.0, seed=1)
    track = TrackArrays.from_points(fixes)
    counting = CountingRouter(baltimore)
    narrow = _audit(check_track(track, router=counting))
    assert counting.full < counting.narrow
    assert narrow == _full_radius_audit(track, baltimore, monkeypatch)
    assert any(w["kind"] == "highway" for w in narrow["warnings"])


@pytest.mark.parametrize("metres", [30.0, 40.0])
def test_a_track_beside_its_road_is_matched_again_at_the_full_radius(synth, monkeypatch, metres):
    """A logger reading 30-40 m off its road (towns, trees): beyond the narrow radius, so
    the narrow match leaves fixes unmatched and the chunk is matched again at 50 m; the
    audit is the full radius's (I 99 found, the whole track matched)."""
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5.0)
    track = _beside(fixes, metres)
    counting = CountingRouter(synth)
    narrow = _audit(check_track(track, router=counting))
    assert counting.narrow >= 1 and counting.full >= 1
    assert narrow == _full_radius_audit(track, synth, monkeypatch)
    assert narrow["matched_share"] == 1.0
    assert [w["kind"] for w in narrow["warnings"]].count("highway") == 1


def test_a_noisy_log_is_matched_at_the_full_radius_only(synth):
    """Fixes with a typical error of 12 m: five of them (60 m) reach past the full radius,
    so nothing is narrower and each chunk is matched once, at 50 m or more."""
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, noise_m=12.0, accuracy_m=12.0, seed=3)
    counting = CountingRouter(synth)
    check_track(TrackArrays.from_points(fixes), router=counting)
    assert counting.narrow == 0 and counting.full >= 1
