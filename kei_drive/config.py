"""Runtime configuration, read from the environment.

Everything has an embedded default so that one machine runs with nothing else
installed; each setting moves one piece onto a real service:

- ``DATABASE_URL``            SQLite file by default, PostgreSQL when set.
- ``REDIS_URL``               Reflex keeps its state in Redis, so several workers can serve.
- ``KEI_DRIVE_VALHALLA_URL``  a Valhalla server instead of the in-process engine.
- ``KEI_DRIVE_TILES``         the tiles directory of the in-process engine.
- ``KEI_DRIVE_HOME``          where local data lives (database, tiles, overrides, caches).
- ``KEI_DRIVE_STATE_EXPIRY_S`` how long an idle browser tab's server-side state is kept.
- ``KEI_DRIVE_TILE_URL``      online raster tiles drawn when no offline basemap is installed.
- ``KEI_DRIVE_ROAD_BUDGET_S`` how long a points batch waits for its "road now" (default 1.5).
"""

from __future__ import annotations

import os
from pathlib import Path

# Largest GPX upload the Plan and Trips pages accept (a day of 1 s fixes is ~10 MiB).
MAX_GPX_BYTES = 25 * 1024 * 1024
STATE_EXPIRY_S = int(os.environ.get("KEI_DRIVE_STATE_EXPIRY_S") or 900)


def home_dir() -> Path:
    """The folder for local data; created on first use, private (0700): it holds the
    location history and keys."""
    path = Path(os.environ.get("KEI_DRIVE_HOME") or Path.home() / ".local/share/kei-drive")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{home_dir() / 'kei_drive.db'}"


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or os.environ.get("REFLEX_REDIS_URL") or None


def tiles_dir() -> Path:
    return Path(os.environ.get("KEI_DRIVE_TILES") or home_dir() / "tiles")


def basemap_path() -> Path:
    """The offline basemap built by ``kei-drive tiles build`` (next to the routing tiles)."""
    return tiles_dir() / "basemap.mbtiles"


DEFAULT_RASTER_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def raster_tile_url() -> str:
    """Online raster tiles for maps without an offline basemap ("" disables them)."""
    return os.environ.get("KEI_DRIVE_TILE_URL", DEFAULT_RASTER_TILE_URL)


def valhalla_url() -> str | None:
    return os.environ.get("KEI_DRIVE_VALHALLA_URL") or None


def rule_overrides_path() -> Path:
    return Path(os.environ.get("KEI_DRIVE_RULE_OVERRIDES") or home_dir() / "rule_overrides.json")


def local_permits_path() -> Path:
    """The driver's "my town allows it" statements (see ``core/local_permits.py``)."""
    return Path(os.environ.get("KEI_DRIVE_LOCAL_PERMITS") or home_dir() / "local_permits.json")


def cache_dir() -> Path:
    path = Path(os.environ.get("KEI_DRIVE_CACHE") or home_dir() / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def use_state_index_cache() -> None:
    """Keep the states' point-in-polygon index in the cache folder: built once (~0.3 s),
    then loaded (~0.03 s) by every command and server process."""
    from kei_drive.core import geo

    try:
        geo.use_index_cache(cache_dir())
    except OSError:  # no writable home: build it in this process
        geo.use_index_cache(None)


def road_budget_s() -> float:
    """How long a points batch answer waits for the road check (``services.road``)."""
    try:
        value = float(os.environ.get("KEI_DRIVE_ROAD_BUDGET_S") or 1.5)
    except ValueError:
        return 1.5
    return value if 0 < value <= 60 else 1.5
