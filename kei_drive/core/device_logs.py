"""Which segments of one GPX track are one device's log, and which are another's.

The segments of a track are one log as a rule: signal losses, a pause, a clock that steps
back an hour, parts of one log written again. Two devices written as segments of one track
over the same minutes (a merged export) are not: read as one log, a trip jumps between them
(two 3 km drives made one 11 km trip; two phones in one cab made a 3.6 km drive 10.8 km).
Only sustained logging at the same instants tells them apart:

- in other places (two vehicles, a convoy): each is a log of its own;
- in one place (two phones in one cab, a raw and a filtered copy): the same drive logged
  twice, counted once; the device with fewer fixes over those minutes gives way.

A segment that carries on from where a log stopped, later and within reach, stays in that
log whatever its clock says about earlier minutes; one fix with a wild date is an instant,
not a span.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
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
SAME_PLACE_M = 30.0  # two fixes of one vehicle at one instant agree within GPS noise
SUSTAINED_S = 60.0  # logging at the same instants this long (or half of the shorter log)
TWIN_SHARE = 0.9  # ...in one place for this share of that time: the same drive twice
REACH_M = 2_000.0  # a segment starting this close to where a log stopped carries it on...
REACH_MPS = 60.0  # ...or farther, if a vehicle could have got there in the time between
CLOCK_FAULT_S = 86_400.0  # a segment starting this long before a log stopped has a bad clock


@dataclass
class _Group:
    """Segments read as one (copies of each other in part): their fixes in time order."""

    segments: list[int]
    fixes: NDArray  # indices into the joined track
    runs: list[tuple[int, int]] = field(default_factory=list)  # [a, b) into ``fixes``


@dataclass
class _Both:
    """Two groups over the minutes both logged: how long, how long in other places, and
    the time windows (for the one that gives way)."""

    seconds: float = 0.0
    elsewhere_s: float = 0.0
    windows: list[tuple[float, float]] = field(default_factory=list)


def separate_logs(segments: Sequence[Any], notes_out: list[str] | None = None) -> list[list[Any]]:
    """A track's segments (``GpxSegment`` columns) grouped into logs, each to be read as one
    track (``core.trips.from_segments``), in time order; a segment logging the same drive
    as another over the same minutes comes without those minutes (a note says so)."""
    if len(segments) < 2:
        return [list(segments)]
    track = TrackArrays(*(np.concatenate([getattr(s, k) for s in segments]) for k in GPX_COLUMNS))
    if not np.isfinite(track.t).all() or not _spans_overlap(track.t, segments):
        return [list(segments)]
    groups = _groups(track, segments)
    if len(groups) < 2:
        return [list(segments)]
    both = _logged_together(track, groups)
    logged_s = [_logged_s(track, group) for group in groups]
    apart: dict[int, set[int]] = {}
    dropped = np.zeros(track.t.size, dtype=bool)
    for (g, h), pair in both.items():
        sustained = min(SUSTAINED_S, 0.5 * min(logged_s[g], logged_s[h]))
        if pair.seconds < max(sustained, SWAPPED_FIX_S):
            continue
        if pair.elsewhere_s <= (1.0 - TWIN_SHARE) * pair.seconds:
            loser = _gives_way(track, groups, g, h, pair.windows)
            for lo, hi in pair.windows:
                t = track.t[groups[loser].fixes]
                dropped[groups[loser].fixes[(t >= lo) & (t <= hi)]] = True
        elif pair.elsewhere_s >= sustained:
            apart.setdefault(g, set()).add(h)
            apart.setdefault(h, set()).add(g)
    if not apart and not dropped.any():
        return [list(segments)]
    logs = _logs(track, groups, apart)
    starts = [min(_middle(track, groups[g]) for g in log) for log in logs]
    trimmed = _trimmed(segments, dropped, notes_out)
    out = []
    for _start_t, log in sorted(zip(starts, logs, strict=True), key=lambda item: item[0]):
        kept = [trimmed[s] for s in sorted(s for g in log for s in groups[g].segments)]
        if any(kept):
            out.append([s for s in kept if s is not None])
    return out


def _logs(track: TrackArrays, groups: list[_Group], apart: dict[int, set[int]]) -> list[list[int]]:
    """Groups in file order into logs: each joins the log it carries on (the nearest), else
    the first it was never elsewhere than, else a new one."""
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
    return logs


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


def _logged_together(track: TrackArrays, groups: list[_Group]) -> dict[tuple[int, int], _Both]:
    """Pairs of groups whose runs overlap in time by more than a seam, with how long and how
    long in other places. Only overlapping runs are compared (a sweep, not all pairs)."""
    runs = []
    for g, group in enumerate(groups):
        for a, b in group.runs:
            t = track.t[group.fixes[a:b]]
            if t[-1] - t[0] > SWAPPED_FIX_S:
                runs.append((float(t[0]), float(t[-1]), g, a, b))
    runs.sort()
    both: dict[tuple[int, int], _Both] = {}
    active: list[tuple[float, float, int, int, int]] = []
    for run in runs:
        active = [r for r in active if r[1] - run[0] > SWAPPED_FIX_S]
        for other in active:
            lo, hi = run[0], min(run[1], other[1])
            if other[2] == run[2] or hi - lo <= SWAPPED_FIX_S:
                continue
            pair = both.setdefault((min(run[2], other[2]), max(run[2], other[2])), _Both())
            pair.seconds += hi - lo
            pair.elsewhere_s += _elsewhere_share(track, groups, other, run, lo, hi) * (hi - lo)
            pair.windows.append((lo, hi))
        active.append(run)
    return both


def _elsewhere_share(
    track: TrackArrays,
    groups: list[_Group],
    one: tuple[float, float, int, int, int],
    two: tuple[float, float, int, int, int],
    lo: float,
    hi: float,
) -> float:
    """The share of the instants in [lo, hi] at which two runs were in other places: the
    fixes of each against the other's position then (interpolated)."""
    columns = []
    for _lo, _hi, g, a, b in (one, two):
        idx = groups[g].fixes[a:b]
        columns.append((track.t[idx], track.lat[idx], track.lon[idx]))
    elsewhere = total = 0
    for (t1, lat1, lon1), (t2, lat2, lon2) in itertools.permutations(columns):
        inside = (t1 >= lo) & (t1 <= hi)
        at = t1[inside]
        lat2_at, lon2_at = np.interp(at, t2, lat2), np.interp(at, t2, lon2)
        gap = haversine_m(lat1[inside], lon1[inside], lat2_at, lon2_at)
        elsewhere += int(np.count_nonzero(gap > SAME_PLACE_M))
        total += at.size
    return elsewhere / total if total else 0.0


