"""The state-border index kept in a cache folder (core/geo.use_index_cache): the same answers
from a cached index, and a damaged cache file is rebuilt rather than trusted or fatal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kei_drive.core import geo

PLACES = [(39.29, -76.61), (40.71, -74.0), (35.2, -101.8), (47.6, -122.3), (25.77, -80.19)]


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    geo.use_index_cache(tmp_path)
    geo._index.cache_clear()
    try:
        yield tmp_path
    finally:
        geo.use_index_cache(None)
        geo._index.cache_clear()


def codes_at(places) -> list[str]:
    lats, lons = np.array(places).T
    return [str(code) for code in geo.states_at(lats, lons)]


def test_a_cached_index_gives_the_same_answers(cache_dir):
    geo.use_index_cache(None)
    geo._index.cache_clear()
    built = codes_at(PLACES)
    assert built == ["MD", "NY", "TX", "WA", "FL"]
    geo.use_index_cache(cache_dir)
    geo._index.cache_clear()
    assert codes_at(PLACES) == built  # builds and writes the cache
    [cached] = cache_dir.glob("us_states_index-*.npz")
    geo._index.cache_clear()
    assert codes_at(PLACES) == built  # read back from the file
    assert cached.stat().st_size > 0


def test_a_damaged_cache_file_is_rebuilt(cache_dir):
    expected = codes_at(PLACES)
    [cached] = cache_dir.glob("us_states_index-*.npz")
    cached.write_bytes(cached.read_bytes()[: cached.stat().st_size // 2])  # cut short
    geo._index.cache_clear()
    assert codes_at(PLACES) == expected
    geo._index.cache_clear()
    assert geo._cached_parts(cached) is not None  # written again, readable
    cached.write_bytes(b"not an npz file")
    geo._index.cache_clear()
    assert codes_at(PLACES) == expected
