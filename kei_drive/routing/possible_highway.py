"""A highway stretch the GPS may have used but too little of the log shows: pointed out in
check-route's notes, not counted, and a trip's highway use is then unknown, not "no"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
