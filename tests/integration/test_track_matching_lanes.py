"""A long track is matched in short chunks, two engines side by side (issue 11, big files):
the audit must be what one engine matching long chunks in order finds, on a real network.

Real OSM (Baltimore extract): a car drive downtown -> north-east along I 95 and back,
three times over (~50 km, 1 Hz, 5 m noise), so the matcher sees several chunks.
"""

from __future__ import annotations

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
from tests.support.osm_synth import shared_fixture
from tests.support.trips import drive_path

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")
A, B = (39.2850, -76.6050), (39.3040, -76.5320)  # downtown to the north-east (uses I 95)


@pytest.fixture(scope="module")
def baltimore(tmp_path_factory) -> LocalValhallaRouter:
    if not BALTIMORE.is_file():
        missing(f"the real OSM extract {BALTIMORE}", "fixtures")
    out = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def _highway_m(result) -> float:
    return sum(w.to_m - w.from_m for w in result.warnings if w.kind == "highway")


def test_chunked_two_engine_audit_equals_one_engine_long_chunks(baltimore, monkeypatch):
    answer = baltimore.route(kc.route_request(A, B, KeiOptions(), hard=False))
    route = decode(answer["trip"]["legs"][0]["shape"])
    loop = route + route[::-1][1:]
    fixes, _length = drive_path(loop * 3, 14.0, noise_m=5.0, accuracy_m=5.0, seed=11)
    track = TrackArrays.from_points(fixes)

    calls: list[int] = []
    real = track_check._match

    def counted(router, lat, *rest):
        calls.append(lat.size)
        return real(router, lat, *rest)

    monkeypatch.setattr(track_check, "_match", counted)
    monkeypatch.setattr(track_check, "MATCH_THREADS", 2)
    split = check_track(track, router=baltimore)
    assert len(calls) >= 4  # several chunks, matched by two engines

    calls.clear()
    monkeypatch.setattr(track_check, "MATCH_THREADS", 1)
    monkeypatch.setattr(track_check, "MATCH_CHUNK_POINTS", 4000)
    whole = check_track(track, router=baltimore)
    assert len(calls) == 1

    # Tolerances: a chunk boundary restarts the matcher, which may place the few fixes
    # around it differently (metres, not roads).
    assert split.report.distance_m == pytest.approx(whole.report.distance_m, rel=0.005)
    assert split.matched_share == pytest.approx(whole.matched_share, abs=0.01)
    assert [s.state for s in split.report.states] == [s.state for s in whole.report.states]
    assert _highway_m(split) == pytest.approx(_highway_m(whole), rel=0.02)
    assert _highway_m(whole) > 3 * 2 * 1000  # I 95 both ways, three times
    roads = {w.road for w in whole.warnings if w.kind == "highway"}
    assert {w.road for w in split.warnings if w.kind == "highway"} == roads
    assert any("I 95" in (r or "") for r in roads)
    assert split.legal == whole.legal
    assert np.isfinite(split.report.duration_s)


def test_matching_lanes_are_engines_of_their_own(baltimore):
    # An engine keeps the memory of its largest match: a long track is matched by engines
    # freed with their lanes, never by the shared engine a server keeps for every request.
    lanes = baltimore.lanes(2)
    assert len(lanes) == 2 and baltimore not in lanes
    engines = [lane._engine() for lane in lanes]
    assert engines[0][0] is not engines[1][0]
    assert all(engine[0] is not baltimore._engine()[0] for engine in engines)
