"""The Drive page's build rewrite: its code loads after the first paint, under the same CSP."""

from __future__ import annotations

import base64
import gzip
import hashlib

from kei_drive.first_paint import (
    ENTRY_ID,
    FirstPaintPlugin,
    defer_app_scripts,
    evaluation_order,
    lazy_chunks,
    static_imports,
)
from kei_drive.server.asgi import inline_script_hashes

ENTRY = """import "/assets/manifest-1.js";
import * as route0 from "/assets/root-2.js";
  window.__reactRouterRouteModules = {"root":route0};
import("/assets/entry.client-3.js");"""
# The shape React Router's prerender gives a page (shortened).
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><title>Kei Drive</title>'
    '<link rel="modulepreload" href="/assets/manifest-1.js"/>'
    '<link rel="modulepreload" href="/assets/root-2.js"/>'
    '<link href="/kei/kei.css" rel="stylesheet"/></head><body>'
    '<div class="kd-drive kd-drive-shell"><span class="kd-big-number">--</span></div>'
    f'<script>window.__reactRouterContext = {{}};</script><script type="module" async="">{ENTRY}'
    "</script></body></html>"
)


def test_preloads_and_entry_move_behind_the_first_paint():
    html = defer_app_scripts(PAGE)
    assert html is not None
    assert 'rel="modulepreload"' not in html
    assert '<script type="module"' not in html
    # the entry's text is kept verbatim in an inert script, which the loader runs
    assert f'<script type="text/plain" id="{ENTRY_ID}">{ENTRY}</script>' in html
    loader = html.split(f"{ENTRY}</script><script>", 1)[1].split("</script>", 1)[0]
    assert '["/assets/manifest-1.js", "/assets/root-2.js"]' in loader
    assert "requestAnimationFrame" in loader and ENTRY_ID in loader
    # everything else of the page is untouched
    assert '<span class="kd-big-number">--</span>' in html
    assert '<link href="/kei/kei.css" rel="stylesheet"/>' in html


# A build's modules, shortened (rolldown's minified output): the root imports a shared chunk
# and React; the route lazily loads the live screen through Vite's preload list.
MODULES = {
    "/assets/manifest-1.js": "window.__reactRouterManifest={};",
    "/assets/root-2.js": 'import{t as e}from"./shared-5.js";import"./react-4.js";var x=e();',
    "/assets/shared-5.js": 'import{t}from"./react-4.js";export{t};',
    "/assets/react-4.js": "var t=()=>1;export{t};",
    "/assets/entry.client-3.js": (
        'import{t}from"./react-4.js";import*as d from"./dom-6.js";d.hydrate();'
        'import("./lazy-7.js");'
    ),
    "/assets/dom-6.js": 'import{t}from"./react-4.js";export const hydrate=()=>t();',
    "/assets/route-8.js": (
        'const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["assets/lazy-7.js",'
        '"assets/react-4.js","assets/lazy-7.css"])))=>i.map(i=>d[i]);'
        'import{t}from"./react-4.js";'
    ),
}
ROUTED_ENTRY = """import "/assets/manifest-1.js";
import * as route0 from "/assets/root-2.js";
import * as route1 from "/assets/route-8.js";
  window.__reactRouterRouteModules = {"root":route0,"routes/_index":route1};
import("/assets/entry.client-3.js");"""


def test_static_imports_in_order_without_dynamic_ones():
    code = MODULES["/assets/entry.client-3.js"]
    assert static_imports(code, "/assets/entry.client-3.js") == [
        "/assets/react-4.js",
        "/assets/dom-6.js",
    ]
    assert static_imports('import{a}from"../lib/x.js";', "/assets/sub/y.js") == ["/assets/lib/x.js"]
    assert static_imports(ROUTED_ENTRY, "/") == [
        "/assets/manifest-1.js",
        "/assets/root-2.js",
        "/assets/route-8.js",
    ]


