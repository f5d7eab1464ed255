"""Per-stretch road-access warnings: what the route audit says about each state stretch.

Kept apart from ``audit.py`` (which handles road classes, caps and ramps) so that the legal
side of a route lives in one place. Rules, in order:

- ``banned`` status or ``none`` access: "banned_state" on every stretch (hard).
- designated roads / local opt-in / permit only / farm use only: "road_access" on every
  stretch, e.g. "Ohio: only in towns that allow it by ordinance — check before you drive"
  (hard: such a route is never approved).
- ``unclear`` (or no rule on record): "unverified" on every stretch (soft, never silent).
- ``restricted`` with statewide access: "restricted_state" (soft; caps are checked apart).
- Inside a driver's local permit area of that state, the stretch counts as allowed and
  gets a "local_permit" note marked as the driver's own statement; the permit's cap (if
  any) replaces the state's cap there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kei_drive.core.rules_vocab import Severity, access_words, severity_level
from kei_drive.core.units import METERS_PER_MILE

HARD_KINDS = ("banned_state", "road_access")


@dataclass
class AccessStretch:
    kind: str  # banned_state | road_access | unverified | restricted_state | local_permit
    message: str
    from_m: float
    to_m: float
    state: str
    road_access: str | None
    statement: str | None = None  # "driver" where the driver's own permit decides


def _miles(m: float) -> str:
    mi = m / METERS_PER_MILE
    return f"{mi:.1f} mi" if mi >= 0.1 else f"{m:.0f} m"


def runs_of_equal(keys: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end_exclusive, key) for every run of equal keys."""
    if keys.size == 0:
        return []
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [keys.size]))
    return [(int(s), int(e), int(keys[s])) for s, e in zip(starts, ends, strict=True)]


# The warning kind of each severity level (most severe first, as the Plan page lists them).
KIND_OF_LEVEL = {
    Severity.BANNED: "banned_state",
    Severity.LOCAL_ONLY: "road_access",
    Severity.UNCLEAR: "unverified",
    Severity.RESTRICTED: "restricted_state",
    Severity.LEGAL: None,
}


def classify(rule: Any) -> str | None:
    """The stretch warning kind for a state's rule (None: nothing to say)."""
    return KIND_OF_LEVEL[severity_level(rule)]


def permits_apply(rule: Any) -> bool:
    """Whether a driver's local permit changes what ``rule`` says: where Kei are banned,
    only locally allowed or the rule is unverified; not where the state allows them (or
    restricts them statewide) anyway."""
    return classify(rule) not in (None, "restricted_state")


def permit_at(permits: Sequence[Any], state: str, rule: Any, lat: float, lon: float) -> Any | None:
    """The first of the driver's permits in ``state`` covering (lat, lon), where permits
    apply to ``rule`` (as the route audit counts them); None elsewhere."""
    if not permits_apply(rule):
        return None
    for permit in permits:
        if permit.state == state and bool(permit.contains([lat], [lon])[0]):
            return permit
    return None


CHECK_WORDS = "check before you drive"


def stretch_words(kind: str, road_access: str | None) -> str:
    """What a state stretch means for a Kei, without its length ("Kei rules unverified —
    check before you drive"): the audit's messages and the driver's announcements."""
    if kind == "banned_state":
        return "Kei vehicles are not allowed"
    if kind == "road_access":
        return f"{access_words(road_access)} — {CHECK_WORDS}"
    if kind == "unverified":
        return f"Kei rules unverified — {CHECK_WORDS}"
    return "Kei vehicles are restricted"


def _route_share(length_m: float) -> str:
    return f"({_miles(length_m)} of the route)"


_ROUTE_SHARE = re.compile(r"\([^()]* of the route\)")


def lengthened(message: str, new_m: float) -> str:
    """A state stretch's message with its length changed to ``new_m`` (a stretch continued
    in the next piece of a cut track)."""
    return _ROUTE_SHARE.sub(lambda _m: _route_share(new_m), message, count=1)


def _message(kind: str, name: str, rule: Any, length_m: float, advice: str, source: str) -> str:
    where = _route_share(length_m)
    head = f"{name}: {stretch_words(kind, getattr(rule, 'road_access', None))} {where}"
    msg = head + (f". {advice}" if advice else "")
    return msg + (f" Source: {source}" if source else "")


def access_stretches(
    states: Sequence[Any],
    rules: Sequence[Any],
    seg_state: np.ndarray,
    seg_mid: np.ndarray,
    cum: np.ndarray,
    permits: Sequence[Any] = (),
) -> tuple[list[AccessStretch], np.ndarray]:
    """Warnings per state stretch, and a per-segment cap override (0 = none).

    ``states`` are the audit's StateReports (state, name, from_m, to_m, advice, sources),
    ``rules`` the rule of each (or None), ``seg_state`` each segment's index into
    ``states`` (-1 outside), ``seg_mid`` the segments' midpoints [[lat, lon], ...], ``cum``
    the cumulative distance at each vertex, ``permits`` LocalPermit-like objects.
    """
    n_seg = seg_state.size
    cap_override = np.zeros(n_seg, dtype=float)
    out: list[AccessStretch] = []
    for k, (sr, rule) in enumerate(zip(states, rules, strict=True)):
        kind = classify(rule)
        segs = np.flatnonzero(seg_state == k)
        access = getattr(rule, "road_access", None)
        if kind is None or segs.size == 0:
            continue
        # Which permit (index) covers each segment of this stretch; -1 = none.
        inside = np.full(segs.size, -1, dtype=np.int64)
        if permits_apply(rule):
            for pi, permit in enumerate(permits):
                if permit.state != sr.state:
                    continue
                hit = permit.contains(seg_mid[segs, 0], seg_mid[segs, 1]) & (inside < 0)
                inside[hit] = pi
        for s, e, pi in runs_of_equal(inside):
            # Stretch ends: the state line where the run touches it, else segment ends.
            a = sr.from_m if s == 0 else round(float(cum[segs[s]]), 1)
            b = sr.to_m if e == segs.size else round(float(cum[segs[e - 1] + 1]), 1)
            if pi >= 0:
                permit = permits[pi]
                if permit.cap_mph:
                    cap_override[segs[s:e]] = permit.cap_mph
                msg = f"{permit.describe()} — {_miles(b - a)} of the route counted as allowed"
                out.append(AccessStretch("local_permit", msg, a, b, sr.state, access, "driver"))
                continue
            source = sr.sources[0] if sr.sources else ""
            msg = _message(kind, sr.name, rule, b - a, sr.advice, source)
            out.append(AccessStretch(kind, msg, a, b, sr.state, access))
    return out, cap_override
