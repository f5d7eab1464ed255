"""The words of the Kei rules, defined once: statuses, confidence, road access, visitors,
and the ONE severity order that the router, the CLI, the pages and the browser all use.

``Severity`` / ``severity()`` is the one order of rules; the router's stretch warnings
(``core/access.py``), the CLI, the pages and the browser use it. The browser gets it from
``/api/v1/rules`` (each rule carries ``severity``, a list compared element by element), so
there is no second copy in JavaScript.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RuleStatus(StrEnum):
    """What a state does about Kei registration and use (least to most severe, see below)."""

    LEGAL = "legal"  # registrable and usable with at most ordinary rules
    RESTRICTED = "restricted"  # registrable, but road use limited
    UNCLEAR = "unclear"  # no statute or agency source found, or sources conflict
    BANNED = "banned"  # the state refuses registration for road use (or revokes it)


class Confidence(StrEnum):
    HIGH = "high"  # statute or agency text read directly, quoted in the sources
    MEDIUM = "medium"  # bill text, summaries or reputable press
    LOW = "low"  # aggregators, dealer blogs or inference


class RoadAccess(StrEnum):
    """Which public roads a Kei may use in a state (least to most severe)."""

    STATEWIDE = "statewide"  # all public roads, subject to the cap and the interstate rule
    DESIGNATED_ROADS = "designated_roads"  # only roads a state or local authority designates
    LOCAL_OPT_IN = "local_opt_in"  # only inside jurisdictions with an enabling ordinance
    PERMIT_ONLY = "permit_only"  # only with a (local) permit
    FARM_USE_ONLY = "farm_use_only"  # only for farm use
    NONE = "none"  # no public roads


class Visitors(StrEnum):
    """May a Kei registered in another state be driven through this one?"""

    MAY_OPERATE = "may_operate"
    MAY_NOT_OPERATE = "may_not_operate"
    UNKNOWN = "unknown"


# The status order. "unclear" ranks above "restricted": the driver should be told to
# check before going on, which a known restriction does not need as urgently.
STATUS_ORDER: tuple[RuleStatus, ...] = (
    RuleStatus.LEGAL,
    RuleStatus.RESTRICTED,
    RuleStatus.UNCLEAR,
    RuleStatus.BANNED,
)
ACCESS_ORDER: tuple[RoadAccess, ...] = tuple(RoadAccess)
NO_CAP_MPH = 1_000  # "no cap" sorts as the most permissive cap

# Access modes that mean "no public roads here unless the driver says otherwise".
LOCAL_ACCESS = (
    RoadAccess.DESIGNATED_ROADS,
    RoadAccess.LOCAL_OPT_IN,
    RoadAccess.PERMIT_ONLY,
    RoadAccess.FARM_USE_ONLY,
)


class Severity(StrEnum):
    """THE severity order of a rule for a Kei driver, status and access together (least to
    most severe). "local_only" (no public roads unless a local rule allows them, e.g. Ohio)
    ranks above "unclear" and below "banned"/no access."""

    LEGAL = "legal"
    RESTRICTED = "restricted"  # restricted, but on all public roads (caps may apply)
    UNCLEAR = "unclear"  # unverified (or no rule on record)
    LOCAL_ONLY = "local_only"  # designated roads, local opt-in, permit or farm use only
    BANNED = "banned"  # banned status or no public roads


SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


def severity_level(rule: Any) -> Severity:
    """Where a rule (or None: no rule on record) sits in SEVERITY_ORDER."""
    status = getattr(rule, "status", None)
    access = getattr(rule, "road_access", None)
    if status == RuleStatus.BANNED or access == RoadAccess.NONE:
        return Severity.BANNED
    if access in LOCAL_ACCESS:
        return Severity.LOCAL_ONLY
    if rule is None or status not in (RuleStatus.LEGAL, RuleStatus.RESTRICTED):
        return Severity.UNCLEAR
    return Severity.RESTRICTED if status == RuleStatus.RESTRICTED else Severity.LEGAL


ACCESS_WORDS: dict[RoadAccess, str] = {
    RoadAccess.STATEWIDE: "all public roads",
    RoadAccess.DESIGNATED_ROADS: "only on roads the state or a local authority designates",
    RoadAccess.LOCAL_OPT_IN: "only in towns that allow it by ordinance",
    RoadAccess.PERMIT_ONLY: "only with a local permit, on designated roads",
    RoadAccess.FARM_USE_ONLY: "farm use only",
    RoadAccess.NONE: "no public roads",
}
ACCESS_UNKNOWN_WORDS = "which roads is unverified"

VISITOR_WORDS: dict[Visitors, str] = {
    Visitors.MAY_OPERATE: "visitors on out-of-state plates may drive here",
    Visitors.MAY_NOT_OPERATE: "the agency says a Kei may not be driven here at all, "
    "even on out-of-state plates",
    Visitors.UNKNOWN: "registration only — transit unverified",
}


def status_rank(status: str | None) -> int:
    """Index in STATUS_ORDER; an unknown status ranks like "unclear"."""
    try:
        return STATUS_ORDER.index(RuleStatus(status))
    except ValueError:
        return STATUS_ORDER.index(RuleStatus.UNCLEAR)


def access_rank(access: str | None) -> int:
    """Index in ACCESS_ORDER; unknown access (None) ranks 0: the status already says it."""
    if access is None:
        return 0
    return ACCESS_ORDER.index(RoadAccess(access))


def severity(rule: Any) -> tuple[int, int, int, int]:
    """Sort key, higher = stricter for a Kei: severity level, access, lower cap, interstate.

    Duck-typed on KeiRule (status, road_access, max_road_speed_mph, interstate_forbidden).
    """
    cap = getattr(rule, "max_road_speed_mph", None)
    return (
        SEVERITY_ORDER.index(severity_level(rule)),
        access_rank(getattr(rule, "road_access", None)),
        -(cap if cap is not None else NO_CAP_MPH),
        1 if getattr(rule, "interstate_forbidden", None) else 0,
    )


def access_words(access: str | None) -> str:
    return ACCESS_WORDS[RoadAccess(access)] if access else ACCESS_UNKNOWN_WORDS


def order_document() -> dict[str, Any]:
    """The order as plain data (served by the API and printed by ``kei-drive rules``)."""
    return {
        "severity_order": [s.value for s in SEVERITY_ORDER],
        "status_order": [s.value for s in STATUS_ORDER],
        "road_access_order": [a.value for a in ACCESS_ORDER],
        "severity": "compare the lists [severity_order rank, road_access rank, -cap mph "
        f"(no cap = -{NO_CAP_MPH}), interstate forbidden 0/1] element by element; "
        "higher is stricter",
    }
