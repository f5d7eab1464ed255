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
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from kei_drive.core.rules_schema import (
    OVERRIDABLE,
    OVERRIDES_SCHEMA,
    SCHEMA_VERSION,
    RulesError,
    parse_override,
    parse_overrides_document,
    parse_rules_document,
)

__all__ = [
    "DATA_PATH",
    "OVERRIDABLE",
    "KeiRule",
    "RuleBook",
    "RulesError",
    "Status",
    "load_overrides",
    "load_rules",
    "remove_override",
    "save_override",
]

Status = Literal["legal", "restricted", "banned", "unclear"]
DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "kei_rules.json"
TRANSIT_CAVEAT = "Driving through on another state's plates is legally unsettled."
# For border warnings: a higher rank is more restrictive. "unclear" ranks above
# "restricted" because the driver should be told to check before going on.
_STATUS_RANK = {"legal": 0, "restricted": 1, "unclear": 2, "banned": 3}


@dataclass(frozen=True)
class KeiRule:
    """The Kei rule of one state for one period."""

    state: str
    name: str
    status: Status
    max_road_speed_mph: int | None  # highest posted limit a Kei may use; None = no cap known
    interstate_forbidden: bool | None  # None = unknown
    conditions: str
    citation: str
    sources: tuple[str, ...]
    source_date: str
    confidence: str  # high | medium | low
    effective_from: date | None  # None: in force since before the research
    last_reviewed: date
    overridden: bool = False
    override_note: str | None = None
    summary: str | None = None  # short curated clause for advice(); None = from the fields

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

    def advice(self) -> str:
        """One line of advice with its source, never a clearance."""
        if self.status == "unclear" and not self.summary:
            text = f"{self.name}: no clear rule found — check with the DMV."
        else:
            if self.summary:
                clause = self.summary
            elif self.status == "banned":
                clause = "the state refuses Kei registration for road use"
            elif self.status == "restricted":
                clause = "Kei registrable with limits" + (
                    f" ({self._limits()})" if self._limits() else ""
                )
            elif self.status == "legal":
                clause = "Kei registrable under ordinary rules"
            else:
                clause = "no clear rule found — check with the DMV"
            text = f"{self.name}: {clause} ({self.source_label()})."
            if self.status == "banned":
                text += " " + TRANSIT_CAVEAT
        if self.confidence == "low" and self.status != "unclear":
            text += " Low confidence: check with the DMV."
        if self.overridden:
            text += f" [Your override: {self.override_note}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, sources as a list)."""
        data = asdict(self)
        data["sources"] = list(self.sources)
        data["effective_from"] = self.effective_from.isoformat() if self.effective_from else None
        data["last_reviewed"] = self.last_reviewed.isoformat()
        data["advice"] = self.advice()
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

        None for an unknown state code, or for a date before the first dated period.
        """
        on = on or date.today()
        current = None
        for rule in self._periods.get(state.upper(), []):
            if rule.effective_from is None or rule.effective_from <= on:
                current = rule
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

    @staticmethod
    def is_more_restrictive(a: KeiRule, b: KeiRule) -> bool:
        """True if ``a`` is stricter for a Kei than ``b`` (warn when going from b into a).

        Order: legal < restricted < unclear < banned; at equal status a lower speed cap
        (no cap counts as unlimited) or an interstate ban where ``b`` has none is stricter.
        """
        ra, rb = _STATUS_RANK[a.status], _STATUS_RANK[b.status]
        if ra != rb:
            return ra > rb
        cap_a = a.max_road_speed_mph if a.max_road_speed_mph is not None else 1_000
        cap_b = b.max_road_speed_mph if b.max_road_speed_mph is not None else 1_000
        if cap_a != cap_b:
            return cap_a < cap_b
        return bool(a.interstate_forbidden) and not b.interstate_forbidden


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
    fields = dict(override["fields"])
    mark = {"overridden": True, "override_note": f"{override['note']} ({override['date']})"}
    start = override["effective_from"]
    if start is None:
        return [replace(p, **fields, **mark) for p in periods]
    in_force = [p for p in periods if p.effective_from is None or p.effective_from <= start]
    base = in_force[-1] if in_force else periods[0]
    new = replace(base, **fields, **mark, effective_from=start, last_reviewed=override["date"])
    kept = [p for p in periods if p.effective_from != start]
    return sorted(kept + [new], key=lambda p: p.effective_from or date.min)


def _load_base(path: Path) -> tuple[dict[str, list[KeiRule]], dict[str, Any]]:
    doc = _read_json(path, path.name)
    parsed = parse_rules_document(doc, path.name)
    periods = {
        code: [KeiRule(state=code, name=name, **fields) for fields in raw]
        for code, (name, raw) in parsed.items()
    }
    return periods, {k: v for k, v in doc.items() if k != "states"}


def load_rules(
    path: str | os.PathLike | None = None, overrides_path: str | os.PathLike | None = None
) -> RuleBook:
    """Load and validate the rules file, then apply the user's overrides.

    Defaults: the packaged ``kei_rules.json`` and ``config.rule_overrides_path()`` (if the
    file exists). Raises RulesError naming the state and field for a broken file.
    """
    periods, meta = _load_base(Path(path) if path is not None else DATA_PATH)
    for code, override in load_overrides(overrides_path).items():
        if code not in periods:
            raise RulesError(f"overrides: {code}: unknown state code", state=code)
        periods[code] = _apply_override(periods[code], override)
    return RuleBook(periods, meta)


def _write_overrides(path: Path, overrides: dict[str, Any]) -> None:
    doc = {"schema": OVERRIDES_SCHEMA, "schema_version": SCHEMA_VERSION, "overrides": overrides}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)  # atomic: a crash never leaves half a file


def _raw_overrides(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    doc = _read_json(path, path.name)
    parse_overrides_document(doc, path.name)  # refuse to build on a broken file
    return dict(doc["overrides"])


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

    ``fields`` may hold any of: status, max_road_speed_mph, interstate_forbidden,
    conditions, citation, sources, source_date, confidence, summary. ``note`` says where
    the user's rule comes from ("DMV letter of 2026-10-02"). Validated before writing.
    """
    code = state.upper()
    path = Path(path) if path is not None else _default_overrides_path()
    raw = {
        "note": note,
        "date": (on or date.today()).isoformat(),
        "fields": {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()},
    }
    if effective_from is not None:
        raw["effective_from"] = effective_from.isoformat()
    parse_override(raw, f"override for {code}", code)
    if code not in _load_base(DATA_PATH)[0]:
        raise RulesError(f"override for {code}: unknown state code", state=code)
    overrides = _raw_overrides(path)
    overrides[code] = raw
    _write_overrides(path, overrides)
    return path


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
