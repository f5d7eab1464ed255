"""Benchmarks for kei_drive.core.geo (figures, not pass/fail timings).

    .venv/bin/pytest bench/bench_geo.py --benchmark-only

Target from issue 3: 10,000 track points classified in well under 100 ms.
"""

from __future__ import annotations

import numpy as np
import pytest

from kei_drive.core import geo

N = 10_000


@pytest.fixture(scope="module", autouse=True)
def loaded():
    geo.state_names()  # load the polygons and build the index outside the timings


@pytest.fixture(scope="module")
def random_points():
    rng = np.random.default_rng(42)
    return rng.uniform(25, 49, N), rng.uniform(-124, -67, N)


@pytest.fixture(scope="module")
def track():
    """A 10k-point drive Pittsburgh -> Indianapolis (~530 km, a point every ~53 m)."""
    return np.c_[np.linspace(40.4406, 39.7684, N), np.linspace(-79.9959, -86.1581, N)]


def test_states_at_10k_random_points(benchmark, random_points):
    lats, lons = random_points
    codes = benchmark(geo.states_at, lats, lons)
    assert (codes != "").mean() > 0.6  # most of the box is land in some state


def test_states_at_10k_track_points(benchmark, track):
    codes = benchmark(geo.states_at, track[:, 0], track[:, 1])
    assert set(codes) == {"PA", "WV", "OH", "IN"}


def test_states_along_10k_track(benchmark, track):
    spans = benchmark(geo.states_along, track)
    assert [s.state for s in spans] == ["PA", "WV", "OH", "IN"]


def test_states_along_sparse_route(benchmark):
    route = [(40.4406, -79.9959), (39.9612, -82.9988), (39.7684, -86.1581)]
    spans = benchmark(geo.states_along, route)
    assert len(spans) == 4


def test_state_at_single_point(benchmark):
    hit = benchmark(geo.state_at, 38.8893, -77.0502)
    assert hit.code == "DC" and hit.near_border


def test_cold_load(benchmark):
    def load():
        geo._index.cache_clear()
        return geo._index()

    index = benchmark.pedantic(load, rounds=3, iterations=1)
    assert len(index.codes) == 51
