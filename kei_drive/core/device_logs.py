"""Which segments of one GPX track are one device's log, and which are another's.

The segments of a track are one log as a rule: signal losses, a pause, a clock that steps
back an hour, parts of one log written again. Two phones or two vehicles written as
segments of one track over the same minutes (a merged export) are not: read as one log, a
trip jumps between them (two 3 km drives made one 11 km trip). Segments are told apart only
on evidence one device cannot give: being in two places at the same instants, for a
sustained time, while both log. A segment that carries on from where a log stopped, later
and within reach, stays in that log whatever its clock says about earlier minutes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m
from kei_drive.core.trips import (
    GPX_COLUMNS,
    SWAPPED_FIX_S,
    TrackArrays,
    copies_merged,
    segment_order,
)

RUN_GAP_S = 300.0  # a log's fixes farther apart in time than this are separate runs
APART_M = 200.0  # farther apart than this at one instant: two places (noise is far less)
APART_MIN_S = 60.0  # ...for this long (or half the time a short segment logged) at least:
# a few fixes with a bad clock are no device
APART_SHARE = 0.5  # ...and for at least this share of the time both log
REACH_M = 2_000.0  # a segment starting this close to where a log stopped carries it on...
REACH_MPS = 60.0  # ...or farther, if a vehicle could have got there in the time between
CLOCK_FAULT_S = 86_400.0  # a segment starting this long before a log stopped has a bad clock


@dataclass
class _Group:
    """Segments read as one (copies of each other in part): their fixes in time order."""

    segments: list[int]
    fixes: NDArray  # indices into the joined track
    runs: list[tuple[int, int]] = field(default_factory=list)  # [a, b) into ``fixes``


def separate_logs(segments: Sequence[Any]) -> list[list[Any]]:
    """A track's segments (``GpxSegment`` columns) grouped into logs, each to be read as one
    track (``core.trips.from_segments``), in time order. One log unless
    some segment was in another place than a log, at the same instants, for a sustained
    time (``APART_*``): then it starts a log of its own, unless it carries on from where
    one stopped."""
    if len(segments) < 2:
        return [list(segments)]
    track = TrackArrays(*(np.concatenate([getattr(s, k) for s in segments]) for k in GPX_COLUMNS))
    if not np.isfinite(track.t).all() or not _spans_overlap(track.t, segments):
        return [list(segments)]
    groups = _groups(track, segments)
    if len(groups) < 2:
        return [list(segments)]
    apart = _apart_pairs(track, groups)
    if not apart:
        return [list(segments)]
    logs: list[list[int]] = []
    log_of: dict[int, int] = {}
    for g in range(len(groups)):
        carried = [k for k, log in enumerate(logs) if _carries_on(track, groups, log, g)]
        taken = {log_of[h] for h in apart.get(g, ()) if h in log_of}
        if carried:
            k = min(carried, key=lambda k: _gap_m(track, groups, logs[k], g))
        else:
            k = next((k for k in range(len(logs)) if k not in taken), len(logs))
        if k == len(logs):
            logs.append([])
        logs[k].append(g)
        log_of[g] = k
    if len(logs) == 1:
        return [list(segments)]
    starts = [min(_middle(track, groups[g]) for g in log) for log in logs]
    return [
        [segments[s] for s in sorted(s for g in log for s in groups[g].segments)]
        for _start_t, log in sorted(zip(starts, logs, strict=True), key=lambda item: item[0])
    ]


def _spans_overlap(t: NDArray, segments: Sequence[Any]) -> bool:
    """Does any segment's time span overlap another's by more than a seam?"""
    bounds = np.cumsum([0, *(len(s) for s in segments)])
    spans = sorted((t[a:b].min(), t[a:b].max()) for a, b in itertools.pairwise(bounds) if b > a)
    latest = -np.inf
    for lo, hi in spans:
        if latest - lo > SWAPPED_FIX_S:
            return True
        latest = max(latest, hi)
    return False


def _groups(track: TrackArrays, segments: Sequence[Any]) -> list[_Group]:
    """Segments in their own order (``segment_order``), copies joined (``copies_merged``),
    in file order, each with its runs of fixes moving forward in time."""
    bounds = np.cumsum([0, *(len(s) for s in segments)]).tolist()
    parts = [a + segment_order(track.t[a:b]) for a, b in itertools.pairwise(bounds)]
    segment_of = np.repeat(np.arange(len(segments)), [len(s) for s in segments])
    groups = []
    for fixes in copies_merged(track, [p for p in parts if p.size]):
        members = sorted(set(segment_of[fixes].tolist()))
        step = np.diff(track.t[fixes])
        cut = np.flatnonzero((step < 0) | (step > RUN_GAP_S)) + 1
        edges = [0, *cut.tolist(), fixes.size]
        groups.append(_Group(members, fixes, list(itertools.pairwise(edges))))
    groups.sort(key=lambda group: group.segments[0])
    return groups


def _apart_pairs(track: TrackArrays, groups: list[_Group]) -> dict[int, list[int]]:
    """For each group, the groups it was in two places with at the same instants, for a
    sustained time. Only runs overlapping in time are compared (a sweep, not all pairs)."""
    runs = []
    for g, group in enumerate(groups):
        for a, b in group.runs:
            t = track.t[group.fixes[a:b]]
            if t[-1] - t[0] > SWAPPED_FIX_S:
                runs.append((float(t[0]), float(t[-1]), g, a, b))
    runs.sort()
    overlap_s: dict[tuple[int, int], float] = {}
    apart_s: dict[tuple[int, int], float] = {}
    active: list[tuple[float, float, int, int, int]] = []
    for run in runs:
        active = [r for r in active if r[1] - run[0] > SWAPPED_FIX_S]
        for other in active:
            if other[2] == run[2]:
                continue
            lo, hi = run[0], min(run[1], other[1])
            if hi - lo <= SWAPPED_FIX_S:
                continue
            share = _apart_share(track, groups, other, run, lo, hi)
            pair = (min(run[2], other[2]), max(run[2], other[2]))
            overlap_s[pair] = overlap_s.get(pair, 0.0) + hi - lo
            apart_s[pair] = apart_s.get(pair, 0.0) + share * (hi - lo)
        active.append(run)
    logged_s = [_logged_s(track, group) for group in groups]
    apart: dict[int, list[int]] = {}
    for (g, h), both in overlap_s.items():
        sustained = min(APART_MIN_S, APART_SHARE * min(logged_s[g], logged_s[h]))
        if apart_s[g, h] >= sustained and apart_s[g, h] >= APART_SHARE * both:
            apart.setdefault(g, []).append(h)
            apart.setdefault(h, []).append(g)
    return apart


def _apart_share(
    track: TrackArrays,
    groups: list[_Group],
    one: tuple[float, float, int, int, int],
    two: tuple[float, float, int, int, int],
    lo: float,
    hi: float,
) -> float:
    """The share of the instants in [lo, hi] at which two runs were ``APART_M`` apart: the
    fixes of each against the other's position then (interpolated)."""
    columns = []
    for _lo, _hi, g, a, b in (one, two):
        idx = groups[g].fixes[a:b]
        columns.append((track.t[idx], track.lat[idx], track.lon[idx]))
    apart = total = 0
    for (t1, lat1, lon1), (t2, lat2, lon2) in itertools.permutations(columns):
        inside = (t1 >= lo) & (t1 <= hi)
        at = t1[inside]
        gap = haversine_m(
            lat1[inside], lon1[inside], np.interp(at, t2, lat2), np.interp(at, t2, lon2)
        )
        apart += int(np.count_nonzero(gap > APART_M))
        total += at.size
    return apart / total if total else 0.0


