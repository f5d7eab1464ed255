"""The Kei rules of one account, without Reflex: its rule book (its own overrides, kept in
the database; the package rules when they are broken or nobody is signed in), reading and
changing its overrides, and cleaning the States page's override form.

Every entry point (States and Plan pages, ``/api/v1/rules``, planning, the CLI) gets an
account's rules here, so no one ever sees another account's overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kei_drive.core.rules import (
    RuleBook,
    RulesError,
    document_with_override,
    document_without_override,
    load_rules,
)
from kei_drive.core.rules_schema import STATUSES, check_value, empty_overrides_document
from kei_drive.presenters.us_states import interstate_forbidden


def package_rules() -> RuleBook:
    """The shipped rules with no one's overrides (signed-out visitors)."""
    return load_rules(overrides_document=empty_overrides_document())


def user_rules(user_id: int | None) -> RuleBook:
    """The rules with this account's overrides (the package rules for None).
    RulesError when its stored overrides are broken."""
    if user_id is None:
        return package_rules()
    from kei_drive.db import app_session
    from kei_drive.db.overrides import rules_for

    with app_session() as s:
        return rules_for(s, user_id)


def load_book(user_id: int | None) -> tuple[RuleBook, str]:
    """The account's rule book and "" ; broken overrides give the package rules and a
    message saying so (the pages keep working)."""
    try:
        return user_rules(user_id), ""
    except RulesError as exc:
        message = f"Your rule overrides could not be read ({exc}); showing package rules."
        return package_rules(), message


def user_override(user_id: int, state: str) -> dict[str, Any] | None:
    """The account's override entry for ``state`` (note, date, fields), or None."""
    from kei_drive.db import app_session
    from kei_drive.db.overrides import load_document

    with app_session() as s:
        return (load_document(s, user_id).get("overrides") or {}).get(state.upper())


def save_user_override(user_id: int, state: str, fields: dict[str, Any], note: str) -> None:
    """Record (or replace) the account's override for ``state``; RulesError if invalid."""
    from kei_drive.db import app_session
    from kei_drive.db.overrides import load_document, save_document

    with app_session(write=True) as s:
        document = document_with_override(load_document(s, user_id), state, fields, note)
        save_document(s, user_id, document)


def remove_user_override(user_id: int, state: str) -> bool:
    """Delete the account's override for ``state``; False when there was none."""
    from kei_drive.db import app_session
    from kei_drive.db.overrides import load_document, save_document

    with app_session(write=True) as s:
        document, found = document_without_override(load_document(s, user_id), state)
        if found:
            save_document(s, user_id, document)
        return found


def clean_override_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The override form as ``(fields, note)`` for ``save_user_override``;
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
