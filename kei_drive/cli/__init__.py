"""The ``kei-drive`` command: a thin shell over the core and the adapters.

Each sub-module owns a group of sub-commands and exposes ``register(subparsers)``;
a sub-command sets ``func`` (returning an exit code) on its parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kei_drive.cli import devices, geo, permits, route, serve, trips, users

COMMAND_GROUPS = (serve, geo, route, trips, permits, users, devices)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kei-drive", description="Kei Drive: a driving companion for Kei trucks and cars."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kei-drive ... | head`: the reader left; no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would fail again
        return 141  # as a shell reports a command ended by SIGPIPE
    except LookupError as exc:
        from kei_drive.cli._output import fail
        from kei_drive.db.accounts import NoSuchUser

        if isinstance(exc, NoSuchUser):  # --user unknown, or several accounts and none named
            return fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
