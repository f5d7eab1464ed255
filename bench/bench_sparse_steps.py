"""A sparse log's distance: straight lines between its fixes vs. its steps measured along
the road (``core.trips._road_steps``, ``core.gap_roads.step_roads``), on real Baltimore roads
(figures, not pass/fail).

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_sparse_steps.py

40 random routes across Baltimore (the engine's fastest, every other one avoiding
highways), driven at 18 m/s (or 11 m/s without highways), logged every 10-120 s with 5 m of
noise; drives under 3 km left out. The engine's own routes at a steady speed: a best case.

2026-12-05 (session 25), 31 drives an interval, mean |distance error| lines -> roads:
20 s 4.1 -> 1.6 %, 30 s 6.5 -> 0.8 %, 60 s 10.9 -> 1.9 %, 90 s 15.9 -> 4.5 %,
120 s 17.2 -> 4.4 %; closer on all but one (90 s: the same), further on none (10 s logs have
no steps). Routing: ~1 ms a request, two requests a step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.osm_synth import shared_fixture
from tests.support.trips import drive_path

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")
INTERVALS_S = (10, 20, 30, 60, 90, 120)


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    from kei_drive.routing.tiles import build_tiles
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    if not BALTIMORE.is_file():
        pytest.skip(f"real OSM extract not available at {BALTIMORE}")
    out: Path = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def test_bench_sparse_log_distance_lines_vs_roads(router):
    from kei_drive.core.gap_roads import with_roads_across_gaps
    from kei_drive.core.trips import compute_stats
    from kei_drive.routing.base import RoutingError
    from kei_drive.routing.gap_roads import roads_across_gaps
    from kei_drive.routing.polyline import decode_array

    rng = np.random.default_rng(1)
    rows = []
    for seed in range(40):
        a = (39.25 + rng.random() * 0.08, -76.70 + rng.random() * 0.16)
        b = (39.25 + rng.random() * 0.08, -76.70 + rng.random() * 0.16)
        request = {
            "locations": [{"lat": a[0], "lon": a[1]}, {"lat": b[0], "lon": b[1]}],
            "costing": "auto",
            "units": "kilometers",
        }
        if seed % 2:
            request["costing_options"] = {"auto": {"use_highways": 0.0}}
        try:
            shape = decode_array(router.route(request)["trip"]["legs"][0]["shape"])
        except RoutingError:
            continue
        if len(shape) < 10:
            continue
        speed = 11.0 if seed % 2 else 18.0
        for interval in INTERVALS_S:
            fixes, length = drive_path(
                [tuple(p) for p in shape], speed, interval_s=interval, noise_m=5.0, seed=seed
            )
            if length < 3000:
                continue
            lines = compute_stats(fixes)
            roads = with_roads_across_gaps(lines, roads_across_gaps(lines.to_measure, router))
            rows.append((interval, length, lines.distance_m, roads.distance_m))
    table = np.array(rows)
    print()
    for interval in INTERVALS_S:
        part = table[table[:, 0] == interval]
        by_line = np.abs(part[:, 2] / part[:, 1] - 1)
        by_road = np.abs(part[:, 3] / part[:, 1] - 1)
        print(
            f"{interval:4d} s: {len(part)} drives, mean |distance error| lines "
            f"{100 * by_line.mean():.1f} %, roads {100 * by_road.mean():.1f} %; closer "
            f"{(by_road < by_line - 1e-4).sum()}, further {(by_road > by_line + 1e-4).sum()}"
        )
