"""Validation of the Kei rules file and the user's override file.

Hand-written rather than pydantic so that every message names the state and the field
in plain words ("kei_rules.json: CO period 2: field 'status': ..."), which is what a
user editing an override file needs to see.
"""

from __future__ import annotations

from datetime import date
from typing import Any

STATUSES = ("legal", "restricted", "banned", "unclear")
CONFIDENCES = ("high", "medium", "low")
RULES_SCHEMA = "kei-drive/kei-rules"
OVERRIDES_SCHEMA = "kei-drive/rule-overrides"
SCHEMA_VERSION = 1

# Fields of one rule period: name -> required
PERIOD_FIELDS: dict[str, bool] = {
    "status": True,
    "max_road_speed_mph": True,
    "interstate_forbidden": True,
    "conditions": True,
    "citation": True,
    "sources": True,
    "source_date": True,
    "confidence": True,
    "effective_from": True,
    "last_reviewed": True,
    "summary": False,
}
# Fields a user override may set (everything describing the rule itself).
OVERRIDABLE = (
    "status",
    "max_road_speed_mph",
    "interstate_forbidden",
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


def check_value(field: str, value: Any, where: str, state: str | None) -> Any:
    """Check and convert one period field; returns the Python value."""

    def bad(expected: str) -> RulesError:
        return _fail(where, state, field, f"expected {expected}, got {value!r}")

    if field == "status":
        if value not in STATUSES:
            raise bad("one of " + ", ".join(STATUSES))
        return value
    if field == "confidence":
        if value not in CONFIDENCES:
            raise bad("one of " + ", ".join(CONFIDENCES))
        return value
    if field == "max_road_speed_mph":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 85:
            raise bad("null or a whole number of mph between 5 and 85")
        return value
    if field == "interstate_forbidden":
        if value is not None and not isinstance(value, bool):
            raise bad("true, false or null")
        return value
    if field in ("conditions", "citation", "source_date"):
        if not isinstance(value, str) or not value.strip():
            raise bad("a non-empty string")
        return value
    if field == "summary":
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise bad("null or a non-empty string")
        return value
    if field == "sources":
        if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
            raise bad("a list of source strings (URLs)")
        return tuple(value)
    if field in ("effective_from",):
        return None if value is None else parse_date(value, where, state, field)
    if field == "last_reviewed":
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
    return out


def parse_rules_document(doc: Any, label: str) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """state -> (name, periods oldest first) from a loaded ``kei_rules.json``."""
    if not isinstance(doc, dict):
        raise RulesError(f"{label}: the file must hold a JSON object")
    if doc.get("schema") != RULES_SCHEMA or doc.get("schema_version") != SCHEMA_VERSION:
        raise RulesError(
            f"{label}: field 'schema'/'schema_version': expected {RULES_SCHEMA!r} "
            f"version {SCHEMA_VERSION}, got {doc.get('schema')!r} {doc.get('schema_version')!r}",
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
        _check_order(periods, where, code)
        out[code] = (name, periods)
    return out


def _check_order(periods: list[dict[str, Any]], where: str, code: str) -> None:
    """Only the first period may lack ``effective_from``; dates must increase."""
    for i, period in enumerate(periods):
        if i and period["effective_from"] is None:
            raise _fail(
                f"{where} period {i + 1}", code, "effective_from", "required after the first period"
            )
        previous = periods[i - 1]["effective_from"] if i else None
        if previous is not None and period["effective_from"] <= previous:
            raise _fail(
                f"{where} period {i + 1}",
                code,
                "effective_from",
                "periods must be in increasing date order",
            )


def parse_override(raw: Any, where: str, code: str) -> dict[str, Any]:
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
    for field, value in fields.items():
        if field not in OVERRIDABLE:
            raise _fail(where, code, field, "cannot be overridden (or unknown field)")
        checked[field] = check_value(field, value, where, code)
    out["fields"] = checked
    return out


def parse_overrides_document(doc: Any, label: str) -> dict[str, dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("schema") != OVERRIDES_SCHEMA:
        raise RulesError(
            f"{label}: field 'schema': expected an object with schema {OVERRIDES_SCHEMA!r}",
            field="schema",
        )
    overrides = doc.get("overrides")
    if not isinstance(overrides, dict):
        raise RulesError(f"{label}: field 'overrides': expected an object", field="overrides")
    return {code: parse_override(raw, f"{label}: {code}", code) for code, raw in overrides.items()}
