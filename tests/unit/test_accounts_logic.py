"""Accounts, pure logic: password hashing, names, secrets, throttling, device labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kei_drive.accounts import (
    TOKEN_PREFIX,
    AccountError,
    check_password_rules,
    check_username,
    device_label,
    digest,
    hash_password,
    new_secret,
    retry_after_s,
    verify_password,
)

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_passwords_are_argon2id_hashed_salted_and_verified():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second  # salted
    assert "correct horse" not in first
    assert verify_password("correct horse battery", first)[0]
    assert not verify_password("correct horse batterY", first)[0]
    assert verify_password("anything", None) == (False, None)  # the placeholder user
    assert verify_password("anything", "not a hash") == (False, None)


def test_user_names_are_canonical_and_checked():
    assert check_username("  Alice ") == "alice"
    assert check_username("sam.k-2") == "sam.k-2"
    for bad in ("", "a b", "-x", "x" * 33, "local", "admin", "émile", "a/b"):
        with pytest.raises(AccountError):
            check_username(bad)


def test_password_rules_are_length_not_composition():
    assert check_password_rules("all lower case words") == "all lower case words"
    for bad in ("short", "x" * 257):
        with pytest.raises(AccountError):
            check_password_rules(bad)
    with pytest.raises(AccountError):
        check_password_rules("samsamsam1", "samsamsam1")


def test_secrets_are_random_and_only_their_digest_is_kept():
    value, hashed = new_secret(TOKEN_PREFIX)
    other, _ = new_secret(TOKEN_PREFIX)
    assert value.startswith(TOKEN_PREFIX) and value != other
    assert len(value) >= len(TOKEN_PREFIX) + 43  # 32 random bytes, base64url
    assert hashed == digest(value) and len(hashed) == 64 and value not in hashed


def test_throttle_allows_four_failures_then_waits_for_the_oldest_to_expire():
    failures = [NOW - timedelta(seconds=s) for s in (50, 40, 30, 20)]
    assert retry_after_s(failures, NOW) == 0
    failures.append(NOW - timedelta(seconds=1))
    assert retry_after_s(failures, NOW) == 10  # the one 50 s ago leaves the window in 10 s
    assert retry_after_s(failures, NOW + timedelta(seconds=10)) == 0
    old = [NOW - timedelta(seconds=61 + s) for s in range(20)]
    assert retry_after_s(old, NOW) == 0


def test_device_labels():
    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    )
    assert device_label(android) == "Chrome on Android"
    assert device_label(iphone) == "Safari on iPhone"
    assert device_label("curl/8.5.0") == "curl"
    assert device_label("") == "Unknown device"
