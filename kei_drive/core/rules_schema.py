"""Validation of the Kei rules file (schema v3) and the user's override file.

Hand-written rather than pydantic so that every message names the state and the field
in plain words ("kei_rules.json: CO period 2: field 'status': ..."), which is what a
user editing an override file needs to see.

Schema v3 (one rule *period*): ``status``, ``road_access`` (None = unverified),
``max_road_speed_mph``, ``interstate_forbidden``, ``crossing_up_to_mph``,
``vehicle_requirements`` / ``registration_routes`` (lists of {code, text, source}),
``visitors`` ({rule, text, source}), ``conditions``, ``citation``, ``sources`` (list of
{url, title, date, quote, primary}), ``source_date``, ``confidence``, ``effective_from``,
``effective_to`` (last day in force), ``change`` (what changed on effective_from),
``last_checked`` and an optional curated ``summary``. Override files of schema versions
1 and 2 (sources as plain URL strings) still load: ``migrate_override_fields``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from kei_drive.core.rules_vocab import Confidence, RoadAccess, RuleStatus, Visitors

STATUSES = tuple(s.value for s in RuleStatus)
CONFIDENCES = tuple(c.value for c in Confidence)
ROAD_ACCESS = tuple(a.value for a in RoadAccess)
VISITORS = tuple(v.value for v in Visitors)
RULES_SCHEMA = "kei-drive/kei-rules"
OVERRIDES_SCHEMA = "kei-drive/rule-overrides"
SCHEMA_VERSION = 3
LEGACY_OVERRIDE_VERSIONS = (1, 2)  # sources were plain URL strings
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")

# Fields of one rule period: name -> required
PERIOD_FIELDS: dict[str, bool] = {
    "status": True,
    "road_access": True,
    "max_road_speed_mph": True,
    "interstate_forbidden": True,
    "crossing_up_to_mph": True,
    "vehicle_requirements": True,
    "registration_routes": True,
    "visitors": True,
    "conditions": True,
    "citation": True,
    "sources": True,
    "source_date": True,
    "confidence": True,
    "effective_from": True,
    "effective_to": False,
    "change": False,
    "last_checked": True,
    "summary": False,
}
# Fields a user override may set (everything describing the rule itself).
OVERRIDABLE = (
    "status",
    "road_access",
    "max_road_speed_mph",
    "interstate_forbidden",
    "crossing_up_to_mph",
    "vehicle_requirements",
    "registration_routes",
    "visitors",
    "conditions",
    "citation",
    "sources",
    "source_date",
    "confidence",
    "summary",
)


class RulesError(ValueError):
    """A rules or overrides file is broken; the message names the state and field."""

    def __init__(self, message: str, state: str | None = None, field: str | None = None):
        super().__init__(message)
        self.state = state
        self.field = field


def _fail(where: str, state: str | None, field: str | None, problem: str) -> RulesError:
    target = f" field '{field}':" if field else ""
    return RulesError(f"{where}:{target} {problem}", state=state, field=field)


def parse_date(value: Any, where: str, state: str | None, field: str) -> date:
    if not isinstance(value, str):
        raise _fail(where, state, field, f"expected a YYYY-MM-DD date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(where, state, field, f"not a valid YYYY-MM-DD date: {value!r}") from None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _source(value: Any, where: str, state: str | None, field: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not _text(value.get("url")) or not _text(value.get("title")):
        raise _fail(where, state, field, f"each source needs a 'url' and a 'title', got {value!r}")
    unknown = sorted(set(value) - {"url", "title", "date", "quote", "primary"})
    if unknown:
        raise _fail(where, state, field, f"unknown source key {unknown[0]!r}")
    for key in ("date", "quote"):
        if value.get(key) is not None and not _text(value[key]):
            raise _fail(where, state, field, f"source '{key}' must be null or a non-empty string")
    if not isinstance(value.get("primary", False), bool):
        raise _fail(where, state, field, "source 'primary' must be true or false")
    return {
        "url": value["url"],
        "title": value["title"],
        "date": value.get("date"),
        "quote": value.get("quote"),
        "primary": value.get("primary", False),
    }


def _coded(value: Any, where: str, state: str | None, field: str) -> tuple[dict, ...]:
    """A list of {code, text, source} items (requirements, registration routes)."""
    if not isinstance(value, list):
        raise _fail(
            where, state, field, f"expected a list of {{code, text, source}}, got {value!r}"
        )
    out = []
    for item in value:
        ok = isinstance(item, dict) and set(item) <= {"code", "text", "source"}
        if not ok or not _CODE.match(str(item.get("code", ""))) or not _text(item.get("text")):
            raise _fail(
                where, state, field, f"each item needs a snake_case 'code' and a 'text': {item!r}"
            )
        if item.get("source") is not None and not _text(item["source"]):
            raise _fail(where, state, field, "an item's 'source' must be null or a URL string")
        out.append({"code": item["code"], "text": item["text"], "source": item.get("source")})
    return tuple(out)


def _visitors(value: Any, where: str, state: str | None, field: str) -> dict[str, Any]:
    if (
        not isinstance(value, dict)
        or value.get("rule") not in VISITORS
        or not _text(value.get("text"))
    ):
        raise _fail(
            where,
            state,
            field,
            f"expected {{rule: {' | '.join(VISITORS)}, text, source}}, got {value!r}",
        )
    source = value.get("source")
    if source is not None and not _text(source):
        raise _fail(where, state, field, "'source' must be null or a URL string")
    if value["rule"] != Visitors.UNKNOWN and source is None:
        raise _fail(where, state, field, f"a '{value['rule']}' visitor rule needs its source")
    return {"rule": value["rule"], "text": value["text"], "source": source}


def _mph(value: Any, bad) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 85:
        raise bad("null or a whole number of mph between 5 and 85")
    return value


def check_value(field: str, value: Any, where: str, state: str | None) -> Any:
    """Check and convert one period field; returns the Python value."""

    def bad(expected: str) -> RulesError:
        return _fail(where, state, field, f"expected {expected}, got {value!r}")

    if field == "status":
        if value not in STATUSES:
            raise bad("one of " + ", ".join(STATUSES))
        return value
    if field == "road_access":
        if value is not None and value not in ROAD_ACCESS:
            raise bad("null (unverified) or one of " + ", ".join(ROAD_ACCESS))
        return value
    if field == "confidence":
        if value not in CONFIDENCES:
            raise bad("one of " + ", ".join(CONFIDENCES))
        return value
    if field in ("max_road_speed_mph", "crossing_up_to_mph"):
        return _mph(value, bad)
    if field == "interstate_forbidden":
        if value is not None and not isinstance(value, bool):
            raise bad("true, false or null")
        return value
    if field in ("conditions", "citation", "source_date"):
        if not _text(value):
            raise bad("a non-empty string")
        return value
    if field in ("summary", "change"):
        if value is not None and not _text(value):
            raise bad("null or a non-empty string")
        return value
    if field == "sources":
        if not isinstance(value, list):
            raise bad("a list of sources {url, title, date, quote, primary}")
        return tuple(_source(s, where, state, field) for s in value)
    if field in ("vehicle_requirements", "registration_routes"):
        return _coded(value, where, state, field)
    if field == "visitors":
        return _visitors(value, where, state, field)
    if field in ("effective_from", "effective_to"):
        return None if value is None else parse_date(value, where, state, field)
    if field == "last_checked":
        return parse_date(value, where, state, field)
    raise _fail(where, state, field, "unknown field")


def parse_period(raw: Any, where: str, state: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(
            where, state, None, f"a rule period must be an object, got {type(raw).__name__}"
        )
    unknown = sorted(set(raw) - set(PERIOD_FIELDS))
    if unknown:
        raise _fail(where, state, unknown[0], "unknown field")
    out: dict[str, Any] = {}
    for field, required in PERIOD_FIELDS.items():
        if field not in raw:
            if required:
                raise _fail(where, state, field, "missing")
            out[field] = None
            continue
        out[field] = check_value(field, raw[field], where, state)
    _check_consistency(out, where, state)
    return out


def _check_consistency(period: dict[str, Any], where: str, state: str) -> None:
    """The package file's invariants (user overrides are the user's own statement)."""
    status, access = period["status"], period["road_access"]
    if status == RuleStatus.UNCLEAR and access == RoadAccess.STATEWIDE:
        raise _fail(where, state, "road_access", "an 'unclear' rule cannot grant statewide access")
    if status == RuleStatus.RESTRICTED and access is None:
        raise _fail(where, state, "road_access", "a 'restricted' rule needs an access mode")
    if status == RuleStatus.BANNED and access not in (RoadAccess.NONE, None):
        raise _fail(where, state, "road_access", "a 'banned' rule allows no public roads")
    if period["confidence"] == Confidence.HIGH and not any(
        s["primary"] and s["quote"] for s in period["sources"]
    ):
        raise _fail(
            where, state, "confidence", "'high' needs a primary source with a quote in 'sources'"
        )
    start, end = period["effective_from"], period["effective_to"]
    if start is not None and end is not None and end < start:
        raise _fail(where, state, "effective_to", "ends before it starts")


def parse_rules_document(doc: Any, label: str) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """state -> (name, periods oldest first) from a loaded ``kei_rules.json``."""
    if not isinstance(doc, dict):
        raise RulesError(f"{label}: the file must hold a JSON object")
    if doc.get("schema") != RULES_SCHEMA or doc.get("schema_version") != SCHEMA_VERSION:
        raise RulesError(
            f"{label}: field 'schema'/'schema_version': expected {RULES_SCHEMA!r} "
            f"version {SCHEMA_VERSION}, got {doc.get('schema')!r} {doc.get('schema_version')!r}"
            " (regenerate it with scripts/build_kei_rules.py)",
            field="schema",
        )
    states = doc.get("states")
    if not isinstance(states, dict) or not states:
        raise RulesError(f"{label}: field 'states': expected a non-empty object", field="states")
    out = {}
    for code, entry in states.items():
        where = f"{label}: {code}"
        if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
            raise _fail(label, code, None, f"state key {code!r} is not a two-letter USPS code")
        if not isinstance(entry, dict):
            raise _fail(where, code, None, "the state entry must be an object")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(where, code, "name", "missing or not a non-empty string")
        periods_raw = entry.get("periods")
        if not isinstance(periods_raw, list) or not periods_raw:
            raise _fail(where, code, "periods", "expected a non-empty list of rule periods")
        periods = [
            parse_period(p, f"{where} period {i + 1}", code) for i, p in enumerate(periods_raw)
        ]
        check_order(periods, where, code)
        out[code] = (name, periods)
    return out


def check_order(periods: list[dict[str, Any]], where: str, code: str) -> None:
    """Only the first period may lack ``effective_from``; periods never overlap."""
    for i, period in enumerate(periods):
        if not i:
            continue
        here = f"{where} period {i + 1}"
        start = period["effective_from"]
        if start is None:
            raise _fail(here, code, "effective_from", "required after the first period")
        previous = periods[i - 1]
        if previous["effective_from"] is not None and start <= previous["effective_from"]:
            raise _fail(here, code, "effective_from", "periods must be in increasing date order")
        if previous["effective_to"] is not None and previous["effective_to"] >= start:
            raise _fail(
                f"{where} period {i}", code, "effective_to", "overlaps the next period's start"
            )


def migrate_override_fields(fields: dict[str, Any], version: int) -> dict[str, Any]:
    """Fields of an override written by schema v1/v2 -> v3 (sources become objects)."""
    if version not in LEGACY_OVERRIDE_VERSIONS:
        return fields
    out = dict(fields)
    if isinstance(out.get("sources"), list):
        out["sources"] = [
            {"url": s, "title": s, "date": None, "quote": None, "primary": False}
            if isinstance(s, str)
            else s
            for s in out["sources"]
        ]
    return out


def parse_override(raw: Any, where: str, code: str, version: int = SCHEMA_VERSION) -> dict:
    """One user override: {"note", "date", "fields": {...}, "effective_from"?}."""
    if not isinstance(raw, dict):
        raise _fail(where, code, None, "an override must be an object")
    unknown = sorted(set(raw) - {"note", "date", "fields", "effective_from"})
    if unknown:
        raise _fail(where, code, unknown[0], "unknown field")
    note = raw.get("note")
    if not isinstance(note, str) or not note.strip():
        raise _fail(where, code, "note", "missing or empty (say where the rule comes from)")
    out: dict[str, Any] = {"note": note, "date": parse_date(raw.get("date"), where, code, "date")}
    out["effective_from"] = (
        None
        if raw.get("effective_from") is None
        else parse_date(raw["effective_from"], where, code, "effective_from")
    )
    fields = raw.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise _fail(where, code, "fields", "expected a non-empty object of rule fields")
    checked = {}
    for field, value in migrate_override_fields(fields, version).items():
        if field not in OVERRIDABLE:
            raise _fail(where, code, field, "cannot be overridden (or unknown field)")
        checked[field] = check_value(field, value, where, code)
    out["fields"] = checked
    return out


def overrides_version(doc: Any, label: str) -> int:
    if not isinstance(doc, dict) or doc.get("schema") != OVERRIDES_SCHEMA:
        raise RulesError(
            f"{label}: field 'schema': expected an object with schema {OVERRIDES_SCHEMA!r}",
            field="schema",
        )
    version = doc.get("schema_version", 1)  # the first files had no version
    if version not in (*LEGACY_OVERRIDE_VERSIONS, SCHEMA_VERSION):
        raise RulesError(
            f"{label}: field 'schema_version': expected 1, 2 or {SCHEMA_VERSION}, got {version!r}",
            field="schema_version",
        )
    return version


def empty_overrides_document() -> dict[str, Any]:
    """An overrides document that overrides nothing (the package rules)."""
    return {"schema": OVERRIDES_SCHEMA, "schema_version": SCHEMA_VERSION, "overrides": {}}


def parse_overrides_document(doc: Any, label: str) -> dict[str, dict[str, Any]]:
    version = overrides_version(doc, label)
    overrides = doc.get("overrides")
    if not isinstance(overrides, dict):
        raise RulesError(f"{label}: field 'overrides': expected an object", field="overrides")
    return {
        code: parse_override(raw, f"{label}: {code}", code, version)
        for code, raw in overrides.items()
    }
