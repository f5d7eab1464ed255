"""Each user's own Kei rule overrides, stored as the overrides JSON document
(``kei_drive.core.rules_schema``: ``{"schema", "schema_version", "overrides": {...}}``)
in the ``rule_overrides`` table, one row per user.

Before accounts, overrides lived in one shared file (``config.rule_overrides_path()``);
the first account gets a copy of that file's document. The file stays where it is: the
States and Plan pages still read it (only an owner may change it) until they read the
signed-in account's document instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlmodel import Session

from kei_drive.core.rules_schema import (
    OVERRIDES_SCHEMA,
    SCHEMA_VERSION,
    RulesError,
    parse_overrides_document,
)
from kei_drive.db.models import RuleOverrideDoc, utcnow

log = logging.getLogger(__name__)


def empty_document() -> dict[str, Any]:
    return {"schema": OVERRIDES_SCHEMA, "schema_version": SCHEMA_VERSION, "overrides": {}}


def load_document(s: Session, user_id: int) -> dict[str, Any]:
    """The user's overrides document (an empty one when they have none)."""
    row = s.get(RuleOverrideDoc, user_id)
    return dict(row.document) if row is not None else empty_document()


def save_document(s: Session, user_id: int, document: dict[str, Any]) -> None:
    """Validate and store the user's whole overrides document (``RulesError`` if broken)."""
    parse_overrides_document(document, "overrides")
    row = s.get(RuleOverrideDoc, user_id)
    if row is None:
        row = RuleOverrideDoc(user_id=user_id, document=document)
    else:
        row.document = document
    row.updated_at = utcnow()
    s.add(row)
    s.flush()


def adopt_file_overrides(s: Session, user_id: int) -> bool:
    """Copy the pre-accounts shared overrides file into this user's document.

    A broken file is left where it is (and logged): it never blocks creating an account.
    """
    from kei_drive import config

    path = config.rule_overrides_path()
    if not path.is_file() or s.get(RuleOverrideDoc, user_id) is not None:
        return False  # nothing to adopt, or the account already has its own overrides
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        save_document(s, user_id, document)
    except (OSError, ValueError, RulesError) as exc:
        log.warning("rule overrides file %s not adopted: %s", path, exc)
        return False
    return True


def rules_for(s: Session, user_id: int | None):
    """The Kei rules with this account's overrides applied (package rules only for None:
    a signed-out visitor never sees anyone's overrides)."""
    from kei_drive.core.rules import load_rules

    document = load_document(s, user_id) if user_id is not None else empty_document()
    return load_rules(overrides_document=document)
