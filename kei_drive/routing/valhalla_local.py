"""In-process Valhalla (``valhalla.Actor``) over local tiles: the default engine."""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from kei_drive.config import cache_dir
from kei_drive.routing import tiles as tiles_mod
from kei_drive.routing.base import (
    RoutingError,
    TilesDamagedError,
    TilesMissingError,
    ValhallaActions,
    valhalla_error,
)

# One engine per tiles config (keyed with the config's mtime, so rebuilt tiles load anew),
# each with its own lock: the Actor is not meant to be called from two threads at once.
_ACTORS: dict[tuple[str, float], tuple[Any, threading.Lock]] = {}
_ACTORS_LOCK = threading.Lock()
# Tiles checked against their manifest: (when, what was wrong) per folder and manifest
# mtime; checked again after TILES_RECHECK_S (a server's tiles copied over while it runs)
_CHECKED: dict[tuple[str, float], tuple[float, str | None]] = {}
TILES_RECHECK_S = 600.0


def missing_tiles_message(tiles_dir: Path) -> str:
    return (
        f"no routing tiles at {tiles_dir} — build them with "
        "`kei-drive tiles build FILE.osm.pbf` (any OpenStreetMap extract, e.g. your state's)"
    )


def _check_sound(tiles_dir: Path, config_file: Path) -> None:
    """Raise TilesDamagedError when the config is no JSON or the tiles differ from their
    build (``tiles.damaged_tiles``; checked again after ``TILES_RECHECK_S``: each tile's
    head is read, ~10 ms for a state's)."""
    try:
        json.loads(config_file.read_text())
    except (ValueError, OSError) as exc:
        raise TilesDamagedError(
            f"the routing config {config_file} is unreadable ({exc}): rebuild the tiles with "
            "`kei-drive tiles build FILE.osm.pbf`, or delete it to have it written anew"
        ) from exc
    manifest = tiles_dir / tiles_mod.MANIFEST_NAME
    key = (str(tiles_dir.resolve()), manifest.stat().st_mtime if manifest.is_file() else 0.0)
    now = time.monotonic()
    checked_at, problem = _CHECKED.get(key, (-math.inf, None))
    if now - checked_at > TILES_RECHECK_S:
        problem = tiles_mod.damaged_tiles(tiles_dir)
        _CHECKED[key] = (now, problem)
    if problem:
        raise TilesDamagedError(
            f"the routing tiles at {tiles_dir} are damaged ({problem}): rebuild them with "
            "`kei-drive tiles build FILE.osm.pbf`"
        )


class LocalValhallaRouter(ValhallaActions):
    """Routes with Valhalla linked into this process (about 8 ms a route, no server)."""

    name = "valhalla-local"

    def __init__(self, tiles_dir: Path, *, own_engine: bool = False) -> None:
        self.tiles_dir = Path(tiles_dir)
        # an engine of its own (freed with this router) instead of the shared one
        self._own: tuple[Any, threading.Lock] | None = None
        self._own_engine = own_engine
        if not tiles_mod.has_tiles(self.tiles_dir):
            raise TilesMissingError(missing_tiles_message(self.tiles_dir))
        cfg = tiles_mod.config_path(self.tiles_dir)
        if not cfg.is_file():  # tiles built by hand: write our config next to them
            cfg.write_text(json.dumps(tiles_mod.make_config(self.tiles_dir), indent=1))
        self.config_file = cfg.resolve()
        _check_sound(self.tiles_dir, self.config_file)

    @property
    def own_engine(self) -> bool:
        """An engine of its own (a lane), not the process's shared one."""
        return self._own_engine

    def lanes(self, count: int) -> list[LocalValhallaRouter]:
        """``count`` routers on these tiles with engines of their own, for threads matching a
        long track side by side (the engine releases the GIL). They are freed with the
        routers: an engine keeps the memory of its largest match (~130 MB after a 6,000 km
        track), which the shared engine of a long-running server must not."""
        return [LocalValhallaRouter(self.tiles_dir, own_engine=True) for _ in range(count)]

    def _load(self) -> tuple[Any, threading.Lock]:
        import valhalla

        try:
            return valhalla.Actor(str(self._current_config())), threading.Lock()
        except (RuntimeError, OSError, ValueError, AttributeError) as exc:
            raise RoutingError(f"cannot load routing tiles at {self.tiles_dir}: {exc}") from exc

    def _current_config(self) -> Path:
        """The tiles' config, or (tiles built by an earlier version, whose config lacks the
        newer match options) a copy with them, written once to the cache folder: the tiles'
        folder may be read-only, and a dict given to the engine becomes a temp file a load."""
        text = self.config_file.read_text()
        config = json.loads(text)
        if tiles_mod.allows_match_options(config):
            return self.config_file
        current = json.dumps(tiles_mod.allow_match_options(config), indent=1)
        digest = hashlib.sha256(current.encode()).hexdigest()[:16]
        copy = cache_dir() / f"valhalla-{digest}.json"
        if not copy.is_file():
            partial = copy.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(current)
            partial.replace(copy)  # whole or absent, whoever else writes it
        return copy

    def _engine(self) -> tuple[Any, threading.Lock]:
        if self._own_engine:
            if self._own is None:
                self._own = self._load()
            return self._own
        key = (str(self.config_file), self.config_file.stat().st_mtime)
        with _ACTORS_LOCK:
            if key not in _ACTORS:
                _ACTORS[key] = self._load()
            return _ACTORS[key]

    def _call(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        actor, lock = self._engine()
        with lock:
            try:
                answer = getattr(actor, action)(json.dumps(request))
            except RuntimeError as exc:  # valhalla.ValhallaError
                raise valhalla_error(str(exc)) from exc
        return json.loads(answer)

    def covers(self, lat: float, lon: float) -> bool:
        """Do the tiles hold road data around (lat, lon)? (A remote engine cannot say.)"""
        return tiles_mod.covers(self.tiles_dir, lat, lon)

    def status(self) -> dict[str, Any]:
        actor, lock = self._engine()
        with lock:
            return json.loads(actor.status())
