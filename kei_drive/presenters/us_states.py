"""Kei rules of US states in words: the States page's table rows, detail and periods.

("us_state" is a US state; see docs/architecture.md.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kei_drive.core.rules import KeiRule, RuleBook

# The override form's interstate choices: value, label.
INTERSTATE_CHOICES = (("unknown", "Unknown"), ("forbidden", "Forbidden"), ("allowed", "Allowed"))
PAST_DAYS = 2 * 365  # "What changed": the last two years and everything upcoming


def speed_text(rule: KeiRule) -> str:
    if rule.max_road_speed_mph is not None:
        return f"≤ {rule.max_road_speed_mph} mph"
    return {"banned": "no road use", "unclear": "unknown"}.get(rule.status, "no cap known")


def interstate_choice(value: bool | None) -> str:
    """ "unknown", "forbidden" or "allowed" (table text and override form value alike)."""
    return "unknown" if value is None else ("forbidden" if value else "allowed")


def interstate_forbidden(choice: str) -> bool | None:
    """The override form's choice back as a rule value."""
    return {"forbidden": True, "allowed": False}.get(choice)


@dataclass
class UsStateRow:
    """A line of the States table."""

    state: str
    name: str
    status: str
    speed: str
    interstate: str
    confidence: str
    reviewed: str
    overridden: bool
    search: str  # lower-case words the search box matches


def us_state_row(rule: KeiRule) -> UsStateRow:
    return UsStateRow(
        state=rule.state,
        name=rule.name,
        status=rule.status,
        speed=speed_text(rule),
        interstate=interstate_choice(rule.interstate_forbidden),
        confidence=rule.confidence,
        reviewed=rule.last_reviewed.isoformat(),
        overridden=bool(rule.overridden),
        search=f"{rule.state} {rule.name} {rule.status}".lower()
        + (" override" if rule.overridden else ""),
    )


@dataclass
class PeriodRow:
    """One period of a state's rule history."""

    start: str
    status: str
    speed: str
    interstate: str
    current: bool  # in force on the chosen date
    advice: str


def period_rows(book: RuleBook, in_force: KeiRule) -> list[PeriodRow]:
    """The state's periods, or [] when it has only one (nothing to compare)."""
    periods = book.periods(in_force.state)
    if len(periods) <= 1:
        return []
    return [
        PeriodRow(
            start=p.effective_from.isoformat() if p.effective_from else "no start date",
            status=p.status,
            speed=speed_text(p),
            interstate=interstate_choice(p.interstate_forbidden),
            current=p == in_force,
            advice=p.advice(),
        )
        for p in periods
    ]


@dataclass
class UsStateDetail:
    """The detail panel of one state's rule on the chosen date."""

    state: str
    name: str
    status: str
    hint: str
    advice: str
    conditions: str
    citation: str
    source_date: str
    confidence: str
    speed: str
    interstate: str
    effective_from: str
    last_reviewed: str
    overridden: bool
    override_note: str
    next_change: str
    # where a Kei may drive in plain words (issue #10 point 7)
    access: str = ""
    road_access: str = "unverified"  # a RoadAccess value (data-access)
    visitors: str = ""  # on another state's plates
    visitor_rule: str = "unknown"  # data-visitors
    routes: str = ""  # registration routes, "; "-joined
    last_checked: str = ""


def visitors_text(rule: KeiRule) -> str:
    """The visitor rule in words; a refusal also quotes the research's text."""
    text = rule.visitor_text()
    if rule.visitors.get("rule") == "may_not_operate":
        text = f"{text[:1].upper()}{text[1:]}: {rule.visitors['text']}"
    return text


def us_state_detail(rule: KeiRule, upcoming: KeiRule | None, hint: str) -> UsStateDetail:
    """``upcoming``: the next period after the chosen date, if any; ``hint``: the status hint."""
    next_change = ""
    if upcoming and upcoming.effective_from:
        next_change = (
            f"From {upcoming.effective_from.isoformat()}: {upcoming.status}"
            f" ({speed_text(upcoming)}, interstates "
            f"{interstate_choice(upcoming.interstate_forbidden)})."
        )
    return UsStateDetail(
        state=rule.state,
        name=rule.name,
        status=rule.status,
        hint=hint,
        advice=rule.advice(),
        conditions=rule.conditions,
        citation=rule.citation,
        source_date=rule.source_date,
        confidence=rule.confidence,
        speed=speed_text(rule),
        interstate=interstate_choice(rule.interstate_forbidden),
        effective_from=(
            rule.effective_from.isoformat() if rule.effective_from else "since before the research"
        ),
        last_reviewed=rule.last_reviewed.isoformat(),
        overridden=bool(rule.overridden),
        override_note=rule.override_note or "",
        next_change=next_change,
        access=rule.access_text(),
        road_access=rule.road_access or "unverified",
        visitors=visitors_text(rule),
        visitor_rule=rule.visitors.get("rule", "unknown"),
        routes="; ".join(r["text"] for r in rule.registration_routes),
        last_checked=rule.last_checked.isoformat(),
    )


@dataclass
class ChangeRow:
    """One dated rule change in the States page's "What changed" list."""

    on: str
    state: str
    name: str
    status: str
    text: str
    upcoming: bool


def change_rows(book: RuleBook, day: date) -> list[ChangeRow]:
    """Dated changes of the last two years and all upcoming ones, oldest first."""
    return [
        ChangeRow(c.on.isoformat(), c.state, c.name, c.status, c.text, bool(c.upcoming))
        for c in book.changes(day, past_days=PAST_DAYS)
    ]
