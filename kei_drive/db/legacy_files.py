"""The pre-accounts shared files, imported once into the owner's account.

Before accounts, the Kei rule overrides (``KEI_DRIVE_RULE_OVERRIDES``, default
``rule_overrides.json``) and the local permits (``KEI_DRIVE_LOCAL_PERMITS``, default
``local_permits.json``) were one file each, shared by everyone on the server. Each
account now keeps its own in the database (``rule_overrides`` and ``local_permits``).

At the first start with an owner (``kei-drive serve``, a CLI command acting for an
account, or creating the first account), each file is merged into the owner's document
(the file's entries win for the same state or permit: the pages wrote to the file until
now) and renamed to ``NAME.imported``, so it is imported once and nothing reads it any
more. A broken file is left where it is and reported at every start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from kei_drive.db.models import User

log = logging.getLogger(__name__)


def import_legacy_files(s: Session) -> list[str]:
    """Import the shared files into the first owner's rows; one sentence per file imported
    or refused (nothing when there is no file, or no user yet to import into).
    Commits before renaming a file, so a file is renamed only once its content is stored."""
    from kei_drive import config

    owner = s.exec(select(User).where(User.role == "owner").order_by(User.id)).first()
    if owner is None:
        return []  # creating the first account (or the CLI's placeholder) imports them
    return [
        msg
        for path, kind, merge in (
            (config.rule_overrides_path(), "rule overrides", _merge_overrides),
            (config.local_permits_path(), "local permits", _merge_permits),
        )
        if (msg := _import_one(s, owner, path, kind, merge)) is not None
    ]


def _import_one(
    s: Session, owner: User, path: Path, kind: str, merge: Callable[[Session, int, Any], int]
) -> str | None:
    from kei_drive.core.local_permits import PermitError
    from kei_drive.core.rules_schema import RulesError

    if not path.is_file():
        return None
    try:
        count = merge(s, owner.id, json.loads(path.read_text(encoding="utf-8")))  # type: ignore[arg-type]
    except (OSError, ValueError, RulesError, PermitError) as exc:  # raised before any write
        msg = f"The shared {kind} file {path} was NOT imported (fix or remove it): {exc}"
        log.warning(msg)
        return msg
    s.commit()
    done = _free_name(path.with_name(path.name + ".imported"))
    try:
        path.rename(done)
        after = f"the file is now {done.name}"
    except OSError as exc:  # imported again at the next start unless it is moved away
        after = f"the file could not be renamed ({exc.strerror}): move it away yourself"
    msg = (
        f"Imported {count} {kind} from the shared file {path} into {owner.username!r}'s "
        f"account (each account now keeps its own); {after}."
    )
    log.warning(msg)
    return msg


def _free_name(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _merge_overrides(s: Session, user_id: int, document: Any) -> int:
    from kei_drive.core.rules import merged_overrides
    from kei_drive.db import overrides as ov

    merged = merged_overrides(ov.load_document(s, user_id), document)
    ov.save_document(s, user_id, merged)
    return len(document.get("overrides") or {})


def _merge_permits(s: Session, user_id: int, document: Any) -> int:
    from kei_drive.core.local_permits import parse_permits_document, with_permit
    from kei_drive.db import permits as pm

    permits = pm.user_permits(s, user_id)
    imported = parse_permits_document(document, "local permits file")
    for permit in imported:
        permits = with_permit(permits, permit)
    pm.save_permits(s, user_id, permits)
    return len(imported)
