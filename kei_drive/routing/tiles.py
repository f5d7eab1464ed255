"""Build Valhalla routing tiles from an OpenStreetMap extract (.osm.pbf).

Layout of a tiles directory::

    DIR/valhalla.json   Valhalla config used by the in-process engine and by valhalla_service
    DIR/graph/          the routing graph tiles (levels 0, 1, 2)
    DIR/tiles.manifest.json  each tile's size and the hash of its head, as built: a copy cut
                        short or overwritten is found before the engine reads it (it would
                        read every road "not near any road" and store that as a verdict)

The config enables what Kei routing needs: ``allow_hard_exclusions`` (so ``exclude_highways``
is honoured) and exclude-polygon limits large enough for simplified state outlines.
Admin and timezone databases are not built: states come from ``kei_drive.core.geo``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

CONFIG_NAME = "valhalla.json"
GRAPH_DIR = "graph"
MANIFEST_NAME = "tiles.manifest.json"
MANIFEST_HEAD_BYTES = 4096  # a tile's header and first nodes: what a damaged copy spoils first
# Exclude-polygon limits: state outlines are thousands of km long; the vertex budget is kept by
# the caller (see kei_costing.STATE_VERTEX_BUDGET), the limit here is only a safety net.
MAX_EXCLUDE_POLYGONS_LENGTH_M = 100_000_000
MAX_EXCLUDE_POLYGONS_VERTICES = 50_000


class TilesError(RuntimeError):
    """Tiles could not be built or found; the message says what to do."""


def bin_dir() -> str:
    from valhalla._scripts import PYVALHALLA_BIN_DIR

    return str(PYVALHALLA_BIN_DIR)


def subprocess_env() -> dict[str, str]:
    """Environment with pyvalhalla's binaries first on PATH."""
    env = dict(os.environ)
    env["PATH"] = bin_dir() + os.pathsep + env.get("PATH", "")
    return env


def make_config(tiles_dir: Path, *, verbose: bool = False) -> dict:
    """A Valhalla config for tiles in ``tiles_dir/graph`` with Kei-friendly service limits."""
    import valhalla

    tiles_dir = Path(tiles_dir).resolve()
    graph = tiles_dir / GRAPH_DIR
    graph.mkdir(parents=True, exist_ok=True)
    config = valhalla.get_config(tile_extract="", tile_dir=graph, verbose=verbose)
    config["logging"]["color"] = False
    config["mjolnir"]["tile_extract"] = ""
    # A motorway_link keeps the motorway class (use "ramp"): by default Valhalla gives links
    # the class of the lesser road they join, and a track that only drives a ramp onto an
    # interstate (or a route using one) would not show it. For a Kei the ramp is the interstate.
    config["mjolnir"]["reclassify_links"] = False
    for key in ("admin", "timezone", "landmarks", "traffic_extract"):
        config["mjolnir"][key] = ""
    config["additional_data"]["elevation"] = ""
    allow_match_options(config)
    limits = config["service_limits"]
    limits["allow_hard_exclusions"] = True
    limits["max_exclude_polygons_length"] = MAX_EXCLUDE_POLYGONS_LENGTH_M
    limits["max_exclude_polygons_vertices"] = MAX_EXCLUDE_POLYGONS_VERTICES
    return config


# The matcher options a request may set besides Valhalla's defaults: a sparse log's steps
# (a tracker's fix every 2 min) are longer than its 2 km breakage distance
# (``track_check.MATCH_STEP_MAX_M``). A Valhalla server needs the same in its config.
MATCH_REQUEST_OPTIONS = ("breakage_distance",)


def allows_match_options(config: dict) -> bool:
    customizable = config.get("meili", {}).get("customizable", [])
    return all(option in customizable for option in MATCH_REQUEST_OPTIONS)


def allow_match_options(config: dict) -> dict:
    """``config`` (a Valhalla config) with ``MATCH_REQUEST_OPTIONS`` customizable."""
    customizable = config.setdefault("meili", {}).setdefault("customizable", [])
    customizable.extend(o for o in MATCH_REQUEST_OPTIONS if o not in customizable)
    return config


def config_path(tiles_dir: Path) -> Path:
    return Path(tiles_dir) / CONFIG_NAME


LOCAL_LEVEL, LOCAL_TILE_DEG = 2, 0.25  # Valhalla's level of local roads, its tile size


