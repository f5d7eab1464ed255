"""A GPS track as columns (``TrackArrays``), the rules it is read by (``StatsConfig``),
and how a GPX file's tracks become the drives read from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kei_drive.core.distance import haversine_m
from kei_drive.core.gpx import GpxSource, GpxTrack, TrackPoint, read_gpx_columns
from kei_drive.core.memory import trim_heap
from kei_drive.core.time_order import time_order

GPX_COLUMNS = ("lat", "lon", "t", "accuracy", "speed")  # GpxSegment names, TrackArrays order


@dataclass(frozen=True)
class StatsConfig:
    max_accuracy_m: float = 50.0  # fixes reported worse than this are dropped
    stationary_radius_m: float = 10.0  # movement below this (or the fix accuracy) is jitter
    stop_speed_mps: float = 0.5  # slower drift than this over the motion window is parked
    max_speed_mps: float = 60.0  # 216 km/h: faster jumps between fixes are glitches
    max_bridge_s: float = 7200.0  # a jump over a longer pause is judged as if 2 h long
    max_untimed_jump_m: float = 100_000.0
    outlier_max_points: int = 5  # pieces this small between implausible jumps are glitches
    gap_min_s: float = 30.0
    gap_drift_max_m: float = 200.0  # a gap's line longer than this was travelled, if slowly
    min_moving_fixes: int = 5  # shorter moving blips (1 Hz logging) are jitter
    smooth_window_s: float = 2.0
    max_smooth_window_s: float = 15.0  # speeds of very noisy tracks: averaged over at most +-this
    max_fit_window_s: float = 30.0  # lengths of very noisy tracks: fitted over at most +-this
    sustain_fixes: int = 5  # max speed and time over the cap must hold this many fixes...
    sustain_s: float = 4.0  # ...or, in a sparse log, as many as span this (2 at least)
    motion_window_s: float = 10.0
    speed_window_s: float = 3.0
    state_sample_m: float = 100.0  # states are looked up at most every this many metres


DEFAULT_CONFIG = StatsConfig()
TRACK_JOIN_MAX_GAP_S = 1800.0  # as an import splits a track (``db.trip_import.IMPORT_SPLIT_GAP_S``)


def drives_only(
    tracks: list[GpxTrack], notes_out: list[str] | None, purpose: str = "check"
) -> list[GpxTrack]:
    """A file's tracks without its planned routes (``<rte>``) when it holds both: the drive
    and the route it followed are not two drives (joined, they would be one line jumping
    back to the start). A file of routes only is its routes. ``notes_out`` receives a note
    on the routes set aside; ``purpose``: what the user would do with them ("check",
    "import")."""
    routes = sum(1 for t in tracks if t.kind == "rte")
    if not routes or routes == len(tracks):
        return tracks
    if notes_out is not None:
        one = routes == 1
        held = "a planned route (<rte>)" if one else f"{routes} planned routes (<rte>)"
        save = "the route in a file of its own" if one else "the routes in a file of their own"
        notes_out.append(
            f"The file also holds {held} beside its track: the track was read; save {save} "
            f"to {purpose} {'it' if one else 'them'}."
        )
    return [t for t in tracks if t.kind != "rte"]


def continued_tracks(
    tracks: list[GpxTrack],
    notes_out: list[str] | None = None,
    max_gap_s: float = TRACK_JOIN_MAX_GAP_S,
) -> list[GpxTrack]:
    """The file's tracks with each one that goes on from the one before joined to it:
    without a pause (a logger starting a new ``<trk>`` every few minutes, or at midnight:
    its first fix one fix interval after the other's last, at most twice the median
    interval, 2 s at least, within reach at a plausible speed), or across a signal lost
    while driving (a new ``<trk>`` after a tunnel: at most ``max_gap_s`` later, as within a
    track, and driven across, ``_driven_across``). Tracks with a stop between them (a
    recording ended where the next began), overlapping ones (a track written twice, two
    devices) and untimed ones stay as the file divides them. ``notes_out`` receives a note
    on the tracks joined."""
    out: list[GpxTrack] = []
    for track in tracks:
        before = out[-1] if out else None
        if (
            before is not None
            and before.kind == track.kind == "trk"
            and _goes_on(before, track, max_gap_s)
        ):
            out[-1] = replace(before, segments=[*before.segments, *track.segments])
        else:
            out.append(track)
    joined = len(tracks) - len(out)
    if joined and notes_out is not None:
        notes_out.append(
            f"{joined} of the file's {len(tracks)} tracks go on from the one before (a "
            "logger starting a new track, or a signal lost while driving): read as "
            f"{len(out)} drive{'s' if len(out) != 1 else ''}."
        )
    return out


def _goes_on(before: GpxTrack, after: GpxTrack, max_gap_s: float) -> bool:
    t0 = np.concatenate([s.t for s in before.segments])
    t1 = np.concatenate([s.t for s in after.segments])
    if t0.size < 2 or t1.size == 0 or not (np.isfinite(t0[-1]) and np.isfinite(t1[0])):
        return False
    steps = np.diff(t0[np.isfinite(t0)])
    interval = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    gap = float(t1[0] - t0[-1])
    last, first = before.segments[-1], after.segments[0]
    step_m = float(haversine_m(last.lat[-1], last.lon[-1], first.lat[0], first.lon[0]))
    cfg = StatsConfig()
    if 0.0 <= gap <= max(2.0 * interval, 2.0):
        return step_m <= cfg.max_speed_mps * max(gap, 1.0)
    return 0.0 < gap <= max_gap_s and _driven_across(step_m, gap, cfg)


def _driven_across(step_m: float, gap_s: float, cfg: StatsConfig) -> bool:
    """Was the truck driven between two fixes ``gap_s`` apart: farther apart than a parked
    phone's fix wanders, at a stop speed or more, and no faster than a plausible speed
    (as a gap within a track is judged)?"""
    return (
        step_m > cfg.gap_drift_max_m
        and cfg.stop_speed_mps * gap_s <= step_m <= cfg.max_speed_mps * gap_s
    )


@dataclass(frozen=True)
class TrackArrays:
    """A track as columns: degrees, epoch seconds (NaN: untimed), metres, m/s (NaN: unknown)."""

    lat: NDArray
    lon: NDArray
    t: NDArray
    accuracy: NDArray
    speed: NDArray
    # What the whole log these fixes were cut from said of its speed column (a tracker's
    # year cut into trips, ``core.long_stops``): True, it measured the log; False, it was
    # refused (another unit); None, judged on these fixes alone. A trip of a dozen fixes
    # cannot tell a winding road from a speed in knots; the year it was cut from can.
    speed_verdict: bool | None = None

    @classmethod
    def from_points(cls, points: Sequence[TrackPoint]) -> TrackArrays:
        nan = float("nan")
        return cls(
            np.array([p.lat for p in points], dtype=float),
            np.array([p.lon for p in points], dtype=float),
            np.array([p.time.timestamp() if p.time else nan for p in points], dtype=float),
            np.array([nan if p.accuracy_m is None else p.accuracy_m for p in points], float),
            np.array([nan if p.speed_mps is None else p.speed_mps for p in points], float),
        )

    @classmethod
    def from_columns(
        cls,
        lat: ArrayLike,
        lon: ArrayLike,
        t: ArrayLike | None = None,
        accuracy: ArrayLike | None = None,
        speed: ArrayLike | None = None,
    ) -> TrackArrays:
        lat = np.asarray(lat, dtype=float)

        def col(values: ArrayLike | None) -> NDArray:
            if values is None:
                return np.full(lat.shape, np.nan)
            return np.asarray(values, dtype=float)  # None entries become NaN

        return cls(lat, np.asarray(lon, dtype=float), col(t), col(accuracy), col(speed))

    @classmethod
    def from_gpx(cls, source: GpxSource, notes_out: list[str] | None = None) -> TrackArrays:
        """Every track point of a GPX file, concatenated, or every route point when it has
        no track (one streaming parse). A file holding a drive and its planned route is the
        drive: the two joined would be one line jumping back to the start. ``notes_out``
        receives the parser's note on points left out and one on routes set aside."""
        # elevation and course: not needed
        tracks = read_gpx_columns(source, GPX_COLUMNS[2:], notes_out=notes_out)
        tracks = drives_only(tracks, notes_out)
        segments = [s for track in tracks for s in exact_route_points(track).segments]
        del tracks
        out = cls(*(np.concatenate([getattr(s, k) for s in segments]) for k in GPX_COLUMNS))
        sizes = [len(s) for s in segments]
        del segments
        order = time_order(out, sizes)
        if order is not None:
            out = out.take(order)
        trim_heap()  # the per-segment columns, freed
        return out

    def __len__(self) -> int:
        return int(self.lat.size)

    def take(self, index: NDArray | slice) -> TrackArrays:
        """The fixes at ``index`` (a slice gives views, not copies)."""
        columns = (getattr(self, f)[index] for f in GPX_COLUMNS)
        return TrackArrays(*columns, speed_verdict=self.speed_verdict)


