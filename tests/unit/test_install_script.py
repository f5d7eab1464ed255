"""scripts/install.sh skips an interpreter whose XML parser crashes after a parse error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = (PROJECT_ROOT / "scripts" / "install.sh").read_text()
FUNCTIONS = SCRIPT[SCRIPT.index("ITERPARSE_PROBE=") : SCRIPT.index("if [ ! -x .venv")]


def _find_python(tmp_path, python: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": python, "HOME": str(tmp_path), "PATH": str(tmp_path / "bin")}
    (tmp_path / "bin").mkdir(exist_ok=True)
    # The only other candidate, "python3", is a good one: it passes the probe whatever
    # interpreter runs these tests (which may itself be the crashing 3.12.1).
    _wrapper(tmp_path / "bin" / "python3", on_probe="exit 0")
    for tool in ("ls", "sort"):
        (tmp_path / "bin" / tool).symlink_to(shutil.which(tool))
    return subprocess.run(
        ["/bin/bash", "-c", f"{FUNCTIONS}\nfind_python"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _wrapper(path, on_probe: str):
    """An interpreter that reports this one's version and does ``on_probe`` on the probe."""
    path.write_text(
        f'#!/bin/bash\ncase "$2" in *iterparse*) {on_probe};; esac\nexec {sys.executable} "$@"\n'
    )
    path.chmod(0o755)
    return path


def test_a_crashing_interpreter_is_skipped(tmp_path):
    # Reports 3.12 like the real one, and dies with SIGSEGV on the iterparse probe.
    crashing = _wrapper(tmp_path / "python3.12-crashing", on_probe="kill -SEGV $$")
    result = _find_python(tmp_path, str(crashing))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "bin" / "python3")
    assert "crashes after a parse error" in result.stderr


def test_a_good_interpreter_given_by_python_is_used(tmp_path):
    good = _wrapper(tmp_path / "python3.13-good", on_probe="exit 0")
    result = _find_python(tmp_path, str(good))
    assert result.stdout.strip() == str(good)
