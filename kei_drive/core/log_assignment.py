"""Putting the segments of a track into devices' logs, once it is known which were logging
in other places at the same instants (``core.device_logs``).

Those that were (two vehicles) must be in different logs: they are placed first, in time
order, each in a log it was nowhere else than. Every other segment then joins the log it
carries on best, the nearest first: a vehicle's signal-loss segments follow it whatever
their order in the file. A segment starting where another stopped with its first fixes
dated a day or more before the rest (a logger's restart before it reads the satellites'
time) is that log going on, not a second device.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m

SEAM_S = 10.0  # a segment starting this little before another stopped follows it
REACH_M = 2_000.0  # a segment starting this close to where another stopped may follow it...
REACH_MPS = 60.0  # ...or farther, if a vehicle could have got there in the time between
CLOCK_FAULT_S = 86_400.0  # first fixes this long before the rest of a segment: a bad clock
AHEAD_S = 120.0  # a log going on is looked for where it was heading, up to this far ahead
M_PER_DEG = 111_195.0


@dataclass(frozen=True)
class Ends:
    """Where and when each segment (or group of copies) starts and stops."""

    first_t: NDArray
    last_t: NDArray
    first_lat: NDArray
    first_lon: NDArray
    last_lat: NDArray
    last_lon: NDArray
    middle_t: NDArray  # the median time of its fixes (for putting it in order)
    last_north_mps: NDArray  # its velocity as it stopped (0 when not known)
    last_east_mps: NDArray
    dated_early: NDArray  # its first fixes a day or more before the rest (a bad clock)


def assign_logs(
    ends: Ends, apart: dict[int, set[int]], together: dict[int, set[int]]
) -> list[list[int]]:
    """Logs (lists of segment numbers) such that no two segments ``apart`` share one;
    segments ``together`` (one place at the same instants) join at no cost."""
    n = ends.first_t.size
    root = list(range(n))

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    apart = {g: set(others) for g, others in apart.items()}
    for g, others in list(apart.items()):
        for h in list(others):
            if _goes_on(ends, h, g):  # one log after all: a clock went wrong
                root[find(g)] = find(h)
    members: dict[int, list[int]] = {}
    for g in range(n):
        members.setdefault(find(g), []).append(g)
    against: dict[int, set[int]] = {}
    for g, others in apart.items():
        for h in others:
            if find(g) != find(h):
                against.setdefault(find(g), set()).add(find(h))
    if not against:
        return [list(range(n))]
    log_of = np.full(n, -1)
    logs: list[list[int]] = []

    def place(comp: int, k: int) -> None:
        if k == len(logs):
            logs.append([])
        logs[k].extend(members[comp])
        log_of[members[comp]] = k

    def free_for(comp: int) -> list[int]:
        taken = {int(log_of[members[c][0]]) for c in against[comp] if log_of[members[c][0]] >= 0}
        return [k for k in range(len(logs)) if k not in taken]

    for comp in sorted(against, key=lambda c: min(ends.middle_t[members[c]])):
        free = free_for(comp)
        cost = [_log_cost(ends, members[comp], logs[k], together) for k in free]
        place(comp, free[int(np.argmin(cost))] if free else len(logs))
    _join_the_rest(ends, members, find, log_of, logs, together)
    return [sorted(log) for log in logs]


def _join_the_rest(ends, members, find, log_of, logs, together) -> None:
    """Each unplaced segment (none apart from anyone) joins the log it carries on best, the
    cheapest first (Prim's way: costs fall as segments are placed). A placed segment makes
    offers to its neighbours in time only, so that 50,000 segments cost 50,000 small steps."""
    if (log_of >= 0).all():
        return
    near = _Neighbours(ends)
    best = np.full(log_of.size, np.inf)
    offers: list[tuple[float, int, int]] = []  # (cost, segment, log): a heap

    def offer(g: int) -> None:
        others = near.of(g)
        others = others[log_of[others] < 0]
        if not others.size:
            return
        cost = _carry_cost(ends, g, others, together)
        for h, c in zip(
            others[cost < best[others]].tolist(), cost[cost < best[others]].tolist(), strict=True
        ):
            best[h] = c
            heapq.heappush(offers, (c, h, int(log_of[g])))

    for g in np.flatnonzero(log_of >= 0).tolist():
        offer(g)
    by_time = iter(np.argsort(ends.middle_t, kind="stable").tolist())
    left = int(np.count_nonzero(log_of < 0))
    while left:
        if offers:
            cost, g, k = heapq.heappop(offers)
            if log_of[g] >= 0 or cost > best[g]:
                continue
        else:  # out of reach of every log: the earliest left joins the nearest in time
            g = next(h for h in by_time if log_of[h] < 0)
            placed = np.flatnonzero(log_of >= 0)
            k = int(log_of[placed[np.argmin(np.abs(ends.middle_t[placed] - ends.middle_t[g]))]])
        for h in members[find(g)]:
            log_of[h] = k
            logs[k].append(h)
            left -= 1
            offer(h)


NEIGHBOURS = 8  # segments a placed one makes offers to, on each side in time, at least...
NEIGHBOUR_S = 300.0  # ...and all within this long of it...
MAX_NEIGHBOURS = 128  # ...up to this many on each side (a tracker writing each fix alone)


class _Neighbours:
    """The segments next to one in time: starting after it stops, stopping before it
    starts, and overlapping it (copies in one place, short overlaps)."""

    def __init__(self, ends: Ends) -> None:
        self.ends = ends
        self.by_first = np.argsort(ends.first_t, kind="stable")
        self.by_last = np.argsort(ends.last_t, kind="stable")
        self.firsts = ends.first_t[self.by_first]
        self.lasts = ends.last_t[self.by_last]

    def of(self, g: int) -> NDArray:
        e = self.ends
        start, stop = e.first_t[g], e.last_t[g]
        # starting from a while before g starts to a while after it stops
        lo = int(np.searchsorted(self.firsts, start - NEIGHBOUR_S))
        mid = int(np.searchsorted(self.firsts, stop - SEAM_S))
        hi = int(np.searchsorted(self.firsts, stop + NEIGHBOUR_S, side="right"))
        hi = min(max(hi, mid + NEIGHBOURS), mid + MAX_NEIGHBOURS)
        lo = max(lo, mid - MAX_NEIGHBOURS)
        # stopping a while before g starts
        b_hi = int(np.searchsorted(self.lasts, start + SEAM_S, side="right"))
        b_lo = int(np.searchsorted(self.lasts, start - NEIGHBOUR_S))
        b_lo = max(min(b_lo, b_hi - NEIGHBOURS), b_hi - MAX_NEIGHBOURS, 0)
        return np.unique(np.concatenate((self.by_first[lo:hi], self.by_last[b_lo:b_hi])))


def _log_cost(ends: Ends, gs: list[int], log: list[int], together: dict[int, set[int]]) -> float:
    """How well ``gs`` carry a log on (or it them), in metres: against the log's segment
    stopping last before each starts and the one starting first after it stops, among its
    latest (seeds are placed in time order)."""
    members = np.asarray(log[-4 * NEIGHBOURS :])
    best = np.inf
    for g in gs:
        partners = together.get(g)
        if partners and partners & set(log):
            return 0.0
        before = members[ends.last_t[members] <= ends.first_t[g] + SEAM_S]
        after = members[ends.first_t[members] >= ends.last_t[g] - SEAM_S]
        near = []
        if before.size:
            near.append(before[np.argmax(ends.last_t[before])])
        if after.size:
            near.append(after[np.argmin(ends.first_t[after])])
        if near:
            best = min(best, float(_carry_cost(ends, g, np.array(near), together).min()))
    return best


def _carry_cost(ends: Ends, g: int, others: NDArray, together: dict[int, set[int]]) -> NDArray:
    """For each of ``others``, how far in metres its start is from where ``g`` was heading
    when it stopped (or ``g``'s start from where it was heading) where one follows the other
    in time within reach (inf where it cannot have); where they overlap in time (not
    elsewhere at the same instants, or they would have been placed apart) the smaller gap
    as is, and 0 for those logging in one place with it. Heading matters: a convoy 300 m
    apart coming out of a tunnel is each truck where it was going, not the nearest."""
    after = ends.first_t[others] - ends.last_t[g]  # each one's start after g's stop
    before = ends.first_t[g] - ends.last_t[others]  # g's start after each one's stop
    gap_after = haversine_m(
        ends.last_lat[g], ends.last_lon[g], ends.first_lat[others], ends.first_lon[others]
    )
    gap_before = haversine_m(
        ends.last_lat[others], ends.last_lon[others], ends.first_lat[g], ends.first_lon[g]
    )
    miss_after = _missed_m(ends, np.full(others.size, g), others, after)
    miss_before = _missed_m(ends, others, np.full(others.size, g), before)
    cost = np.full(others.size, np.inf)
    for dt, gap, miss in ((after, gap_after, miss_after), (before, gap_before, miss_before)):
        follows = (dt >= -SEAM_S) & (gap <= REACH_M + REACH_MPS * np.maximum(dt, 0.0))
        cost = np.where(follows, np.minimum(cost, miss), cost)
    overlap = (after < -SEAM_S) & (before < -SEAM_S)
    cost = np.where(overlap, np.minimum(gap_after, gap_before), cost)
    cost[np.isin(others, list(together.get(g, ())))] = 0.0
    cost[others == g] = np.inf
    return cost


def _missed_m(ends: Ends, stops: NDArray, starts: NDArray, dt: NDArray) -> NDArray:
    """How far each of ``starts`` begins from where the matching one of ``stops`` would be
    by then, going on as it was (for up to ``AHEAD_S``)."""
    ahead = np.clip(dt, 0.0, AHEAD_S)
    lat = ends.last_lat[stops] + ends.last_north_mps[stops] * ahead / M_PER_DEG
    scale = M_PER_DEG * np.maximum(np.cos(np.radians(lat)), 0.01)
    lon = ends.last_lon[stops] + ends.last_east_mps[stops] * ahead / scale
    return haversine_m(lat, lon, ends.first_lat[starts], ends.first_lon[starts])


def _goes_on(ends: Ends, h: int, g: int) -> bool:
    """Though elsewhere than ``h`` at the same instants, does ``g`` carry ``h`` on? It starts
    where ``h`` stopped, and either after (then ``h``'s clock went back before it stopped,
    or they could not overlap), or with its own first fixes a day or more before the rest
    of it (a logger's first fixes dated 1980 or 2000). A clock set back whole hours between
    segments (DST in a local-time log) is not told from two vans leaving one depot: such a
    drive stays two trips."""
    dt = float(ends.first_t[g] - ends.last_t[h])
    gap = float(
        haversine_m(ends.last_lat[h], ends.last_lon[h], ends.first_lat[g], ends.first_lon[g])
    )
    if gap > REACH_M + REACH_MPS * max(dt, 0.0):
        return False
    return dt >= -SEAM_S or (dt < -CLOCK_FAULT_S and bool(ends.dated_early[g]))