def test_modules_evaluate_in_the_browsers_order_but_not_the_hydrating_entry():
    order = evaluation_order(ROUTED_ENTRY, MODULES.get)
    # dependencies first, each once, as the entry's static imports would evaluate them; then
    # the entry module's own remaining dependencies; the entry module itself is left to it
    assert order == [
        "/assets/manifest-1.js",
        "/assets/react-4.js",
        "/assets/shared-5.js",
        "/assets/root-2.js",
        "/assets/route-8.js",
        "/assets/dom-6.js",
    ]
    assert lazy_chunks(order, MODULES.get) == ["/assets/lazy-7.js"]  # not the .css
    # a module missing from the build: no staged evaluation (the entry does it all)
    missing = {url: code for url, code in MODULES.items() if url != "/assets/shared-5.js"}
    assert evaluation_order(ROUTED_ENTRY, missing.get) == []


def test_loader_preloads_all_and_evaluates_module_by_module():
    entry_preload = '<link rel="modulepreload" href="/assets/entry.client-3.js"/>'
    page = PAGE.replace(ENTRY, ROUTED_ENTRY).replace("</title>", "</title>" + entry_preload)
    html = defer_app_scripts(page, MODULES.get)
    assert html is not None
    loader = html.split(f"{ROUTED_ENTRY}</script><script>", 1)[1].split("</script>", 1)[0]
    steps = (
        '["/assets/manifest-1.js", "/assets/react-4.js", "/assets/shared-5.js", '
        '"/assets/root-2.js", "/assets/route-8.js", "/assets/dom-6.js"]'
    )
    assert f"var steps = {steps}.slice();" in loader
    # every module in the order needed, then the page's other preloads (the entry module),
    # then the lazily loaded chunks
    preloads = steps[:-1] + ', "/assets/entry.client-3.js", "/assets/lazy-7.js"]'
    assert f"var hrefs = {preloads}.slice();" in loader
    assert "import(href)" in loader


def test_the_csp_still_allows_the_entry_when_the_loader_runs_it(tmp_path):
    """The loader runs the entry as a new inline script: the CSP, built from the hashes of
    the page's inline scripts, must list the entry's hash (and the loader's)."""
    (tmp_path / "index.html").write_text(defer_app_scripts(PAGE))
    entry_hash = base64.b64encode(hashlib.sha256(ENTRY.encode()).digest()).decode()
    hashes = inline_script_hashes(tmp_path)
    assert entry_hash in hashes
    assert len(hashes) == 3  # the router context, the inert entry, the loader


def test_pages_of_another_shape_are_left_alone():
    assert defer_app_scripts("<html><body><p>42</p></body></html>") is None
    twice = defer_app_scripts(PAGE)
    assert defer_app_scripts(twice) is None  # already rewritten: not again


def test_plugin_rewrites_the_drive_page_and_gzips_geojson(tmp_path):
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "index.html").write_text(PAGE)
    (tmp_path / "data").mkdir()
    states = b'{"type":"FeatureCollection","features":[]}' * 50
    (tmp_path / "data" / "states.geojson").write_bytes(states)
    FirstPaintPlugin().post_build(static_dir=tmp_path)
    assert ENTRY_ID in (tmp_path / "index.html").read_text()
    assert (tmp_path / "plan" / "index.html").read_text() == PAGE  # only the Drive screen
    assert gzip.decompress((tmp_path / "data" / "states.geojson.gz").read_bytes()) == states


def test_shell_first_run_words_match_the_live_card():
    """The prerendered card is replaced by the live one in place: same words, same size."""
    import re
    from pathlib import Path

    from kei_drive.components.drive_shell import FIRST_RUN_TEXT, FIRST_RUN_TITLE

    jsx = (Path(__file__).parents[2] / "assets" / "kei" / "first_run.jsx").read_text()
    card = r'<h2 className="kd-first-title">([^<]+)</h2>\s*<p>([^<]+)</p>\s*<button id="location-'
    live = re.search(card, jsx)
    assert live, "first_run.jsx's prompt card changed shape: update components/drive_shell.py"
    assert live.group(1) == FIRST_RUN_TITLE
    assert " ".join(live.group(2).split()) == FIRST_RUN_TEXT
