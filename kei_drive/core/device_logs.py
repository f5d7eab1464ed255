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

import heapq
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m
from kei_drive.core.log_assignment import CLOCK_FAULT_S, M_PER_DEG, Ends, assign_logs
from kei_drive.core.time_order import SWAPPED_FIX_S, copies_merged, segment_order
from kei_drive.core.track import GPX_COLUMNS, TrackArrays

RUN_GAP_S = 300.0  # a log's fixes farther apart in time than this are separate runs
SAME_PLACE_M = 30.0  # two fixes of one vehicle at one instant agree within GPS noise
SUSTAINED_S = 60.0  # elsewhere at the same instants this long (or half of the shorter log):
# two vehicles; never so long: the same drive logged twice
CLOCK_SLACK_S = 1.0  # two devices' stamps of one moment may differ this much (at 33 m/s...)
HEADING_S = 10.0  # a log's way at its end: over its last this many seconds
MAX_DEVICES = 12  # more segments logging at once share a clock fault (1980 start-ups)


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
    track (``core.track.from_segments``), in time order; a segment logging the same drive
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
    together: dict[int, set[int]] = {}
    dropped = np.zeros(track.t.size, dtype=bool)
    for (g, h), pair in both.items():
        sustained = min(SUSTAINED_S, 0.5 * min(logged_s[g], logged_s[h]))
        if pair.seconds < max(sustained, SWAPPED_FIX_S):
            continue
        if pair.elsewhere_s >= sustained:  # two vehicles (or one left the other)
            apart.setdefault(g, set()).add(h)
            apart.setdefault(h, set()).add(g)
        else:  # never elsewhere for long: one drive logged twice
            loser = _gives_way(track, groups, g, h, pair.windows)
            for lo, hi in pair.windows:
                t = track.t[groups[loser].fixes]
                dropped[groups[loser].fixes[(t >= lo) & (t <= hi)]] = True
            together.setdefault(g, set()).add(h)
            together.setdefault(h, set()).add(g)
    if not apart and not dropped.any():
        return [list(segments)]
    logs = (
        assign_logs(_ends(track, groups), apart, together) if apart else [list(range(len(groups)))]
    )
    starts = [min(_middle(track, groups[g]) for g in log) for log in logs]
    trimmed = _trimmed(segments, dropped, notes_out)
    out = []
    for _start_t, log in sorted(zip(starts, logs, strict=True), key=lambda item: item[0]):
        kept = [trimmed[s] for s in sorted(s for g in log for s in groups[g].segments)]
        if any(kept):
            out.append([s for s in kept if s is not None])
    return out


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
    parts = [
        a + segment_order(track.t[a:b], track.lat[a:b], track.lon[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
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
    ending: list[tuple[float, int]] = []  # (end, run number): a heap
    active: dict[int, tuple[float, float, int, int, int]] = {}
    logging = Counter()  # groups with an active run: how many runs
    for number, run in enumerate(runs):
        while ending and ending[0][0] - run[0] <= SWAPPED_FIX_S:
            gone = active.pop(heapq.heappop(ending)[1])
            logging[gone[2]] -= 1
            if not logging[gone[2]]:
                del logging[gone[2]]
        if len(logging) < MAX_DEVICES:  # more at once: a clock fault they share, not devices
            for other in active.values():
                lo, hi = run[0], min(run[1], other[1])
                if other[2] == run[2] or hi - lo <= SWAPPED_FIX_S:
                    continue
                pair = both.setdefault((min(run[2], other[2]), max(run[2], other[2])), _Both())
                pair.seconds += hi - lo
                share = _elsewhere_share(track, groups, other, run, lo, hi)
                pair.elsewhere_s += share * (hi - lo)
                pair.windows.append((lo, hi))
        active[number] = run
        heapq.heappush(ending, (run[1], number))
        logging[run[2]] += 1
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
    fixes of the sparser there against the denser one's positions then, give or take
    ``CLOCK_SLACK_S`` (interpolated: a 30 s tracker's straight lines would cut a phone's
    bends)."""
    columns = []
    for _lo, _hi, g, a, b in (one, two):
        idx = groups[g].fixes[a:b]
        t = track.t[idx]
        inside = (t >= lo) & (t <= hi)
        columns.append((int(np.count_nonzero(inside)), t, track.lat[idx], track.lon[idx], inside))
    (_n, _t, lat1, lon1, inside), (_m, t2, lat2, lon2, _) = sorted(columns, key=lambda c: c[0])
    at = _t[inside]
    if not at.size:
        return 0.0
    gap = np.full(at.size, np.inf)
    for slack in np.linspace(-CLOCK_SLACK_S, CLOCK_SLACK_S, 5):
        lat2_then, lon2_then = np.interp(at + slack, t2, lat2), np.interp(at + slack, t2, lon2)
        gap = np.minimum(gap, haversine_m(lat1[inside], lon1[inside], lat2_then, lon2_then))
    return float(np.count_nonzero(gap > SAME_PLACE_M)) / at.size


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


def _ends(track: TrackArrays, groups: list[_Group]) -> Ends:
    """Where and when each group starts and stops (its first and last runs of more than one
    fix: a lone fix at either end may have a wild date), and how it was moving then."""
    first, last, before_last, dated_early = [], [], [], []
    for group in groups:
        runs = [(a, b) for a, b in group.runs if b - a > 1] or group.runs
        first.append(group.fixes[runs[0][0]])
        jump = (
            track.t[group.fixes[runs[1][0]]] - track.t[group.fixes[runs[0][1] - 1]]
            if len(runs) > 1
            else 0.0
        )
        dated_early.append(jump > CLOCK_FAULT_S)
        a, b = runs[-1]
        t = track.t[group.fixes[a:b]]
        k = a + int(np.searchsorted(t, t[-1] - HEADING_S, side="right")) - 1
        last.append(group.fixes[b - 1])
        before_last.append(group.fixes[max(a, min(k, b - 2))])
    dt = track.t[last] - track.t[before_last]
    with np.errstate(invalid="ignore", divide="ignore"):
        north = (track.lat[last] - track.lat[before_last]) * M_PER_DEG / dt
        east = (track.lon[last] - track.lon[before_last]) * M_PER_DEG / dt
        east *= np.cos(np.radians(track.lat[last]))
    moving = np.isfinite(north) & np.isfinite(east) & (dt > 0)
    return Ends(
        track.t[first],
        track.t[last],
        track.lat[first],
        track.lon[first],
        track.lat[last],
        track.lon[last],
        np.array([_middle(track, group) for group in groups]),
        np.where(moving, north, 0.0),
        np.where(moving, east, 0.0),
        np.array(dated_early, dtype=bool),
    )


def _middle(track: TrackArrays, group: _Group) -> float:
    """When a group logged, for putting logs in order: the median time of its fixes (a few
    fixes with a bad clock do not move it)."""
    return float(np.median(track.t[group.fixes]))
