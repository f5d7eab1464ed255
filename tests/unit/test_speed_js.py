"""The browser's speed maths (assets/kei/speed.js), run with Node's own test runner."""

import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT


def test_speed_module_node_tests():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (Kei Drive's frontend build needs it too)")
    result = subprocess.run(
        [node, "--test", "tests/js/"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
