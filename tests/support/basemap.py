"""Helpers for basemap tests: tilemaker availability, building Baltimore, tile maths."""

from __future__ import annotations

import gzip
import math
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import shared_fixture


def require_tilemaker() -> None:
    """Skip (or, under CI=true, fail) when the tilemaker package is not installed."""
    if shutil.which("tilemaker"):
        return
    message = "tilemaker is not installed (Debian/Ubuntu: apt-get install tilemaker)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def build_baltimore(out: Path) -> Path:
    """Build the Baltimore basemap into ``out``; return the MBTiles path."""
    from kei_drive.basemap.build import build_basemap

    require_tilemaker()
    return build_basemap(shared_fixture("osm", "baltimore.osm.pbf"), out)


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """XYZ tile column and row holding a point (Web Mercator)."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def i95_points(limit: int = 20) -> list[tuple[float, float]]:
    """(lat, lon) of nodes of I-95 motorway ways in the Baltimore extract."""
    import osmium

    pbf = shared_fixture("osm", "baltimore.osm.pbf")
    points: list[tuple[float, float]] = []
    ways = osmium.FileProcessor(str(pbf)).with_filter(osmium.filter.KeyFilter("highway"))
    for way in ways.with_locations():
        if way.tags.get("highway") == "motorway" and way.tags.get("ref") == "I 95":
            points += [(n.location.lat, n.location.lon) for n in way.nodes if n.location.valid()]
        if len(points) >= limit:
            break
    return points[:limit]


def decode(data: bytes) -> dict:
    import mapbox_vector_tile

    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return mapbox_vector_tile.decode(data)
