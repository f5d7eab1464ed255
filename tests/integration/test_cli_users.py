"""``kei-drive users …``, ``tokens …`` and ``trips … --user`` against a real SQLite file."""

from __future__ import annotations

import io
import json

import pytest

from kei_drive.accounts import digest
from kei_drive.cli import main
from kei_drive.core.gpx import to_gpx
from kei_drive.db import accounts as acc
from kei_drive.db import session
from tests.support.trips import TrackBuilder


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "none.json"))
    return url


def run(capsys, monkeypatch, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_tokens_and_trips_per_user(db, tmp_path, capsys, monkeypatch):
    gpx = tmp_path / "drive.gpx"
    gpx.write_text(to_gpx(TrackBuilder().start().drive(3_000, 15.0).points, name="Before"))
    assert run(capsys, monkeypatch, "trips", "import", str(gpx))[0] == 0  # before accounts

    code, out, err = run(
        capsys, monkeypatch, "users", "add", "Alice", "--password-stdin", "--json",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {"id": 1, "username": "alice", "role": "owner", "can_sign_in": True}
    code, out, err = run(capsys, monkeypatch, "users", "add", "bob", "--password-stdin",
                         stdin="short\n")  # fmt: skip
    assert code == 2 and "at least 10 characters" in err
    code, out, _ = run(capsys, monkeypatch, "users", "add", "bob", "--password-stdin",
                       stdin="bob's long password\n")  # fmt: skip
    assert code == 0 and "member" in out

    code, _, err = run(capsys, monkeypatch, "trips", "list", "--json")
    assert code == 2 and "several accounts" in err and "--user" in err
    alice = json.loads(run(capsys, monkeypatch, "trips", "list", "--user", "alice", "--json")[1])
    bob = json.loads(run(capsys, monkeypatch, "trips", "list", "--user", "bob", "--json")[1])
    assert (alice["total"], bob["total"]) == (1, 0)  # the pre-accounts trip is Alice's
    trip_id = str(alice["trips"][0]["id"])
    code, _, err = run(capsys, monkeypatch, "trips", "show", trip_id, "--user", "bob")
    assert code == 2 and f"no trip {trip_id}" in err
    code, _, err = run(capsys, monkeypatch, "trips", "export", trip_id, "--user", "bob")
    assert code == 2
    code, _, err = run(capsys, monkeypatch, "trips", "list", "--user", "nobody")
    assert code == 2 and "no account named 'nobody'" in err

    code, out, err = run(
        capsys, monkeypatch, "tokens", "create", "--user", "bob", "--name", "Pixel 8",
        "--scope", "ingest", "--json",
    )  # fmt: skip
    assert code == 0, err
    token = json.loads(out)["token"]
    assert token.startswith("kdt_")
    with session(db) as s:
        who = acc.token_user(s, token)
        assert (who.username, who.scope) == ("bob", "ingest")
        (row,) = acc.list_tokens(s, who.user_id)
        assert row.token_hash == digest(token)
    listed = run(capsys, monkeypatch, "tokens", "list", "--user", "bob", "--json")[1]
    assert token not in listed and json.loads(listed)["tokens"][0]["name"] == "Pixel 8"
    code, _, err = run(capsys, monkeypatch, "tokens", "revoke", str(row.id), "--user", "alice")
    assert code == 2  # not Alice's token
    assert run(capsys, monkeypatch, "tokens", "revoke", str(row.id), "--user", "bob")[0] == 0
    with session(db) as s:
        assert acc.token_user(s, token) is None
