"""Check a GPS track or a drawn route: cut, smooth, thin, map-match (Valhalla), audit.

A recorded track is cut where no matcher should bridge (glitches dropped, implausible jumps
and long gaps), each piece is smoothed according to its noise, thinned, and matched in
chunks; a chunk the engine refuses is halved until the bad part is isolated. Highway
stretches must be sustained on the GPS (length, time, heading), so a bridge over a
motorway or noise near one never becomes "motorway use". Each piece is audited on its own
and the reports are joined; what was not matched is reported with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from kei_drive.core.audit import HIGHWAY_CLASSES, RoadEdge, audit_route, highway_classes
from kei_drive.core.distance import cumulative_m, haversine_m
from kei_drive.core.glitches import repaired_times
from kei_drive.core.memory import trim_heap
from kei_drive.core.track import DEFAULT_CONFIG, TrackArrays
from kei_drive.core.track_noise import (
    position_noise_m,
    scatter_noise_m,
    smooth_positions,
    sparse_smoothing_noise_m,
)
from kei_drive.core.track_pieces import moving_thin_index, thin_index, track_pieces
from kei_drive.core.trips import ROAD_STEP_LOG_S
from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH
from kei_drive.routing import kei_costing as kc
from kei_drive.routing.base import NoRouteError, Router, RoutingError
from kei_drive.routing.drawn_routes import followed_note, roads_between
from kei_drive.routing.gap_highways import (
    GapRoads,
    gap_highways,
    pace_across_gaps,
    step_highways,
)
from kei_drive.routing.lanes import LANES, in_lanes
from kei_drive.routing.planner import (
    DESTINATION_TYPES,
    START_TYPES,
    Maneuver,
    RouteResult,
    combine_reports,
    edges_from_trace,
    load_permits,
    load_rules_or_default,
    maneuvers_from_route,
    maneuvers_onto,
)
from kei_drive.routing.polyline import decode_array
from kei_drive.routing.possible_highway import (
    SUSTAINED_MIN_POINTS,
    PossibleHighway,
    disputed_stretches,
    possible_notes,
)
from kei_drive.routing.road_match import name_lone_ramps
from kei_drive.routing.spurs import drop_spurs
from kei_drive.routing.unmatched import UnmatchedRun, unmatched_runs
from kei_drive.routing.unmatched import notes as unmatched_notes
from kei_drive.routing.unmatched import reasons as unmatched_reasons

MATCH_MIN_SPACING_M = 20.0  # GPS points closer than this to the last kept one are dropped
# An engine holds the memory of its largest chunk while it lives (measured): ~65 kB a fix of
# a dense log thinned to 100 m (check-route of a 500k-fix GPX peaks at ~284 MB with two
# engines side by side at 300 fixes; 400: ~297 MB), and ~1 MB a km of a sparse one (a 60 s
# tracker's 720 m steps: 270 fixes over 150 km held ~200 MB an engine, and check-route of a
# year of it peaked at 513 MB). So a chunk is also at most 40 km long (268 MB, no slower),
# but holds 50 fixes at least (a 5 min log's chunk of 10 fixes 4 km apart was refused whole
# more often), up to 150 km (Valhalla's trace max_distance is 200 km).
MATCH_CHUNK_POINTS = 300
MATCH_CHUNK_M = 40_000.0
MATCH_CHUNK_MIN_POINTS = 50
MATCH_CHUNK_MAX_M = 150_000.0
JOIN_GAP_M = 30.0  # consecutive parts closer than this share their boundary point
_NO_POINTS = np.zeros((0, 2))
MATCH_BREAK_M = 2000.0  # fixes farther apart than this are not bridged (Valhalla's breakage)
MATCH_BREAK_S = 1800.0  # ... nor fixes this long apart (as trips import starts a new trip)
# ... unless the step is the log's rhythm (a tracker's fix every 2 min: ``track_pieces``): up
# to this far, the matcher is asked to bridge it (its breakage distance, per request).
MATCH_STEP_MAX_M = 8000.0
MATCH_ROAD_FACTOR = 3.0  # the road between two fixes is at most this times their distance
# A sparse log's steps this long or longer are checked for a highway on the fastest road
# between their fixes (``_sparse_steps``). Shorter ones are matched about as surely as a dense
# log thinned to 100-200 m; a 20 s log's 211 m steps along a street found a ramp beside it.
STEP_CHECK_MIN_M = 400.0
# A dense log's signal loss this long (a gap in recording, as trip statistics call it) leaves
# the matcher's road across it a guess too: it is checked as a sparse step (``_sparse_steps``).
# 90 s lost across 235 m of a trunk road read "Kei-legal" (the matcher took the street beside).
GAP_CHECK_MIN_S = DEFAULT_CONFIG.gap_min_s
MATCH_POINT_BUDGET = 20_000  # beyond this many fixes the spacing grows...
MATCH_MAX_SPACING_M = 100.0  # ...up to this: sparser fixes cost the matcher more, not less
MATCH_THREADS = LANES  # chunks matched side by side (own engines: ``routing.lanes``)
MATCH_MIN_BISECT_POINTS = 6  # a refused chunk this small stays unmatched
SUSTAINED_MIN_M = 150.0  # shorter highway stretches are crossings or noise
SUSTAINED_MIN_S = 8.0  # ... and so are shorter times on one (timed tracks)
SPARSE_FIX_S = 15.0  # fixes this far apart (on average) leave a short highway stretch bare
SUSTAINED_MAX_ANGLE_DEG = 45.0  # the GPS must move along the highway, not across it
HIGHWAY_USE_MAX_UNMATCHED_M = 500.0  # "no highway" needs no longer unknown stretch


# An untimed track is a drawn route (a GPX route or an exported plan), whose vertices can
# be kilometres apart on a straight road: it is filled in to this spacing before matching,
# so that the matcher's 2 km breakage never cuts it. Longer straight lines are not roads.
ROUTE_FILL_SPACING_M = 200.0
ROUTE_FILL_MAX_SEGMENT_M = 30_000.0


def fill_route(
    lat: np.ndarray, lon: np.ndarray, spacing_m: float = ROUTE_FILL_SPACING_M
) -> tuple[np.ndarray, np.ndarray]:
    """Points added along every segment longer than ``spacing_m`` (up to
    ``ROUTE_FILL_MAX_SEGMENT_M``), evenly; the original vertices are kept."""
    if lat.size < 2:
        return lat, lon
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    steps = np.where(seg <= ROUTE_FILL_MAX_SEGMENT_M, np.ceil(seg / spacing_m), 1).astype(np.int64)
    steps = np.maximum(steps, 1)
    seg_of = np.repeat(np.arange(seg.size), steps)  # one entry per output point but the last
    frac = np.arange(seg_of.size) - np.repeat(np.cumsum(steps) - steps, steps)
    frac = frac / steps[seg_of]
    out_lat = np.append(lat[seg_of] + (lat[seg_of + 1] - lat[seg_of]) * frac, lat[-1])
    out_lon = np.append(lon[seg_of] + (lon[seg_of + 1] - lon[seg_of]) * frac, lon[-1])
    return out_lat, out_lon


def thin_track(points: Sequence[tuple[float, float]], min_spacing_m: float = MATCH_MIN_SPACING_M):
    """Drop points closer than ``min_spacing_m`` to the previous kept one (keeps the last)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    keep = thin_index(pts[:, 0], pts[:, 1], min_spacing_m)
    return [(float(a), float(b)) for a, b in pts[keep]]