DENSE_STEP_M = 30.0  # untimed fixes closer than this (median) are a log, not a drawn route


def _median_step_m(lat: NDArray, lon: NDArray) -> float:
    return float(np.median(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])))


def exact_route_points(track: GpxTrack) -> GpxTrack:
    """A GPX route (``<rte>``) as exact positions: its points are a drawn line's vertices,
    not GPS fixes, so their accuracy is 0 where none is given and nothing smooths them (a
    winding route keeps its length). A route whose points are under ``DENSE_STEP_M`` apart
    (median) is a GPS log some app wrote as a route, and a track is returned as it is."""
    if track.kind != "rte":
        return track
    segments = []
    for segment in track.segments:
        if len(segment) < 5 or _median_step_m(segment.lat, segment.lon) >= DENSE_STEP_M:
            exact = np.where(np.isnan(segment.accuracy), 0.0, segment.accuracy)
            segment = replace(segment, accuracy=exact)
        segments.append(segment)  # (points a second apart: a GPS log written as a route)
    return replace(track, segments=segments)


def from_segments(segments: Sequence[Any]) -> tuple[TrackArrays, NDArray, NDArray]:
    """One track from GPX segments (``GpxSegment`` columns) joined in order, with its
    course and elevation columns (one segment's own arrays, not a copy: big imports)."""

    def joined(key: str) -> NDArray:
        columns = [getattr(s, key) for s in segments]
        return columns[0] if len(columns) == 1 else np.concatenate(columns)

    track = TrackArrays(*(joined(k) for k in GPX_COLUMNS))
    course, elevation = joined("course"), joined("elevation")
    order = time_order(track, [len(s) for s in segments])
    if order is None:
        return track, course, elevation
    return track.take(order), course[order], elevation[order]
