"""Accounts from the shell: ``users add|list|set-password|invite|delete`` and
``tokens create|list|revoke``. The database is migrated on first use."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta

from kei_drive.cli._output import fail, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="accounts: add, list, set-password, invite")
    sub = users.add_subparsers(dest="users_command", required=True)

    p = sub.add_parser("add", help="create an account (the first one is the owner)")
    p.add_argument("name", help="user name (letters, digits, . _ -)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--role", choices=("owner", "member"), help="default: member (first: owner)")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", help="the accounts")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("set-password", help="set an account's password (signs it out everywhere)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_set_password)

    p = sub.add_parser("invite", help="print an invitation link for a new account")
    p.add_argument("--user", help="the inviting owner (default: the only owner)")
    p.add_argument("--days", type=float, default=7.0, help="valid for this many days (default 7)")
    p.add_argument("--base-url", default="", help="the address people open, e.g. https://pi:3000")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_invite)

    p = sub.add_parser("delete", help="delete an account and everything it owns")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="really delete (required)")
    p.set_defaults(func=cmd_delete)

    tokens = subparsers.add_parser("tokens", help="personal API tokens: create, list, revoke")
    tsub = tokens.add_subparsers(dest="tokens_command", required=True)
    p = tsub.add_parser("create", help="create a token (printed once; stored hashed)")
    p.add_argument("--user", help="account (default: the only one)")
    p.add_argument("--name", required=True, help="the device or app the token is for")
    p.add_argument("--scope", choices=("ingest", "read"), required=True)
    p.add_argument("--json", action="store_true", help='print {"token": ...}')
    p.set_defaults(func=cmd_token_create)
    p = tsub.add_parser("list", help="the account's tokens (never the secrets)")
    p.add_argument("--user")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_token_list)
    p = tsub.add_parser("revoke", help="revoke a token by its id")
    p.add_argument("id", type=int)
    p.add_argument("--user")
    p.set_defaults(func=cmd_token_revoke)


def _db():
    from kei_drive.db import ensure_migrated, session

    ensure_migrated()
    return session


def read_password(from_stdin: bool) -> str:
    """One line from stdin (``--password-stdin``), or asked twice on a terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _user_json(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "can_sign_in": user.password_hash is not None,
    }


def cmd_add(args: argparse.Namespace) -> int:
    from kei_drive.accounts import AccountError

    try:
        password = read_password(args.password_stdin)
    except ValueError as exc:
        return fail(str(exc))
    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            claimed = acc.find_user(s, acc.PLACEHOLDER_USERNAME) is not None
            first = not acc.accounts_exist(s)
            user = acc.create_account(s, args.name, password, role=args.role)
            data = _user_json(user)
    except AccountError as exc:
        return fail(str(exc))
    if args.json:
        print_json(data)
    else:
        print(f"created {data['role']} account {data['username']!r}")
        if first and claimed:
            print("it owns every trip and vehicle recorded before accounts existed")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    session = _db()
    from kei_drive.db import accounts as acc

    with session() as s:
        users = [_user_json(u) for u in acc.list_users(s)]
    if args.json:
        print_json({"users": users})
    else:
        for u in users:
            note = "" if u["can_sign_in"] else "  (no password: pre-accounts data)"
            print(f"{u['id']:>4}  {u['username']:<32} {u['role']}{note}")
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    from kei_drive.accounts import AccountError

    try:
        password = read_password(args.password_stdin)
    except ValueError as exc:
        return fail(str(exc))
    session = _db()
    import sqlalchemy as sa

    from kei_drive.db import accounts as acc
    from kei_drive.db.models import UserSession

    try:
        with session() as s:
            user = acc.resolve_user(s, args.name)
            acc.set_password(s, user, password)
            s.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    except (AccountError, acc.NoSuchUser) as exc:
        return fail(str(exc))
    print(f"password of {args.name!r} set; its sessions were signed out")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    from kei_drive.accounts import AccountError
    from kei_drive.auth_routes import invitation_url

    if not 0 < args.days <= 90:
        return fail("--days must be more than 0 and at most 90")
    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            owner = acc.resolve_user(s, args.user) if args.user else acc.first_owner(s)
            code, row = acc.create_invitation(s, owner.id, lifetime=timedelta(days=args.days))
            expires = row.expires_at.isoformat()
    except (AccountError, acc.NoSuchUser) as exc:
        return fail(str(exc))
    url = invitation_url(args.base_url or "", code)
    if args.json:
        print_json({"code": code, "url": url, "expires_at": expires})
    else:
        print(f"invitation (valid until {expires}, one account): {url}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from kei_drive.accounts import AccountError

    if not args.yes:
        return fail("this deletes the account with all its trips and vehicles: add --yes")
    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            acc.delete_account(s, acc.resolve_user(s, args.name).id)  # type: ignore[arg-type]
    except (AccountError, acc.NoSuchUser) as exc:
        return fail(str(exc))
    print(f"deleted account {args.name!r} and everything it owned")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from kei_drive.accounts import AccountError

    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            user = acc.resolve_user(s, args.user)
            token, row = acc.create_token(s, user.id, args.name, args.scope)  # type: ignore[arg-type]
            info = {"id": row.id, "name": row.name, "scope": row.scope, "user": user.username}
    except (AccountError, acc.NoSuchUser) as exc:
        return fail(str(exc))
    if args.json:
        print_json({"token": token, **info})
    else:
        print(token)
        print(
            f"token {info['id']} for {info['name']!r} ({info['scope']}) of {info['user']!r}: "
            "shown this once only; send it as 'Authorization: Bearer <token>'",
            file=sys.stderr,
        )
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            user = acc.resolve_user(s, args.user)
            rows = [
                {
                    "id": t.id,
                    "name": t.name,
                    "scope": t.scope,
                    "prefix": t.prefix,
                    "created_at": t.created_at.isoformat(),
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                }
                for t in acc.list_tokens(s, user.id)  # type: ignore[arg-type]
            ]
    except acc.NoSuchUser as exc:
        return fail(str(exc))
    if args.json:
        print_json({"tokens": rows})
    else:
        for t in rows:
            print(f"{t['id']:>4}  {t['prefix']}…  {t['scope']:<6}  {t['name']}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    session = _db()
    from kei_drive.db import accounts as acc

    try:
        with session() as s:
            user = acc.resolve_user(s, args.user)
            done = acc.revoke_token(s, user.id, args.id)  # type: ignore[arg-type]
    except acc.NoSuchUser as exc:
        return fail(str(exc))
    if not done:
        return fail(f"no token {args.id} for this account")
    print(f"token {args.id} revoked")
    return 0
