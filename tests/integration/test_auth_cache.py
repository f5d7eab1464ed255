"""The brief credential cache (``kei_drive.auth_cache``): uploads skip the database lookup
of their cookie or token, and revocations still take effect: at once when made in this
process, within ``TTL_S`` seconds when made by another (the command line)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from kei_drive import auth_cache
from kei_drive.api import api
from kei_drive.db import accounts as acc
from kei_drive.db import engine, get_engine, migrate, session

PASSWORD = "a long enough password"


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'kei_drive.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path))
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    migrate(url)
    with session(url) as s:
        acc.create_account(s, "alice", PASSWORD)
    auth_cache.forget_all()
    yield url
    engine.dispose_engines()


def _token(url: str, scope: str = "read") -> tuple[str, int]:
    with session(url) as s:
        value, row = acc.create_token(s, acc.find_user(s, "alice").id, "phone", scope)
        return value, row.id


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_repeated_requests_look_the_credential_up_once(url):
    token, _ = _token(url)
    lookups = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "api_tokens" in statement and statement.lstrip().upper().startswith("SELECT"):
            lookups.append(statement)

    sa.event.listen(get_engine(url), "before_cursor_execute", count)
    try:
        client = TestClient(api)
        assert [_me(client, token) for _ in range(20)] == [200] * 20
    finally:
        sa.event.remove(get_engine(url), "before_cursor_execute", count)
    assert 1 <= len(lookups) <= 2  # once, again only if the 20 requests took over TTL_S


def test_revoked_here_takes_effect_at_once(url):
    token, token_id = _token(url)
    client = TestClient(api)
    assert _me(client, token) == 200
    with session(url) as s:
        assert acc.revoke_token(s, acc.find_user(s, "alice").id, token_id)
    assert _me(client, token) == 401


def test_signout_and_new_password_take_effect_at_once(url):
    client = TestClient(api, follow_redirects=False)
    reply = client.post("/signin", data={"username": "alice", "password": PASSWORD})
    assert reply.status_code == 303
    cookie = client.cookies.get("kei_session")
    other = TestClient(api, cookies={"kei_session": cookie})
    assert other.get("/api/v1/vehicles").status_code == 200
    assert client.post("/signout").status_code in (200, 303)
    assert other.get("/api/v1/vehicles").status_code == 401

    client.post("/signin", data={"username": "alice", "password": PASSWORD})
    second = TestClient(api, cookies={"kei_session": client.cookies.get("kei_session")})
    assert second.get("/api/v1/vehicles").status_code == 200
    with session(url) as s:
        alice = acc.find_user(s, "alice")
        acc.change_password(s, alice.id, PASSWORD, "another long password")
    assert second.get("/api/v1/vehicles").status_code == 401


def test_revoked_by_the_command_line_takes_effect_within_the_ttl(url, tmp_path):
    token, token_id = _token(url)
    client = TestClient(api)
    assert _me(client, token) == 200  # now remembered in this process
    env = dict(os.environ, DATABASE_URL=url, KEI_DRIVE_HOME=str(tmp_path))
    command = [sys.executable, "-m", "kei_drive.cli", "tokens", "revoke", str(token_id)]
    command += ["--user", "alice"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    revoked_at = time.monotonic()
    while _me(client, token) == 200:
        assert time.monotonic() - revoked_at < auth_cache.TTL_S + 2, "still signed in"
        time.sleep(0.2)
    assert _me(client, token) == 401
