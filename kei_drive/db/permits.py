"""Each user's local permits ("my town allows Kei", ``core.local_permits``), stored as the
permits JSON document in the ``local_permits`` table, one row per user."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from kei_drive.core.local_permits import (
    LocalPermit,
    parse_permits_document,
    permits_document,
    with_permit,
)
from kei_drive.db.models import LocalPermitsDoc, utcnow


def load_document(s: Session, user_id: int) -> dict[str, Any]:
    """The user's permits document (an empty one when they have none)."""
    row = s.get(LocalPermitsDoc, user_id)
    return dict(row.document) if row is not None else permits_document([])


def user_permits(s: Session, user_id: int | None) -> list[LocalPermit]:
    """The user's permits ([] for None: a signed-out caller has none). Validated on the
    way in, so a stored document always parses; PermitError if someone edited the row."""
    if user_id is None:
        return []
    return parse_permits_document(load_document(s, user_id), "your local permits")


def save_permits(s: Session, user_id: int, permits: list[LocalPermit]) -> None:
    row = s.get(LocalPermitsDoc, user_id) or LocalPermitsDoc(user_id=user_id)
    row.document = permits_document(permits)
    row.updated_at = utcnow()
    s.add(row)
    s.flush()


def add_permit(s: Session, user_id: int, permit: LocalPermit) -> None:
    """Store ``permit`` for the user (replacing one of theirs with the same id)."""
    save_permits(s, user_id, with_permit(user_permits(s, user_id), permit))


def remove_permit(s: Session, user_id: int, permit_id: str) -> bool:
    """Delete one of the user's permits; False when they have none with that id."""
    permits = user_permits(s, user_id)
    kept = [p for p in permits if p.id != permit_id]
    if len(kept) == len(permits):
        return False
    save_permits(s, user_id, kept)
    return True
