"""Each user's own Kei rule overrides, stored as the overrides JSON document
(``kei_drive.core.rules_schema``: ``{"schema", "schema_version", "overrides": {...}}``)
in the ``rule_overrides`` table, one row per user.

Before accounts, overrides lived in one shared file (``config.rule_overrides_path()``);
it is imported once into the owner's document (``db/legacy_files.py``). Pages, the API,
planning and the CLI read the signed-in (or ``--user``) account's document.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from kei_drive.core.rules_schema import (
    empty_overrides_document,
    parse_overrides_document,
)
from kei_drive.db.models import RuleOverrideDoc, utcnow

log = logging.getLogger(__name__)


empty_document = empty_overrides_document


def load_document(s: Session, user_id: int) -> dict[str, Any]:
    """The user's overrides document (an empty one when they have none)."""
    row = s.get(RuleOverrideDoc, user_id)
    return dict(row.document) if row is not None else empty_document()


def document_version(s: Session, user_id: int):
    """When the user's overrides last changed (None: they have none): a cache key."""
    row = s.get(RuleOverrideDoc, user_id)
    return row.updated_at if row is not None else None


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


def rules_for(s: Session, user_id: int | None):
    """The Kei rules with this account's overrides applied (package rules only for None:
    a signed-out visitor never sees anyone's overrides)."""
    from kei_drive.core.rules import load_rules

    document = load_document(s, user_id) if user_id is not None else empty_document()
    return load_rules(overrides_document=document)
