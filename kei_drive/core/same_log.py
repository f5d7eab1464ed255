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

if TYPE_CHECKING:  # core.trips reads files through this module
    from kei_drive.core.trips import TrackArrays

SAME_FIX_M = 10.0  # the same log's fixes, rounded otherwise, move far less than this


def _ms(t: np.ndarray) -> np.ndarray:
    return np.round(t * 1000.0).astype(np.int64)


def is_part_of(small: TrackArrays, big: TrackArrays, tolerance_m: float = SAME_FIX_M) -> bool:
    """Is every fix of ``small`` (all timed, two at least) a fix of ``big``, which holds at
    least as many? (Where ``big`` has several fixes at one time, only the first is looked
    at: a doubtful case stays two logs.)"""
    if len(small) < 2 or len(small) > len(big) or not np.isfinite(small.t).all():
        return False
    timed = np.flatnonzero(np.isfinite(big.t))
    if timed.size < len(small):
        return False
    big_ms = _ms(big.t[timed])
    order = np.argsort(big_ms, kind="stable")
    sorted_ms = big_ms[order]
    wanted = _ms(small.t)
    at = np.minimum(np.searchsorted(sorted_ms, wanted), sorted_ms.size - 1)
    if not np.array_equal(sorted_ms[at], wanted):
        return False
    match = timed[order[at]]
    apart = haversine_m(small.lat, small.lon, big.lat[match], big.lon[match])
    return bool(np.all(apart <= tolerance_m))


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
    sizes = np.array([len(p) for p in parts])
    # smallest first; of equal sizes, the later one first (the first copy is kept)
    for k in sorted(range(n), key=lambda k: (sizes[k], -k)):
        if not np.isfinite(starts[k]):
            continue
        with np.errstate(invalid="ignore"):
            around = kept & (starts <= starts[k]) & (ends >= ends[k]) & (sizes >= sizes[k])
        around[k] = False
        if any(is_part_of(parts[k], parts[j], tolerance_m) for j in np.flatnonzero(around)):
            kept[k] = False
    return np.flatnonzero(~kept).tolist()
