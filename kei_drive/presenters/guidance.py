"""A route's warnings as the Drive screen announces them: one line each, without the
distance (the phone adds "in 2.1 mi" as it counts down), with where the stretch starts.

``{"kind", "at_m", "to_m", "subject", "subject_on", "detail", "text"}`` (``to_m``: where the
stretch ends; while on it the phone says "{subject_on} for another 0.3 mi: {detail}", as
"New York" for "New York line"): ``text`` is ``"{subject}: {detail}"``
("Ohio line: only in towns that allow it by ordinance — check before you drive"); a phone
that says the distance puts it after the subject ("Ohio line in 2.1 mi: …").
The words come from the audit's own (``core.audit.HIGHWAY_WORDS``,
``core.access.stretch_words``) and the Plan page's labels (``presenters.route``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kei_drive.core.access import stretch_words
from kei_drive.core.audit import HIGHWAY_WORDS
from kei_drive.core.us_states import US_STATE_NAMES
from kei_drive.core.vocabulary import WarningKind
from kei_drive.presenters.format import short_distance
from kei_drive.presenters.route import KIND_LABELS

STATE_KINDS = (
    WarningKind.BANNED_STATE,
    WarningKind.ROAD_ACCESS,
    WarningKind.UNVERIFIED,
    WarningKind.RESTRICTED_STATE,
)


def _first_road(road: str | None) -> str:
    return (road or "").split(", ")[0]


def _state_subject(w: dict[str, Any]) -> str:
    code = w.get("state") or ""
    name = US_STATE_NAMES.get(code, code or "Next state")
    # A stretch that starts where the route starts is not a line to cross.
    return f"{name} line" if float(w.get("from_m") or 0) > 0 else name


def subject_and_detail(w: dict[str, Any]) -> tuple[str, str] | None:
    """(subject, detail) of one warning (a ``RouteWarning`` as a dict), None if not said."""
    kind = w.get("kind")
    road = _first_road(w.get("road"))
    if kind == WarningKind.HIGHWAY:
        cls = w.get("road_class") or "motorway"
        label = "Motorway" if cls == "motorway" else "Trunk road"
        return (road or label, HIGHWAY_WORDS.get(cls, HIGHWAY_WORDS["motorway"]))
    if kind == WarningKind.SPEED_CAP:
        limit, cap = w.get("limit_mph"), w.get("cap_mph")
        if limit and cap:
            detail = f"posted {limit} mph, above the {cap} mph Kei cap"
        else:
            detail = KIND_LABELS[WarningKind.SPEED_CAP].lower()
        return (road or "Road ahead", detail)
    if kind == WarningKind.UNKNOWN_SPEED_LIMIT:
        if road:
            return (road, KIND_LABELS[WarningKind.UNKNOWN_SPEED_LIMIT].lower())
        return ("Road ahead", "road type and speed limit unknown")
    if kind in STATE_KINDS:
        return (_state_subject(w), stretch_words(str(kind), w.get("road_access")))
    if kind == WarningKind.LOCAL_PERMIT:
        code = w.get("state") or ""
        where = f"Your local permission in {US_STATE_NAMES.get(code, code)}" if code else (
            "Your local permission"
        )  # fmt: skip
        return (where, "roads counted as allowed on your own statement")
    if kind == WarningKind.UNREACHABLE:
        gap = w.get("gap_m")
        if float(w.get("from_m") or 0) <= 0:
            return ("Start", "no road route reaches your starting point")
        short = f"{short_distance(float(gap))} " if gap else ""
        return ("The route ends", f"{short}short of your destination — no road route reaches it")
    return None


def _subject_on(subject: str, w: dict[str, Any]) -> str:
    """The subject while the truck is on the stretch: inside a state, not at its line."""
    if w.get("kind") in STATE_KINDS:
        code = w.get("state") or ""
        return US_STATE_NAMES.get(code, code or subject)
    return "This road" if subject == "Road ahead" else subject


def announcements(warnings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every warning worded for the driver, in the order they come along the route."""
    out = []
    for w in sorted(warnings, key=lambda w: float(w.get("from_m") or 0)):
        said = subject_and_detail(w)
        if said is None:
            continue
        subject, detail = said
        out.append(
            {
                "kind": str(w.get("kind")),
                "at_m": round(float(w.get("from_m") or 0), 1),
                "to_m": round(float(w.get("to_m") or w.get("from_m") or 0), 1),
                "subject": subject,
                "subject_on": _subject_on(subject, w),
                "detail": detail,
                "text": f"{subject}: {detail}",
            }
        )
    return out
