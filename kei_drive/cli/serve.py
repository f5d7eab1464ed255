"""``kei-drive serve``: install the frontend toolchain on first use and start the app."""

from __future__ import annotations

import argparse

from kei_drive.cli._output import fail
from kei_drive.server.http_guard import DEFAULT_MAX_PER_ADDRESS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="start the app (production build) and print the URL to open"
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    parser.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    parser.add_argument(
        "--https",
        action="store_true",
        help="serve TLS with a locally generated certificate (phones need it for GPS)",
    )
    parser.add_argument(
        "--public-host", help="name or IP the phone uses to reach this machine (default: LAN IP)"
    )
    parser.add_argument(
        "--max-per-address",
        type=_count,
        default=DEFAULT_MAX_PER_ADDRESS,
        metavar="N",
        help=(
            "connections the app holds at once for one client address (open pages, requests "
            f"in progress; default {DEFAULT_MAX_PER_ADDRESS}, 0 = no cap; loopback is exempt)"
        ),
    )
    parser.add_argument(
        "--single-user",
        action="store_true",
        help="no sign-in, everyone acts as the owner (only with a loopback --host)",
    )
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from kei_drive.cli.serve_accounts import AccountsSetupError, prepare_accounts
    from kei_drive.server.runner import ServeError, ServeOptions, serve  # (~0.2 s: only here)
    from kei_drive.server.toolchain import ToolchainError

    options = ServeOptions(
        host=args.host,
        port=args.port,
        https=args.https,
        public_host=args.public_host,
        max_per_address=args.max_per_address,
    )
    log = lambda message: print(message, flush=True)  # noqa: E731
    try:
        prepare_accounts(options, single_user=args.single_user, log=log)
        return serve(options, log=log)
    except (AccountsSetupError, ServeError, ToolchainError, OSError) as error:
        return fail(str(error))


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value
