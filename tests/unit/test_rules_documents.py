"""Overrides as documents (one per account, stored in the database) instead of a file."""

from __future__ import annotations

from datetime import date

import pytest

from kei_drive.core.rules import (
    RulesError,
    document_with_override,
    document_without_override,
    load_rules,
)


def test_an_override_document_applies_to_its_rule_book_only():
    doc = document_with_override(
        None, "ga", {"status": "restricted", "max_road_speed_mph": 45}, "DMV letter",
        on=date(2026, 12, 2),
    )  # fmt: skip
    assert set(doc["overrides"]) == {"GA"}
    mine = load_rules(overrides_document=doc).rule_for("GA", date(2026, 12, 2))
    package = load_rules(overrides_document={**doc, "overrides": {}}).rule_for(
        "GA", date(2026, 12, 2)
    )
    assert mine.overridden and mine.status == "restricted" and mine.max_road_speed_mph == 45
    assert not package.overridden
    again, found = document_without_override(doc, "GA")
    assert found and again["overrides"] == {}
    assert document_without_override(again, "GA")[1] is False
    with pytest.raises(RulesError):
        document_with_override(doc, "XX", {"status": "legal"}, "no such state")
    with pytest.raises(RulesError):
        document_with_override(doc, "GA", {"status": "maybe"}, "bad status")