def _gives_way(
    track: TrackArrays, groups: list[_Group], g: int, h: int, windows: list[tuple[float, float]]
) -> int:
    """Of two groups logging the same drive, the one with fewer fixes over those minutes
    (the later in the file when even)."""

    def fixes_within(k: int) -> int:
        t = track.t[groups[k].fixes]
        return sum(int(np.count_nonzero((t >= lo) & (t <= hi))) for lo, hi in windows)

    return h if fixes_within(h) <= fixes_within(g) else g


def _trimmed(segments: Sequence[Any], dropped: NDArray, notes_out: list[str] | None) -> list[Any]:
    """Each segment without its dropped fixes (None when none is left)."""
    out, start = [], 0
    for number, segment in enumerate(segments, 1):
        gone = dropped[start : start + len(segment)]
        start += len(segment)
        if not gone.any():
            out.append(segment)
            continue
        if notes_out is not None:
            notes_out.append(
                f"segment {number} logged the same drive as another over the same minutes "
                f"(a second device): its {int(gone.sum()):,} fixes of those minutes were "
                "left out, so the drive counts once"
            )
        keep = ~gone
        columns = {f.name: getattr(segment, f.name)[keep] for f in fields(segment)}
        out.append(type(segment)(**columns) if keep.any() else None)
    return out


def _logged_s(track: TrackArrays, group: _Group) -> float:
    """How long a group logged: its runs' time spans added up."""
    t = track.t[group.fixes]
    return float(sum(t[b - 1] - t[a] for a, b in group.runs))


def _last_fix(groups: list[_Group], log: list[int]) -> int:
    return int(groups[log[-1]].fixes[-1])


def _carries_on(track: TrackArrays, groups: list[_Group], log: list[int], g: int) -> bool:
    """Does group ``g`` start after the log's last group stopped, within reach of it? Or
    where it stopped, with a clock gone wrong (a logger's first fixes dated 1980 or 2000
    until it reads the satellites' time)?"""
    end, first = _last_fix(groups, log), int(groups[g].fixes[0])
    dt = float(track.t[first] - track.t[end])
    gap_m = _gap_m(track, groups, log, g)
    if dt < -CLOCK_FAULT_S:
        return gap_m <= REACH_M
    return dt >= -SWAPPED_FIX_S and gap_m <= REACH_M + REACH_MPS * dt


def _gap_m(track: TrackArrays, groups: list[_Group], log: list[int], g: int) -> float:
    end, first = _last_fix(groups, log), int(groups[g].fixes[0])
    return float(haversine_m(track.lat[end], track.lon[end], track.lat[first], track.lon[first]))


def _middle(track: TrackArrays, group: _Group) -> float:
    """When a group logged, for putting logs in order: the median time of its fixes (a few
    fixes with a bad clock do not move it)."""
    return float(np.median(track.t[group.fixes]))
