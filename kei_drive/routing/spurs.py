"""Out-and-back spurs a map-matcher adds to a noisy track, taken out of the matched path.

With 15-25 m of noise a fix lands nearer a side street than its road; the matcher puts it
there and the path drives up the side street and back (or back and forth along its own road)
between two fixes a second or two apart: 70-1,700 m of road no one drove, +10-70 % on
check-route's distance. A spur is where the path retraces itself exactly; it is a matcher's
artifact when the truck could only have driven it at over ``SPUR_SPEED_RATIO`` times its pace:
the median speed the GPS shows over the steps from ``SPUR_PACE_STEPS`` before the spur to as
many after it, counting only steps where it moved (a delivery's two minutes at the end of a
cul-de-sac logged every 30 s made the pace 1.2 m/s, and a real 600 m out-and-back was cut).
Then it is cut back to the deepest fix on it, or taken out when even that is too fast. A real
turn-round in a side street or a driveway is followed by fixes and takes its time; it stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from kei_drive.core.audit import RoadEdge
from kei_drive.core.distance import cumulative_m, haversine_m

SPUR_SPEED_RATIO = 2.0
SPUR_PACE_STEPS = 3
SPUR_MIN_SPEED_MPS = 1.0  # a pace floor: a truck standing still may still turn round
SPUR_MOVING_MPS = 2.0  # the steps the pace is the median of: the truck was moving
RETRACE_TOL_M = 1.0  # the same vertex, out and back (the engine's shape is to 1e-6 degree)


def find_spurs(shape: np.ndarray) -> list[tuple[int, int]]:
    """(j, k) of each out-and-back: the path leaves vertex j and comes back to the same
    place at vertex k > j, retracing every vertex between (a run of equal vertices counts as
    one, so a turn-around mid-edge is found too)."""
    if len(shape) < 3:
        return []
    step = haversine_m(shape[:-1, 0], shape[:-1, 1], shape[1:, 0], shape[1:, 1])
    distinct = np.concatenate(([0], np.flatnonzero(step > RETRACE_TOL_M) + 1))
    pts = shape[distinct]
    if len(pts) < 3:
        return []
    turns = haversine_m(pts[:-2, 0], pts[:-2, 1], pts[2:, 0], pts[2:, 1]) <= RETRACE_TOL_M
    out: list[tuple[int, int]] = []
    last_end = -1
    for tip in (np.flatnonzero(turns) + 1).tolist():
        if tip <= last_end:
            continue
        reach = 1
        while (
            tip - reach - 1 >= 0
            and tip + reach + 1 < len(pts)
            and haversine_m(*pts[tip - reach - 1], *pts[tip + reach + 1]) <= RETRACE_TOL_M
        ):
            reach += 1
        start, end = tip - reach, tip + reach
        last_end = end
        # back to shape indices: the first copy of the start vertex, the last of the end one
        last_copy = distinct[end + 1] - 1 if end + 1 < len(distinct) else len(shape) - 1
        out.append((int(distinct[start]), int(last_copy)))
    return out


def drop_spurs(
    shape: np.ndarray,
    edges: list[RoadEdge],
    fixes: Sequence[tuple[float, float]],
    matched: Sequence[dict[str, Any]],
    times: np.ndarray,
) -> tuple[np.ndarray, list[RoadEdge]]:
    """The path without the spurs its fixes could not have driven (``matched``: the engine's
    matched points, one per fix; ``times`` the fixes'). An untimed track's spurs are cut back
    to their deepest fix: a drawn route that turns round mid-block (the matcher cannot) drove
    on to the next crossing and back, 1.2-1.4 km no fix of it shows (an outside check)."""
    spurs = find_spurs(shape)
    if not spurs or len(matched) != len(times):
        return shape, edges
    cum = cumulative_m(shape[:, 0], shape[:, 1])
    place = _FixPlaces(shape, cum, edges, matched)
    if len(place.fixes) < 2:
        return shape, edges
    timed = bool(np.isfinite(times).all())
    gps_speed = np.zeros(0)
    if timed:
        gps = np.asarray(fixes, dtype=float).reshape(-1, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = haversine_m(gps[:-1, 0], gps[:-1, 1], gps[1:, 0], gps[1:, 1])
            gps_speed = step / np.diff(times)
    cuts = []
    for j, k in spurs:
        depth = _depth_driven(j, k, place, gps_speed, times) if timed else _deepest_fix(j, k, place)
        if depth is not None:
            cuts.append((j, k, depth))
    return _trim(shape, cum, edges, cuts) if cuts else (shape, edges)


class _FixPlaces:
    """Metres along the path of each matched fix, worked out when asked (a long track has
    few spurs; projecting every fix would cost more than the matching of a clean log)."""

    def __init__(
        self,
        shape: np.ndarray,
        cum: np.ndarray,
        edges: list[RoadEdge],
        matched: Sequence[dict[str, Any]],
    ) -> None:
        self.shape, self.cum, self.matched = shape, cum, matched
        n = len(edges)
        index = [m.get("edge_index") for m in matched]
        ok = [m.get("type") == "matched" and isinstance(e, int) and 0 <= e < n for m, e in
              zip(matched, index, strict=True)]  # fmt: skip
        self.fixes = np.flatnonzero(ok)
        self.begin = np.array([edges[index[i]].begin_index for i in self.fixes], dtype=np.int64)
        self.end = np.array([edges[index[i]].end_index for i in self.fixes], dtype=np.int64)
        self._at: dict[int, float] = {}

    def at(self, fix: int) -> float:
        """Metres along the path of the ``fix``-th matched fix (an index into ``fixes``)."""
        if fix not in self._at:
            b, e = int(self.begin[fix]), int(self.end[fix])
            m = self.matched[int(self.fixes[fix])]
            self._at[fix] = _project(self.shape, self.cum, b, max(e, b + 1), m["lat"], m["lon"])
        return self._at[fix]


def _project(shape: np.ndarray, cum: np.ndarray, b: int, e: int, lat: float, lon: float) -> float:
    """Metres along the path of the point of segments b..e nearest (lat, lon)."""
    e = min(e, len(shape) - 1)
    if e <= b:
        return float(cum[min(b, len(cum) - 1)])
    a, z = shape[b:e], shape[b + 1 : e + 1]
    k = np.cos(np.radians(lat))
    ax, ay = (a[:, 1] - lon) * k, a[:, 0] - lat
    dx, dy = (z[:, 1] - a[:, 1]) * k, z[:, 0] - a[:, 0]
    length2 = dx * dx + dy * dy
    t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    gap2 = (ax + t * dx) ** 2 + (ay + t * dy) ** 2
    s = int(np.argmin(gap2))
    return float(cum[b + s] + t[s] * (cum[b + s + 1] - cum[b + s]))


def _fixes_around(j: int, k: int, place: _FixPlaces) -> tuple[int, int] | None:
    """(a, b): the last fix placed up to the spur (j, k)'s start and the first from its end
    on (indices into ``place.fixes``), or None (edges tell roughly which fixes to place: a
    spur may start or end inside an edge)."""
    n = len(place.fixes)
    lo = int(np.flatnonzero(place.end <= j)[-1]) if (place.end <= j).any() else 0
    hi = int(np.flatnonzero(place.begin >= k)[0]) if (place.begin >= k).any() else n - 1
    start, end = float(place.cum[j]), float(place.cum[k])
    a = max((i for i in range(lo, hi + 1) if place.at(i) <= start + RETRACE_TOL_M), default=None)
    b = min((i for i in range(lo, hi + 1) if place.at(i) >= end - RETRACE_TOL_M), default=None)
    return None if a is None or b is None or b <= a else (a, b)


def _depth_of_fixes(j: int, k: int, place: _FixPlaces, a: int, b: int) -> float:
    """How far up the spur (j, k) the deepest fix between fixes a and b lies (at most half
    of it: its tip)."""
    start, end = float(place.cum[j]), float(place.cum[k])
    up = (min(place.at(i) - start, end - place.at(i)) for i in range(a + 1, b))
    return min(max(max(up, default=0.0), 0.0), (end - start) / 2)


def _deepest_fix(j: int, k: int, place: _FixPlaces) -> float | None:
    """An untimed track's spur (j, k) cut back to its deepest fix: None when that is its tip
    (every metre of it shown by a fix)."""
    around = _fixes_around(j, k, place)
    if around is None:
        return None
    depth = _depth_of_fixes(j, k, place, *around)
    half = (float(place.cum[k]) - float(place.cum[j])) / 2
    return None if depth >= half - RETRACE_TOL_M else depth


def _depth_driven(
    j: int, k: int, place: _FixPlaces, gps_speed: np.ndarray, times: np.ndarray
) -> float | None:
    """How far up the spur (j, k) the truck went, as far as its fixes and their times allow:
    None when it could have driven all of it; else the depth of the deepest fix on it when
    the truck could have driven that far and back, else 0 (it never left the road)."""
    around = _fixes_around(j, k, place)
    if around is None:
        return None
    a, b = around
    start, end = float(place.cum[j]), float(place.cum[k])
    first, last = int(place.fixes[a]), int(place.fixes[b])
    seconds = float(times[last] - times[first])
    if seconds <= 0:
        return None
    around = gps_speed[max(first - SPUR_PACE_STEPS, 0) : last + SPUR_PACE_STEPS]
    around = around[np.isfinite(around)]
    moving = around[around > SPUR_MOVING_MPS]  # a stop at the spur's end is time, not pace
    typical = float(np.median(moving if moving.size else around)) if around.size else 0.0
    reach = SPUR_SPEED_RATIO * max(typical, SPUR_MIN_SPEED_MPS) * seconds  # metres at most
    path = place.at(b) - place.at(a)
    if path <= reach:
        return None
    half = (end - start) / 2
    depth = _depth_of_fixes(j, k, place, a, b)
    return depth if path - 2 * (half - depth) <= reach else 0.0


def _trim(
    shape: np.ndarray, cum: np.ndarray, edges: list[RoadEdge], cuts: list[tuple[int, int, float]]
) -> tuple[np.ndarray, list[RoadEdge]]:
    """The path with each spur (j, k) cut back to its depth (0: to its start; a vertex is put
    where the cut spur turns); edges re-indexed, those wholly cut off dropped."""
    parts: list[np.ndarray] = []
    new_of_old = np.empty(len(shape), dtype=np.int64)
    size = done = 0

    def copy(first: int, stop: int) -> None:  # vertices first..stop-1 as they are
        nonlocal size
        if stop > first:
            parts.append(shape[first:stop])
            new_of_old[first:stop] = np.arange(size, size + stop - first)
            size += stop - first

    for j, k, depth in cuts:
        copy(done, j + 1)
        start, end = float(cum[j]), float(cum[k])
        inside = np.arange(j + 1, k + 1)
        if depth <= 0:
            new_of_old[inside] = size - 1
        else:
            out_leg = inside[
                (cum[inside] - start <= depth) & (cum[inside] - start < end - cum[inside])
            ]
            back_leg = inside[
                (end - cum[inside] <= depth) & (cum[inside] - start >= end - cum[inside])
            ]
            copy(int(inside[0]), int(out_leg[-1]) + 1 if out_leg.size else int(inside[0]))
            v = int(out_leg[-1]) if out_leg.size else j  # the turn: between v and v + 1
            t = (start + depth - cum[v]) / max(float(cum[v + 1] - cum[v]), 1e-9)
            parts.append((shape[v] + min(max(t, 0.0), 1.0) * (shape[v + 1] - shape[v]))[None])
            cut_off = np.setdiff1d(inside, np.concatenate((out_leg, back_leg)))
            new_of_old[cut_off] = size  # onto the turn
            size += 1
            if back_leg.size:
                copy(int(back_leg[0]), k + 1)
        done = k + 1
    copy(done, len(shape))
    out = []
    for edge in edges:
        b = int(new_of_old[min(edge.begin_index, len(shape) - 1)])
        e = int(new_of_old[min(edge.end_index, len(shape) - 1)])
        if e > b or edge.end_index == edge.begin_index:
            out.append(
                edge.shifted(b - edge.begin_index)
                if e - b == edge.end_index - edge.begin_index
                else replace(edge, begin_index=b, end_index=e)
            )
    return np.concatenate(parts), out
