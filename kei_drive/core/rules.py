"""The Kei rules knowledge base: which rule applies in a state on a date, and local overrides.

The package file ``kei_drive/data/kei_rules.json`` holds, per state, a list of rule
*periods* (oldest first, each with ``effective_from``), so enacted changes switch on
their date (Colorado: banned, then restricted from 2028-01-01). Users may override a
state's rule in their own JSON file (``config.rule_overrides_path()``); overridden rules
carry ``overridden=True`` and the user's note.

Everything here is advice with a source, never legal clearance.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from kei_drive.core.rules_schema import (
    OVERRIDABLE,
    OVERRIDES_SCHEMA,
    SCHEMA_VERSION,
    RulesError,
    migrate_override_fields,
    overrides_version,
    parse_override,
    parse_overrides_document,
    parse_rules_document,
)
from kei_drive.core.rules_vocab import (
    VISITOR_WORDS,
    RoadAccess,
    RuleStatus,
    Visitors,
    access_words,
    severity,
)

__all__ = [
    "DATA_PATH",
    "OVERRIDABLE",
    "KeiRule",
    "RuleBook",
    "RulesError",
    "Status",
    "RULE_FIELDS",
    "document_with_override",
    "document_without_override",
    "load_overrides",
    "merged_overrides",
    "load_rules",
    "remove_override",
    "save_override",
]

Status = Literal["legal", "restricted", "banned", "unclear"]
DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "kei_rules.json"
TRANSIT_CAVEAT = "Driving through on another state's plates is legally unsettled."
# The machine-readable fields of one rule (CLI --json, issue #10 point 8), in this order.
RULE_FIELDS = (
    "status",
    "road_access",
    "max_road_speed_mph",
    "interstate",
    "visitors",
    "vehicle_requirements",
    "registration_routes",
    "effective_from",
    "confidence",
    "sources",
    "last_checked",
)


@dataclass(frozen=True)
class KeiRule:
    """The Kei rule of one state for one period."""

    state: str
    name: str
    status: Status
    road_access: str | None  # RoadAccess value; None = unverified
    max_road_speed_mph: int | None  # highest posted limit a Kei may use; None = no cap known
    interstate_forbidden: bool | None  # None = unknown
    crossing_up_to_mph: int | None  # may cross roads posted up to this at intersections
    vehicle_requirements: tuple[dict[str, Any], ...]  # {code, text, source}
    registration_routes: tuple[dict[str, Any], ...]  # {code, text, source}
    visitors: dict[str, Any]  # {rule: Visitors value, text, source}
    conditions: str
    citation: str
    source_refs: tuple[dict[str, Any], ...]  # {url, title, date, quote, primary}
    source_date: str
    confidence: str  # high | medium | low
    effective_from: date | None  # None: in force since before the research
    last_checked: date
    effective_to: date | None = None  # last day in force; None = open (or until the next)
    change: str | None = None  # what changed on effective_from
    overridden: bool = False
    override_note: str | None = None
    summary: str | None = None  # short curated clause for advice(); None = from the fields

    @property
    def sources(self) -> tuple[str, ...]:
        """Source URLs (the full records are ``source_refs``)."""
        return tuple(s["url"] for s in self.source_refs)

    @property
    def last_reviewed(self) -> date:  # the v1 name
        return self.last_checked

    @property
    def visitor_rule(self) -> str:
        return (self.visitors or {}).get("rule") or Visitors.UNKNOWN

    @property
    def interstate(self) -> str:
        """'forbidden' | 'allowed' | 'unknown' (from ``interstate_forbidden``)."""
        if self.interstate_forbidden is None:
            return "unknown"
        return "forbidden" if self.interstate_forbidden else "allowed"

    @property
    def needs_local_permission(self) -> bool:
        """No public roads unless the driver knows a local rule allows them."""
        return self.road_access not in (RoadAccess.STATEWIDE, None)

    def severity(self) -> tuple[int, int, int, int]:
        return severity(self)

    def source_label(self) -> str:
        """Short 'where from, when' label, e.g. 'dmv.colorado.gov, 2026'."""
        host = ""
        if self.sources:
            parsed = urlparse(self.sources[0])
            host = (parsed.netloc or self.sources[0].split()[0]).removeprefix("www.")
        years = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", self.source_date)
        year = max(years) if years else ""
        return ", ".join(p for p in (host, year) if p) or "no source"

    def _limits(self) -> str:
        parts = []
        if self.max_road_speed_mph is not None:
            parts.append(f"roads posted {self.max_road_speed_mph} mph or less only")
        if self.interstate_forbidden:
            parts.append("no interstates")
        return ", ".join(parts)

    def access_text(self) -> str:
        """Plain words: 'Only in towns that allow it by ordinance · roads 35 mph or less ·
        police inspection' (access mode, cap, interstates, requirements)."""
        if self.status == RuleStatus.UNCLEAR and self.road_access is None:
            head = "Rules unverified"
        else:
            head = access_words(self.road_access)
        parts = [head[:1].upper() + head[1:]]
        if self.road_access != RoadAccess.NONE:
            if self.max_road_speed_mph is not None:
                parts.append(f"roads {self.max_road_speed_mph} mph or less")
            if self.crossing_up_to_mph is not None:
                parts.append(f"may cross roads up to {self.crossing_up_to_mph} mph")
            if self.interstate_forbidden:
                parts.append("no interstates")
        parts += [r["text"] for r in self.vehicle_requirements]
        return " · ".join(parts)

    def visitor_text(self) -> str:
        """What a driver on another state's plates is told."""
        rule = Visitors(self.visitor_rule)
        return VISITOR_WORDS[rule]

    def advice(self) -> str:
        """One line of advice with its source, never a clearance."""
        if self.status == "unclear" and not self.summary:
            text = f"{self.name}: no clear rule found — check with the DMV."
        else:
            if self.summary:
                clause = self.summary
            elif self.status == "banned":
                clause = "the state refuses Kei registration for road use"
            elif self.needs_local_permission:
                clause = access_words(self.road_access)
            elif self.status == "restricted":
                clause = "Kei registrable with limits" + (
                    f" ({self._limits()})" if self._limits() else ""
                )
            elif self.status == "legal":
                clause = "Kei registrable under ordinary rules"
            else:
                clause = "no clear rule found — check with the DMV"
            text = f"{self.name}: {clause} ({self.source_label()})."
            if self.visitor_rule == Visitors.MAY_NOT_OPERATE:
                text += f" Even on out-of-state plates: {self.visitors['text']}"
            elif self.status == "banned":
                text += " " + TRANSIT_CAVEAT
        if self.confidence == "low" and self.status != "unclear":
            text += " Low confidence: check with the DMV."
        if self.overridden:
            text += f" [Your override: {self.override_note}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the RULE_FIELDS of schema v3 first, then the rest."""

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        data = asdict(self)
        head = {
            "state": self.state,
            "name": self.name,
            "status": self.status,
            "road_access": self.road_access,
            "max_road_speed_mph": self.max_road_speed_mph,
            "interstate": self.interstate,
            "visitors": dict(self.visitors),
            "vehicle_requirements": [r["code"] for r in self.vehicle_requirements],
            "registration_routes": [dict(r) for r in self.registration_routes],
            "effective_from": iso(self.effective_from),
            "confidence": self.confidence,
            "sources": [dict(s) for s in self.source_refs],
            "last_checked": iso(self.last_checked),
        }
        del data["source_refs"]
        data.update(head)
        data["requirements"] = [dict(r) for r in self.vehicle_requirements]  # code, text, source
        data["source_urls"] = list(self.sources)
        data["effective_to"] = iso(self.effective_to)
        data["last_reviewed"] = iso(self.last_checked)  # the v1 name, kept for old clients
        data["access_text"] = self.access_text()
        data["visitor_text"] = self.visitor_text()
        data["severity"] = list(self.severity())
        data["advice"] = self.advice()
        return {**head, **{k: v for k, v in data.items() if k not in head}}

    def fields_dict(self) -> dict[str, Any]:
        """Exactly the issue's machine fields (``RULE_FIELDS``) plus state and name."""
        full = self.to_dict()
        return {"state": self.state, "name": self.name} | {k: full[k] for k in RULE_FIELDS}


