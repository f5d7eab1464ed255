"""Accounts on real databases (SQLite and PostgreSQL): the migration of a database with
data in it, sessions, tokens, invitations, throttling, deleting an account."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from alembic import command
from kei_drive.accounts import AccountError, digest
from kei_drive.core.times import as_utc
from kei_drive.db import accounts as acc
from kei_drive.db import get_engine, migrate, session
from kei_drive.db import overrides as ov
from kei_drive.db import permits as pm
from kei_drive.db import queries as q
from kei_drive.db.migrate import alembic_config, current_revision, head_revision
from kei_drive.db.models import ApiToken, Invitation, UserSession
from tests.support.trips import fresh_db_url

PASSWORD = "correct horse battery"
OWNED_TABLES = (
    "vehicles",
    "trips",
    "user_sessions",
    "api_tokens",
    "rule_overrides",
    "local_permits",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    url = fresh_db_url(request.param, tmp_path)
    migrate(url)
    return url


def _populate_0001(url: str) -> None:
    """Rows as a pre-accounts Kei Drive wrote them (revision 0001)."""
    with get_engine(url).begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO users (id, username, display_name, created_at) "
            "VALUES (1, 'local', 'Local driver', '2026-11-01T00:00:00+00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO vehicles (id, user_id, nickname, speed_cap_mph, created_at) "
            "VALUES (1, 1, 'Sammy', 45.0, '2026-11-01T00:00:00+00:00')"
        )
        for trip_id in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO trips (id, uuid, user_id, vehicle_id, name, source, "
                    "recording_state, distance_m, states, point_count, created_at, updated_at) "
                    "VALUES (:id, :uuid, 1, 1, :name, 'recorded', 'finished', 1000.0, :states, "
                    "3, '2026-11-02T00:00:00+00:00', '2026-11-02T00:00:00+00:00')"
                ),
                {
                    "id": trip_id,
                    "uuid": f"00000000-0000-4000-8000-00000000000{trip_id}",
                    "name": f"trip {trip_id}",
                    "states": json.dumps(["CO"]),
                },
            )
            for i in range(3):
                conn.execute(
                    sa.text(
                        "INSERT INTO track_points (trip_id, client_id, seq, time_ms, lat, lon) "
                        "VALUES (:trip, :cid, :seq, :t, 40.0, -105.0)"
                    ),
                    {"trip": trip_id, "cid": f"p{i}", "seq": i, "t": 1_730_000_000_000 + i},
                )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("users", "vehicles", "trips"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )


def _counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("users", "vehicles", "trips", "track_points")
        }


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrating_a_database_with_data_keeps_every_row_for_the_first_account(
    kind, tmp_path, monkeypatch
):
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "rule_overrides.json"))
    url = fresh_db_url(kind, tmp_path)
    cfg = alembic_config(url)
    with get_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    _populate_0001(url)
    before = _counts(url)
    migrate(url)
    assert current_revision(url) == head_revision()
    assert _counts(url) == before == {"users": 1, "vehicles": 1, "trips": 2, "track_points": 6}
    with session(url) as s:
        assert not acc.accounts_exist(s)
        owner = acc.create_account(s, "alice", PASSWORD)
        bob = acc.create_account(s, "bob", PASSWORD + "!")
        assert (owner.id, owner.role, bob.role) == (1, "owner", "member")
    assert _counts(url) == {**before, "users": 2}
    with session(url) as s:
        assert [t.name for t, _ in q.list_trips(s, user_id=owner.id).items] == ["trip 2", "trip 1"]
        assert [v.nickname for v in q.list_vehicles(s, owner.id)] == ["Sammy"]
        assert len(q.trip_points(s, q.get_trip(s, 1, owner.id).id)) == 3
        assert q.list_trips(s, user_id=bob.id).total == 0
        with pytest.raises(q.NotFound):
            q.get_trip(s, 1, bob.id)


def test_first_account_adopts_the_shared_overrides_file(db_url, tmp_path, monkeypatch):
    path = tmp_path / "rule_overrides.json"
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(path))
    document = {
        "schema": "kei-drive/rule-overrides",
        "schema_version": 1,
        "overrides": {
            "MD": {"note": "DMV letter", "date": "2026-11-30", "fields": {"status": "legal"}}
        },
    }
    path.write_text(json.dumps(document))
    with session(db_url) as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        bob = acc.create_account(s, "bob", PASSWORD)
        assert ov.load_document(s, alice.id)["overrides"]["MD"]["note"] == "DMV letter"
        assert ov.load_document(s, bob.id)["overrides"] == {}
    # imported once: nothing reads the shared file any more
    assert not path.exists() and path.with_name("rule_overrides.json.imported").is_file()


def test_names_are_unique_and_only_the_first_account_is_the_owner(db_url):
    with session(db_url) as s:
        acc.create_account(s, "Alice", PASSWORD, role="member")  # the first is the owner anyway
        with pytest.raises(AccountError, match="taken"):
            acc.create_account(s, "alice", PASSWORD)
        assert acc.find_user(s, "ALICE").role == "owner"
        assert acc.create_account(s, "carl", PASSWORD).role == "member"
        with pytest.raises(acc.NoSuchUser, match="several accounts"):
            acc.resolve_user(s, None)
        with pytest.raises(acc.NoSuchUser):
            q.list_trips(s)  # a caller that forgets the user fails closed


def test_sessions_slide_expire_and_are_revoked_only_by_their_owner(db_url):
    with session(db_url) as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        bob = acc.create_account(s, "bob", PASSWORD)
        cookie = acc.start_session(
            s, alice, "Mozilla/5.0 (Linux; Android 14) Chrome/131.0", "10.0.0.5"
        )
        other = acc.start_session(s, bob, "curl/8", "10.0.0.6")
    with session(db_url) as s:
        row = s.exec(select(UserSession).where(UserSession.user_id == alice.id)).one()
        assert row.id_hash == digest(cookie) and row.user_agent == "Chrome on Android"
        stored = json.dumps(
            [list(r) for r in s.execute(sa.text("SELECT * FROM user_sessions"))], default=str
        )
        assert cookie not in stored and other not in stored
        who = acc.session_user(s, cookie)
        assert (who.user_id, who.scope, who.renewed) == (alice.id, "session", False)
        row.last_seen_at = row.last_seen_at - timedelta(days=29)
        row.expires_at = row.expires_at - timedelta(days=29)
        s.add(row)
    with session(db_url) as s:
        who = acc.session_user(s, cookie)
        assert who.renewed  # used on day 29: good for another 30 days
        row = s.get(UserSession, row.id)
        assert as_utc(row.expires_at) > as_utc(row.last_seen_at) + timedelta(days=29)
        assert acc.session_user(s, cookie + "x") is None
        assert acc.session_user(s, "") is None
        bob_row = s.exec(select(UserSession).where(UserSession.user_id == bob.id)).one()
        assert not acc.revoke_session(s, alice.id, bob_row.id)  # not hers: nothing happens
        assert acc.session_user(s, other) is not None
        assert acc.revoke_session(s, bob.id, bob_row.id)
        assert acc.session_user(s, other) is None
        row.expires_at = row.last_seen_at - timedelta(seconds=1)
        s.add(row)
    with session(db_url) as s:
        assert acc.session_user(s, cookie) is None  # expired


def test_tokens_are_stored_hashed_and_scoped(db_url):
    with session(db_url) as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        token, row = acc.create_token(s, alice.id, "Pixel", "ingest")
        with pytest.raises(AccountError):
            acc.create_token(s, alice.id, "Pixel", "admin")
    with session(db_url) as s:
        stored = json.dumps(
            [list(r) for r in s.execute(sa.text("SELECT * FROM api_tokens"))], default=str
        )
        assert token not in stored and digest(token) in stored
        assert s.get(ApiToken, row.id).prefix == token[:10]
        who = acc.token_user(s, token)
        assert (who.user_id, who.scope, who.session_id) == (alice.id, "ingest", None)
        assert acc.token_user(s, token[:-1]) is None
        assert acc.revoke_token(s, alice.id, row.id)
        assert acc.token_user(s, token) is None


def test_sign_in_checks_the_password_and_throttles_per_account_and_per_address(db_url):
    with session(db_url) as s:
        acc.create_account(s, "alice", PASSWORD)
        acc.create_account(s, "bob", PASSWORD)
    with session(db_url) as s:
        assert acc.authenticate(s, "Alice", PASSWORD, "10.0.0.1").username == "alice"
        for _ in range(5):
            assert acc.authenticate(s, "alice", "wrong password!", "10.0.0.1") is None
        with pytest.raises(acc.SigninThrottled) as throttled:
            acc.authenticate(s, "alice", PASSWORD, "10.0.0.2")  # right password, locked account
        assert 1 <= throttled.value.retry_after_s <= 60
        # the address that failed five times is locked too, for every account
        with pytest.raises(acc.SigninThrottled):
            acc.authenticate(s, "bob", PASSWORD, "10.0.0.1")
        assert acc.authenticate(s, "bob", PASSWORD, "10.0.0.3").username == "bob"
        assert acc.authenticate(s, "nobody", PASSWORD, "10.0.0.4") is None


def test_invitations_expire_are_used_once_and_setup_codes_end_with_the_first_account(db_url):
    with session(db_url) as s:
        setup = acc.new_setup_code(s)
        again = acc.new_setup_code(s)
        assert acc.valid_invitation(s, setup) is None  # only the latest printed code works
        owner = acc.accept_invitation(s, again, "alice", PASSWORD)
        assert owner.role == "owner"
        assert acc.new_setup_code(s) is None and acc.valid_invitation(s, again) is None
        code, _ = acc.create_invitation(s, owner.id, note="for Sam")
        old, row = acc.create_invitation(s, owner.id)
        row.expires_at = row.expires_at - timedelta(days=8)
        s.add(row)
        s.flush()
        assert acc.valid_invitation(s, old) is None
        sam = acc.accept_invitation(s, code, "sam", PASSWORD)
        assert sam.role == "member"
        with pytest.raises(AccountError, match="not valid"):
            acc.accept_invitation(s, code, "sam2", PASSWORD)
        with pytest.raises(AccountError, match="only an owner"):
            acc.create_invitation(s, sam.id)
        assert [i.id for i in acc.list_invitations(s, owner.id)] == []
        assert s.exec(select(Invitation).where(Invitation.invited_by == owner.id)).all()


def _orphans(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        run = conn.exec_driver_sql
        out = {
            t: run(
                f"SELECT count(*) FROM {t} WHERE user_id NOT IN (SELECT id FROM users)"
            ).scalar_one()
            for t in OWNED_TABLES
        }
        out["track_points"] = run(
            "SELECT count(*) FROM track_points WHERE trip_id NOT IN (SELECT id FROM trips)"
        ).scalar_one()
        out["invitations"] = run(
            "SELECT count(*) FROM invitations WHERE invited_by IS NOT NULL "
            "AND invited_by NOT IN (SELECT id FROM users)"
        ).scalar_one()
        return out


def test_deleting_an_account_deletes_everything_it_owns_and_nothing_else(db_url):
    with session(db_url) as s:
        owner = acc.create_account(s, "alice", PASSWORD)
        bob = acc.create_account(s, "bob", PASSWORD)
        for user in (owner, bob):
            vehicle = q.create_vehicle(s, "Sammy", user_id=user.id)
            trip, _ = q.ensure_trip(
                s,
                q.normalize_trip_uuid(f"{user.id:08d}-0000-4000-8000-000000000000"),
                vehicle_id=vehicle.id,
                user_id=user.id,
            )
            q.add_points(
                s, trip, [q.PointIn(f"p{i}", 1_730_000_000_000 + i, 40.0, -105.0) for i in range(4)]
            )
            acc.start_session(s, user)
            acc.create_token(s, user.id, "phone", "read")
            ov.save_document(s, user.id, ov.empty_document())
            pm.save_permits(s, user.id, [])
        acc.create_invitation(s, owner.id)
        with pytest.raises(AccountError, match="only owner"):
            acc.delete_account(s, owner.id)
        acc.delete_account(s, bob.id)
    assert _orphans(db_url) == dict.fromkeys((*OWNED_TABLES, "track_points", "invitations"), 0)
    with session(db_url) as s:
        assert acc.find_user(s, "bob") is None
        assert q.list_trips(s, user_id=owner.id).total == 1
        assert s.execute(sa.text("SELECT count(*) FROM track_points")).scalar_one() == 4
        acc.delete_account(s, owner.id)  # the last account may go
    with get_engine(db_url).connect() as conn:
        for table in (*OWNED_TABLES, "track_points", "invitations", "users"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() == 0, table


def test_deleting_a_trip_deletes_its_points(db_url):
    with session(db_url) as s:
        alice = acc.create_account(s, "alice", PASSWORD)
        trip, _ = q.ensure_trip(s, "6d7c5a9e-8f1b-4c1e-9a55-0d3b1c2e4f60", user_id=alice.id)
        q.add_points(
            s, trip, [q.PointIn(f"p{i}", 1_730_000_000_000 + i, 40.0, -105.0) for i in range(5)]
        )
        q.delete_trip(s, trip.id, alice.id)
    with get_engine(db_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM track_points").scalar_one() == 0
