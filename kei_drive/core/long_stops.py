"""Long stops inside one log: a tracker that kept logging while the truck stood parked.

A GPX export of a background tracker (Traccar, OwnTracks, a GPS unit left on) holds days of
fixes without a pause in time: the truck parked overnight, every minute a fix. Cut only at
pauses in time, such a file made one "trip" of a year. A stop longer than the pause that
starts a new trip (``split_gap_s``) is that pause, with the logger on: the trip before ends
where the truck arrived, the next starts where it left, and the parked fixes between belong
to no trip (as a background logger's trips are cut, ``core.segment``).

A stop is a place, not only fixes that read as standing (``TrackAnalysis.moving`` false):

- a parked logger's jump (multipath: 100-500 m for a fix or three) or jitter that reads as
  moving for a while, but never leaves the place, does not end the stop (else the stop's
  halves made a trip of the jump);
- fixes that read as standing but step far from each other (a short drive whose fixes a
  2 min tracker took at red lights, its speed reading 0) are not one stop;
- a run of standing fixes that drifts (a queue rolling a few metres at a time, a crawl that
  a phone claiming 30 m reads as standing) is driving, not a stop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import TrackAnalysis

NEVER_LEFT_M = 150.0  # fixes this near the place (or 4x its scatter) did not leave it...
BLIP_MAX_FIXES = 3  # ...and a jump away of this many fixes that comes back is a glitch
END_FIXES = 20  # the place where a part ends (begins): the median of this many fixes
SCATTER_FIXES = 200  # its scatter: the median distance of this many fixes from it
AT_REST_M = 50.0  # a stop begins and ends with a fix this near where it stood (or 3x scatter)
DRIFT_MAX_M = 40.0  # a stop's first and last third stand this near (medians), at most


@dataclass(frozen=True)
class LongStop:
    arrived: int  # input index of the stop's first standing fix (the trip before ends there)
    left: int  # ... and of its last (the next trip starts there)
    seconds: float  # from the one to the other


def long_stops(analysis: TrackAnalysis, track: TrackArrays, min_s: float) -> list[LongStop]:
    """The stops of a timed log that lasted over ``min_s``: runs of used fixes standing
    (``analysis.moving`` false), cut where they step over ``NEVER_LEFT_M``, joined again
    across a jump or jitter that never left the place (``_joined``), and kept when their
    first and last fix are more than ``min_s`` apart and they do not drift (``_drifts``).
    Fixes the statistics dropped (glitches, invalid or untimed fixes) neither end a stop nor
    make one."""
    used = np.flatnonzero(analysis.used & np.isfinite(track.t))
    if used.size < 3:
        return []
    lat, lon, t = track.lat[used], track.lon[used], track.t[used]
    still = ~analysis.moving[used]
    parts = _joined(_standing_parts(still, lat, lon), still, lat, lon)
    out = []
    for part in parts:
        a, b = _at_rest(part, lat, lon)
        seconds = float(t[b] - t[a])
        if seconds > min_s and not _drifts(lat[a : b + 1], lon[a : b + 1]):
            out.append(LongStop(int(used[a]), int(used[b]), seconds))
    return out


def _at_rest(part: tuple[int, int], lat: NDArray, lon: NDArray) -> tuple[int, int]:
    """A stop's part from its first fix to its last within ``AT_REST_M`` (or three times the
    scatter) of where it stood (the median of its middle third): the fixes of a queue that
    crept up to the parking spot before it, or away after it, read as standing but belong
    to the drive."""
    a, b = part
    third = max((b - a + 1) // 3, 1)
    middle = a + third, b + 1 - third
    place = _place(lat, lon, *middle)
    near = max(AT_REST_M, 3 * _scatter(lat, lon, *middle))
    close = np.flatnonzero(haversine_m(lat[a : b + 1], lon[a : b + 1], *place) <= near)
    return (a + int(close[0]), a + int(close[-1])) if close.size else part


def _standing_parts(still: NDArray, lat: NDArray, lon: NDArray) -> list[tuple[int, int]]:
    """(first, last) of each run of standing fixes, cut where two of them in a row are over
    ``NEVER_LEFT_M`` apart."""
    step = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    joined = still[:-1] & still[1:] & (step <= NEVER_LEFT_M)
    starts = np.flatnonzero(still & np.concatenate(([True], ~joined)))
    ends = np.flatnonzero(still & np.concatenate((~joined, [True])))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _joined(
    parts: list[tuple[int, int]], still: NDArray, lat: NDArray, lon: NDArray
) -> list[tuple[int, int]]:
    """Consecutive parts joined where the truck never left the place between them: the
    second begins, and the fixes between them lie, within ``NEVER_LEFT_M`` or four times the
    place's scatter (a parked phone's slow wander) of where the first ended, but for jumps:
    runs of at most ``BLIP_MAX_FIXES`` fixes away that read as moving, each back at the
    place after it (multipath comes in bursts: two jumps a few minutes apart). Fixes away
    that read as ``still`` (a logger's speed of 0 through a jump) do not end the stop. A
    part of ``BLIP_MAX_FIXES`` fixes or fewer is no place of its own (a jump that read as
    standing, or fixes at red lights): it is among those between."""
    out: list[tuple[int, int]] = []
    for a, b in parts:
        if b - a + 1 <= BLIP_MAX_FIXES:
            continue
        if out:
            first, last = out[-1]
            place = _place(lat, lon, max(first, last - END_FIXES + 1), last + 1)
            begins = _place(lat, lon, a, min(b, a + END_FIXES - 1) + 1)
            near = max(
                NEVER_LEFT_M,
                4 * _scatter(lat, lon, max(first, last - SCATTER_FIXES + 1), last + 1),
                4 * _scatter(lat, lon, a, min(b, a + SCATTER_FIXES - 1) + 1),
            )
            away = haversine_m(lat[last + 1 : a], lon[last + 1 : a], *place) > near
            away &= ~still[last + 1 : a]
            if haversine_m(*place, *begins) <= near and _longest_run(away) <= BLIP_MAX_FIXES:
                out[-1] = (first, b)
                continue
        out.append((a, b))
    return out


def _longest_run(flags: NDArray) -> int:
    """The most ``True`` values in a row."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0


def _scatter(lat: NDArray, lon: NDArray, a: int, b: int) -> float:
    """The median distance of fixes ``a`` to ``b`` from their median: a place's scatter."""
    return float(np.median(haversine_m(lat[a:b], lon[a:b], *_place(lat, lon, a, b))))


def _place(lat: NDArray, lon: NDArray, a: int, b: int) -> tuple[float, float]:
    return float(np.median(lat[a:b])), float(np.median(lon[a:b]))


def _drifts(lat: NDArray, lon: NDArray) -> bool:
    """Do the first and last third of a stop's fixes stand apart (medians over
    ``DRIFT_MAX_M``): a crawl, not a stop? (A parked logger's scatter averages out.)"""
    third = max(lat.size // 3, 1)
    start = _place(lat, lon, 0, third)
    end = _place(lat, lon, lat.size - third, lat.size)
    return haversine_m(*start, *end) > DRIFT_MAX_M


def between_stops(n: int, stops: list[LongStop]) -> list[slice]:
    """The runs of two fixes or more of a log of ``n`` fixes around its ``stops`` (in order):
    from the log's start (or where the truck left a stop) to where it arrived at the next
    stop (or the log's end). Each stop's first and last fix are kept, at the end and start of
    the runs beside it; a stop at the log's start or end keeps none."""
    out, start = [], 0
    for stop in stops:
        out.append(slice(start, stop.arrived + 1))
        start = stop.left
    out.append(slice(start, n))
    return [run for run in out if run.stop - run.start >= 2]


def moved_away(drive: TrackArrays) -> bool:
    """Do a drive's first and last fix (where it left one stop and reached the next) lie over
    ``NEVER_LEFT_M`` apart? A jump while parked comes back to its place."""
    return bool(
        haversine_m(drive.lat[0], drive.lon[0], drive.lat[-1], drive.lon[-1]) > NEVER_LEFT_M
    )


def parked_fixes(n: int, stops: list[LongStop]) -> int:
    """The fixes of a log of ``n`` fixes in no run ``between_stops``: left out of every trip."""
    return n - sum(run.stop - run.start for run in between_stops(n, stops))
