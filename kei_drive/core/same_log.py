"""Logs written twice: a track or segment whose every fix is a fix of another one.

Apps and exports repeat a log: the same track twice (perhaps rounded otherwise), or a part of
it again (a thinned copy, one day's piece beside the whole week). A careful reader counts
such a drive once. A fix is the same fix when it has the same time (to the millisecond) and
a position within a tolerance (a copy's rounding); another vehicle over the same minutes,
even in convoy, is somewhere else at those instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kei_drive.core.distance import haversine_m

if TYPE_CHECKING:  # annotations only
    from kei_drive.core.track import TrackArrays

SAME_FIX_M = 10.0  # the same log's fixes, rounded otherwise, move far less than this
SHARED_MOVE_M = 50.0  # fixes shared over less ground than this may be two parked vehicles'


def _ms(t: np.ndarray) -> np.ndarray:
    return np.round(t * 1000.0).astype(np.int64)


class _Instants:
    """A log's timed fixes sorted by their instant (ms): built once per log compared."""

    def __init__(self, log: TrackArrays) -> None:
        self.timed = np.flatnonzero(np.isfinite(log.t))
        big_ms = _ms(log.t[self.timed])
        self.order = np.argsort(big_ms, kind="stable")
        self.sorted_ms = big_ms[self.order]


def is_part_of(
    small: TrackArrays,
    big: TrackArrays,
    tolerance_m: float = SAME_FIX_M,
    instants: _Instants | None = None,
) -> bool:
    """Is every fix of ``small`` (all timed, two at least) a fix of ``big``, which holds at
    least as many? (Each fix is compared with every fix of ``big`` at its instant: a 2 Hz
    logger's whole-second stamps come two to a second.) ``instants``: ``big``'s, if built."""
    if len(small) < 2 or len(small) > len(big) or not np.isfinite(small.t).all():
        return False
    at = instants or _Instants(big)
    if at.timed.size < len(small):
        return False
    wanted = _ms(small.t)
    first = np.searchsorted(at.sorted_ms, wanted, side="left")
    count = np.searchsorted(at.sorted_ms, wanted, side="right") - first
    if not (count > 0).all():
        return False
    nearest = np.full(len(small), np.inf)
    for k in range(int(count.max())):  # the few fixes of one instant, in turn
        has = count > k
        match = at.timed[at.order[first[has] + k]]
        apart = haversine_m(small.lat[has], small.lon[has], big.lat[match], big.lon[match])
        nearest[has] = np.minimum(nearest[has], apart)
    return bool(np.all(nearest <= tolerance_m))


def repeated_parts(parts: Sequence[TrackArrays], tolerance_m: float = SAME_FIX_M) -> list[int]:
    """Indices of the parts that repeat another part kept (each of their fixes is one of
    its fixes): smaller parts are looked at first, and of parts that are the same log the
    first in reading order is kept."""
    n = len(parts)
    starts, ends = np.full(n, np.nan), np.full(n, np.nan)
    for k, part in enumerate(parts):
        if len(part) >= 2 and np.isfinite(part.t).all():
            starts[k], ends[k] = float(part.t.min()), float(part.t.max())
    kept = np.ones(n, dtype=bool)
    instants: dict[int, _Instants] = {}
    sizes = np.array([len(p) for p in parts])
    # smallest first; of equal sizes, the later one first (the first copy is kept)
    for k in sorted(range(n), key=lambda k: (sizes[k], -k)):
        if not np.isfinite(starts[k]):
            continue
        with np.errstate(invalid="ignore"):
            around = kept & (starts <= starts[k]) & (ends >= ends[k]) & (sizes >= sizes[k])
        around[k] = False
        for j in np.flatnonzero(around).tolist():
            if j not in instants:
                instants[j] = _Instants(parts[j])
            if is_part_of(parts[k], parts[j], tolerance_m, instants[j]):
                kept[k] = False
                break
    return np.flatnonzero(~kept).tolist()


