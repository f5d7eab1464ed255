"""Shared test fixtures: paths to the read-only shared fixtures, project paths, and the one
rule for missing test resources: under ``CI=true`` a missing fixture folder, PostgreSQL or
Redis fails the test; elsewhere it is skipped with a message saying how to get it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"
GPX_FIXTURES = SHARED_FIXTURES / "gpx"
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")
HOW_TO_GET = {
    "fixtures": "put the read-only shared folder beside the project (../shared/fixtures)",
    "postgresql": "run scripts/test.sh, or set KEI_DRIVE_TEST_POSTGRES_URL "
    "(url=$(bash scripts/start_postgres.sh))",
    "redis": "run scripts/test.sh, or start redis-server on 127.0.0.1 and set "
    "KEI_DRIVE_TEST_REDIS_URL=redis://127.0.0.1:6379/0",
}
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ISOLATED_ENV = (
    "KEI_DRIVE_HOME",
    "DATABASE_URL",
    "REDIS_URL",
    "KEI_DRIVE_TILES",
    "KEI_DRIVE_VALHALLA_URL",
    "KEI_DRIVE_RULE_OVERRIDES",
    "KEI_DRIVE_LOCAL_PERMITS",
    "KEI_DRIVE_CACHE",
)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory) -> Path:
    """Keep tests away from the developer's own data (database, overrides, caches, tiles)."""
    home = tmp_path_factory.mktemp("kei-drive-home")
    saved = {k: os.environ.get(k) for k in ISOLATED_ENV}
    for key in ISOLATED_ENV:
        os.environ.pop(key, None)
    os.environ["KEI_DRIVE_HOME"] = str(home)
    # no background thread finishing logger trips in whatever database a later test uses
    os.environ["KEI_DRIVE_INGEST_SWEEP_S"] = "0"
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def missing(what: str, kind: str) -> NoReturn:
    """A test resource is absent: fail under CI (coverage must not quietly vanish), else skip."""
    message = f"{what} is not available: {HOW_TO_GET[kind]}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def shared_fixture(*parts: str) -> Path:
    """A file under ../shared/fixtures (fails under CI, skips elsewhere when absent)."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        missing(f"shared fixture {path}", "fixtures")
    return path


@pytest.fixture
def gpx_fixtures() -> Path:
    if not GPX_FIXTURES.is_dir():
        missing(f"the GPX fixtures folder {GPX_FIXTURES}", "fixtures")
    return GPX_FIXTURES


# For tests that read GPX_FIXTURES: ``@needs_fixtures``.
needs_fixtures = pytest.mark.usefixtures("gpx_fixtures")


def require_env(name: str, kind: str) -> str:
    """The URL of a test server from the environment (PostgreSQL, Redis), or missing()."""
    value = os.environ.get(name)
    if not value:
        missing(f"{name} (a {kind} server for tests)", kind)
    return value
