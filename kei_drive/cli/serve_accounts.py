"""Accounts at start-up (called by ``kei-drive serve`` before the app starts).

- ``--single-user``: only on a loopback address; the app acts as the owner with no
  sign-in (``KEI_DRIVE_SINGLE_USER=1`` for the app process), and says so.
- With no account yet: print a one-time setup URL with a code (as Jupyter prints its
  token URL); the "create the owner account" page does not exist without it.
- ``--https``: the session cookie is ``Secure`` (``KEI_DRIVE_SECURE_COOKIE=1``).
- The pre-accounts shared rule overrides and local permits files: imported into the
  owner's account once, and said so (``db/legacy_files.py``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

from kei_drive.server.runner import ServeOptions, urls_to_open


class AccountsSetupError(RuntimeError):
    pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def prepare_accounts(
    options: ServeOptions, single_user: bool, log: Callable[[str], None] = print
) -> None:
    from kei_drive import db
    from kei_drive.auth_routes import setup_url
    from kei_drive.db import accounts as acc
    from kei_drive.db.legacy_files import import_legacy_files
    from kei_drive.web_auth import SECURE_COOKIE_ENV, SINGLE_USER_ENV

    if single_user and not is_loopback(options.host):
        raise AccountsSetupError(
            f"--single-user skips sign-in, so it only runs on a loopback address "
            f"(--host 127.0.0.1), not on {options.host}"
        )
    os.environ[SINGLE_USER_ENV] = "1" if single_user else "0"
    if options.https:
        os.environ[SECURE_COOKIE_ENV] = "1"
    db.migrate()
    with db.session() as s:
        for message in import_legacy_files(s):  # the pre-accounts shared files, once
            log(message)
        if single_user:
            owner = acc.first_owner(s)
            log(
                f"Single-user mode: no sign-in; everyone who can open the app on this computer "
                f"acts as {owner.username!r}. Never put this mode behind a proxy."
            )
            return
        code = acc.new_setup_code(s)
    if code is None:
        return
    log("No account exists yet. Create the owner account with this one-time link:")
    for base in urls_to_open(options):
        log(f"    {setup_url(base, code)}")
    log("(or from the shell: kei-drive users add NAME --password-stdin)")
