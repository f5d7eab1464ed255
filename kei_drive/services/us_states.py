"""The States page's work, without Reflex: load the rule book (falling back to the package
rules when the driver's overrides are broken) and clean the override form."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kei_drive.core.rules import RuleBook, RulesError, load_rules
from kei_drive.core.rules_schema import STATUSES, check_value
from kei_drive.presenters.us_states import interstate_forbidden


def load_book() -> tuple[RuleBook, str]:
    """The rule book with overrides, and "" ; a broken override file gives the package
    rules and a message saying so."""
    try:
        return load_rules(), ""
    except RulesError as exc:
        with tempfile.TemporaryDirectory() as tmp:  # a path that surely holds no overrides
            book = load_rules(overrides_path=Path(tmp) / "none.json")
        return book, f"Your rule overrides could not be read ({exc}); showing package rules."


def clean_override_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The override form as ``(fields, note)`` for ``core.rules.save_override``;
    ``ValueError`` with a message for the driver."""
    status = str(form.get("status") or "").strip()
    speed_text = str(form.get("max_speed") or "").strip()
    note = str(form.get("note") or "").strip()
    if status not in STATUSES:
        raise ValueError("Pick a status: " + ", ".join(STATUSES[:-1]) + f" or {STATUSES[-1]}.")
    speed: int | None = None
    if speed_text:
        value = int(speed_text) if speed_text.isdigit() else speed_text
        try:  # the rules schema holds the limits
            speed = check_value("max_road_speed_mph", value, "override", None)
        except RulesError as exc:  # "...: expected null or a whole number of mph between..."
            expected = str(exc).split("expected ", 1)[-1].removeprefix("null or ")
            raise ValueError(f"Max road speed (empty for no cap) must be {expected}.") from None
    if not note:
        raise ValueError(
            "Say where this rule comes from (e.g. 'DMV letter of 2026-10-02'): "
            "the note is required."
        )
    fields = {
        "status": status,
        "max_road_speed_mph": speed,
        "interstate_forbidden": interstate_forbidden(str(form.get("interstate") or "unknown")),
        # the package's one-line summary describes the package rule: the advice is
        # rebuilt from the user's fields instead
        "summary": None,
    }
    return fields, note