@dataclass(frozen=True)
class RuleChange:
    """A dated change of a state's rule (for "What changed")."""

    state: str
    name: str
    on: date
    status: str
    road_access: str | None
    text: str  # what changed
    upcoming: bool

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["on"] = self.on.isoformat()
        return data


class RuleBook:
    """All states' rule periods, with overrides applied."""

    def __init__(self, periods: dict[str, list[KeiRule]], metadata: dict[str, Any] | None = None):
        self._periods = {code: list(p) for code, p in sorted(periods.items())}
        self.metadata = metadata or {}

    def states(self) -> list[str]:
        return list(self._periods)

    def periods(self, state: str) -> list[KeiRule]:
        """All periods of a state, oldest first ([] for an unknown code)."""
        return list(self._periods.get(state.upper(), []))

    def rule_for(self, state: str, on: date | None = None) -> KeiRule | None:
        """The rule in force in ``state`` on ``on`` (default today).

        None for an unknown state code, for a date before the first dated period, or in a
        gap after a period's ``effective_to``.
        """
        on = on or date.today()
        current = None
        for rule in self._periods.get(state.upper(), []):
            if rule.effective_from is None or rule.effective_from <= on:
                current = rule
        if current is not None and current.effective_to is not None and current.effective_to < on:
            return None
        return current

    def all_rules(self, on: date | None = None) -> list[KeiRule]:
        """The rule in force on ``on`` for every state, sorted by code."""
        rules = (self.rule_for(code, on) for code in self._periods)
        return [r for r in rules if r is not None]

    def next_change(self, state: str, after: date | None = None) -> KeiRule | None:
        """The first period starting after ``after`` (default today), if any."""
        after = after or date.today()
        for rule in self._periods.get(state.upper(), []):
            if rule.effective_from is not None and rule.effective_from > after:
                return rule
        return None

    def changes(
        self,
        on: date | None = None,
        *,
        past_days: int = 2 * 365,
        ahead_days: int | None = None,
        states: list[str] | None = None,
    ) -> list[RuleChange]:
        """Dated changes from ``past_days`` before ``on`` onwards (and up to ``ahead_days``
        after it, default all upcoming), newest upcoming last, per state then date."""
        on = on or date.today()
        out = []
        for code in states or self.states():
            for rule in self.periods(code):
                start = rule.effective_from
                if start is None or (on - start).days > past_days:
                    continue
                if ahead_days is not None and (start - on).days > ahead_days:
                    continue
                text = rule.change or f"{rule.status}: {rule.access_text()}"
                out.append(
                    RuleChange(
                        rule.state,
                        rule.name,
                        start,
                        rule.status,
                        rule.road_access,
                        text,
                        start > on,
                    )
                )
        return sorted(out, key=lambda c: (c.on, c.state))

    @staticmethod
    def is_more_restrictive(a: KeiRule, b: KeiRule) -> bool:
        """True if ``a`` is stricter for a Kei than ``b`` (warn when going from b into a).

        The one order of ``rules_vocab.severity``: status (legal < restricted < unclear <
        banned), then road access, then a lower cap, then an interstate ban.
        """
        return severity(a) > severity(b)