def shared_span(
    log: TrackArrays, stored: TrackArrays, tolerance_m: float = SAME_FIX_M
) -> tuple[float, float] | None:
    """The time span (first, last instant, whole milliseconds) over which ``stored`` (a
    stored trip's fixes within ``log``'s time) is the same log as ``log``, or None when it
    is another drive.

    Over the time both have fixes, at least half the instants of the one with fewer there
    must be instants of the other with the same place (a thinned copy has fewer), the two
    are never in two places at one instant, and the shared fixes move: two trucks parked
    side by side share fixes (from one Wi-Fi position), and one standing at the end of its
    log beside the other says nothing of being one log. A log out of time order (two
    devices' segments in one track, a clock stepping back) is never cut (None)."""
    timed = np.isfinite(log.t)
    if np.any(np.diff(log.t[timed]) < 0):
        return None
    held = np.flatnonzero(np.isfinite(stored.t))
    if held.size < 2:
        return None
    held_ms = _ms(stored.t[held])
    lo, hi = int(held_ms.min()), int(held_ms.max())
    inside = np.flatnonzero(timed)
    wanted = _ms(log.t[inside])
    keep = (wanted >= lo) & (wanted <= hi)
    inside, wanted = inside[keep], wanted[keep]
    if inside.size < 2:
        return None
    at = _Instants(stored)
    first = np.searchsorted(at.sorted_ms, wanted, side="left")
    count = np.searchsorted(at.sorted_ms, wanted, side="right") - first
    nearest = np.full(inside.size, np.inf)
    for k in range(int(count.max(initial=0))):  # the few fixes of one instant, in turn
        has = count > k
        match = at.timed[at.order[first[has] + k]]
        apart = haversine_m(
            log.lat[inside[has]], log.lon[inside[has]], stored.lat[match], stored.lon[match]
        )
        nearest[has] = np.minimum(nearest[has], apart)
    shared_ms, group = np.unique(wanted[count > 0], return_inverse=True)
    fewer = min(np.unique(wanted).size, np.unique(held_ms).size)  # a 2 Hz log's stamps
    if shared_ms.size < 2 or shared_ms.size < 0.5 * fewer:
        return None
    same_at = np.zeros(shared_ms.size, dtype=bool)  # one fix alike at an instant is enough
    np.logical_or.at(same_at, group, nearest[count > 0] <= tolerance_m)
    if not same_at.all():
        return None
    shared = inside[count > 0]
    moved = haversine_m(log.lat[shared[0]], log.lon[shared[0]], log.lat[shared], log.lon[shared])
    return (lo / 1000.0, hi / 1000.0) if float(moved.max()) >= SHARED_MOVE_M else None


def runs_outside(t: np.ndarray, spans: Sequence[tuple[float, float]]) -> list[slice]:
    """The runs of fixes (slices, in order; ``t`` in time order) not strictly inside any of
    ``spans`` (compared to the millisecond, as fixes are stored): a run keeps the fix a
    span starts or ends at, so it meets the stored trip without a step lost or counted
    twice. An untimed fix is inside when the timed fixes before and after it are."""
    timed = np.isfinite(t)
    ms = _ms(np.where(timed, t, 0.0))
    inside = np.zeros(t.size, dtype=bool)
    for lo, hi in spans:
        inside |= timed & (ms > round(lo * 1000)) & (ms < round(hi * 1000))
    if timed.any() and not timed.all():
        index = np.arange(t.size)
        before = np.maximum.accumulate(np.where(timed, index, -1))
        after = np.minimum.accumulate(np.where(timed, index, t.size)[::-1])[::-1]
        between = ~timed & (before >= 0) & (after < t.size)
        inside[between] = inside[before[between]] & inside[after[between]]
    edges = np.flatnonzero(np.diff(np.concatenate(([True], inside, [True])).astype(np.int8)))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
