"""Offline basemap benchmarks (figures, not pass/fail): tilemaker build time and peak memory
for the Baltimore and NYC extracts, /tiles request latency, and the offline cache size of a
30 km route corridor (2 km either side, display zooms 10-16).

Run: .venv/bin/pytest bench/bench_basemap.py --benchmark-only -s
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "osm"
ROOT = Path(__file__).resolve().parents[1]

# Build in a fresh interpreter so that RUSAGE_CHILDREN's peak is tilemaker's own.
BUILD_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from kei_drive.basemap.build import build_basemap
start = time.perf_counter()
path = build_basemap(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "bytes": path.stat().st_size}))
"""


def _needs(pbf: Path) -> None:
    if shutil.which("tilemaker") is None:
        pytest.skip("tilemaker is not installed (apt-get install tilemaker)")
    if not pbf.is_file():
        pytest.skip(f"real OSM extract not available at {pbf}")


@pytest.mark.parametrize("region", ["baltimore", "nyc"])
def test_bench_build_basemap(benchmark, region, tmp_path):
    pbf = FIXTURES / f"{region}.osm.pbf"
    _needs(pbf)
    runs: list[dict] = []

    def build() -> None:
        out = tmp_path / f"run{len(runs)}"
        done = subprocess.run(
            [sys.executable, "-c", BUILD_SCRIPT, str(pbf), str(out)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(build, rounds=2, iterations=1)
    best = min(runs, key=lambda r: r["seconds"])
    print(
        f"\n{region}: basemap build {best['seconds']:.1f} s, tilemaker peak "
        f"{max(r['peak_mb'] for r in runs):.0f} MB RSS, {best['bytes'] / 1e3:.0f} kB "
        f"({pbf.stat().st_size / 1e3:.0f} kB extract)"
    )


@pytest.fixture(scope="module")
def baltimore_basemap(tmp_path_factory):
    from kei_drive.basemap.build import build_basemap

    pbf = FIXTURES / "baltimore.osm.pbf"
    _needs(pbf)
    out = tmp_path_factory.mktemp("basemap")
    build_basemap(pbf, out)
    return out


def test_bench_tile_request_latency(benchmark, baltimore_basemap, monkeypatch):
    """GET /tiles/{z}/{x}/{y}.pbf through the API app (Starlette, in process), all z14 tiles."""
    from starlette.testclient import TestClient

    from kei_drive.api import api
    from kei_drive.basemap.reader import open_basemap

    monkeypatch.setenv("KEI_DRIVE_TILES", str(baltimore_basemap))
    basemap = open_basemap(baltimore_basemap / "basemap.mbtiles")
    rows = basemap._db.execute(
        "SELECT tile_column, tile_row FROM tiles WHERE zoom_level=14"
    ).fetchall()
    urls = [f"/tiles/14/{x}/{(1 << 14) - 1 - row}.pbf" for x, row in rows]
    client = TestClient(api)
    state = {"i": 0}

    def get() -> None:
        url = urls[state["i"] % len(urls)]
        state["i"] += 1
        assert client.get(url, headers={"Accept-Encoding": "gzip"}).status_code == 200

    benchmark(get)
    stats = benchmark.stats.stats
    print(
        f"\ntile request: median {stats.median * 1000:.2f} ms, mean {stats.mean * 1000:.2f} ms "
        f"over {len(urls)} distinct z14 tiles"
    )


def test_bench_tile_lookup(benchmark, baltimore_basemap):
    """The MBTiles lookup alone (SQLite, indexed), without HTTP."""
    from kei_drive.basemap.reader import open_basemap

    basemap = open_basemap(baltimore_basemap / "basemap.mbtiles")
    rows = basemap._db.execute(
        "SELECT tile_column, tile_row FROM tiles WHERE zoom_level=14"
    ).fetchall()
    coords = [(x, (1 << 14) - 1 - row) for x, row in rows]
    state = {"i": 0}

    def lookup() -> None:
        x, y = coords[state["i"] % len(coords)]
        state["i"] += 1
        assert basemap.tile(14, x, y)

    benchmark(lookup)
    print(f"\ntile lookup: median {benchmark.stats.stats.median * 1e6:.0f} µs")


def test_bench_corridor_cache_size(benchmark, baltimore_basemap):
    """Tiles and bytes the service worker stores for a 30 km route: the same JavaScript the
    page runs (assets/kei/basemap.js), sized at Baltimore's mean tile size per zoom (a dense
    city: an upper estimate for a rural route)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    from kei_drive.basemap.reader import open_basemap

    zooms = open_basemap(baltimore_basemap / "basemap.mbtiles").bytes_by_zoom()
    script = f"""
      import {{ corridorTiles, dataZooms }} from "{ROOT / "assets/kei/basemap.js"}";
      const lat = 39.28, kmPerDeg = 111.32 * Math.cos(lat * Math.PI / 180);
      const line = [[-76.9, lat], [-76.9 + 30 / kmPerDeg, lat]];
      const keys = corridorTiles([line], {{ bufferKm: 2, zooms: dataZooms([10, 16]) }});
      console.log(JSON.stringify(keys));
    """
    keys: list[str] = []

    def run() -> None:
        done = subprocess.run(
            [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
        )
        keys[:] = json.loads(done.stdout)

    benchmark.pedantic(run, rounds=1, iterations=1)
    per_zoom: dict[int, int] = {}
    for key in keys:
        z = int(key.split("/")[0])
        per_zoom[z] = per_zoom.get(z, 0) + 1
    total = sum(n * zooms.get(z, {"mean_bytes": 0})["mean_bytes"] for z, n in per_zoom.items())
    print(
        f"\n30 km corridor: {len(keys)} tiles (per data zoom {dict(sorted(per_zoom.items()))}), "
        f"about {total / 1e6:.1f} MB at Baltimore's tile sizes"
    )
