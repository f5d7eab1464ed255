"""Shared test fixtures: paths to the read-only shared fixtures, and project paths."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


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
