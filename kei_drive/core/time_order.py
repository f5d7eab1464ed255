"""A log's fixes in time order: segments written out of order, swapped fixes and a track
written twice (``time_order``, ``segment_order``, ``copies_merged``), and fixes sharing one
whole-second stamp spread over it (``spread_repeated_times``); a sent batch's fixes out of
step with the rest (``out_of_step``)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m

if TYPE_CHECKING:  # core.track reads a file's fixes into time order with this module
    from kei_drive.core.track import TrackArrays

SAME_PLACE_DEG = 1e-5  # ~1 m: the same fix written with 5 or more decimals
SWAPPED_FIX_S = 10.0  # a segment stepping back no more than this has swapped fixes


def time_order(track: TrackArrays, segment_sizes: Sequence[int] | None = None) -> NDArray | None:
    """The order a careful reader puts a fully timed log's fixes in when some step goes back
    in time; None when nothing needs to move (or some fix has no time). Per segment: written
    newest first, it is reversed; stepping back at most ``SWAPPED_FIX_S`` (swapped fixes), it
    is sorted; a larger step back is a clock change (time zone, DST, a reset) and stays as
    written. Segments sharing a fix (the same time and place) are one device's log written
    again in parts (a track and a thinned copy, a day's piece beside the whole trip): their
    fixes are merged in time order. Segments are put in time order when their times do not
    overlap (written newest first); overlapping ones (two devices, two vehicles) stay in
    file order. A fix written twice (same time and place) is read once."""
    t = track.t
    n = t.size
    if n < 2 or not np.isfinite(t).all():
        return None
    if not (np.diff(t) < 0).any():  # in order: only a fix written twice in a row to drop
        again = np.concatenate(([False], _same_fix(track, slice(1, None), slice(None, -1))))
        return np.flatnonzero(~again) if again.any() else None
    bounds = np.cumsum([0, *(segment_sizes or [n])]).tolist()
    parts = [
        a + segment_order(t[a:b], track.lat[a:b], track.lon[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    parts = copies_merged(track, parts)
    spans = sorted(((t[p].min(), t[p].max(), k) for k, p in enumerate(parts) if p.size))
    if all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans)):
        parts = [parts[k] for _lo, _hi, k in spans]
    order = np.concatenate(parts)
    # each fix once: the first of those with the same time and place (a track written
    # twice, perhaps rounded to fewer decimals the second time)
    t_o, lat_o, lon_o = t[order], track.lat[order], track.lon[order]
    by_key = np.lexsort((lon_o, lat_o, t_o))  # stable: equal fixes stay in reading order
    same = (
        (t_o[by_key[1:]] == t_o[by_key[:-1]])
        & (np.abs(lat_o[by_key[1:]] - lat_o[by_key[:-1]]) <= SAME_PLACE_DEG)
        & (np.abs(lon_o[by_key[1:]] - lon_o[by_key[:-1]]) <= SAME_PLACE_DEG)
    )
    repeat = np.zeros(order.size, dtype=bool)  # of each pair, the one read later
    repeat[np.maximum(by_key[1:], by_key[:-1])[same]] = True
    order = order[~repeat]
    return None if order.size == n and (order == np.arange(n)).all() else order


def segment_order(t: NDArray, lat: NDArray | None = None, lon: NDArray | None = None) -> NDArray:
    """The order of one segment's fixes (times ``t``, all finite): reversed when written
    newest first, sorted when it steps back at most ``SWAPPED_FIX_S`` (swapped fixes), as
    written otherwise (a larger step back is a clock change: time zone, DST, a reset).
    Given their places, swapped fixes are sorted only when that shortens the way: a 1 min
    log's fix stamped 5 s before the fix before it lies on the way in file order, and
    sorted, the track ran back and forth 3 km (``glitches.repaired_times`` re-times it instead)."""
    step = np.diff(t)
    if step.size and (step < 0).any():
        if (step <= 0).all():
            return np.arange(t.size)[::-1]
        if step.min() >= -SWAPPED_FIX_S:
            order = np.argsort(t, kind="stable")
            if lat is None or lon is None or _way_m(lat[order], lon[order]) <= _way_m(lat, lon):
                return order
    return np.arange(t.size)


def _way_m(lat: NDArray, lon: NDArray) -> float:
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def copies_merged(track: TrackArrays, parts: list[NDArray]) -> list[NDArray]:
    """``parts`` (index arrays, one per segment) where those that are copies of each other
    in part are joined into one, in time order; the others as they are. Two segments are
    copies when, over the time both have fixes, at least half the fixes of the one with
    fewer there are fixes of the other (the same time and place; a thinned copy has fewer),
    and they are never in two places at one instant: two trucks parked side by side share
    a fix now and then (or every fix, from the same Wi-Fi position), then drive apart, and
    must not be woven into one log."""
    if len(parts) < 2:
        return parts
    segment = np.concatenate([np.full(p.size, k) for k, p in enumerate(parts)])
    index = np.concatenate(parts)
    t, lat, lon = track.t[index], track.lat[index], track.lon[index]
    by_key = np.lexsort((lon, lat, t))
    same = (
        (t[by_key[1:]] == t[by_key[:-1]])
        & (np.abs(lat[by_key[1:]] - lat[by_key[:-1]]) <= SAME_PLACE_DEG)
        & (np.abs(lon[by_key[1:]] - lon[by_key[:-1]]) <= SAME_PLACE_DEG)
    )
    a, b = segment[by_key[:-1]][same], segment[by_key[1:]][same]
    pairs, shared = np.unique(
        np.column_stack((np.minimum(a, b), np.maximum(a, b)))[a != b], axis=0, return_counts=True
    )
    copies = [
        (int(x), int(y))
        for (x, y), count in zip(pairs.tolist(), shared.tolist(), strict=True)
        if count >= 0.5 * min(_fixes_while_both(track, parts[x], parts[y]))
        and count >= np.intersect1d(track.t[parts[x]], track.t[parts[y]]).size
    ]
    if not copies:
        return parts
    root = list(range(len(parts)))

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    for x, y in copies:
        rx, ry = find(x), find(y)
        root[max(rx, ry)] = min(rx, ry)
    groups: dict[int, list[int]] = {}
    for k in range(len(parts)):
        groups.setdefault(find(k), []).append(k)
    out = []
    for members in groups.values():  # in the order of their first segments
        joined = np.concatenate([parts[k] for k in members])
        out.append(
            joined if len(members) == 1 else joined[np.argsort(track.t[joined], kind="stable")]
        )
    return out


def _fixes_while_both(track: TrackArrays, a: NDArray, b: NDArray) -> tuple[int, int]:
    """How many fixes each of two segments has while both have (their common time span)."""
    ta, tb = track.t[a], track.t[b]
    lo, hi = max(ta.min(), tb.min()), min(ta.max(), tb.max())
    return (
        int(np.count_nonzero((ta >= lo) & (ta <= hi))),
        int(np.count_nonzero((tb >= lo) & (tb <= hi))),
    )


def _same_fix(track: TrackArrays, a: slice | NDArray, b: slice | NDArray) -> NDArray:
    """Are fixes ``a`` and ``b`` the same (time, and place within ``SAME_PLACE_DEG``)?"""
    return (
        (track.t[a] == track.t[b])
        & (np.abs(track.lat[a] - track.lat[b]) <= SAME_PLACE_DEG)
        & (np.abs(track.lon[a] - track.lon[b]) <= SAME_PLACE_DEG)
    )


def split_on_time_gaps(t: NDArray, max_gap_s: float) -> list[NDArray]:
    """Index runs of a track cut wherever consecutive times are more than ``max_gap_s``
    apart, either way: a step back that far is another log's piece (segments of a merged
    file out of order), not a pause of minus a day (an untimed fix never cuts; like
    ``trips.split_on_gaps`` on columns)."""
    n = t.size
    if n == 0:
        return []
    timed = np.isfinite(t)
    idx = np.flatnonzero(timed)
    cut_after = idx[:-1][np.abs(np.diff(t[idx])) > max_gap_s]
    # the cut falls just before the next timed fix
    next_timed = idx[np.searchsorted(idx, cut_after, side="right")]
    return [piece for piece in np.split(np.arange(n), next_timed) if piece.size]


def spread_repeated_times(t: NDArray) -> NDArray:
    """Fixes sharing a time stamp (a 2 Hz logger writing whole seconds) spread evenly over
    the interval to the next stamp, so that a fit against time sees them in order."""
    n = t.size
    new_stamp = np.concatenate(([True], t[1:] != t[:-1]))
    first = np.flatnonzero(new_stamp)
    if first.size == n:
        return t
    group = np.cumsum(new_stamp) - 1
    size = np.diff(np.concatenate((first, [n])))
    rank = np.arange(n) - first[group]
    next_t = np.concatenate((t[first[1:]], [t[-1] + 1.0]))
    interval = np.clip(next_t - t[first], 0.0, 1.0)
    return t + rank / size[group] * interval[group]


def out_of_step(times: Sequence[float], tolerance: float) -> dict[int, str]:
    """The fixes of one batch (sent as a device logged them) whose time is out of step with
    the rest, each with the reason it is refused. The batch's order is its longest run of
    fixes in time order: oldest first, or newest first when that run is the longer. A fix
    off that run by more than ``tolerance`` (stepping back before the fix the run has before
    it, or ahead past the one after it) has a wrong clock; one fix stamped an hour late
    at a batch's head refuses itself, not the rest."""
    if len(times) < 2:
        return {}
    # found from the batch's end, so that of two runs as long the one sent first is kept
    n = len(times)
    backwards = list(reversed(times))
    rising = sorted(n - 1 - j for j in _longest_ordered_run([-t for t in backwards]))
    falling = sorted(n - 1 - j for j in _longest_ordered_run(backwards))
    newest_first = len(times) >= 3 and len(falling) > len(rising)
    order = list(range(len(times)))[::-1] if newest_first else list(range(len(times)))
    run = set(falling if newest_first else rising)
    before: list[float | None] = []  # the run's latest time before each position
    latest = None
    for i in order:
        before.append(latest)
        if i in run:
            latest = times[i]
    after: list[float | None] = []  # the run's earliest time after each position
    earliest = None
    for i in reversed(order):
        after.append(earliest)
        if i in run:
            earliest = times[i]
    after.reverse()
    refused = {}
    for i, prev, nxt in zip(order, before, after, strict=True):
        if i in run:
            continue
        if prev is not None and times[i] < prev - tolerance:
            refused[i] = f"time goes backwards by {(prev - times[i]) / 1000:.1f} s"
        elif nxt is not None and times[i] > nxt + tolerance:
            refused[i] = (
                f"time is {(times[i] - nxt) / 1000:.1f} s after the fixes logged after it "
                "(a wrong clock)"
            )
    return refused


def _longest_ordered_run(values: Sequence[float]) -> list[int]:
    """Indices of a longest non-decreasing subsequence (patience sorting, O(n log n))."""
    tails: list[float] = []  # the smallest last value of a run of each length
    tail_at: list[int] = []
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect.bisect_right(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = v, i
        parent[i] = tail_at[k - 1] if k else -1
    run, i = [], tail_at[-1] if tail_at else -1
    while i >= 0:
        run.append(i)
        i = parent[i]
    return run[::-1]
