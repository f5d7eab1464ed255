"""Rules schema v3 over all 51 jurisdictions on several dates: the invariants of issue #10,
the audit's findings, the one severity order and users' v1/v2 override files."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kei_drive.core.rules import RULE_FIELDS, load_rules, save_override
from kei_drive.core.rules_vocab import (
    ACCESS_ORDER,
    STATUS_ORDER,
    RoadAccess,
    RuleStatus,
    Visitors,
    order_document,
    severity_level,
)

DATES = [date(2012, 6, 1), date(2024, 1, 1), date(2025, 7, 1), date(2026, 12, 2), date(2028, 6, 1)]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return load_rules(overrides_path=tmp_path_factory.mktemp("none") / "absent.json")


@pytest.mark.parametrize("on", DATES, ids=str)
def test_invariants_for_every_jurisdiction(book, on):
    assert len(book.states()) == 51
    for code in book.states():
        rule = book.rule_for(code, on)
        if rule is None:  # only before a state's first dated period
            assert book.periods(code)[0].effective_from > on, code
            continue
        assert rule.status in set(RuleStatus) and rule.confidence in {"high", "medium", "low"}
        if rule.status == RuleStatus.UNCLEAR:
            assert rule.road_access != RoadAccess.STATEWIDE, code
        if rule.status == RuleStatus.RESTRICTED:
            assert rule.road_access in set(RoadAccess), code
        if rule.status == RuleStatus.BANNED:
            assert rule.road_access == RoadAccess.NONE, code
        if rule.confidence == "high":
            assert any(s["primary"] and s["quote"] for s in rule.source_refs), code
        assert rule.visitors["rule"] in set(Visitors)
        if rule.visitors["rule"] != Visitors.UNKNOWN:
            assert rule.visitors["source"], code
        assert all(s["url"] and s["title"] for s in rule.source_refs)
        data = rule.fields_dict()
        assert list(data)[2:] == list(RULE_FIELDS)
        assert json.loads(json.dumps(data)) == data


def test_dated_periods_never_overlap(book):
    for code in book.states():
        periods = book.periods(code)
        for a, b in zip(periods, periods[1:], strict=False):
            assert a.effective_to is not None and a.effective_to < b.effective_from, code
            assert (b.effective_from - a.effective_to).days == 1, code  # and leave no gap
        for day in DATES:  # at most one period in force on any day
            live = [
                p
                for p in periods
                if (p.effective_from is None or p.effective_from <= day)
                and (p.effective_to is None or day <= p.effective_to)
            ]
            assert len(live) <= 1, (code, day)


def test_audit_findings_applied(book):
    on = date(2026, 12, 2)
    oh, ky, mn = (book.rule_for(c, on) for c in ("OH", "KY", "MN"))
    assert (oh.road_access, oh.max_road_speed_mph) == ("local_opt_in", 35)
    assert "inspection" in [r["code"] for r in oh.vehicle_requirements]
    assert ky.road_access == "designated_roads" and mn.road_access == "permit_only"
    assert "speed_governor_25mph" in [
        r["code"] for r in book.rule_for("AL", on).vehicle_requirements
    ]
    for code in ("NY", "CO", "OH", "KY"):
        assert book.rule_for(code, on).visitor_rule == "may_not_operate", code
    assert book.rule_for("CO", date(2028, 1, 1)).visitor_rule == "unknown"
    starts = {
        "TX": date(2025, 9, 1),
        "RI": date(2024, 7, 1),
        "KY": date(2025, 6, 27),
        "OH": date(2025, 6, 30),
        "IL": date(2025, 3, 1),
        "UT": date(2025, 1, 1),
    }
    for code, start in starts.items():
        assert start in [p.effective_from for p in book.periods(code)], code
    assert date(2026, 10, 1) in [p.effective_from for p in book.periods("UT")]
    assert book.rule_for("KY", date(2025, 6, 26)).registration_routes == ()
    assert book.rule_for("KY", date(2025, 6, 27)).registration_routes[0]["code"] == "slspv"
    for code in ("TN", "OK", "SD"):
        assert book.rule_for(code, on).status == "unclear", code
    assert book.rule_for("GA", on).confidence == "high"
    assert "farm_plate" in [r["code"] for r in book.rule_for("PA", on).registration_routes]
    wi = book.rule_for("WI", on)
    assert "second_regular_vehicle" in [r["code"] for r in wi.vehicle_requirements]
    assert "1967 and older" in book.rule_for("CA", on).conditions
    assert book.rule_for("RI", on).crossing_up_to_mph == 45


def test_what_changed_lists_colorado_2028_as_upcoming(book):
    changes = book.changes(date(2026, 12, 2))
    co = [c for c in changes if c.state == "CO"]
    assert [(c.on, c.upcoming) for c in co] == [(date(2028, 1, 1), True)]
    assert all((date(2026, 12, 2) - c.on).days <= 730 for c in changes)
    assert {"KY", "OH", "TX", "IL", "UT"} <= {c.state for c in changes}
    soon = book.changes(date(2027, 11, 1), past_days=0, ahead_days=90)
    assert [c.state for c in soon] == ["CO"]
    assert book.changes(date(2027, 6, 1), past_days=0, ahead_days=90) == []


def test_one_severity_order(book):
    on = date(2026, 12, 2)
    assert order_document()["status_order"] == [s.value for s in STATUS_ORDER]
    levels = order_document()["severity_order"]
    assert levels == ["legal", "restricted", "unclear", "local_only", "banned"]
    level = {r.state: severity_level(r).value for r in book.all_rules(on)}
    assert (level["OH"], level["KY"], level["MN"]) == ("local_only",) * 3
    assert (level["VA"], level["IN"], level["NY"], level["TX"]) == (
        "unclear", "restricted", "banned", "legal"
    )  # fmt: skip
    assert STATUS_ORDER.index(RuleStatus.UNCLEAR) > STATUS_ORDER.index(RuleStatus.RESTRICTED)
    assert ACCESS_ORDER[0] == RoadAccess.STATEWIDE and ACCESS_ORDER[-1] == RoadAccess.NONE
    ranked = sorted(book.all_rules(on), key=lambda r: r.severity())
    assert ranked[-1].status == "banned" and ranked[0].status == "legal"
    assert book.rule_for("OH", on).to_dict()["severity"] == list(book.rule_for("OH", on).severity())


def test_v1_override_file_still_loads_and_is_rewritten_as_v3(tmp_path):
    path = tmp_path / "overrides.json"
    legacy = {
        "schema": "kei-drive/rule-overrides",
        "schema_version": 1,
        "overrides": {
            "VA": {
                "note": "DMV letter",
                "date": "2026-10-02",
                "fields": {"status": "legal", "sources": ["https://example.org/letter"]},
            }
        },
    }
    path.write_text(json.dumps(legacy), encoding="utf-8")
    va = load_rules(overrides_path=path).rule_for("VA", date(2026, 12, 2))
    assert va.status == "legal" and va.overridden and va.sources == ("https://example.org/letter",)
    assert va.source_refs[0]["primary"] is False  # a migrated URL claims nothing more
    save_override("NC", {"max_road_speed_mph": 45}, "county letter", path=path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 3
    assert doc["overrides"]["VA"]["fields"]["sources"][0]["url"] == "https://example.org/letter"
    assert load_rules(overrides_path=path).rule_for("NC").max_road_speed_mph == 45


def test_v3_override_of_access_and_visitors(tmp_path):
    path = tmp_path / "o.json"
    save_override(
        "OH",
        {
            "road_access": "statewide",
            "visitors": {"rule": "unknown", "text": "asked", "source": None},
        },
        "my reading",
        path=path,
    )
    oh = load_rules(overrides_path=path).rule_for("OH", date(2026, 12, 2))
    assert oh.road_access == "statewide" and oh.overridden


def test_status_override_without_access_gets_the_access_of_that_status(tmp_path):
    path = tmp_path / "o.json"
    fields = {"status": "restricted", "max_road_speed_mph": 45, "summary": None}  # as the page does
    save_override("GA", fields, "DMV letter", path=path)
    save_override("TX", {"status": "unclear"}, "doubt", path=path)
    book = load_rules(overrides_path=path)
    ga, tx = book.rule_for("GA", date(2026, 12, 2)), book.rule_for("TX", date(2026, 12, 2))
    assert (ga.road_access, ga.max_road_speed_mph) == ("statewide", 45)
    assert "registrable with limits (roads posted 45 mph or less only" in ga.advice()
    assert tx.road_access is None
