"""What checking a sparse log costs (``track_check``: its long steps matched, the fastest road
between its fixes checked for highway by ``routing.gap_highways.step_highways``), on real
Baltimore roads (figures, not pass/fail).

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_sparse_check.py

The bench route (downtown to the north-east along I 95, and back), driven at 13 m/s for 24 h
and logged every 60, 120 and 300 s with 5 m of noise: ``check_track`` in process (wall and
CPU), with the number of steps checked.

2026-12-05 (session 26), quiet machine: see docs/performance.md, "Session 26".
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.osm_synth import shared_fixture

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")
A, B = (39.2850, -76.6050), (39.3040, -76.5320)  # as bench_big_gpx
HOURS = 24.0
SPEED_MPS = 13.0


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    from kei_drive.routing.tiles import build_tiles
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    if not BALTIMORE.is_file():
        pytest.skip(f"real OSM extract not available at {BALTIMORE}")
    out: Path = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("every_s", [60.0, 120.0, 300.0])
def test_bench_check_a_days_sparse_log(router, every_s):
    from kei_drive.core.distance import cumulative_m
    from kei_drive.core.track import TrackArrays
    from kei_drive.routing import KeiOptions
    from kei_drive.routing import kei_costing as kc
    from kei_drive.routing.polyline import decode
    from kei_drive.routing.track_check import _cut, _sparse_steps, check_track

    legs = [
        np.array(
            decode(
                router.route(kc.route_request(a, b, KeiOptions(), hard=False))["trip"]["legs"][0][
                    "shape"
                ]
            )
        )
        for a, b in ((A, B), (B, A))
    ]
    loop = np.vstack(legs)
    cum = cumulative_m(loop[:, 0], loop[:, 1])
    n = int(HOURS * 3600 / every_s)
    along = (np.arange(n) * SPEED_MPS * every_s) % cum[-1]
    rng = np.random.default_rng(1)
    lat = np.interp(along, cum, loop[:, 0]) + rng.normal(0, 5, n) / 111_195
    lon = np.interp(along, cum, loop[:, 1]) + rng.normal(0, 5, n) / 86_000
    track = TrackArrays.from_columns(lat, lon, t=1.7e9 + every_s * np.arange(n))
    steps = len(_sparse_steps(track, _cut(track)))
    check_track(track.take(slice(0, 3)), router=router)  # the engine loaded
    wall, cpu = time.perf_counter(), _cpu_s()
    result = check_track(track, router=router)
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    print(
        f"\n{HOURS:.0f} h logged every {every_s:.0f} s: {n} fixes, {steps} steps checked, "
        f"check_track {wall:.1f} s (CPU {cpu:.1f} s, {1000 * wall / max(steps, 1):.1f} ms a "
        f"step), matched {result.matched_share:.1%}, legal {result.legal}"
    )
    assert result.matched_share > 0.9
