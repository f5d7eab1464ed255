"""Malformed XML exits 2 with its one-line message, in a real process (never a crash, 139).

CPython 3.12.1 crashed at exit after ElementTree's iterparse met a parse error; the GPX
reader no longer uses it. These run the installed CLI in a subprocess to see the exit code.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.unit.test_gpx import MALFORMED

COMMANDS = (["trips", "import"], ["states-along"], ["check-route"])


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_gpx_exits_2_with_one_line(name, command, tmp_path):
    text, message = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KEI_DRIVE_HOME": str(tmp_path / "home"),
        "KEI_DRIVE_TILES": str(tmp_path / "no-tiles"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "kei_drive.cli", *command, str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert result.stdout == ""
