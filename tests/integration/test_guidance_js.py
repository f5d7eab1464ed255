"""The Drive screen's route-progress maths (assets/kei/guidance.js) with Node's test runner,
including a real plan_route() answer on the synthetic network (Valhalla in-process)."""

import json
import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.guidance_route import planned_guidance
from tests.support.osm_synth import synth_tiles


def test_guidance_module_node_tests(tmp_path, tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (Kei Drive's frontend build needs it too)")
    guidance = planned_guidance(synth_tiles(tmp_path_factory), tmp_path / "no-overrides.json")
    assert len(guidance["route"]["maneuvers"]) >= 3  # two turns: the test below follows them
    stored = tmp_path / "guidance.json"
    stored.write_text(json.dumps(guidance))
    result = subprocess.run(
        [node, "--test", "tests/js/guidance.test.mjs"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "KEI_ROUTE_JSON": str(stored)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# skipped 0" in result.stdout