def tile_path(graph: Path, level: int, size: float, lat: float, lon: float) -> Path:
    """The file of Valhalla's ``level`` tile (``size`` degrees) around (lat, lon): its id,
    zero-padded to a multiple of three digits, cut into folders of three
    ("2/000/744/893.gph")."""
    columns = round(360 / size)
    tile_id = int((lat + 90) // size) * columns + int((lon + 180) // size)
    digits = len(str(columns * round(180 / size) - 1))
    padded = str(tile_id).zfill(-(-digits // 3) * 3)
    folders = [padded[i : i + 3] for i in range(0, len(padded), 3)]
    return graph.joinpath(str(level), *folders[:-1], f"{folders[-1]}.gph")


def covers(tiles_dir: Path, lat: float, lon: float) -> bool:
    """Do the tiles hold local roads in the 0.25-degree tile around (lat, lon)? False beyond
    the extract they came from. (Tiles of the higher levels span 1 and 4 degrees: one
    motorway far off would make them "cover" a place with no roads mapped.)"""
    graph = Path(tiles_dir) / GRAPH_DIR
    return tile_path(graph, LOCAL_LEVEL, LOCAL_TILE_DEG, lat, lon).is_file()


def has_tiles(tiles_dir: Path) -> bool:
    graph = Path(tiles_dir) / GRAPH_DIR
    return graph.is_dir() and any(graph.rglob("*.gph"))


def check_pbf(pbf: Path) -> None:
    """Raise TilesError unless ``pbf`` is a readable OSM file (header parsed by osmium)."""
    pbf = Path(pbf)
    if not pbf.exists():
        raise TilesError(f"no such file: {pbf}")
    if not pbf.is_file():
        raise TilesError(f"not a file: {pbf}")
    if not pbf.name.endswith(".pbf"):
        raise TilesError(f"{pbf} is not an .osm.pbf file (Valhalla reads PBF only)")
    try:
        import osmium

        reader = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING)
        reader.header()
        reader.close()
    except ImportError:  # osmium is optional at runtime: let Valhalla judge the file
        return
    except Exception as exc:  # osmium raises RuntimeError for damaged files
        raise TilesError(f"{pbf} is not a valid OSM PBF file ({exc})") from exc


def build_tiles(
    pbf: Path,
    out_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    threads: int | None = None,
) -> Path:
    """Build routing tiles for ``pbf`` into ``out_dir``; return the config path.

    ``progress`` receives one line per build stage (Valhalla's own log lines).
    Raises TilesError with a readable message on a missing/corrupt file or a failed build.
    """
    say = progress or (lambda _line: None)
    pbf = Path(pbf)
    check_pbf(pbf)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say(f"building routing tiles from {pbf} into {out_dir}")

    build_config = make_config(out_dir, verbose=True)
    build_config_file = out_dir / "valhalla.build.json"
    build_config_file.write_text(json.dumps(build_config, indent=1))
    cmd = ["valhalla_build_tiles", "-c", str(build_config_file)]
    if threads:
        cmd += ["-j", str(threads)]
    cmd.append(str(pbf.resolve()))
    tail: list[str] = []
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env(),
            cwd=out_dir,
        )
    except OSError as exc:
        raise TilesError(f"cannot run valhalla_build_tiles: {exc}") from exc
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip()
        if not line:
            continue
        tail = (tail + [line])[-15:]
        # Valhalla logs "2024/01/01 12:00:00.000 [INFO] message"; keep the message.
        if "[INFO]" in line or "[ERROR]" in line or "[WARN]" in line:
            say(line.split("] ", 1)[-1])
    code = proc.wait()
    build_config_file.unlink(missing_ok=True)
    if code != 0:
        detail = "\n".join(tail[-5:])
        raise TilesError(f"valhalla_build_tiles failed on {pbf} (exit {code}):\n{detail}")
    if not has_tiles(out_dir):
        raise TilesError(f"no routable roads found in {pbf}: no tiles were written")

    config = make_config(out_dir)
    target = config_path(out_dir)
    target.write_text(json.dumps(config, indent=1))
    tiles = write_manifest(out_dir)
    say(f"done: {tiles} tiles, config {target}")
    return target


def _tile_record(tile: Path) -> dict[str, int | str]:
    with tile.open("rb") as f:
        head = f.read(MANIFEST_HEAD_BYTES)
    return {"bytes": tile.stat().st_size, "head_sha256": hashlib.sha256(head).hexdigest()}


def write_manifest(tiles_dir: Path) -> int:
    """Record each tile as built (``MANIFEST_NAME``); the number of tiles."""
    graph = Path(tiles_dir) / GRAPH_DIR
    records = {
        tile.relative_to(graph).as_posix(): _tile_record(tile)
        for tile in sorted(graph.rglob("*.gph"))
    }
    manifest = {"format": 1, "tiles": records}
    (Path(tiles_dir) / MANIFEST_NAME).write_text(json.dumps(manifest, indent=0))
    return len(records)


def damaged_tiles(tiles_dir: Path) -> str | None:
    """What is wrong with the tiles against their manifest ("2 of 4 tiles differ from their
    build: 2/000/744/893.gph has 200 bytes, built with 1,322,320"), or None (sound, or built
    without a manifest: by hand or by an earlier version, and not checked)."""
    path = Path(tiles_dir) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        records = json.loads(path.read_text())["tiles"]
        built_as = {
            str(name): (int(r["bytes"]), str(r["head_sha256"])) for name, r in records.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        return f"its manifest {path} is unreadable ({type(exc).__name__}: {exc})"
    graph = Path(tiles_dir) / GRAPH_DIR
    wrong = []
    for name, (size, head) in built_as.items():
        tile = graph / name
        if not tile.is_file():
            wrong.append(f"{name} is missing")
            continue
        now = _tile_record(tile)
        if now["bytes"] != size:
            wrong.append(f"{name} has {now['bytes']:,} bytes, built with {size:,}")
        elif now["head_sha256"] != head:
            wrong.append(f"{name} was overwritten")
    if not wrong:
        return None
    return f"{len(wrong)} of {len(built_as)} tiles differ from their build: {wrong[0]}"
