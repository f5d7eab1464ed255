"""What ``kei-drive serve`` allows and prints for its bind address and public name."""

from __future__ import annotations

import socket

from kei_drive.server.runner import ServeOptions, allowed_hosts, urls_to_open


def test_loopback_bind_knows_only_loopback_and_the_public_name():
    hosts = allowed_hosts(ServeOptions(host="127.0.0.1", public_host="Kei.Example.org"))
    assert hosts == ["127.0.0.1", "::1", "kei.example.org", "localhost"]
    assert urls_to_open(ServeOptions(host="127.0.0.1", port=3300)) == ["http://localhost:3300/"]


def test_wildcard_bind_knows_this_machines_names(monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_ALLOWED_HOSTS", "truck.lan, other.lan")
    hosts = allowed_hosts(ServeOptions(host="0.0.0.0", public_host="192.168.1.20"))
    name = socket.gethostname().lower()
    assert {"localhost", "192.168.1.20", "truck.lan", "other.lan", name, f"{name}.local"} <= set(
        hosts
    )
    assert "0.0.0.0" not in hosts
    urls = urls_to_open(ServeOptions(https=True, port=3000, public_host="192.168.1.20"))
    assert urls == ["https://localhost:3000/", "https://192.168.1.20:3000/"]
