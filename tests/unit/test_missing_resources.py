"""A missing fixture folder or test server skips a test locally and fails it under CI."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

PROBE = """
from tests.conftest import missing, require_env

def test_needs_postgres():
    require_env("KEI_DRIVE_TEST_NOWHERE_URL", "postgresql")

def test_needs_fixtures():
    missing("the GPX fixtures folder", "fixtures")
"""


def run_probe(tmp_path, ci: str | None) -> str:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(probe)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout


def test_outside_ci_they_skip_and_say_how_to_get_them(tmp_path):
    out = run_probe(tmp_path, None)
    assert "2 skipped" in out
    assert "start_postgres.sh" in out and "../shared/fixtures" in out


def test_under_ci_they_fail(tmp_path):
    out = run_probe(tmp_path, "true")
    assert "2 failed" in out
    assert "CI=true and KEI_DRIVE_TEST_NOWHERE_URL" in out
