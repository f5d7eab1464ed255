"""``--user NAME`` for commands that act for one account (its trips, rule overrides, local
permits): that account, or the only one when no name is given (with several accounts the
command asks for a name rather than guess)."""

from __future__ import annotations

import argparse
import sys


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


def account_rules(name: str | None):
    """The Kei rules with that account's overrides (RulesError when they are broken)."""
    from kei_drive.services.us_states import user_rules

    return user_rules(account_id(name))


def account_rules_and_permits(name: str | None):
    """``(rules, permits)`` of that account: what its routes are judged by."""
    from kei_drive.services.planning import rules_and_permits

    return rules_and_permits(account_id(name))