def _read_json(path: Path, label: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{label}: cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{label}: not valid JSON: {exc}") from None


def load_overrides(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Validated overrides per state ({} if the file does not exist)."""
    path = Path(path) if path is not None else _default_overrides_path()
    if not path.exists():
        return {}
    return parse_overrides_document(_read_json(path, path.name), path.name)


def _default_overrides_path() -> Path:
    from kei_drive import config  # stdlib-only module; imported late to keep core import light

    return config.rule_overrides_path()


def _apply_override(periods: list[KeiRule], override: dict[str, Any]) -> list[KeiRule]:
    """Patch every period, or (with effective_from) add an overridden period from that date."""
    fields = _rule_kwargs(override["fields"])
    if "status" in fields and "road_access" not in fields:
        fields["road_access"] = _ACCESS_OF_STATUS[RuleStatus(fields["status"])]
    mark = {"overridden": True, "override_note": f"{override['note']} ({override['date']})"}
    start = override["effective_from"]
    if start is None:
        return [replace(p, **fields, **mark) for p in periods]
    in_force = [p for p in periods if p.effective_from is None or p.effective_from <= start]
    base = in_force[-1] if in_force else periods[0]
    new = replace(
        base,
        **fields,
        **mark,
        effective_from=start,
        effective_to=None,
        change=f"Your override: {override['note']}",
        last_checked=override["date"],
    )
    kept = [p for p in periods if p.effective_from != start]
    out = sorted(kept + [new], key=lambda p: p.effective_from or date.min)
    for i in range(len(out) - 1):  # keep periods from overlapping the new one
        nxt = out[i + 1].effective_from
        end = out[i].effective_to
        if nxt is not None and (end is None or end >= nxt):
            out[i] = replace(out[i], effective_to=nxt - timedelta(days=1))
    return out


# An override that sets a status but no access mode (every v1/v2 override) gets the access
# that status means; "restricted" with the user's cap reads as statewide under that cap.
_ACCESS_OF_STATUS = {
    RuleStatus.LEGAL: RoadAccess.STATEWIDE.value,
    RuleStatus.RESTRICTED: RoadAccess.STATEWIDE.value,
    RuleStatus.BANNED: RoadAccess.NONE.value,
    RuleStatus.UNCLEAR: None,
}


def _rule_kwargs(fields: dict[str, Any]) -> dict[str, Any]:
    """Parsed period fields -> KeiRule keyword arguments."""
    out = dict(fields)
    if "sources" in out:
        out["source_refs"] = out.pop("sources")
    return out


def _load_base(path: Path) -> tuple[dict[str, list[KeiRule]], dict[str, Any]]:
    doc = _read_json(path, path.name)
    parsed = parse_rules_document(doc, path.name)
    periods = {
        code: [KeiRule(state=code, name=name, **_rule_kwargs(fields)) for fields in raw]
        for code, (name, raw) in parsed.items()
    }
    return periods, {k: v for k, v in doc.items() if k != "states"}


def load_rules(
    path: str | os.PathLike | None = None,
    overrides_path: str | os.PathLike | None = None,
    *,
    overrides_document: dict[str, Any] | None = None,
) -> RuleBook:
    """Load and validate the rules file, then apply the user's overrides.

    Defaults: the packaged ``kei_rules.json`` and ``config.rule_overrides_path()`` (if the
    file exists). ``overrides_document`` (an overrides document, e.g. one account's, kept
    in the database) is used instead of any file when given.
    Raises RulesError naming the state and field for a broken file.
    """
    periods, meta = _load_base(Path(path) if path is not None else DATA_PATH)
    if overrides_document is not None:
        overrides = parse_overrides_document(overrides_document, "overrides")
    else:
        overrides = load_overrides(overrides_path)
    for code, override in overrides.items():
        if code not in periods:
            raise RulesError(f"overrides: {code}: unknown state code", state=code)
        periods[code] = _apply_override(periods[code], override)
    return RuleBook(periods, meta)


def _write_overrides(path: Path, overrides: dict[str, Any]) -> None:
    doc = overrides_document(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)  # atomic: a crash never leaves half a file


def _raw_overrides(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return _raw_overrides_of(_read_json(path, path.name), path.name)


def _raw_overrides_of(doc: dict[str, Any], label: str) -> dict[str, Any]:
    parse_overrides_document(doc, label)  # refuse to build on a broken document
    version = overrides_version(doc, label)
    out = {}
    for code, raw in doc["overrides"].items():  # v1/v2 entries are rewritten as v3
        out[code] = dict(raw, fields=migrate_override_fields(raw["fields"], version))
    return out


def save_override(
    state: str,
    fields: dict[str, Any],
    note: str,
    *,
    on: date | None = None,
    effective_from: date | None = None,
    path: str | os.PathLike | None = None,
) -> Path:
    """Record (or replace) the user's override for ``state``; returns the file path.

    ``fields`` may hold any of ``OVERRIDABLE`` (status, road_access, max_road_speed_mph,
    visitors, sources, ...); sources may be plain URL strings. ``note`` says where the
    user's rule comes from ("DMV letter of 2026-10-02"). Validated before writing.
    """
    path = Path(path) if path is not None else _default_overrides_path()
    code, raw = _override_entry(state, fields, note, on, effective_from)
    overrides = _raw_overrides(path)
    overrides[code] = raw
    _write_overrides(path, overrides)
    return path


def _override_entry(
    state: str, fields: dict[str, Any], note: str, on: date | None, effective_from: date | None
) -> tuple[str, dict[str, Any]]:
    """A validated override entry for ``state``: ``(code, raw)``."""
    code = state.upper()
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
    raw = {
        "note": note,
        "date": (on or date.today()).isoformat(),
        "fields": migrate_override_fields(plain, 1),  # URL strings -> source records
    }
    if effective_from is not None:
        raw["effective_from"] = effective_from.isoformat()
    parse_override(raw, f"override for {code}", code)
    if code not in _load_base(DATA_PATH)[0]:
        raise RulesError(f"override for {code}: unknown state code", state=code)
    return code, raw


def overrides_document(overrides: dict[str, Any]) -> dict[str, Any]:
    """An overrides document holding ``overrides`` (code -> raw entry)."""
    return {"schema": OVERRIDES_SCHEMA, "schema_version": SCHEMA_VERSION, "overrides": overrides}


def document_with_override(
    document: dict[str, Any] | None,
    state: str,
    fields: dict[str, Any],
    note: str,
    *,
    on: date | None = None,
    effective_from: date | None = None,
) -> dict[str, Any]:
    """``save_override`` on a document instead of a file (per-account overrides): a new
    document with the override for ``state`` recorded or replaced. Validated."""
    code, raw = _override_entry(state, fields, note, on, effective_from)
    overrides = _raw_overrides_of(document, "overrides") if document else {}
    overrides[code] = raw
    return overrides_document(overrides)


def document_without_override(
    document: dict[str, Any] | None, state: str
) -> tuple[dict[str, Any], bool]:
    """``remove_override`` on a document: ``(new document, whether there was one)``."""
    overrides = _raw_overrides_of(document, "overrides") if document else {}
    found = overrides.pop(state.upper(), None) is not None
    return overrides_document(overrides), found


def merged_overrides(base: dict[str, Any] | None, extra: dict[str, Any]) -> dict[str, Any]:
    """An overrides document with ``base``'s overrides and ``extra``'s, ``extra`` winning
    for a state both have (both validated; RulesError names the broken one)."""
    overrides = _raw_overrides_of(base, "overrides") if base else {}
    overrides.update(_raw_overrides_of(extra, "imported overrides"))
    return overrides_document(overrides)


def remove_override(state: str, *, path: str | os.PathLike | None = None) -> bool:
    """Delete the user's override for ``state``; False if there was none."""
    code = state.upper()
    path = Path(path) if path is not None else _default_overrides_path()
    overrides = _raw_overrides(path)
    if code not in overrides:
        return False
    del overrides[code]
    _write_overrides(path, overrides)
    return True
