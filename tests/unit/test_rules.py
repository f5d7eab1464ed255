"""kei_drive.core.rules: periods, wording, restrictiveness, overrides, broken files."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kei_drive.core import rules
from kei_drive.core.rules import RuleBook, RulesError, load_rules, remove_override, save_override

RESEARCH_DAY = date(2026, 11, 26)


@pytest.fixture()
def no_overrides(tmp_path) -> Path:
    return tmp_path / "no_overrides.json"  # does not exist


@pytest.fixture()
def book(no_overrides) -> RuleBook:
    return load_rules(overrides_path=no_overrides)


@pytest.fixture()
def package_doc() -> dict:
    return json.loads(rules.DATA_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, doc, name="rules.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_package_file_has_all_jurisdictions(book):
    assert len(book.states()) == 51 and "DC" in book.states()
    counts = Counter(r.status for r in book.all_rules(RESEARCH_DAY))
    # v2's 10/14/10/17, less the audit's unsupported labels (TN, OK restricted; SD legal).
    assert counts == {"legal": 9, "restricted": 12, "banned": 10, "unclear": 20}
    for rule in book.all_rules(RESEARCH_DAY):
        assert rule.sources and rule.source_date and rule.confidence in {"high", "medium", "low"}
        assert rule.last_reviewed >= RESEARCH_DAY and not rule.overridden


def test_colorado_switches_on_2028_01_01(book):
    before = book.rule_for("CO", date(2027, 12, 31))
    after = book.rule_for("CO", date(2028, 1, 1))
    assert before.status == "banned" and before.max_road_speed_mph is None
    assert after.status == "restricted" and after.max_road_speed_mph == 55
    assert after.interstate_forbidden is True and after.effective_from == date(2028, 1, 1)
    # The law's own date stays visible next to the DMV's.
    for rule in (before, after):
        assert "2027-07-01" in rule.advice() and "2028-01-01" in rule.advice()
        assert "2027-07-01" in rule.conditions and "2028-01-01" in rule.conditions
    assert [p.status for p in book.periods("CO")] == ["banned", "restricted"]
    assert book.next_change("CO", RESEARCH_DAY) == after
    assert book.next_change("CO", date(2028, 1, 1)) is None
    # 2027-07-01 itself: the act is in force, but registration is not open yet.
    assert book.rule_for("CO", date(2027, 7, 1)).status == "banned"


def test_high_stakes_states(book):
    fl, la = book.rule_for("FL", RESEARCH_DAY), book.rule_for("LA", RESEARCH_DAY)
    assert (fl.status, fl.max_road_speed_mph) == ("restricted", 35)
    assert (la.status, la.max_road_speed_mph, la.interstate_forbidden) == ("restricted", 55, True)
    for code in ("NY", "GA", "ME"):
        assert book.rule_for(code, RESEARCH_DAY).status == "banned"


def test_advice_wording(book):
    ny = book.rule_for("NY", RESEARCH_DAY).advice()
    assert ny.startswith("New York: DMV refuses Kei registration and says they may not be")
    assert "2025)" in ny and "Even on out-of-state plates" in ny and "arrested" in ny
    assert "legally unsettled" in book.rule_for("GA", RESEARCH_DAY).advice()
    assert book.rule_for("VA", RESEARCH_DAY).advice() == (
        "Virginia: no clear rule found — check with the DMV."
    )
    fl = book.rule_for("FL", RESEARCH_DAY).advice()
    assert "35 mph" in fl and "flsenate.gov" in fl
    all_rules = book.all_rules(RESEARCH_DAY)
    low = next(r for r in all_rules if r.confidence == "low" and r.status == "banned")
    assert "Low confidence" in low.advice()
    for rule in book.all_rules(RESEARCH_DAY):
        assert "\n" not in rule.advice() and "clear" not in rule.advice().replace("no clear", "")


def test_rule_for_edges(book):
    assert book.rule_for("co", date(2028, 2, 1)).state == "CO"
    assert book.rule_for("XX") is None and book.periods("XX") == []
    assert book.rule_for("AL", date(2011, 12, 31)) is None  # before Alabama's 2012 act
    assert book.rule_for("AL", date(2012, 1, 1)).status == "restricted"
    assert book.rule_for("NY") is not None  # default: today


def test_is_more_restrictive(book):
    on = RESEARCH_DAY
    ny, va, fl, la, tx = (book.rule_for(s, on) for s in ("NY", "VA", "FL", "LA", "TX"))
    assert book.is_more_restrictive(ny, va) and not book.is_more_restrictive(va, ny)
    assert book.is_more_restrictive(va, tx)  # unclear is stricter than legal
    oh, ind = book.rule_for("OH", on), book.rule_for("IN", on)
    assert book.is_more_restrictive(oh, va)  # local opt-in only: above unclear (one order)
    assert book.is_more_restrictive(va, ind)  # unclear above restricted on all roads
    assert book.is_more_restrictive(oh, ind) and not book.is_more_restrictive(ind, oh)
    assert book.is_more_restrictive(fl, la) and not book.is_more_restrictive(la, fl)
    assert not book.is_more_restrictive(ny, ny)
    co_later = book.rule_for("CO", date(2028, 1, 1))
    assert book.is_more_restrictive(co_later, tx) and book.is_more_restrictive(fl, co_later)


def test_to_dict_is_json_ready(book):
    d = book.rule_for("CO", date(2028, 1, 1)).to_dict()
    for key in (
        "state", "name", "status", "max_road_speed_mph", "interstate_forbidden", "conditions",
        "sources", "source_date", "confidence", "effective_from", "citation", "last_reviewed",
        "overridden", "advice",
    ):  # fmt: skip
        assert key in d
    assert d["effective_from"] == "2028-01-01" and isinstance(d["sources"], list)
    assert json.loads(json.dumps(d)) == d


def test_provenance_records_changes(package_doc):
    assert package_doc["schema"] == "kei-drive/kei-rules"
    assert "version 2" in package_doc["provenance"]["derived_from"]
    assert package_doc["schema_version"] == 3
    changes = package_doc["changes"]
    assert {c["state"] for c in changes} >= {"CO", "ME"}
    assert all(c["reason"] and "sources" in c for c in changes)
    assert {c["state"] for c in package_doc["checked"]} >= {"FL", "LA", "CO", "NY", "GA", "ME"}


# --- overrides -------------------------------------------------------------------------


def test_override_roundtrip(tmp_path):
    path = tmp_path / "overrides.json"
    save_override(
        "ny", {"status": "legal", "confidence": "medium"}, "DMV letter 2026-10-02", path=path
    )
    book = load_rules(overrides_path=path)
    ny = book.rule_for("NY", RESEARCH_DAY)
    assert ny.status == "legal" and ny.overridden and "DMV letter" in ny.override_note
    assert "Your override: DMV letter 2026-10-02" in ny.advice()
    assert ny.to_dict()["overridden"] is True
    assert not book.rule_for("GA", RESEARCH_DAY).overridden
    # replacing keeps one entry per state
    save_override("NY", {"max_road_speed_mph": 45}, "second letter", path=path)
    doc = json.loads(path.read_text())
    assert list(doc["overrides"]) == ["NY"]
    assert load_rules(overrides_path=path).rule_for("NY", RESEARCH_DAY).status == "banned"
    assert remove_override("NY", path=path) is True
    assert remove_override("NY", path=path) is False
    assert not load_rules(overrides_path=path).rule_for("NY", RESEARCH_DAY).overridden


def test_override_applies_to_every_period(tmp_path):
    path = tmp_path / "o.json"
    save_override("CO", {"conditions": "My county says so."}, "county letter", path=path)
    periods = load_rules(overrides_path=path).periods("CO")
    assert len(periods) == 2 and all(p.overridden for p in periods)
    assert [p.status for p in periods] == ["banned", "restricted"]


def test_override_with_effective_from_adds_a_period(tmp_path):
    path = tmp_path / "o.json"
    save_override(
        "GA",
        {"status": "restricted", "max_road_speed_mph": 35},
        "new law HB 999",
        effective_from=date(2027, 7, 1),
        on=date(2026, 12, 1),
        path=path,
    )
    book = load_rules(overrides_path=path)
    assert book.rule_for("GA", date(2027, 6, 30)).status == "banned"
    later = book.rule_for("GA", date(2027, 7, 1))
    assert later.status == "restricted" and later.overridden
    assert later.last_reviewed == date(2026, 12, 1)


def test_default_overrides_path_from_config(tmp_path, monkeypatch):
    path = tmp_path / "user_overrides.json"
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(path))
    assert save_override("TX", {"status": "restricted"}, "test") == path
    assert load_rules().rule_for("TX", RESEARCH_DAY).overridden


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"max_road_speed_mph": "35"}, "max_road_speed_mph"),
        ({"interstate_forbidden": "yes"}, "interstate_forbidden"),
        ({"name": "Nowhere"}, "name"),
        ({"sources": "http://x"}, "sources"),
    ],
)
def test_bad_override_is_refused_before_writing(tmp_path, fields, field):
    path = tmp_path / "o.json"
    with pytest.raises(RulesError) as err:
        save_override("NY", fields, "note", path=path)
    assert err.value.state == "NY" and err.value.field == field
    assert "NY" in str(err.value) and field in str(err.value)
    assert not path.exists()


def test_override_needs_a_known_state_and_a_note(tmp_path):
    with pytest.raises(RulesError, match="XX"):
        save_override("XX", {"status": "legal"}, "note", path=tmp_path / "o.json")
    with pytest.raises(RulesError, match="note"):
        save_override("NY", {"status": "legal"}, " ", path=tmp_path / "o.json")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"date": "2026-11-26", "fields": {"status": "legal"}}, "note"),
        ({"note": "n", "date": "26/11/2026", "fields": {"status": "legal"}}, "date"),
        ({"note": "n", "date": "2026-11-26", "fields": {}}, "fields"),
        ({"note": "n", "date": "2026-11-26", "fields": {"status": "ok"}}, "status"),
        ({"note": "n", "date": "2026-11-26", "fields": {"status": "legal"}, "x": 1}, "x"),
    ],
)
def test_broken_overrides_file_names_state_and_field(tmp_path, override, field):
    doc = {"schema": "kei-drive/rule-overrides", "schema_version": 1, "overrides": {"FL": override}}
    path = write(tmp_path, doc, "o.json")
    with pytest.raises(RulesError) as err:
        load_rules(overrides_path=path)
    assert err.value.state == "FL" and err.value.field == field
    assert "FL" in str(err.value) and f"'{field}'" in str(err.value)


def test_overrides_file_not_json(tmp_path):
    path = write(tmp_path, "{not json", "o.json")
    with pytest.raises(RulesError, match="not valid JSON"):
        load_rules(overrides_path=path)
    with pytest.raises(RulesError):  # refuses to overwrite a broken file
        save_override("NY", {"status": "legal"}, "n", path=path)
    assert path.read_text() == "{not json"


def test_override_for_unknown_state_in_file(tmp_path):
    doc = {
        "schema": "kei-drive/rule-overrides",
        "overrides": {"ZZ": {"note": "n", "date": "2026-11-26", "fields": {"status": "legal"}}},
    }
    with pytest.raises(RulesError, match="ZZ"):
        load_rules(overrides_path=write(tmp_path, doc, "o.json"))


# --- corrupted rules files -------------------------------------------------------------


def corrupt(doc: dict, state: str, period: int, field: str, value=...) -> dict:
    doc = copy.deepcopy(doc)
    target = doc["states"][state]["periods"][period]
    if value is ...:
        del target[field]
    else:
        target[field] = value
    return doc


@pytest.mark.parametrize(
    ("state", "period", "field", "value"),
    [
        ("NY", 0, "status", ...),  # missing
        ("CO", 1, "status", "bannd"),  # unknown status
        ("FL", 0, "max_road_speed_mph", "35"),  # wrong type
        ("FL", 0, "max_road_speed_mph", 350),  # out of range
        ("LA", 0, "interstate_forbidden", "yes"),
        ("GA", 0, "sources", "https://example.org"),
        ("TX", 0, "confidence", "certain"),
        ("ME", 0, "last_checked", "yesterday"),
        ("OH", 1, "road_access", "towns"),  # not an access mode
        ("MN", 0, "road_access", None),  # restricted needs an access mode
        ("VA", 0, "road_access", "statewide"),  # unclear cannot grant statewide access
        ("NY", 0, "visitors", {"rule": "may_not_operate", "text": "no", "source": None}),
        ("CO", 0, "sources", []),  # high confidence without a quoted primary source
        ("KY", 1, "vehicle_requirements", [{"code": "Roll Bar", "text": "x"}]),
        ("RI", 1, "crossing_up_to_mph", 200),
        ("CO", 1, "effective_from", None),  # only the first period may be open
        ("CO", 1, "effective_from", "2020-01-01"),  # out of order? (first is open: allowed)
        ("AK", 0, "conditions", ""),
        ("AZ", 0, "colour", "red"),  # unknown field
    ],
)
def test_corrupted_rules_file_names_state_and_field(
    tmp_path, no_overrides, package_doc, state, period, field, value
):
    doc = corrupt(package_doc, state, period, field, value)
    path = write(tmp_path, doc)
    if (state, field, value) == ("CO", "effective_from", "2020-01-01"):
        # Before the first period's last day: the periods overlap (named on period 1).
        with pytest.raises(RulesError, match="CO period 1: field 'effective_to': overlaps"):
            load_rules(path, no_overrides)
        return
    with pytest.raises(RulesError) as err:
        load_rules(path, no_overrides)
    if (state, field) == ("CO", "sources"):
        field = "confidence"  # 'high' without a quoted primary source
    assert err.value.state == state and err.value.field == field
    assert f"{state} period {period + 1}" in str(err.value) and f"'{field}'" in str(err.value)


def test_periods_out_of_order(tmp_path, no_overrides, package_doc):
    doc = copy.deepcopy(package_doc)
    periods = doc["states"]["CO"]["periods"]
    periods[0]["effective_from"] = "2029-01-01"
    del periods[0]["effective_to"]
    with pytest.raises(RulesError, match="CO period 2.*increasing"):
        load_rules(write(tmp_path, doc), no_overrides)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"schema": "something-else", "schema_version": 1, "states": {}}', "schema"),
        ('{"schema": "kei-drive/kei-rules", "schema_version": 3, "states": {}}', "states"),
        ('{"schema": "kei-drive/kei-rules", "schema_version": 3, "states": {"NY": []}}', "NY"),
        ('{"schema": "kei-drive/kei-rules", "schema_version": 3, "states": {"ny": {}}}', "ny"),
        (
            '{"schema": "kei-drive/kei-rules", "schema_version": 3,'
            ' "states": {"NY": {"name": "New York", "periods": []}}}',
            "periods",
        ),
    ],
)
def test_broken_rules_documents(tmp_path, no_overrides, text, match):
    with pytest.raises(RulesError, match=match):
        load_rules(write(tmp_path, text), no_overrides)


def test_missing_rules_file(tmp_path, no_overrides):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "absent.json", no_overrides)
    assert issubclass(RulesError, ValueError)


def test_second_review_corrections(book, package_doc):
    """WI, MN and OH corrections from the 2026-11-26 review keep status and caps."""
    wi, mn, oh = (book.rule_for(s, RESEARCH_DAY) for s in ("WI", "MN", "OH"))
    assert (wi.status, wi.confidence, wi.max_road_speed_mph) == ("restricted", "medium", None)
    assert "Act 103" in wi.citation and "Kei class vehicle" in wi.conditions
    assert wi.sources[0].startswith("http://docs.legis.wisconsin.gov/")
    assert mn.status == "restricted" and "2024" in mn.source_date
    assert "was not verified" not in mn.conditions and "SF 2207" in mn.conditions
    assert (oh.status, oh.max_road_speed_mph, oh.interstate_forbidden) == ("restricted", 35, True)
    assert any("codes.ohio.gov" in s for s in oh.sources)
    changed = {c["state"] for c in package_doc["changes"]}
    assert {"WI", "MN", "OH"} <= changed
    assert {"PA", "TX", "OR"} <= {c["state"] for c in package_doc["checked"]}
    for entry in package_doc["changes"] + package_doc["checked"]:
        if entry["state"] in {"WI", "MN", "OH", "PA", "TX", "OR"}:
            assert entry["sources"], entry["state"]
