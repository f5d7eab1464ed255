"""Rule overrides and local permits per account (issue #9 point 4): the pre-accounts
shared files are imported once into the owner's rows and say so; the CLI acts for
``--user NAME``; the data export carries both (real SQLite)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from kei_drive.cli import main
from kei_drive.cli.serve_accounts import prepare_accounts
from kei_drive.core.local_permits import make_permit, permits_document
from kei_drive.core.rules import document_with_override
from kei_drive.db import accounts as acc
from kei_drive.db import app_session, data_export
from kei_drive.db import overrides as ov
from kei_drive.db import permits as pm
from kei_drive.db.legacy_files import import_legacy_files
from kei_drive.server.runner import ServeOptions

PASSWORD = "a long enough password"
TOWN = {"state": "OH", "label": "Coldwater, OH", "note": "Ordinance 7", "center": (40.48, -84.63)}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'kei.db'}")
    monkeypatch.delenv("KEI_DRIVE_RULE_OVERRIDES", raising=False)
    monkeypatch.delenv("KEI_DRIVE_LOCAL_PERMITS", raising=False)
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    return tmp_path


def _write_shared_files(home) -> None:
    overrides = document_with_override(None, "GA", {"status": "legal"}, "file letter")
    overrides = document_with_override(overrides, "MD", {"status": "banned"}, "file MD")
    (home / "rule_overrides.json").write_text(json.dumps(overrides))
    permit = make_permit(**TOWN, radius_m=3000.0)
    (home / "local_permits.json").write_text(json.dumps(permits_document([permit])))


def _notes(uid: int) -> dict[str, str]:
    with app_session() as s:
        return {k: v["note"] for k, v in ov.load_document(s, uid)["overrides"].items()}


def _permit_ids(uid: int) -> list[str]:
    with app_session() as s:
        return [p.id for p in pm.user_permits(s, uid)]


def test_serve_imports_the_shared_files_into_the_owner_once_and_says_so(home):
    with app_session() as s:
        alice = acc.create_account(s, "alice", PASSWORD)  # before the files existed
        bob = acc.create_account(s, "bob", PASSWORD)
        mine = document_with_override(None, "MD", {"status": "legal"}, "alice's own MD")
        mine = document_with_override(mine, "TX", {"status": "legal"}, "alice's own TX")
        ov.save_document(s, alice.id, mine)
    _write_shared_files(home)  # what the pages wrote to the shared files until now
    said: list[str] = []
    prepare_accounts(ServeOptions(host="127.0.0.1", port=3999), False, said.append)
    assert any("Imported 2 rule overrides" in m and "'alice'" in m for m in said), said
    assert any("Imported 1 local permits" in m and "local_permits.json.imported" in m for m in said)
    # the file's entries win (the pages wrote there last); the owner's other rows stay
    assert _notes(alice.id) == {"GA": "file letter", "MD": "file MD", "TX": "alice's own TX"}
    assert _permit_ids(alice.id) == ["oh-coldwater-oh"]
    assert _notes(bob.id) == {} and _permit_ids(bob.id) == []
    assert not (home / "rule_overrides.json").exists()
    assert (home / "rule_overrides.json.imported").is_file()
    again: list[str] = []
    prepare_accounts(ServeOptions(host="127.0.0.1", port=3999), False, again.append)
    assert not any("Imported" in m for m in again)  # once only


def test_first_account_takes_the_files_and_a_broken_file_is_reported_not_lost(home):
    _write_shared_files(home)
    (home / "local_permits.json").write_text('{"schema": "something else"}')
    with app_session() as s:
        assert import_legacy_files(s) == []  # no account yet: nothing to import into
        alice = acc.create_account(s, "alice", PASSWORD)
    assert _notes(alice.id) == {"GA": "file letter", "MD": "file MD"}
    assert _permit_ids(alice.id) == []
    assert (home / "local_permits.json").is_file()  # broken: left where it is
    with app_session() as s:
        (message,) = import_legacy_files(s)
    assert "NOT imported" in message and "schema" in message


def test_cli_acts_for_user_and_never_guesses_among_several(home, capsys):
    with app_session() as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        acc.create_account(s, "bob", PASSWORD)
        ov.save_document(
            s, alice.id, document_with_override(None, "GA", {"status": "legal"}, "her letter")
        )

    def ga(*user: str) -> dict:
        assert main(["rules", "--state", "GA", "--json", *user]) == 0
        return json.loads(capsys.readouterr().out)[0]

    assert ga("--user", "alice")["status"] == "legal"
    assert ga("--user", "bob")["status"] == "banned"
    assert main(["rules", "--state", "GA"]) == 2
    assert "several accounts (alice, bob): name one with --user" in capsys.readouterr().err
    assert main(["state-at", "33.75", "-84.39", "--json", "--user", "alice"]) == 0
    assert json.loads(capsys.readouterr().out)["rule"]["status"] == "legal"

    add = ["permit", "add", "--place", "Coldwater, OH", "--note", "Ordinance 7", "--json"]
    assert main([*add, "--user", "bob"]) == 0
    permit_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["permit", "list", "--json", "--user", "alice"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["permit", "list", "--json", "--user", "bob"]) == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [permit_id]
    assert main(["permit", "remove", permit_id, "--user", "alice"]) == 2  # not hers
    assert main(["permit", "remove", permit_id, "--user", "bob"]) == 0
    assert main(["permit", "list", "--user", "nobody"]) == 2
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_reading_commands_need_no_account_database_until_there_is_something_in_one(home, capsys):
    """rules, state-at, states-along, route and check-route only read: on a machine with no
    account database they answer by the package rules without creating one (a new database
    costs a first check-route ~0.8 s of migrations); shared files still go into an account."""
    db = home / "kei.db"
    assert main(["rules", "--state", "GA", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "banned"
    assert main(["state-at", "33.75", "-84.39", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rule"]["status"] == "banned"
    assert not db.exists()
    _write_shared_files(home)  # the overrides must count: they go into the database first
    assert main(["rules", "--state", "GA", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "legal"
    assert db.exists()


def test_reading_commands_load_no_database_library_without_an_account(home):
    """Without an account database the package rules are read without importing SQLAlchemy
    (~0.5 s of a big check-route on a 2-core machine went to importing it for nothing)."""
    probe = (
        "import sys\n"
        "from kei_drive.cli import main\n"
        "assert main(['state-at', '33.75', '-84.39', '--json']) == 0\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rule"]["status"] == "banned"
    assert done.stderr.strip().splitlines()[-1] == "False"
    assert not (home / "kei.db").exists()


def test_data_export_carries_the_permits(home):
    with app_session() as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        pm.add_permit(s, alice.id, make_permit(**TOWN, radius_m=3000.0))
        out = io.BytesIO()
        data_export.write_archive(s, alice.id, out)
    permits = json.loads(zipfile.ZipFile(out).read("local_permits.json"))["permits"]
    assert [p["label"] for p in permits] == ["Coldwater, OH"]


def test_serve_start_up_output_first_run_and_single_user(home, monkeypatch):
    """A fresh install prints a one-time setup link whose code opens the owner page;
    --single-user runs only on loopback and says so."""
    from urllib.parse import parse_qs, urlsplit

    from starlette.testclient import TestClient

    from kei_drive.api import api
    from kei_drive.cli.serve_accounts import AccountsSetupError
    from kei_drive.web_auth import SINGLE_USER_ENV

    monkeypatch.setenv(SINGLE_USER_ENV, "0")  # prepare_accounts sets it; undone afterwards
    said: list[str] = []
    prepare_accounts(ServeOptions(host="127.0.0.1", port=3999), False, said.append)
    assert said[0] == "No account exists yet. Create the owner account with this one-time link:"
    link = said[1].strip()
    assert link.startswith("http://localhost:3999/setup?code=kdi_")
    assert "kei-drive users add NAME --password-stdin" in said[-1]
    code = parse_qs(urlsplit(link).query)["code"][0]
    client = TestClient(api)
    assert client.get("/setup", params={"code": code}).status_code == 200
    assert client.get("/setup", params={"code": code[:-1]}).status_code == 404

    with pytest.raises(AccountsSetupError, match="loopback"):
        prepare_accounts(ServeOptions(host="0.0.0.0", port=3999), True, said.append)
    single: list[str] = []
    prepare_accounts(ServeOptions(host="127.0.0.1", port=3999), True, single.append)
    assert single[-1].startswith("Single-user mode: no sign-in")
    assert client.get("/api/v1/me").json()["single_user"] is True
