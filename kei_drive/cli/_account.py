"""``--user NAME`` for commands that act for one account (its trips, rule overrides, local
permits): that account, or the only one when no name is given (with several accounts the
command asks for a name rather than guess)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_user_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="the account (default: the only one)")


def account_id(name: str | None) -> int:
    """The account's id (``NoSuchUser`` when unknown, or not named among several).

    The pre-accounts shared overrides and permits files are imported into the owner's
    account first (once; ``db/legacy_files.py``), saying so on stderr."""
    from kei_drive.db import app_session
    from kei_drive.db.accounts import resolve_user
    from kei_drive.db.legacy_files import import_legacy_files

    with app_session(write=True) as s:
        user = resolve_user(s, name)  # with no user yet: the placeholder the first account claims
        for message in import_legacy_files(s):
            print(f"kei-drive: {message}", file=sys.stderr)
        return user.id  # type: ignore[return-value]


def no_account_yet(name: str | None) -> bool:
    """No account named, no account database (SQLite) and no shared files to import into
    one: a command that only reads has no account to act for, and is judged by the package
    rules with no permits, without creating a database for it."""
    from kei_drive import config

    url = config.database_url()
    if name is not None or not url.startswith("sqlite:///"):
        return False
    raw = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not raw or raw.startswith("file:") or "%" in raw:
        return False  # a URI or an escaped path: not read here, the database decides
    legacy = (config.rule_overrides_path(), config.local_permits_path())
    return not Path(raw).exists() and not any(p.is_file() for p in legacy)


def account_rules(name: str | None):
    """The Kei rules with that account's overrides (RulesError when they are broken)."""
    from kei_drive.services.us_states import user_rules

    return user_rules(None if no_account_yet(name) else account_id(name))


def account_rules_and_permits(name: str | None):
    """``(rules, permits)`` of that account: what its routes are judged by."""
    from kei_drive.services.planning import rules_and_permits

    return rules_and_permits(None if no_account_yet(name) else account_id(name))