def _logged_s(track: TrackArrays, group: _Group) -> float:
    """How long a group logged: its runs' time spans added up."""
    t = track.t[group.fixes]
    return float(sum(t[b - 1] - t[a] for a, b in group.runs))


def _last_fix(track: TrackArrays, groups: list[_Group], log: list[int]) -> int:
    return int(groups[log[-1]].fixes[-1])


def _carries_on(track: TrackArrays, groups: list[_Group], log: list[int], g: int) -> bool:
    """Does group ``g`` start after the log's last group stopped, within reach of it? Or
    where it stopped, with a clock gone wrong (a logger's first fixes dated 1980 or 2000
    until it reads the satellites' time)?"""
    end, first = _last_fix(track, groups, log), int(groups[g].fixes[0])
    dt = float(track.t[first] - track.t[end])
    gap_m = _gap_m(track, groups, log, g)
    if dt < -CLOCK_FAULT_S:
        return gap_m <= REACH_M
    return dt >= -SWAPPED_FIX_S and gap_m <= REACH_M + REACH_MPS * dt


def _gap_m(track: TrackArrays, groups: list[_Group], log: list[int], g: int) -> float:
    end, first = _last_fix(track, groups, log), int(groups[g].fixes[0])
    return float(haversine_m(track.lat[end], track.lon[end], track.lat[first], track.lon[first]))


def _middle(track: TrackArrays, group: _Group) -> float:
    """When a group logged, for putting logs in order: the median time of its fixes (a few
    fixes with a bad clock do not move it)."""
    return float(np.median(track.t[group.fixes]))
