"""The browser's state classification and crossing warnings (assets/kei/geo.js), run with
Node's test runner against the rules as /api/v1/rules serves them (the core's one order)."""

import json
import shutil
import subprocess
from datetime import date

import pytest

from kei_drive.api import _served_rule
from kei_drive.core.rules import load_rules
from tests.conftest import PROJECT_ROOT


def test_geo_module_node_tests(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (Kei Drive's frontend build needs it too)")
    day = date(2026, 12, 2)
    book = load_rules(overrides_path=tmp_path / "none.json")
    served = tmp_path / "rules.json"
    served.write_text(json.dumps([_served_rule(book, r, day) for r in book.all_rules(day)]))
    result = subprocess.run(
        [node, "--test", "tests/js/geo.test.mjs"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "KEI_RULES_JSON": str(served)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# skipped 0" in result.stdout
