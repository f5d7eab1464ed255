"""Read tiles and metadata from the basemap MBTiles file (SQLite, TMS rows, gzip MVT blobs)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Basemap:
    """An open, read-only basemap. Safe to share between threads (one lock per file)."""

    path: Path
    metadata: dict[str, str]
    _db: sqlite3.Connection = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path) -> Basemap:
        db = sqlite3.connect(
            f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            metadata = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        except sqlite3.Error:
            db.close()
            raise
        return cls(path=Path(path), metadata=metadata, _db=db)

    @property
    def minzoom(self) -> int:
        return int(self.metadata.get("minzoom", 0))

    @property
    def maxzoom(self) -> int:
        return int(self.metadata.get("maxzoom", 14))

    @property
    def build_id(self) -> str:
        return self.metadata.get("kei_build_id") or str(int(self.path.stat().st_mtime))

    @property
    def bounds(self) -> list[float] | None:
        """[west, south, east, north] from the metadata, or None."""
        try:
            return [float(v) for v in self.metadata["bounds"].split(",")]
        except (KeyError, ValueError):
            return None

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The stored (gzip-compressed) tile at XYZ coordinates, or None outside the data."""
        tms_row = (1 << z) - 1 - y
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, tms_row),
            ).fetchone()
        return bytes(row[0]) if row else None

    def bytes_by_zoom(self) -> dict[int, dict[str, float]]:
        """Tile count and mean stored size per zoom (for download size estimates)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT zoom_level, count(*), avg(length(tile_data)) FROM tiles GROUP BY zoom_level"
            ).fetchall()
        return {int(z): {"tiles": int(n), "mean_bytes": round(float(mean))} for z, n, mean in rows}

    def tilejson(self, tile_url: str) -> dict[str, Any]:
        layers = []
        with contextlib.suppress(ValueError):  # a damaged "json" field only loses layer names
            layers = json.loads(self.metadata.get("json", "{}")).get("vector_layers", [])
        return {
            "tilejson": "3.0.0",
            "name": self.metadata.get("name", "Kei Drive basemap"),
            "tiles": [tile_url],
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": self.bounds,
            "attribution": self.metadata.get("attribution", "© OpenStreetMap contributors"),
            "build_id": self.build_id,
            "vector_layers": [{"id": layer.get("id")} for layer in layers],
            "zooms": self.bytes_by_zoom(),
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


_open_lock = threading.Lock()
_opened: dict[Path, tuple[tuple[int, int], Basemap]] = {}


def open_basemap(path: Path) -> Basemap | None:
    """The basemap at ``path`` (reopened when the file was rebuilt), or None when absent."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    with _open_lock:
        cached = _opened.get(path)
        if cached and cached[0] == key:
            return cached[1]
        try:
            basemap = Basemap.open(path)
        except sqlite3.Error:
            return None
        if cached:
            cached[1].close()
        _opened[path] = (key, basemap)
        return basemap
