"""Drive guidance benchmarks (figures, not pass/fail): what ``POST /api/v1/route`` spends on
the Baltimore tiles for a Kei plan, a GPX route of the same way (matched, audited, with
turn-by-turn), and a re-route off that GPX route; plus the answer's size.

Run: .venv/bin/pytest bench/bench_route_api.py --benchmark-only -s
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kei_drive.core.rules import load_rules
from kei_drive.routing.tiles import build_tiles
from kei_drive.routing.valhalla_local import LocalValhallaRouter
from kei_drive.services.guidance import guidance, parse_request

BALTIMORE = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "osm" / "baltimore.osm.pbf"
)
PLAN = {"from": [39.2850, -76.6050], "to": [39.3040, -76.5320], "options": {"date": "2026-06-01"}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    if not BALTIMORE.is_file():
        pytest.skip(f"real OSM extract not available at {BALTIMORE}")
    out = tmp_path_factory.mktemp("baltimore_tiles")
    build_tiles(BALTIMORE, out)
    router = LocalValhallaRouter(out)
    rules = load_rules(overrides_path=os.devnull + ".none")
    planned = guidance(parse_request(PLAN), router=router, rules=rules, permits=[])
    return router, rules, planned


def _run(benchmark, setup, body: dict, label: str) -> dict:
    router, rules, _ = setup
    req = parse_request(body)
    doc = benchmark(guidance, req, router=router, rules=rules, permits=[])
    size = len(json.dumps(doc).encode())
    route = doc["route"]
    print(
        f"\n{label}: {route['distance_m'] / 1000:.1f} km, {len(route['geometry'])} vertices, "
        f"{len(route['maneuvers'])} maneuvers, {len(doc['announcements'])} announcements, "
        f"answer {size / 1024:.0f} KiB"
    )
    return doc


def test_bench_guidance_plan(benchmark, setup):
    _run(benchmark, setup, PLAN, "plan")


def test_bench_guidance_gpx_route(benchmark, setup):
    track = setup[2]["route"]["geometry"]
    doc = _run(benchmark, setup, {"track": track, "name": "route.gpx"}, "GPX route")
    assert doc["route"]["maneuvers"]


def test_bench_guidance_reroute_off_gpx_route(benchmark, setup):
    track = setup[2]["route"]["geometry"]
    off = [track[len(track) // 2][0] + 0.004, track[len(track) // 2][1]]  # ~450 m north
    _run(benchmark, setup, {"track": track, "from": off}, "re-route off the GPX route")


def test_bench_guidance_largest_track(benchmark, setup):
    """The largest track the API takes (MAX_TRACK_POINTS), the GPX route densified."""
    import numpy as np

    from kei_drive.services.guidance import MAX_TRACK_POINTS

    pts = np.asarray(setup[2]["route"]["geometry"], dtype=float)
    t = np.linspace(0, len(pts) - 1, MAX_TRACK_POINTS)
    i = np.minimum(t.astype(int), len(pts) - 2)
    f = (t - i)[:, None]
    track = (pts[i] * (1 - f) + pts[i + 1] * f).round(6).tolist()
    benchmark.pedantic(
        lambda: _run(lambda fn, *a, **k: fn(*a, **k), setup, {"track": track}, "20,000 points"),
        rounds=3,
        iterations=1,
    )
