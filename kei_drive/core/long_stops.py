"""Long stops inside one log: a tracker that kept logging while the truck stood parked.

A GPX export of a background tracker (Traccar, OwnTracks, a GPS unit left on) holds days of
fixes without a pause in time: the truck parked overnight, every minute a fix. Cut only at
pauses in time, such a file made one "trip" of a year. A stop longer than the pause that
starts a new trip (``split_gap_s``) is that pause, with the logger on: the trip before ends
where the truck arrived, the next starts where it left, and the parked fixes between belong
to no trip (as a background logger's trips are cut, ``core.segment``).

Standing is what the trip's own statistics call it (``TrackAnalysis.moving``): fixes whose
smoothed position did not move past the jitter radius, so a parked phone's wander stays a
stop and a crawl in a queue is moving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.trips import TrackAnalysis


@dataclass(frozen=True)
class LongStop:
    arrived: int  # input index of the stop's first standing fix (the trip before ends there)
    left: int  # ... and of its last (the next trip starts there)
    seconds: float  # from the one to the other


def long_stops(analysis: TrackAnalysis, t: NDArray, min_s: float) -> list[LongStop]:
    """The stops of a timed log (``t``: epoch seconds per input fix) that lasted over
    ``min_s``: each run of used fixes standing (``analysis.moving`` false) whose first and
    last fix are more than ``min_s`` apart. Fixes the statistics dropped (glitches, invalid
    or untimed fixes) neither end a stop nor make one."""
    used = np.flatnonzero(analysis.used & np.isfinite(t))
    if used.size < 3:
        return []
    still = ~analysis.moving[used]
    edges = np.diff(np.concatenate(([0], still.astype(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    arrived, left = used[first], used[last]
    seconds = t[left] - t[arrived]
    return [
        LongStop(int(a), int(b), float(s))
        for a, b, s in zip(arrived, left, seconds, strict=True)
        if s > min_s
    ]


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


def parked_fixes(n: int, stops: list[LongStop]) -> int:
    """The fixes of a log of ``n`` fixes in no run ``between_stops``: left out of every trip."""
    return n - sum(run.stop - run.start for run in between_stops(n, stops))
