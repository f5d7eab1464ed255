"""Script text built for rx.call_script keeps any value inside its string (probe L9)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from kei_drive.js_text import replace_url_script

EVAL_IN_NODE = """
const calls = [];
globalThis.window = { history: { replaceState: (_s, _t, url) => calls.push(url) } };
globalThis.ALERT = globalThis.alert = () => calls.push("ALERT RAN");
eval(process.argv[1]);
console.log(JSON.stringify(calls));
"""


@pytest.mark.parametrize(
    "code",
    [
        "MD",
        "x'); ALERT(document.cookie); ('",
        'X"); ALERT(1); ("',
        "\\'); ALERT(1);//",
        "</script>",
    ],
)
def test_hostile_state_code_stays_inside_the_url(code):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (the frontend build needs it too)")
    url = f"/states?state={code.upper()}"
    script = replace_url_script(url)
    out = subprocess.run(
        [node, "-e", EVAL_IN_NODE, script], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [url]  # the address changed, nothing else ran
