"""gzip for the Kei rules the Drive screen loads, and for nothing else of the API."""

from __future__ import annotations

from starlette.testclient import TestClient

from kei_drive.api import api
from kei_drive.server.compression import CompressPublicData


def test_rules_are_gzipped_and_read_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "none.json"))
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'kei.db'}")
    with TestClient(CompressPublicData(api)) as client, TestClient(api) as plain:
        zipped = client.get("/api/v1/rules?on=2026-12-02", headers={"accept-encoding": "gzip"})
        raw = plain.get("/api/v1/rules?on=2026-12-02", headers={"accept-encoding": "gzip"})
        no_gzip = client.get("/api/v1/rules?on=2026-12-02", headers={"accept-encoding": "identity"})
    assert zipped.status_code == 200 and zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == raw.json() == no_gzip.json()  # httpx undoes the gzip
    assert int(zipped.headers["content-length"]) < len(raw.content) / 4
    assert "content-encoding" not in raw.headers and "content-encoding" not in no_gzip.headers


def test_other_paths_are_never_compressed():
    """A page with a one-time code beside reflected input must not be gzipped (BREACH)."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    big = PlainTextResponse("code=123456 " * 1000)
    app = Starlette(routes=[Route(p, lambda _r: big) for p in ("/signin", "/api/v1/rules")])
    with TestClient(CompressPublicData(app)) as client:
        signin = client.get("/signin", headers={"accept-encoding": "gzip"})
        rules = client.get("/api/v1/rules", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in signin.headers and signin.text == big.body.decode()
    assert rules.headers["content-encoding"] == "gzip"
