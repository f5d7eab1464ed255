"""Build the offline basemap (vector tiles, OpenMapTiles schema + Kei fields) with tilemaker.

``kei-drive tiles build REGION.osm.pbf`` calls :func:`build_basemap` after the routing tiles.
Output, next to the routing tiles::

    DIR/basemap.mbtiles           gzip MVT tiles, z0-14 (served at /tiles/{z}/{x}/{y}.pbf)
    DIR/basemap.provenance.json   source file + checksum, tool, profile, licence (ODbL)

Why MBTiles rather than PMTiles: tilemaker writes it directly, Python reads it with the
standard library's sqlite3 (indexed lookups, no extra dependency or conversion step), and the
app serves plain ``/tiles/{z}/{x}/{y}.pbf`` URLs anyway so the service worker can cache them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

MBTILES_NAME = "basemap.mbtiles"
PROVENANCE_NAME = "basemap.provenance.json"
PROFILE_DIR = Path(__file__).with_name("profile")
PROFILE_CONFIG = PROFILE_DIR / "kei-config.json"
PROFILE_PROCESS = PROFILE_DIR / "kei-process.lua"
TILEMAKER = "tilemaker"
INSTALL_HINT = "install the tilemaker package (Debian/Ubuntu: sudo apt-get install tilemaker)"
ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
LICENCE = "Open Database License (ODbL) 1.0, https://opendatacommons.org/licenses/odbl/1-0/"

_ZOOM_LINE = re.compile(r"Zoom level (\d+), writing tile (\d+) of (\d+)")
_STAGE_PREFIXES = ("Reading .pbf", "Sorting", "Generated", "Stored", "Bounding box")


class BasemapError(RuntimeError):
    """The basemap could not be built; the message says why and what to do."""


class TilemakerMissing(BasemapError):
    """tilemaker is not installed: the caller builds routing tiles alone."""


def tilemaker_path() -> str | None:
    return shutil.which(TILEMAKER)


def tilemaker_version(exe: str) -> str:
    try:
        out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "tilemaker (version unknown)"
    first = out.strip().splitlines()[:1]
    return first[0].strip() if first else "tilemaker (version unknown)"


def basemap_path(out_dir: Path) -> Path:
    return Path(out_dir) / MBTILES_NAME


def build_basemap(
    pbf: Path,
    out_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    threads: int | None = None,
) -> Path:
    """Build ``out_dir/basemap.mbtiles`` from ``pbf``; return its path.

    The previous basemap stays in place until the new one is complete (built to a temporary
    name, then renamed). Raises TilemakerMissing when tilemaker is not installed and
    BasemapError when the build fails.
    """
    say = progress or (lambda _line: None)
    exe = tilemaker_path()
    if exe is None:
        raise TilemakerMissing(f"no offline basemap: tilemaker is not installed ({INSTALL_HINT})")
    pbf = Path(pbf).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = basemap_path(out_dir)
    # tilemaker picks its output format by extension: keep ".mbtiles" on the temporary name
    partial = out_dir / "basemap.partial.mbtiles"
    partial.unlink(missing_ok=True)
    say(f"building the offline basemap from {pbf.name} with tilemaker")

    cmd = [
        exe,
        "--input",
        str(pbf),
        "--output",
        str(partial),
        "--config",
        str(PROFILE_CONFIG),
        "--process",
        str(PROFILE_PROCESS),
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    tail = _run_tilemaker(cmd, cwd=out_dir, say=say)
    if tail is not None:
        partial.unlink(missing_ok=True)
        raise BasemapError(f"tilemaker failed on {pbf}:\n" + "\n".join(tail[-5:]))
    count = _tile_count(partial)
    if count == 0:
        partial.unlink(missing_ok=True)
        raise BasemapError(f"tilemaker wrote no tiles for {pbf}")
    build_id = _stamp(partial, pbf)
    os.replace(partial, target)
    provenance = write_provenance(out_dir, pbf, exe=exe, build_id=build_id, tile_count=count)
    size_mb = target.stat().st_size / 1e6
    say(f"basemap ready: {target} ({count} tiles, {size_mb:.1f} MB; provenance {provenance.name})")
    return target


def _run_tilemaker(cmd: list[str], *, cwd: Path, say: Callable[[str], None]) -> list[str] | None:
    """Run tilemaker, relaying its stages; None on success, else the last output lines."""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    except OSError as exc:
        raise BasemapError(f"cannot run tilemaker: {exc}") from exc
    assert proc.stdout is not None
    tail: list[str] = []
    last_zoom = None
    buffer = b""
    # tilemaker redraws its progress with carriage returns: split on both \r and \n.
    while chunk := proc.stdout.read1(4096):  # type: ignore[attr-defined]
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            tail = (tail + [line])[-15:]
            zoom = _ZOOM_LINE.search(line)
            if zoom and zoom.group(1) != last_zoom:
                last_zoom = zoom.group(1)
                say(f"basemap: zoom {zoom.group(1)}, tile {zoom.group(2)} of {zoom.group(3)}")
            elif line.startswith(_STAGE_PREFIXES):
                say(f"basemap: {line}")
    code = proc.wait()
    return None if code == 0 else tail + [f"(exit {code})"]


def _tile_count(mbtiles: Path) -> int:
    try:
        with sqlite3.connect(mbtiles) as db:
            return int(db.execute("SELECT count(*) FROM tiles").fetchone()[0])
    except sqlite3.Error:
        return 0


def _stamp(mbtiles: Path, pbf: Path) -> str:
    """Record a build id (cache key for browsers) and the attribution in the metadata table."""
    build_id = hashlib.sha256(f"{pbf}:{datetime.now(UTC).isoformat()}".encode()).hexdigest()[:16]
    db = sqlite3.connect(mbtiles)
    try:
        with db:
            for name, value in (("kei_build_id", build_id), ("attribution", ATTRIBUTION)):
                db.execute(
                    "INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)", (name, value)
                )
    finally:
        db.close()
    return build_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _osm_timestamp(pbf: Path) -> str | None:
    """The extract's replication timestamp from its header, when osmium can read it."""
    try:
        import osmium

        reader = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING)
        try:
            return reader.header().get("osmosis_replication_timestamp") or None
        finally:
            reader.close()
    except Exception:  # osmium optional; a header without the field is fine
        return None


def write_provenance(out_dir: Path, pbf: Path, *, exe: str, build_id: str, tile_count: int) -> Path:
    record = {
        "what": "Kei Drive offline basemap (vector tiles, OpenMapTiles schema + Kei fields)",
        "file": MBTILES_NAME,
        "build_id": build_id,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {
            "file": pbf.name,
            "bytes": pbf.stat().st_size,
            "sha256": _sha256(pbf),
            "osm_timestamp": _osm_timestamp(pbf),
        },
        "tool": tilemaker_version(exe),
        "profile": "kei_drive/basemap/profile (derived from tilemaker's OpenMapTiles example; "
        "OpenMapTiles schema CC-BY 4.0)",
        "tile_count": tile_count,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "regenerate": f"kei-drive tiles build {pbf.name}",
    }
    path = Path(out_dir) / PROVENANCE_NAME
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return path
