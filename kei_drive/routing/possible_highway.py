"""A highway stretch the GPS may have used but too little of the log shows: pointed out in
check-route's notes, not counted, and a trip's highway use is then unknown, not "no"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kei_drive.core.audit import RoadEdge, highway_classes
from kei_drive.core.distance import cumulative_m

SUSTAINED_MIN_POINTS = 3  # fixes a highway stretch needs to count (``track_check``)


@dataclass(frozen=True)
class PossibleHighway:
    """A highway stretch the matcher found and the sustained-highway test dropped for want
    of GPS fixes alone: too few, or too brief, though it was long and followed. Sparse or
    coarse fixes (a logger saving battery, fixes that claim 30-50 m) leave a ramp or a short
    run on a trunk road with one or two fixes, which cannot tell it from the road beside it;
    so it is not counted, and ``check_track`` says where it was."""

    length_m: float
    road_class: str  # "motorway" or "trunk"
    road: str  # its first name or ref on the map ("" when unnamed)
    fixes: int  # matched GPS fixes on it
    seconds: float | None  # from the first of them to the last (None: untimed)
    lat: float  # about its middle
    lon: float
    between_s: float | None = None  # none or one fix on it: the fixes either side, s apart
    scatter_m: float | None = None  # one reading of a noisy log follows it, the other not:
    as_logged: bool = True  # the one read as logged (not the one smoothed through the noise)
    step_s: float | None = None  # on the fastest road between a sparse log's fixes, s apart


POSSIBLE_NOTES_MAX = 5


def possible_notes(possible: Sequence[PossibleHighway]) -> list[str]:
    """Where the GPS was too sparse or coarse to tell a highway from the road beside it."""
    notes = [
        f"Possibly on a highway, not counted: {round(h.length_m):,} m of "
        f"{f'{h.road} ({h.road_class})' if h.road else f'an unnamed {h.road_class} road'} "
        f"near {h.lat:.4f}, {h.lon:.4f}, where {_evidence(h)}. Check that stretch."
        for h in possible[:POSSIBLE_NOTES_MAX]
    ]
    if len(possible) > POSSIBLE_NOTES_MAX:
        notes.append(f"... and {len(possible) - POSSIBLE_NOTES_MAX} more such stretches.")
    return notes


def _evidence(h: PossibleHighway) -> str:
    if h.scatter_m is not None:
        follows, not_ = ("read as logged", "smoothed") if h.as_logged else ("smoothed", "as logged")
        return (
            f"the GPS fixes scatter about {h.scatter_m:.0f} m: {follows}, the log follows it; "
            f"{not_}, it keeps off it"
        )
    if h.step_s is not None:
        return (
            f"the GPS fixes are {h.step_s:.0f} s apart there and the fastest road between them "
            "runs along it: the log cannot tell whether the truck took it or a road beside it"
        )
    if h.between_s is not None:
        on_it = "no GPS fix" if h.fixes == 0 else "one GPS fix"
        return (
            f"{on_it} was matched to it, but the road between the fixes either side of it "
            f"({h.between_s:.0f} s apart) runs along it: the log cannot tell whether the truck "
            "took it"
        )
    too_little = "too little to tell it from a road beside it"
    if h.fixes < SUSTAINED_MIN_POINTS or h.seconds is None:
        return f"only {h.fixes} GPS fixes were matched to it: {too_little}"
    return f"the GPS was on it for only {h.seconds:.0f} s ({h.fixes} fixes): {too_little}"


def disputed_stretches(
    geometry: np.ndarray, edges: Sequence[RoadEdge], scatter_m: float, as_logged: bool
) -> list[PossibleHighway]:
    """The highway stretches of a matched path (``geometry``, ``edges``) that another reading
    of the same noisy log keeps off: pointed out, not counted (``track_check``'s two
    readings of a sparse log with no accuracy)."""
    classes = highway_classes(edges)
    if len(geometry) < 2 or not any(classes):
        return []
    cum = cumulative_m(geometry[:, 0], geometry[:, 1])
    last = len(cum) - 1
    out = []
    k = 0
    while k < len(edges):
        if not classes[k]:
            k += 1
            continue
        end = k
        while end < len(edges) and classes[end]:
            end += 1
        b, e = min(edges[k].begin_index, last), min(edges[end - 1].end_index, last)
        length = float(cum[e] - cum[b])
        if length > 0:
            names = next((x.names for x in edges[k:end] if x.names), ())
            ramp = all(x.use == "ramp" for x in edges[k:end])
            road = names[0] if names else "a ramp" if ramp else ""
            half_way = float(cum[b]) + length / 2
            lat, lon = (float(np.interp(half_way, cum, geometry[:, c])) for c in (0, 1))
            out.append(
                PossibleHighway(
                    length, classes[k], road, 0, None, lat, lon, None, scatter_m, as_logged
                )
            )
        k = end
    return out