def _chunk_bounds(lat: np.ndarray, lon: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges sharing their ends: at most ``MATCH_CHUNK_POINTS`` fixes
    over ``MATCH_CHUNK_M``, or ``MATCH_CHUNK_MIN_POINTS`` over up to ``MATCH_CHUNK_MAX_M``."""
    cum = cumulative_m(lat, lon)
    out, start = [], 0
    while start < lat.size - 1:
        end = min(start + MATCH_CHUNK_POINTS, lat.size)
        far, farthest = np.searchsorted(
            cum, cum[start] + np.array([MATCH_CHUNK_M, MATCH_CHUNK_MAX_M]), side="right"
        )
        end = min(end, max(int(far), start + MATCH_CHUNK_MIN_POINTS), int(farthest))
        end = max(end, start + 2)
        out.append((start, end))
        start = end - 1
    return out


@dataclass
class _Part:
    """A run of thinned fixes: matched (road geometry and edges) or kept as GPS geometry."""

    geometry: np.ndarray  # (n, 2) lat, lon: an array, not n tuples (a long track's parts
    edges: list[RoadEdge]  # are held until all are matched)
    gps_m: float  # length of the GPS fixes it covers
    unmatched_m: float  # of which not matched to a road
    unmatched_runs: list[UnmatchedRun] = field(default_factory=list)  # where, and how long
    possible: list[PossibleHighway] = field(default_factory=list)  # dropped, but perhaps real


@dataclass
class _Piece:
    parts: list[_Part] = field(default_factory=list)

    def take_audit_input(self) -> tuple[np.ndarray, list[RoadEdge]]:
        """The parts' geometry (one (n, 2) array) and edges joined; the parts give up theirs
        (a long track's geometry and edges are then held once, not twice, while audited)."""
        arrays: list[np.ndarray] = []
        edges: list[RoadEdge] = []
        size = 0
        last: tuple[float, float] | None = None
        for part in self.parts:
            pts = part.geometry
            offset = size
            if last is not None and len(pts) and haversine_m(*last, *pts[0]) < JOIN_GAP_M:
                offset -= 1  # parts share their boundary point
                pts = pts[1:]
            if len(pts):
                arrays.append(pts)
                size += len(pts)
                last = (float(pts[-1, 0]), float(pts[-1, 1]))
            edges.extend(part.edges if offset == 0 else (e.shifted(offset) for e in part.edges))
            part.geometry, part.edges = _NO_POINTS, []
        return (np.concatenate(arrays) if arrays else np.zeros((0, 2))), edges


def _angle_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    dot = a[0] * b[0] + a[1] * b[1]
    norm = math.hypot(*a) * math.hypot(*b)
    return 180.0 if norm == 0 else math.degrees(math.acos(max(-1.0, min(1.0, dot / norm))))


def _vector_m(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    k = 111_195.0
    return ((q[1] - p[1]) * k * math.cos(math.radians(p[0])), (q[0] - p[0]) * k)


def _index_or_none(value: Any, size: int) -> int:
    """``value`` when it indexes a list of ``size``, else -1."""
    return value if isinstance(value, int) and 0 <= value < size else -1


def _followed(
    on: list[int], fixes: list[tuple[float, float]], matched: list[dict[str, Any]]
) -> bool:
    """Did the GPS move along the road its fixes ``on`` were matched to, not across it? From
    the first fix to the one matched farthest from it, and from there to the last: each leg
    whose road line is ``SUSTAINED_MIN_M`` / 2 or longer must have the GPS line within
    ``SUSTAINED_MAX_ANGLE_DEG`` of it and at least half as long, and one leg must be that
    long. (Judged from the first fix to the last only, a drive out along I 95 and back on
    the other carriageway ended where it began, and the whole interstate was dropped as a
    crossing. Step by step, noise that ran along the motorway and back counted twice.)"""
    road = [(matched[i]["lat"], matched[i]["lon"]) for i in on]
    turn = max(range(len(on)), key=lambda j: math.hypot(*_vector_m(road[0], road[j])))
    legs = [(0, turn), (turn, len(on) - 1)] if 0 < turn < len(on) - 1 else [(0, len(on) - 1)]
    judged = False
    for a, b in legs:
        road_leg = _vector_m(road[a], road[b])
        if math.hypot(*road_leg) < SUSTAINED_MIN_M / 2:
            continue
        gps_leg = _vector_m(fixes[on[a]], fixes[on[b]])
        if _angle_deg(gps_leg, road_leg) > SUSTAINED_MAX_ANGLE_DEG or math.hypot(
            *gps_leg
        ) < 0.5 * math.hypot(*road_leg):
            return False
        judged = True
    return judged


def _drop_unsustained(
    edges: list[RoadEdge],
    shape: np.ndarray,
    fixes: list[tuple[float, float]],
    times: np.ndarray,
    matched: list[dict[str, Any]],
    possible_out: list[PossibleHighway] | None = None,
) -> list[RoadEdge]:
    """Edges of highway stretches the GPS does not support (too short, too brief, or crossed
    rather than followed) get the class of the road around them. ``possible_out`` receives
    those dropped for want of fixes alone (``PossibleHighway``)."""
    classes = highway_classes(edges)
    if not any(classes):
        return list(edges)
    cum = cumulative_m(shape[:, 0], shape[:, 1]) if len(shape) else np.zeros(1)
    # each GPS fix: matched or not, and the edge it was matched to (-1: none)
    matched_fix = np.array([m.get("type") == "matched" for m in matched], dtype=bool)
    # (an unmatched fix's edge_index is Valhalla's "none", 2**64 - 1: no edge either)
    n_edges = len(edges)
    fix_edge = np.array(
        [_index_or_none(m.get("edge_index"), n_edges) for m in matched], dtype=np.int64
    )
    out = list(edges)
    k = 0
    while k < len(edges):
        if not classes[k]:
            k += 1
            continue
        end = k
        while end < len(edges) and classes[end]:
            end += 1
        on = np.flatnonzero(matched_fix & (fix_edge >= k) & (fix_edge < end)).tolist()
        b, e = edges[k].begin_index, edges[end - 1].end_index
        length = float(cum[min(e, len(cum) - 1)] - cum[min(b, len(cum) - 1)])
        sustained = len(on) >= SUSTAINED_MIN_POINTS and length >= SUSTAINED_MIN_M
        if sustained:
            t = times[on]
            if np.isfinite(t).all() and float(t[-1] - t[0]) < SUSTAINED_MIN_S:
                sustained = False
        if sustained:
            sustained = _followed(on, fixes, matched)
        elif possible_out is not None:
            between = (
                _bare_between(on, fix_edge, matched_fix, k, end, times, fixes)
                if length >= SUSTAINED_MIN_M
                else None
            )
            if between is not None or _possible(on, length, times, fixes, matched):
                ends = shape[min(b, len(shape) - 1)], shape[min(e, len(shape) - 1)]
                if between is None or _heads_along(fixes, on, fix_edge, matched_fix, k, end, ends):
                    half_way = float(cum[min(b, len(cum) - 1)]) + length / 2
                    names = next((x.names for x in edges[k:end] if x.names), ())
                    ramp = all(x.use == "ramp" for x in edges[k:end])
                    road = names[0] if names else "a ramp" if ramp else ""
                    lat, lon = (float(np.interp(half_way, cum, shape[:, c])) for c in (0, 1))
                    span = float(times[on[-1]] - times[on[0]]) if on else math.nan
                    seconds = span if np.isfinite(span) else None
                    possible_out.append(
                        PossibleHighway(
                            length, classes[k], road, len(on), seconds, lat, lon, between
                        )
                    )
        if not sustained:
            around = next(
                (
                    x
                    for x in [*edges[end:], *reversed(edges[:k])]
                    if x.road_class and x.use != "ramp"
                ),
                None,
            )
            cls = around.road_class if around and around.road_class not in HIGHWAY_CLASSES else ""
            for j in range(k, end):
                out[j] = replace(edges[j], road_class=cls, use="road", names=edges[j].names)
        k = end
    return out


def _bare_between(
    on: list[int],
    fix_edge: np.ndarray,
    matched_fix: np.ndarray,
    k: int,
    end: int,
    times: np.ndarray,
    fixes: list[tuple[float, float]],
) -> float | None:
    """Seconds between the matched fixes either side of a highway stretch (edges ``k`` to
    ``end``) that holds at most one fix, when the log is sparse there: over
    ``SPARSE_FIX_S`` and ``SUSTAINED_MIN_M`` a fix on average (a logger saving battery, a
    signal lost in a tunnel). The matcher's road between them runs along the highway; the
    truck may have taken it. None otherwise: a dense log leaves no highway it drove bare (a
    short run of the matcher's path onto a motorway between dense fixes is not the truck's),
    and its fixes thinned for the matcher are at most ~100 m apart, however slow it went."""
    if len(on) > 1:
        return None
    either_side = _either_side(on, fix_edge, matched_fix, k, end)
    if either_side is None:
        return None
    first, last = either_side
    span = float(times[last] - times[first])
    if not np.isfinite(span) or span < SPARSE_FIX_S * (last - first):
        return None
    if math.hypot(*_vector_m(fixes[first], fixes[last])) < SUSTAINED_MIN_M * (last - first):
        return None
    return span


def _either_side(
    on: list[int], fix_edge: np.ndarray, matched_fix: np.ndarray, k: int, end: int
) -> tuple[int, int] | None:
    """The matched fixes either side of a highway stretch (edges ``k`` to ``end``), or its
    one fix where the matched path starts or ends on it (the fix before it was not matched:
    a sparse log's fix in a tunnel; or the log starts there). None when there are not two.
    An outside review weighed leaving out a log that starts or ends on the stretch: a 90 s
    drive whose first fix lies beside a ramp then reads Kei-legal rather than unknown, but a
    60 s drive whose first fix is on I 95 reads Kei-legal too; the second is the worse."""
    before = np.flatnonzero(matched_fix & (fix_edge >= 0) & (fix_edge < k))
    after = np.flatnonzero(matched_fix & (fix_edge >= end))
    first = int(before[-1]) if before.size else (on[0] if on else None)
    last = int(after[0]) if after.size else (on[-1] if on else None)
    if first is None or last is None or first >= last:
        return None
    return first, last


def _heads_along(
    fixes: list[tuple[float, float]],
    on: list[int],
    fix_edge: np.ndarray,
    matched_fix: np.ndarray,
    k: int,
    end: int,
    ends: tuple[np.ndarray, np.ndarray],
) -> bool:
    """Does the GPS go the highway stretch's way (within ``SUSTAINED_MAX_ANGLE_DEG``) from
    the fix before it to the fix after it? (A path that runs along a motorway and back, or
    crosses it, is not a drive along it.)"""
    either_side = _either_side(on, fix_edge, matched_fix, k, end)
    if either_side is None:
        return False
    gps = _vector_m(fixes[either_side[0]], fixes[either_side[1]])
    road = _vector_m(tuple(ends[0]), tuple(ends[1]))
    if math.hypot(*road) < SUSTAINED_MIN_M / 2:
        return False
    return _angle_deg(gps, road) <= SUSTAINED_MAX_ANGLE_DEG


def _possible(
    on: list[int],
    length: float,
    times: np.ndarray,
    fixes: list[tuple[float, float]],
    matched: list[dict[str, Any]],
) -> bool:
    """Would the stretch hold with two fixes, and its time counted from halfway to the fix
    before it to halfway to the fix after (the time the vehicle was on it, about)? An
    outside review (~9,500 drives beside, under and across motorways) found this adds no
    stretch on drives with fixes claiming 20 m or less, and ~1 % of drives whose fixes claim
    48 m: good enough to point a stretch out, not to count it."""
    if len(on) < 2 or length < SUSTAINED_MIN_M:
        return False
    t = times
    if np.isfinite(t).all():
        first, last = on[0], on[-1]
        before = (t[first] - t[first - 1]) / 2 if first > 0 else 0.0
        after = (t[last + 1] - t[last]) / 2 if last + 1 < len(t) else 0.0
        if float(t[last] - t[first] + before + after) < SUSTAINED_MIN_S:
            return False
    return _followed(on, fixes, matched)


def _match(
    router: Router, lat: np.ndarray, lon: np.ndarray, times: np.ndarray, accuracy_m: float
) -> list[_Part]:
    """Match one chunk; a refused chunk is halved until the refusal is isolated."""
    fixes = list(zip(lat.tolist(), lon.tolist(), strict=True))
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    try:
        request = kc.map_match_request(fixes, accuracy_m, _breakage_m(seg))
        answer = router.trace_attributes(request)
        shape = decode_array(answer.get("shape", ""))
        if len(shape) < 2:
            raise NoRouteError("empty match")
    except NoRouteError:
        if lat.size >= 2 * MATCH_MIN_BISECT_POINTS:
            mid = lat.size // 2
            return _match(router, lat[: mid + 1], lon[: mid + 1], times[: mid + 1], accuracy_m) + (
                _match(router, lat[mid:], lon[mid:], times[mid:], accuracy_m)
            )
        total = float(seg.sum())
        refused = np.zeros(lat.size, dtype=bool)
        gps = np.column_stack((lat, lon))
        return [_Part(gps, [], total, total, unmatched_runs(lat, lon, seg, refused))]
    matched = answer.get("matched_points") or []
    possible: list[PossibleHighway] = []
    edges = _drop_unsustained(edges_from_trace(answer), shape, fixes, times, matched, possible)
    shape, edges = drop_spurs(shape, edges, fixes, matched, times)
    unmatched_m, runs = 0.0, []
    if len(matched) == len(fixes):
        ok = np.array([m.get("type") != "unmatched" for m in matched])
        unmatched_m = float(seg[~(ok[:-1] & ok[1:])].sum())
        runs = unmatched_runs(lat, lon, seg, ok) if unmatched_m > 0 else []
    return [_Part(shape, edges, float(seg.sum()), unmatched_m, runs, possible)]


def _longest_unmatched_m(parts: list[_Part]) -> float:
    """The longest run of unmatched track (wholly unmatched parts in a row add up)."""
    longest = run = 0.0
    for part in parts:
        if part.unmatched_m > 0 and part.unmatched_m >= part.gps_m - 1e-6:
            run += part.unmatched_m
        else:
            run = part.unmatched_m
        longest = max(longest, run)
    return longest


def _cut(track: TrackArrays) -> Any:
    """Where the matcher must not bridge the track (``track_pieces``)."""
    return track_pieces(track, MATCH_BREAK_M, max_gap_s=MATCH_BREAK_S, max_step_m=MATCH_STEP_MAX_M)


def _sparse_steps(track: TrackArrays, cut: Any) -> list[tuple[int, int]]:
    """The steps whose fixes are too far apart for the matcher's road to be the only one the
    truck could have taken between them (``step_highways``): in a sparse log (fixes
    ``ROAD_STEP_LOG_S`` or more apart, typically), each step of ``STEP_CHECK_MIN_M`` or more;
    in any log, the steps over 2 km the cut kept (``track_pieces``), and a dense log's gaps
    in recording (``_dense_gaps``). Input indices of their two fixes, in order."""
    steps, dense = _long_steps(track, cut)
    return sorted(set(cut.long_steps) | set(steps if not dense else _dense_gaps(track, cut)))


def _dense_gaps(track: TrackArrays, cut: Any) -> list[tuple[int, int]]:
    """A dense log's gaps in recording (``GAP_CHECK_MIN_S`` or more) of ``STEP_CHECK_MIN_M``
    or more inside the pieces the matcher joins (none in a sparse log)."""
    steps, dense = _long_steps(track, cut)
    if not dense or not steps:
        return []
    a, b = np.array(steps).T
    with np.errstate(invalid="ignore"):
        gap = track.t[b] - track.t[a] >= GAP_CHECK_MIN_S
    return list(zip(a[gap].tolist(), b[gap].tolist(), strict=True))


def _long_steps(track: TrackArrays, cut: Any) -> tuple[list[tuple[int, int]], bool]:
    """The steps of ``STEP_CHECK_MIN_M`` or more inside the cut's pieces, and whether the log
    is dense (its median step under ``ROAD_STEP_LOG_S``); none when it is untimed."""
    joined = [p for p in cut.pieces if p.size > 1]
    if not joined:
        return [], False
    first = np.concatenate([p[:-1] for p in joined])
    second = np.concatenate([p[1:] for p in joined])
    dt = track.t[second] - track.t[first]
    timed = np.isfinite(dt)  # (a fix with no time among timed ones: its steps are checked too)
    if not timed.any():
        return [], False
    long = haversine_m(track.lat[first], track.lon[first], track.lat[second], track.lon[second])
    long = long >= STEP_CHECK_MIN_M
    pairs = list(zip(first[long].tolist(), second[long].tolist(), strict=True))
    return pairs, float(np.median(dt[timed])) < ROAD_STEP_LOG_S


def _breakage_m(seg: np.ndarray) -> float:
    """The matcher's breakage distance for a chunk whose fixes are ``seg`` metres apart.
    Valhalla also bounds the road it searches between two fixes by it, so a sparse log's
    step of 1.8 km whose road is 2.9 km is not joined at its 2 km: the bound is the longest
    step's ``MATCH_ROAD_FACTOR`` times (a longer road between two fixes is not the truck's)."""
    longest = float(seg.max()) if seg.size else 0.0
    return max(MATCH_BREAK_M, MATCH_ROAD_FACTOR * min(longest, MATCH_STEP_MAX_M))


def _as_track(points: Sequence[tuple[float, float]] | TrackArrays) -> TrackArrays:
    if isinstance(points, TrackArrays):
        return points
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return TrackArrays.from_columns(pts[:, 0], pts[:, 1])


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %" if share >= 0.01 else "under 1 %"


@dataclass
class _Thinned:
    """One reading of a piece of the cut track: smoothed and thinned for the matcher."""

    lat: np.ndarray
    lon: np.ndarray
    times: np.ndarray
    noise: float  # the fixes' typical error, for the matcher and the thinning
    scatter_m: float | None = None  # a second reading's: smoothed by the noise the fixes show


def _thinned_pieces(track: TrackArrays, cut: Any) -> list[list[_Thinned]]:
    """The readings of each piece of the cut track: smoothed by its own noise and thinned
    for the matcher; a very long track is matched at a wider spacing (measured on Baltimore
    tiles: 50-100 m is cheapest per km; 800 m costs 20 ms a fix, 100 m about 1 ms, 200 m 20 %
    more per km than 100 m). A 3-5 s log with no accuracy whose fixes show more noise than
    assumed (``sparse_smoothing_noise_m``) is read a second time, smoothed by that
    (``_one_reading`` chooses)."""
    smoothed = []
    for index in cut.pieces:
        if index.size >= 2:
            contiguous = int(index[-1]) - int(index[0]) + 1 == index.size  # views, not copies
            sub = track.take(slice(int(index[0]), int(index[-1]) + 1) if contiguous else index)
            noise = position_noise_m(sub)
            readings = [(*smooth_positions(sub, scatter_noise_m(sub, noise)), None)]
            wide = sparse_smoothing_noise_m(sub, noise)
            if np.any(np.asarray(wide) > noise):
                wide_lat, wide_lon = smooth_positions(sub, scatter_noise_m(sub, wide))
                readings.append((wide_lat, wide_lon, float(np.max(wide))))
            length = float(cumulative_m(readings[0][0], readings[0][1])[-1])
            smoothed.append((readings, sub.t, noise, length))
    budget_spacing = min(sum(s[-1] for s in smoothed) / MATCH_POINT_BUDGET, MATCH_MAX_SPACING_M)
    out = []
    for readings, times, noise, _length in smoothed:
        spacing = max(MATCH_MIN_SPACING_M, 2 * noise, budget_spacing)
        piece = []
        for lat, lon, scatter in readings:
            keep = moving_thin_index(lat, lon, times, noise, spacing)
            piece.append(_Thinned(lat[keep], lon[keep], times[keep], noise, scatter))
        out.append(piece)
    return out


def _one_reading(
    matched: list[list[_Part]], readings: list[_Thinned]
) -> tuple[list[_Part], list[PossibleHighway]]:
    """A piece's matched parts, from the reading that tells least: a noisy sparse log read
    as logged and read through its noise (``_thinned_pieces``). When both find highway or
    neither does, the smoothed one (it zigzags less: 30 m of noise at 3 s read +130-260 %
    as logged). When only one does, the log cannot tell: the other is kept and that one's
    highway stretches are pointed out, not counted (an outside check: smoothed, a drive
    ending 400 m up an interstate lost its highway in 8 of 288 noisy logs; as logged, 30 m
    of noise put 200-460 m of I 95 beside Ponca Street)."""
    if len(matched) == 1:
        return matched[0], []
    as_logged, smoothed = matched
    on_highway = [any(_has_highway(part) for part in parts) for parts in matched]
    if on_highway[0] == on_highway[1]:
        return smoothed, []
    kept, other = (as_logged, smoothed) if on_highway[1] else (smoothed, as_logged)
    scatter = readings[1].scatter_m or readings[1].noise
    return kept, [
        h
        for part in other
        for h in disputed_stretches(part.geometry, part.edges, scatter, on_highway[0])
    ]


def _matched_pieces(
    track: TrackArrays, cut: Any, router: Router | None
) -> Iterator[tuple[Iterator[_Part], list[PossibleHighway]]]:
    """Per piece of the cut track: its parts, matched chunk by chunk as they are asked for
    (GPS geometry only without a router), and the highway stretches its readings dispute."""
    for readings in _thinned_pieces(track, cut):
        if len(readings) == 1:
            r = readings[0]
            yield _piece_parts(router, r.lat, r.lon, r.times, r.noise), []
            continue
        matched = [list(_piece_parts(router, r.lat, r.lon, r.times, r.noise)) for r in readings]
        parts, disputed = _one_reading(matched, readings)
        yield iter(parts), disputed


def _why_nothing_to_match(fixes: int, cut: Any) -> str:
    """The error for a track with no two fixes a matcher could join."""
    kept = fixes - cut.glitches
    if kept < 2:
        rejected = f"{cut.glitches} of {fixes} were rejected as invalid or glitches"
        return f"no two usable fixes in the track ({rejected})"
    gaps = sum(kind == "gap" for kind, _ in cut.breaks)
    return (
        f"no two consecutive fixes of the track's {kept} usable ones are close enough to follow "
        f"a road between them: {gaps} gap{'s' if gaps != 1 else ''} of over "
        f"{MATCH_BREAK_S / 60:.0f} min or {MATCH_BREAK_M / 1000:.0f} km (up to "
        f"{MATCH_STEP_MAX_M / 1000:.0f} km where that is the log's rhythm) and "
        f"{len(cut.breaks) - gaps} implausible jump{'s' if len(cut.breaks) - gaps != 1 else ''}"
    )


def _all_matched_pieces(
    track: TrackArrays, cut: Any, router: Router | None
) -> tuple[list[list[_Part]], list[PossibleHighway]]:
    """Every piece's parts, its chunks matched MATCH_THREADS at a time when the engine has
    lanes (engines of its own per thread): the matcher is most of a long track's cost; and
    the highway stretches two readings of a piece dispute (``_one_reading``)."""
    pieces = _thinned_pieces(track, cut)
    readings = [r for piece in pieces for r in piece]
    if router is None:
        matched = [list(_piece_parts(None, r.lat, r.lon, r.times, r.noise)) for r in readings]
    else:
        matched = _match_in_lanes(readings, router)
    out: list[list[_Part]] = []
    disputed: list[PossibleHighway] = []
    first = 0
    for piece in pieces:
        parts, extra = _one_reading(matched[first : first + len(piece)], piece)
        out.append(parts)
        disputed.extend(extra)
        first += len(piece)
    return out, disputed


def _match_in_lanes(readings: list[_Thinned], router: Router) -> list[list[_Part]]:
    """Each reading's chunks matched in order, ``MATCH_THREADS`` side by side when the engine
    has lanes (``routing.lanes``)."""
    jobs = [(k, a, b) for k, r in enumerate(readings) for a, b in _chunk_bounds(r.lat, r.lon)]

    def match(lane: Router, job: tuple[int, int, int]) -> list[_Part]:
        k, a, b = job
        r = readings[k]
        return _match(lane, r.lat[a:b], r.lon[a:b], r.times[a:b], r.noise)

    out: list[list[_Part]] = [[] for _ in readings]
    for (k, _a, _b), parts in zip(jobs, in_lanes(router, match, jobs, MATCH_THREADS), strict=True):
        out[k].extend(parts)
    trim_heap()  # the extra engines went: their memory is the audit's now
    return out


def _piece_parts(
    router: Router | None, lat: np.ndarray, lon: np.ndarray, times: np.ndarray, noise: float
) -> Iterator[_Part]:
    for a, b in _chunk_bounds(lat, lon):
        if router is None:
            length = float(cumulative_m(lat[a:b], lon[a:b])[-1])
            yield _Part(np.column_stack((lat[a:b], lon[a:b])), [], length, length)
        else:
            yield from _match(router, lat[a:b], lon[a:b], times[a:b], noise)


def track_uses_highway(
    points: Sequence[tuple[float, float]] | TrackArrays,
    router: Router | None = None,
    why_out: list[str] | None = None,
) -> bool | None:
    """Did the track use a motorway or trunk (ramps included)? True as soon as one matched
    chunk holds a sustained highway stretch (the rest of the track cannot undo it, so it is
    not matched); False only when the whole track was matched with no unknown stretch
    longer than ``HIGHWAY_USE_MAX_UNMATCHED_M`` and no possible highway stretch
    (``PossibleHighway``); None (unknown) otherwise or without tiles, and then ``why_out``
    (a list) receives why, worded as check-route words it."""
    from kei_drive.routing import get_router

    track = repaired_times(_as_track(points))[0]
    if len(track) < 2:
        if why_out is not None:
            why_out.append("The track has fewer than two fixes: there is nothing to match.")
        return None
    router = router or get_router()
    lanes_of = getattr(router, "lanes", None)
    shared = lanes_of is not None and not getattr(router, "own_engine", False)
    if shared and len(track) > MATCH_CHUNK_POINTS:
        router = lanes_of(1)[0]  # a long log: an engine of its own, freed afterwards
    parts: list[_Part] = []
    cut = _cut(track)
    disputed: list[PossibleHighway] = []
    for piece, extra in _matched_pieces(track, cut, router):
        for part in piece:
            if _has_highway(part):
                return True
            parts.append(part)
        disputed.extend(extra)
    possible = [h for p in parts for h in p.possible] + disputed
    across = gap_highways(router, track, cut, HIGHWAY_USE_MAX_UNMATCHED_M, SUSTAINED_MIN_M)
    possible += across.possible
    # one engine, as for the matching above: a trip is judged in the server's background,
    # where memory counts more than seconds
    paces = pace_across_gaps(track, _dense_gaps(track, cut))
    steps = step_highways(
        router, track, _sparse_steps(track, cut), SUSTAINED_MIN_M, lanes=1, step_speeds=paces
    )
    possible += steps.possible
    if possible:  # not "no": the fixes were too few to tell
        if why_out is not None:
            why_out.extend(possible_notes(possible))
        return None
    gps_m = sum(p.gps_m for p in parts)
    unmatched_m = sum(p.unmatched_m for p in parts)
    matched = (
        gps_m > 0
        and unmatched_m < gps_m
        and _longest_unmatched_m(parts) <= (HIGHWAY_USE_MAX_UNMATCHED_M)
    )
    if matched and not across.unknown and not steps.unknown:
        return False
    if why_out is not None:  # what was not matched first, then kilometres with no road known
        why_out.extend([] if matched else _why_unknown(router, parts, cut, len(track)))
        why_out.extend([_gaps_note(cut)] if across.unknown else [])
        why_out.extend([_steps_note(steps.unknown)] if steps.unknown else [])
    return None


def _why_unknown(router: Router, parts: list[_Part], cut: Any, fixes: int) -> list[str]:
    """Why a track's highway use stayed unknown: its unmatched stretches, as check-route
    words them, or no two fixes a matcher could join."""
    gps_m = sum(p.gps_m for p in parts)
    if gps_m <= 0:
        return [_why_nothing_to_match(fixes, cut) + "."]
    runs = [run for p in parts for run in p.unmatched_runs]
    longest = _longest_unmatched_m(parts)
    return unmatched_notes(router, unmatched_reasons(router, runs, longest), gps_m, _pct)


def _restamped_note(count: int) -> str:
    fixes = "1 GPS fix's time stamp" if count == 1 else f"{count} GPS fixes' time stamps"
    return (
        f"{fixes} did not fit the log (a neighbour's time, or out of order) though "
        f"{'its place' if count == 1 else 'their places'} did: read from the fixes either side."
    )


def _gaps_note(cut: Any) -> str:
    count = len(cut.breaks)
    return (
        f"The track was cut at {count} jump{'s' if count > 1 else ''} "
        "or long gap(s) in recording; those stretches are not audited."
    )


def _not_yet_found(
    found: list[PossibleHighway], known: list[PossibleHighway], counted: set[str]
) -> list[PossibleHighway]:
    """Of the stretches on the fastest roads between a sparse log's fixes, those neither
    counted (a highway of that name on the matched path) nor pointed out already (another
    stretch of that class whose middle is within half their lengths of its middle)."""
    return [
        h
        for h in found
        if not (h.road and h.road in counted)
        and not any(
            k.road_class == h.road_class
            and haversine_m(h.lat, h.lon, k.lat, k.lon) <= (h.length_m + k.length_m) / 2
            for k in known
        )
    ]


def _counted_highway_names(pieces: Sequence[Any]) -> set[str]:
    """The names of the highways the matched path holds (sustained: they will be counted)."""
    return {
        name
        for piece in pieces
        for part in piece.parts
        for cls, edge in zip(highway_classes(part.edges), part.edges, strict=True)
        if cls
        for name in edge.names
    }


def _steps_note(count: int) -> str:
    return (
        f"{count} step{'s' if count > 1 else ''} between the log's sparse fixes could not be "
        "checked for a highway on the fastest road between them (too many, or no road found)."
    )


def _has_highway(part: _Part) -> bool:
    """A highway edge (ramps joining one count) covering at least one segment: exactly what
    makes ``audit_route`` warn of a highway stretch."""
    classes = highway_classes(part.edges)
    return any(c and e.end_index > e.begin_index for c, e in zip(classes, part.edges, strict=True))


def _drawn_route(track: TrackArrays, router: Router | None, notes: list[str]) -> TrackArrays:
    """A drawn route's points along the roads between them (``drawn_routes``), filled in
    to the matcher's spacing (``fill_route``)."""
    lat, lon = track.lat, track.lon
    exact = bool((track.accuracy == 0).all())  # a GPX route's vertices: no noise
    if router is not None:
        route = roads_between(router, lat, lon)
        lat, lon = route.lat, route.lon
        note = followed_note(route, len(track) - 1)
        if note:
            notes.append(note)
    lat, lon = fill_route(lat, lon)
    return TrackArrays.from_columns(lat, lon, accuracy=np.zeros(lat.size) if exact else None)


def check_track(
    points: Sequence[tuple[float, float]] | TrackArrays,
    *,
    router: Router | None = None,
    rules: Any = None,
    on: date | None = None,
    top_speed_mph: float = DEFAULT_TOP_SPEED_MPH,
    permits: Sequence[Any] | None = None,
    start_m: float = 0.0,
) -> RouteResult:
    """Map-match a recorded or imported track and audit it (``start_m``: the distance driven
    before it, when it continues another route: where its warnings' miles count from).

    ``points`` are (lat, lon) pairs or a ``TrackArrays`` (times and accuracies help: they
    decide the smoothing, the matcher's accuracy and the sustained-highway test). Stretches
    that cannot be matched keep the GPS geometry and are audited for states and distance,
    with road attributes reported as unknown; ``unmatched`` says what and why.
    """
    from kei_drive.routing import get_router

    track, restamped = repaired_times(_as_track(points))
    if len(track) < 2:
        raise ValueError("a route needs at least two points")
    rules = load_rules_or_default(rules)
    notes: list[str] = []
    engine = ""
    try:
        router = router or get_router()
        engine = getattr(router, "name", "")
    except RoutingError as exc:
        router = None
        notes.append(f"{exc}; road attributes are unknown")
    if not np.isfinite(track.t).any():  # a drawn route, not a recording
        track = _drawn_route(track, router, notes)
    cut = _cut(track)
    matched, disputed = _all_matched_pieces(track, cut, router)
    pieces = [_Piece(parts) for parts in matched]
    del matched
    if not pieces:
        raise ValueError(_why_nothing_to_match(len(track), cut))

    gps_m = sum(p.gps_m for piece in pieces for p in piece.parts)
    unmatched_m = sum(p.unmatched_m for piece in pieces for p in piece.parts)
    longest = _longest_unmatched_m([p for piece in pieces for p in piece.parts])
    possible = [h for piece in pieces for p in piece.parts for h in p.possible] + disputed
    across_unknown = False
    if router is not None and cut.breaks:
        across = gap_highways(router, track, cut, HIGHWAY_USE_MAX_UNMATCHED_M, SUSTAINED_MIN_M)
        possible += across.possible
        across_unknown = across.unknown
    steps = GapRoads()
    if router is not None:
        paces = pace_across_gaps(track, _dense_gaps(track, cut))
        steps = step_highways(
            router, track, _sparse_steps(track, cut), SUSTAINED_MIN_M, step_speeds=paces
        )
        possible += _not_yet_found(steps.possible, possible, _counted_highway_names(pieces))
        across_unknown = across_unknown or bool(steps.unknown)
    notes.extend(possible_notes(possible))
    if steps.unknown:
        notes.append(_steps_note(steps.unknown))
    audited = (  # as a trip's "no highway" needs: see track_uses_highway
        router is not None
        and not possible
        and not across_unknown
        and gps_m > 0
        and unmatched_m < gps_m
        and longest <= HIGHWAY_USE_MAX_UNMATCHED_M
    )
    reports = []
    permits = load_permits(permits)
    for piece in pieces:
        geometry, edges = piece.take_audit_input()
        if router is not None:
            edges = name_lone_ramps(router, geometry, edges)
        report = audit_route(
            geometry,
            edges,
            rules,
            on=on,
            top_speed_mph=top_speed_mph,
            permits=permits,
            start_m=start_m,
        )
        reports.append(report)
        start_m += report.distance_m
        del geometry, edges
    report = combine_reports(reports)
    unmatched: list[dict[str, Any]] = []
    if unmatched_m > 0 and router is None:
        unmatched.append(
            {
                "reason": "no_routing_tiles",
                "length_m": round(unmatched_m, 1),
                "longest_m": round(longest, 1),
            }
        )
    elif unmatched_m > 0:
        runs = [run for piece in pieces for p in piece.parts for run in p.unmatched_runs]
        unmatched.extend(unmatched_reasons(router, runs, longest))
        notes.extend(unmatched_notes(router, unmatched, gps_m, _pct))
    if cut.glitches:
        unmatched.append({"reason": "gps_glitch", "points": cut.glitches})
    for kind, metres in cut.breaks:
        unmatched.append(
            {"reason": "gps_jump" if kind == "jump" else "gap", "length_m": round(metres, 1)}
        )
    gaps_m = sum(metres for kind, metres in cut.breaks if kind == "gap")  # straight lines
    share = 1.0 - (unmatched_m + gaps_m) / (gps_m + gaps_m) if gps_m > 0 else 0.0
    if cut.glitches:
        notes.append(
            f"{cut.glitches} GPS fix{'es' if cut.glitches > 1 else ''} ignored as "
            f"{'glitches' if cut.glitches > 1 else 'a glitch'} "
            "(implausible jumps)."
        )
    if restamped:
        notes.append(_restamped_note(restamped))
    if cut.breaks:
        notes.append(_gaps_note(cut))
    return RouteResult(
        report=report,
        legal=False if not report.kei_legal else (True if audited else None),
        notes=notes,
        engine=engine,
        requested=(
            (float(track.lat[0]), float(track.lon[0])),
            (float(track.lat[-1]), float(track.lon[-1])),
        ),
        unmatched_share=1.0 - share if router is not None else 1.0,
        matched_share=share if router is not None else 0.0,
        unmatched=unmatched,
        longest_unmatched_m=longest if router is not None else float("inf"),
    )


def _legs_shape(answer: dict[str, Any]) -> np.ndarray:
    """The shape of every leg of a route answer, concatenated (maneuver indices refer to it)."""
    parts = [decode_array(leg.get("shape", "")) for leg in answer.get("trip", {}).get("legs", [])]
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts) if parts else np.zeros((0, 2))


def track_maneuvers(
    points: Sequence[tuple[float, float]],
    geometry: Sequence[tuple[float, float]],
    router: Router,
) -> list[Maneuver]:
    """Turn-by-turn directions along a route given as points (Valhalla ``trace_route``),
    their ``begin_index`` moved onto ``geometry`` (the audited route's own vertices).

    Raises RoutingError when the engine cannot match the points to roads.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    route = roads_between(router, pts[:, 0], pts[:, 1])  # as ``check_track`` audits it
    lat, lon = fill_route(route.lat, route.lon)
    keep = thin_index(lat, lon, MATCH_MIN_SPACING_M)
    lat, lon = lat[keep], lon[keep]
    found: list[tuple[Maneuver, tuple[float, float]]] = []
    for a, b in _chunk_bounds(lat, lon):
        fixes = list(zip(lat[a:b].tolist(), lon[a:b].tolist(), strict=True))
        answer = router.trace_route(kc.trace_route_request(fixes))
        shape = _legs_shape(answer)
        for m in maneuvers_from_route(answer):
            if 0 <= m.begin_index < len(shape):
                found.append((m, (float(shape[m.begin_index, 0]), float(shape[m.begin_index, 1]))))
    # One start and one arrival: chunks and breaks start and end legs of their own.
    found = [
        (m, p)
        for k, (m, p) in enumerate(found)
        if not (m.type in START_TYPES and k > 0)
        and not (m.type in DESTINATION_TYPES and k < len(found) - 1)
    ]
    return maneuvers_onto(found, geometry)


__all__ = [
    "check_track",
    "fill_route",
    "thin_track",
    "track_maneuvers",
    "track_uses_highway",
]
