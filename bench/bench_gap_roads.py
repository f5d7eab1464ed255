"""Trip distance across gaps in recording: straight line vs. the shortest drivable road
(``core.gap_roads``), on real Baltimore roads (figures, not pass/fail).

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_gap_roads.py

60 random car routes across Baltimore (the engine's fastest, 3-16 km, I 95 and its tunnel
among them) driven at 11 m/s, 1 Hz, 3 m noise; one gap of 60-300 s hidden at 20-60 % of
the way. Drives whose gap ran past their end (no gap: they ended early) are left out.

2026-12-04 (session 16): 34 drives; mean |distance error| straight 5.1 %, by road 0.65 %;
closer in 34, further in 0 (before the gap ends had a direction and a 30 m radius, two were
further: +3.8 % and +13.8 %, a fix snapped to a toll plaza's service road beside I 95).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.osm_synth import shared_fixture
from tests.support.trips import drive_path

BALTIMORE = shared_fixture("osm/baltimore.osm.pbf")
SPEED_MPS = 11.0


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    from kei_drive.routing.tiles import build_tiles
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    if not BALTIMORE.is_file():
        pytest.skip(f"real OSM extract not available at {BALTIMORE}")
    out: Path = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    return LocalValhallaRouter(out)


def test_bench_gap_distance_straight_vs_road(router):
    from kei_drive.core.gap_roads import with_roads_across_gaps
    from kei_drive.core.trips import compute_stats
    from kei_drive.routing.base import RoutingError
    from kei_drive.routing.gap_roads import roads_across_gaps
    from kei_drive.routing.polyline import decode_array

    rng = np.random.default_rng(1)
    rows = []
    for seed in range(60):
        a = (39.27 + rng.random() * 0.05, -76.64 + rng.random() * 0.1)
        b = (39.27 + rng.random() * 0.05, -76.64 + rng.random() * 0.1)
        request = {
            "locations": [{"lat": a[0], "lon": a[1]}, {"lat": b[0], "lon": b[1]}],
            "costing": "auto",
            "units": "kilometers",
        }
        try:
            shape = decode_array(router.route(request)["trip"]["legs"][0]["shape"])
        except RoutingError:
            continue
        if len(shape) < 10:
            continue
        fixes, length = drive_path(
            [tuple(p) for p in shape], SPEED_MPS, noise_m=3.0, accuracy_m=5.0, seed=seed
        )
        if length < 3000:
            continue
        gap_s = rng.integers(60, 300)
        hide_at = rng.uniform(0.2, 0.6) * length / SPEED_MPS
        t0 = fixes[0].time
        kept = [p for p in fixes if not hide_at <= (p.time - t0).total_seconds() <= hide_at + gap_s]
        straight = compute_stats(kept)
        if not straight.gaps:
            continue  # the gap ran past the end: the drive just ended early
        by_road = with_roads_across_gaps(straight, roads_across_gaps(straight.gaps, router))
        rows.append((length, straight.distance_m, by_road.distance_m))
    table = np.array(rows)
    err_straight = np.abs(table[:, 1] / table[:, 0] - 1)
    err_road = np.abs(table[:, 2] / table[:, 0] - 1)
    print(
        f"\n{len(table)} drives with a 60-300 s gap: mean |distance error| straight "
        f"{100 * err_straight.mean():.2f} %, by road {100 * err_road.mean():.2f} %; "
        f"closer {(err_road < err_straight - 1e-4).sum()}, "
        f"further {(err_road > err_straight + 1e-4).sum()}"
    )
