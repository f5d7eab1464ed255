"""Which US state is a point in, and which states does a line pass through (offline).

Polygons: US Census TIGER/Line 2024 (public domain), 50 states + DC, coverage-simplified
at ~100 m by ``scripts/build_state_polygons.py`` and shipped as package data. TIGER state
areas include inland and coastal water (Great Lakes, bays, a strip of sea along the
coast), so a point on a bridge or a ferry is still "in" a state; a point farther out at
sea, or in Canada/Mexico, is in none.

Speed: the polygons are cut into small pieces along a 0.5 degree grid and indexed in an
STRtree, so a point-in-polygon test only touches a few hundred vertices. Loaded lazily,
once per process; building the pieces takes ~0.4 s, so an entry point may name a cache
folder (``use_index_cache``) where the pieces are kept as WKB, named after a hash of the
polygons, and loaded in milliseconds by later processes.

``near_border`` means: within ``NEAR_BORDER_M`` of *another state's* polygon. A coastline
or the Canadian/Mexican border does not count: the flag exists to warn a Kei driver
before entering a state whose rules differ.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape

from kei_drive.core.distance import EARTH_RADIUS_M, cumulative_m, segment_lengths_m
from kei_drive.core.us_states import US_STATE_NAMES

DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "us_states.geojson"
GEO_ATTRIBUTION = "State boundaries: US Census Bureau TIGER/Line 2024 (public domain)"
NEAR_BORDER_M = 2000.0
BASE_TOLERANCE_M = 100.0  # the simplification of the shipped file

_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
_GRID_DEG = 0.5  # piece size for the point-in-polygon index
_DENSIFY_DEG = 0.002  # ~200 m: states_along resolution between given vertices
_SAMPLE_M = 150.0  # states_along looks a long line up once per this distance...
_SAMPLE_MIN_POINTS = 2000  # ...when it has more points than this
_REFINE_STEPS = 12  # bisection steps for a border crossing (200 m / 2**12 < 0.1 m)


@dataclass(frozen=True)
class StateHit:
    """The state at a point."""

    code: str  # "VA"
    name: str  # "Virginia"
    near_border: bool  # within NEAR_BORDER_M of another state's polygon
    neighbours: tuple[str, ...] = ()  # those other states, sorted by code


@dataclass(frozen=True)
class StateSpan:
    """One stretch of a line inside one state."""

    state: str
    name: str
    enter: tuple[float, float]  # (lat, lon)
    exit: tuple[float, float]  # (lat, lon)
    from_m: float  # distance along the line where the stretch starts
    to_m: float

    @property
    def km(self) -> float:
        return (self.to_m - self.from_m) / 1000.0

    def to_dict(self) -> dict:
        return {
            "state": self.state,
            "name": self.name,
            "enter": [round(self.enter[0], 6), round(self.enter[1], 6)],
            "exit": [round(self.exit[0], 6), round(self.exit[1], 6)],
            "from_km": round(self.from_m / 1000.0, 3),
            "to_km": round(self.to_m / 1000.0, 3),
            "km": round(self.km, 3),
        }


@dataclass(frozen=True)
class _Index:
    codes: tuple[str, ...]
    names: dict[str, str]
    geoms: NDArray  # one (multi)polygon per state, same order as codes
    state_tree: shapely.STRtree
    piece_tree: shapely.STRtree
    piece_state: NDArray  # index into codes for each piece


def _grid_pieces(geom, cell: float) -> list:
    """Cut a geometry along a regular lon/lat grid (empty pieces dropped)."""
    minx, miny, maxx, maxy = geom.bounds
    pieces = []
    x0 = math.floor(minx / cell) * cell
    y0 = math.floor(miny / cell) * cell
    for x in np.arange(x0, maxx, cell):
        strip = shapely.clip_by_rect(geom, x, miny, x + cell, maxy)
        if strip.is_empty:
            continue
        for y in np.arange(y0, maxy, cell):
            piece = shapely.clip_by_rect(strip, x, y, x + cell, y + cell)
            if not piece.is_empty:
                pieces.append(piece)
    return pieces


_cache_dir: Path | None = None


def use_index_cache(directory: Path | None) -> None:
    """Keep the point-in-polygon index in ``directory`` (None: build it in every process).
    The core picks no folder itself: the entry points pass one."""
    global _cache_dir
    _cache_dir = directory


def _packed(geoms: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    blobs = shapely.to_wkb(np.asarray(geoms, dtype=object))
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), ends


def _unpacked(data: np.ndarray, ends: np.ndarray) -> list:
    raw = data.tobytes()
    starts = np.concatenate(([0], ends[:-1])).tolist()
    return list(shapely.from_wkb([raw[a:b] for a, b in zip(starts, ends.tolist(), strict=True)]))


def _cache_path(source: bytes) -> Path | None:
    if _cache_dir is None:
        return None
    key = hashlib.sha256(source + f"|{_GRID_DEG}|{shapely.geos_version_string}".encode())
    return _cache_dir / f"us_states_index-{key.hexdigest()[:20]}.npz"


_Parts = tuple[
    list[str], dict[str, str], list, list, list[int]
]  # codes, names, geoms, pieces, owner


def _build_parts(source: bytes) -> _Parts:
    data = json.loads(source)
    codes, names, geoms = [], {}, []
    for feature in data["features"]:
        code = feature["properties"]["code"]
        codes.append(code)
        names[code] = feature["properties"]["name"]
        geoms.append(shape(feature["geometry"]))
    pieces, owner = [], []
    for i, geom in enumerate(geoms):
        for piece in _grid_pieces(geom, _GRID_DEG):
            pieces.append(piece)
            owner.append(i)
    return codes, names, geoms, pieces, owner


def _cached_parts(
    path: Path | None,
) -> tuple[list[str], dict[str, str], list, list, list[int]] | None:
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            codes = z["codes"].tolist()
            names = dict(zip(codes, z["names"].tolist(), strict=True))
            geoms = _unpacked(z["geoms"], z["geom_ends"])
            pieces = _unpacked(z["pieces"], z["piece_ends"])
            return codes, names, geoms, pieces, z["owner"].tolist()
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        shapely.errors.ShapelyError,
    ):
        return None  # unreadable: built again (and written again)


def _store_parts(path: Path | None, codes, names, geoms, pieces, owner) -> None:
    if path is None:
        return
    geom_data, geom_ends = _packed(geoms)
    piece_data, piece_ends = _packed(pieces)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as out:
            np.savez(
                out,
                codes=np.array(codes),
                names=np.array([names[c] for c in codes]),
                geoms=geom_data,
                geom_ends=geom_ends,
                pieces=piece_data,
                piece_ends=piece_ends,
                owner=np.asarray(owner, dtype=np.int64),
            )
        os.replace(tmp, path)
    except OSError:  # a read-only cache folder: build it every time
        tmp.unlink(missing_ok=True)


@functools.cache
def _index() -> _Index:
    source = DATA_PATH.read_bytes()
    path = _cache_path(source)
    parts = _cached_parts(path)
    if parts is None:
        parts = _build_parts(source)
        _store_parts(path, *parts)
    codes, names, geoms, pieces, owner = parts
    pieces_arr = np.array(pieces, dtype=object)
    shapely.prepare(pieces_arr)
    geoms_arr = np.array(geoms, dtype=object)
    shapely.prepare(geoms_arr)  # for _one_state's containment test
    return _Index(
        codes=tuple(codes),
        names=names,
        geoms=geoms_arr,
        state_tree=shapely.STRtree(geoms_arr),
        piece_tree=shapely.STRtree(pieces_arr),
        piece_state=np.asarray(owner, dtype=np.intp),
    )


def _check_coords(lats: NDArray, lons: NDArray) -> None:
    if lats.shape != lons.shape:
        raise ValueError(f"lats and lons differ in shape: {lats.shape} vs {lons.shape}")
    if not (np.isfinite(lats).all() and np.isfinite(lons).all()):
        raise ValueError("latitude/longitude must be finite numbers (got NaN or infinity)")
    if lats.size and (np.abs(lats).max() > 90 or np.abs(lons).max() > 180):
        raise ValueError("latitude must be within [-90, 90] and longitude within [-180, 180]")


def _state_indices(lats: NDArray, lons: NDArray) -> NDArray:
    """Index into ``codes`` for each point, -1 outside every state."""
    idx = _index()
    out = np.full(lats.shape, -1, dtype=np.intp)
    if not lats.size:
        return out
    points = shapely.points(lons.ravel(), lats.ravel())
    point_i, piece_i = idx.piece_tree.query(points, predicate="intersects")
    # A point exactly on a shared border hits two pieces; the first one wins.
    flat = out.ravel()
    flat[point_i[::-1]] = idx.piece_state[piece_i[::-1]]
    return flat.reshape(lats.shape)


def states_at(lats: ArrayLike, lons: ArrayLike) -> NDArray:
    """USPS codes for many points at once (dtype '<U2'; "" outside every state)."""
    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    _check_coords(lats, lons)
    table = np.array([*_index().codes, ""], dtype="<U2")
    return table[_state_indices(lats, lons)]  # -1 picks the trailing ""


def _ellipse(lat: float, lon: float, radius_m: float):
    """A circle of ``radius_m`` around a point, as a lon/lat polygon (local metric scale)."""
    dlat = radius_m / _M_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    circle = shapely.buffer(shapely.Point(0.0, 0.0), 1.0, quad_segs=8)
    return shapely.transform(circle, lambda xy: xy * (dlon, dlat) + (lon, lat))


def state_at(lat: float, lon: float) -> StateHit | None:
    """The state at a point, or None offshore / outside the US.

    Raises ValueError for NaN, infinity or out-of-range coordinates.
    """
    lat_a, lon_a = np.array([float(lat)]), np.array([float(lon)])
    _check_coords(lat_a, lon_a)
    i = int(_state_indices(lat_a, lon_a)[0])
    if i < 0:
        return None
    idx = _index()
    code = idx.codes[i]
    near = idx.state_tree.query(_ellipse(lat, lon, NEAR_BORDER_M), predicate="intersects")
    neighbours = tuple(sorted(idx.codes[j] for j in near if j != i))
    return StateHit(code, idx.names[code], bool(neighbours), neighbours)


def _as_latlon_array(points) -> NDArray:
    arr = np.asarray(points, dtype=float)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be a sequence of (lat, lon) pairs or an (n, 2) array")
    _check_coords(arr[:, 0], arr[:, 1])
    return arr


def _densify(arr: NDArray, gap: NDArray) -> tuple[NDArray, NDArray]:
    """Insert points so no step exceeds ~200 m, except across gaps.

    Returns the points and, per resulting segment, whether it is a gap (not interpolated).
    """
    steps = np.abs(np.diff(arr, axis=0)).max(axis=1) if len(arr) > 1 else np.zeros(0)
    counts = np.where(gap, 1, np.maximum(np.ceil(steps / _DENSIFY_DEG).astype(int), 1))
    if (counts == 1).all():
        return arr, gap
    seg = np.repeat(np.arange(counts.size), counts)  # the segment each new point lies on
    first = np.repeat(np.cumsum(counts) - counts, counts)
    t = (np.arange(seg.size) - first) / counts[seg]
    dense = arr[seg] + (arr[seg + 1] - arr[seg]) * t[:, None]
    return np.concatenate((dense, arr[-1:])), np.repeat(gap, counts)


def _refine(a: NDArray, b: NDArray, state_a: NDArray) -> NDArray:
    """Points where each segment a->b leaves its start state (vectorised bisection)."""
    lo = np.zeros(len(a))
    hi = np.ones(len(a))
    for _ in range(_REFINE_STEPS):
        mid = (lo + hi) / 2
        pts = a + (b - a) * mid[:, None]
        same = _state_indices(pts[:, 0], pts[:, 1]) == state_a
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return (lo + hi) / 2


def _one_state(line: NDArray) -> int | None:
    """The state (index into ``codes``) of every point of a line lying wholly inside one
    state, found with one containment test instead of a lookup per point; None when that
    is not certain. Exactly what ``_state_indices`` gives such a line: every index piece
    near the line (by bounding box) belongs to that state, so no other state's piece can
    hold a point of it, and the line is inside the state (off its border), so each point
    lies in one of its pieces. A planned route is usually such a line."""
    if len(line) < 2:
        return None
    idx = _index()
    geom = shapely.linestrings(line[:, 1], line[:, 0])
    near = idx.piece_state[idx.piece_tree.query(geom)]
    if not near.size or (near != near[0]).any():
        return None
    one = int(near[0])
    return one if shapely.contains_properly(idx.geoms[one], geom) else None


def _sampled_state_indices(dense: NDArray, cum: NDArray, gap: NDArray) -> NDArray:
    """``_state_indices`` of every point of a dense line, looking up only one point per
    ``_SAMPLE_M`` of distance (and both ends of each gap): where two samples agree the
    points between them are in that state (the ~200 m resolution ``states_along``
    promises); where they differ, every point between them is looked up. A long GPS log
    (a fix every few metres) then costs a few thousand lookups, not one per fix."""
    n = len(dense)
    if n <= _SAMPLE_MIN_POINTS:
        return _state_indices(dense[:, 0], dense[:, 1])
    bucket = np.floor(cum / _SAMPLE_M).astype(np.int64)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    keep[1:] |= bucket[1:] != bucket[:-1]
    keep[:-1] |= gap  # a gap's two ends are both sampled
    keep[1:] |= gap
    sample = np.flatnonzero(keep)
    sample_state = _state_indices(dense[sample, 0], dense[sample, 1])
    # every point takes the state of the sample at or before it...
    state = np.repeat(sample_state, np.diff(np.append(sample, n)))
    # ...except between two samples that disagree: those points are looked up
    differ = np.flatnonzero(sample_state[1:] != sample_state[:-1])
    if differ.size:
        lo, hi = sample[differ] + 1, sample[differ + 1]
        inner = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
        if inner.size:
            state[inner] = _state_indices(dense[inner, 0], dense[inner, 1])
    return state


def states_along(
    points: Sequence[tuple[float, float]] | ArrayLike,
    max_gap_m: float | None = None,
    gaps: ArrayLike | None = None,
) -> list[StateSpan]:
    """The ordered stretches of a line (lat, lon points) inside each state.

    Stretches outside every state (sea, Canada, Mexico) are skipped; re-entering a
    state gives a new stretch. Segments are followed as straight lines in lon/lat and
    checked every ~200 m, so a clip of a state shorter than that can be missed.

    ``max_gap_m``: a segment longer than this is a *gap* (a GPS glitch or a pause in
    recording), not a road: it is not interpolated, and where the states on its two
    ends differ the stretches end and start at its ends (the gap's distance counts
    for neither, nor for the positions after it). Default None: every segment is followed
    (planned routes). ``gaps``: per segment, True where it is a gap whatever its length
    (a GPS log cut at its glitches, jumps and pauses).
    """
    arr = _as_latlon_array(points)
    if len(arr) == 0:
        return []
    if max_gap_m is not None:
        gap = segment_lengths_m(arr[:, 0], arr[:, 1]) > max_gap_m
    else:
        gap = np.zeros(max(len(arr) - 1, 0), dtype=bool)
    if gaps is not None:
        gap = gap | np.asarray(gaps, dtype=bool)
    dense, dense_gap = _densify(arr, gap)
    cum = cumulative_m(dense[:, 0], dense[:, 1])
    if dense_gap.any():  # a gap's length counts for no stretch and no position after it
        driven = np.diff(cum) * ~dense_gap
        cum = np.concatenate(([0.0], np.cumsum(driven)))
    idx = _index()
    one = _one_state(dense) if len(dense) <= _SAMPLE_MIN_POINTS else None
    if one is not None:  # the whole line in one state: one stretch, end to end
        code = idx.codes[one]
        first, last = dense[0].tolist(), dense[-1].tolist()
        return [
            StateSpan(
                code, idx.names[code], (first[0], first[1]), (last[0], last[1]), 0.0, float(cum[-1])
            )
        ]
    state = _sampled_state_indices(dense, cum, dense_gap)

    change = np.flatnonzero(state[1:] != state[:-1])  # segment k: dense[k] -> dense[k+1]
    # Crossing point and distance for every change of state (bisection; none across gaps).
    t = _refine(dense[change], dense[change + 1], state[change]) if len(change) else np.zeros(0)
    jump = dense_gap[change]
    cross_pt = dense[change] + (dense[change + 1] - dense[change]) * t[:, None]
    cross_m = cum[change] + (cum[change + 1] - cum[change]) * t

    starts = np.concatenate(([0], change + 1))
    spans = []
    for k, s in enumerate(starts):
        i = state[s]
        if i < 0:
            continue
        if k == 0:
            enter, from_m = tuple(dense[0]), 0.0
        elif jump[k - 1]:
            enter, from_m = tuple(dense[s]), float(cum[s])
        else:
            enter, from_m = tuple(cross_pt[k - 1]), float(cross_m[k - 1])
        if k == len(starts) - 1:
            exit_, to_m = tuple(dense[-1]), float(cum[-1])
        elif jump[k]:
            exit_, to_m = tuple(dense[change[k]]), float(cum[change[k]])
        else:
            exit_, to_m = tuple(cross_pt[k]), float(cross_m[k])
        code = idx.codes[i]
        spans.append(
            StateSpan(
                state=code,
                name=idx.names[code],
                enter=(float(enter[0]), float(enter[1])),
                exit=(float(exit_[0]), float(exit_[1])),
                from_m=from_m,
                to_m=to_m,
            )
        )
    return spans


def state_names() -> dict[str, str]:
    """USPS code -> name for the states with polygons (50 + DC), sorted by code."""
    return {code: US_STATE_NAMES[code] for code in sorted(_index().names)}


@functools.cache
def _polygons(tolerance_m: float) -> tuple[tuple[str, object], ...]:
    idx = _index()
    geoms = list(idx.geoms)
    if tolerance_m > BASE_TOLERANCE_M:
        geoms = shapely.coverage_simplify(
            geoms, tolerance_m / _M_PER_DEG_LAT, simplify_boundary=True
        )
        geoms = [shapely.make_valid(g) for g in geoms]
    return tuple(zip(idx.codes, geoms, strict=True))


def state_polygons(tolerance_m: float = BASE_TOLERANCE_M) -> dict[str, object]:
    """USPS code -> shapely (Multi)Polygon in lon/lat (x=lon, y=lat).

    ``tolerance_m`` above the shipped ~100 m simplifies further (shared borders stay
    shared); values at or below it return the shipped shapes. Cached per tolerance.
    """
    if not math.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"tolerance_m must be a non-negative number, got {tolerance_m!r}")
    return dict(_polygons(float(tolerance_m)))
