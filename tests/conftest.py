"""Shared test fixtures: paths to the read-only shared fixtures, and project paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ISOLATED_ENV = (
    "KEI_DRIVE_HOME",
    "DATABASE_URL",
    "REDIS_URL",
    "KEI_DRIVE_TILES",
    "KEI_DRIVE_VALHALLA_URL",
    "KEI_DRIVE_RULE_OVERRIDES",
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


def shared_fixture(*parts: str) -> Path:
    """A file under ../shared/fixtures, or skip the test when the folder is absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {path} is absent (no ../shared folder beside the project)")
    return path
