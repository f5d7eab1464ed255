"""The self-signed certificate behind ``kei-drive serve --https`` (granian serves it; the
live TLS tests are in tests/browser/test_https.py)."""

from __future__ import annotations

import os
import stat

from cryptography import x509

from kei_drive.server import tls


def test_certificate_covers_names_and_addresses_and_is_reused(tmp_path):
    cert, key = tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1", "192.168.1.20"])
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "192.168.1.20",
    }
    before = cert.read_bytes()
    tls.ensure_certificate(tmp_path, ["192.168.1.20", "localhost", "127.0.0.1"])
    assert cert.read_bytes() == before  # same hosts: kept
    tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1", "10.0.0.7"])
    assert cert.read_bytes() != before  # new LAN address: renewed


def test_private_key_is_never_readable_by_others(tmp_path, monkeypatch):
    """0600 in a 0700 folder, and created 0600: a permissive umask cannot widen it."""
    folder = tmp_path / "tls"
    folder.mkdir(mode=0o755)
    created_modes = []
    real_open = os.open

    def watching_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT and "key" in os.fspath(path):
            created_modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    old_umask = os.umask(0)  # the worst case: nothing masked
    monkeypatch.setattr(os, "open", watching_open)
    try:
        _, key = tls.ensure_certificate(folder, ["localhost"])
    finally:
        os.umask(old_umask)
    assert created_modes == [0o600]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp left
