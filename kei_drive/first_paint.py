"""Paint the Drive screen before its code loads (issue 13, point 10).

Reflex prerenders each page to HTML at build time (React Router ``prerender``), so ``/``
already holds the nav and the speed readout's first-paint shell
(``kei_drive.components.drive_shell``). But the page's head also asks for the whole app at
once: ~20 ``<link rel="modulepreload">`` and a ``<script type="module">`` that start with the
stylesheets, so on a phone the readout paints only when ~250 KiB of JavaScript have arrived.

``FirstPaintPlugin`` (a Reflex plugin, run after the production build and before the
pre-compression) rewrites the Drive page's HTML so that the app's code is asked for right
after the first paint: the module preloads and the entry script move into a small loader
that runs once the first contentful paint is on screen. The entry script keeps its exact
text (it becomes an inert ``text/plain`` script the loader copies), so the CSP hashes of the
build's inline scripts (``kei_drive.server.asgi``) still cover it. A page that does not have
the shape this expects is left as it is.

It also writes gzip sidecars for the GeoJSON data files (the state lines, 330 KB raw, 100 KB
gzipped), which Reflex's pre-compression skips (it knows .json, not .geojson); the static
file server sends a sidecar to any browser that accepts gzip.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import reflex as rx

log = logging.getLogger(__name__)

PAGES = ("index.html",)  # the Drive screen, /
ENTRY_ID = "kei-app-entry"
_MODULEPRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
_ENTRY = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)

# Runs where the entry script was. Hidden pages get no paint: load at once there.
# After the first contentful paint (the browser's paint entry, else two frames), in small
# tasks (Lighthouse counts every task after the first paint that is longer than 50 ms at
# its 4x CPU slowdown, i.e. longer than ~12 ms here):
# 1. the module preloads, a few per task: each started request costs the main thread about
#    a millisecond, and each batch of new <link>s one style recalculation (~2 ms against
#    Radix Themes' stylesheet) in the next frame; one <link> per task made ~40 tasks;
# 2. the app's modules evaluated one per task with ``import()``, in the order the entry's
#    static imports would evaluate them (dependencies first), so each task evaluates one
#    module: the entry evaluated the whole graph (~30 ms of CPU) in one task; each only
#    once its preload has loaded, or the main thread waits for the module's compilation on
#    another thread (``ScriptCatchup``) inside the task;
# 3. the entry itself, which now evaluates only the router's entry module (hydration).
LOADER = """(function () {
  var started = false;
  function load() {
    if (started) return;
    started = true;
    var hrefs = PRELOADS.slice();
    var steps = STEPS.slice();
    var fetched = {};  // href -> a promise settled when its module preload has loaded
    // Small tasks only matter on screen; a hidden page (timers throttled) loads at once.
    function later(run) {
      if (document.visibilityState === "hidden") run();
      else setTimeout(run, 0);
    }
    function preload() {
      var batch = hrefs.splice(0, BATCH);
      if (batch.length === 0) return evaluate();
      var links = document.createDocumentFragment();
      batch.forEach(function (href) {
        var link = document.createElement("link");
        link.rel = "modulepreload";
        link.href = href;
        if (link.relList && link.relList.supports && link.relList.supports("modulepreload")) {
          fetched[href] = new Promise(function (done) {
            link.onload = link.onerror = done;
            setTimeout(done, 5000);  // never wait on a preload for ever
          });
        }
        links.appendChild(link);
      });
      document.head.appendChild(links);
      later(preload);
    }
    function evaluate() {
      var href = steps.shift();
      if (href === undefined) return entry();
      function next() { later(evaluate); }
      // Once its preload has loaded (compiled off the main thread), in a task of its own.
      Promise.resolve(fetched[href]).then(function () {
        later(function () {
          import(href).then(next, next);  // a failure shows again (and is reported) in the entry
        });
      });
    }
    function entry() {
      var script = document.createElement("script");
      script.type = "module";
      script.textContent = document.getElementById("ENTRY_ID").textContent;
      document.body.appendChild(script);
    }
    preload();
  }
  function afterPaint() { setTimeout(load, 0); }
  var types = window.PerformanceObserver && PerformanceObserver.supportedEntryTypes;
  if (document.visibilityState === "hidden") load();
  else if (types && types.indexOf("paint") >= 0) {
    // Once the first contentful paint (the readout) has been presented: a frame's timing is
    // no promise of that on a busy phone, the browser's own paint entry is.
    new PerformanceObserver(function (list, observer) {
      if (list.getEntriesByName("first-contentful-paint").length === 0) return;
      observer.disconnect();
      afterPaint();
    }).observe({ type: "paint", buffered: true });
  } else {
    // No paint timing: two frames later, the first frame is on screen.
    requestAnimationFrame(function () { requestAnimationFrame(afterPaint); });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") load();
  });
  setTimeout(load, 3000);
})();"""
PRELOADS_PER_TASK = 6
_STATIC_IMPORT = re.compile(
    r"""\bimport\s*(?:[\w$]+\s*,?\s*)?(?:\*\s*as\s+[\w$]+\s*|\{[^}]*\}\s*)?(?:from\s*)?"""
    r"""["'](\.{1,2}/[^"']+\.js|/[^"']+\.js)["']"""
)
_DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["'](/[^"']+\.js)["']\s*\)""")
# Vite's list of the chunks a module loads later with import() (``__vite__mapDeps``),
# relative to the site root: on the Drive page, the live screen's own chunks.
_LAZY_DEPS = re.compile(r"m\.f\|\|\(m\.f=(\[[^\]]*\])\)")


def static_imports(code: str, url: str) -> list[str]:
    """The URLs a module imports statically, in order (its ``import ... from "..."``;
    not ``import("...")``), resolved against the module's own URL."""
    base = url.rsplit("/", 1)[0]
    found: list[str] = []
    for spec in _STATIC_IMPORT.findall(code):
        if spec.startswith("/"):
            resolved = spec
        else:
            parts = base.split("/")
            for piece in spec.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            resolved = "/".join(parts)
        if resolved not in found:
            found.append(resolved)
    return found


def evaluation_order(entry: str, read: Callable[[str], str | None]) -> list[str]:
    """The modules the entry script evaluates before its dynamically imported entry module,
    dependencies first, in the order the browser would evaluate them (a post-order walk of
    the static imports); then that entry module's own not yet evaluated dependencies, but not
    the entry module itself (its evaluation hydrates the page). ``read(url)`` gives a module's
    code. Empty when a module cannot be read: the entry then evaluates everything itself."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(url: str) -> bool:
        if url in seen:
            return True
        seen.add(url)
        code = read(url)
        if code is None:
            return False
        if not all(visit(dependency) for dependency in static_imports(code, url)):
            return False
        order.append(url)
        return True

    dynamic = _DYNAMIC_IMPORT.findall(entry)
    roots = static_imports(entry, "/")
    if len(dynamic) != 1 or not all(visit(url) for url in roots):
        return []
    code = read(dynamic[0])
    if code is None or not all(visit(url) for url in static_imports(code, dynamic[0])):
        return []
    return order


def lazy_chunks(modules: list[str], read: Callable[[str], str | None]) -> list[str]:
    """The chunks these modules import later (``import()``), e.g. the Drive page's live
    screen: preloaded with the rest, Vite's own preload then finds them in the page (it
    added a <link> per chunk, and a style recalculation, in the hydration's longest task)."""
    found: list[str] = []
    for url in modules:
        for listed in _LAZY_DEPS.findall(read(url) or ""):
            with contextlib.suppress(ValueError):
                for path in json.loads(listed):
                    chunk = "/" + str(path).lstrip("/")
                    if chunk.endswith(".js") and chunk not in modules and chunk not in found:
                        found.append(chunk)
    return found


def defer_app_scripts(html: str, read: Callable[[str], str | None] | None = None) -> str | None:
    """The page with its module preloads and entry script loaded after the first paint,
    or None when the page does not look like a React Router prerender. ``read(url)`` gives a
    module's code (the build's files), to evaluate the modules one per task."""
    preloads = _MODULEPRELOAD.findall(html)
    entries = _ENTRY.findall(html)
    if not preloads or len(entries) != 1 or "</" in entries[0] or ENTRY_ID in html:
        return None
    steps = evaluation_order(entries[0], read) if read else []
    # Ask for the modules in the order they are needed.
    preloads = steps + [url for url in preloads if url not in steps]
    preloads += [url for url in lazy_chunks(steps, read) if url not in preloads] if read else []
    loader = (
        LOADER.replace("PRELOADS", json.dumps(preloads))
        .replace("STEPS", json.dumps(steps))
        .replace("BATCH", str(PRELOADS_PER_TASK))
        .replace("ENTRY_ID", ENTRY_ID)
    )
    inert = f'<script type="text/plain" id="{ENTRY_ID}">{entries[0]}</script>'
    deferred = f"{inert}<script>{loader}</script>"
    html = _MODULEPRELOAD.sub("", html)
    return _ENTRY.sub(lambda _match: deferred, html, count=1)


class FirstPaintPlugin(rx.plugins.Plugin):
    """Rewrites the prerendered Drive page after ``reflex export`` / ``run --env prod``."""

    def post_build(self, **context) -> None:
        static_dir = Path(context["static_dir"])
        for name in PAGES:
            page = static_dir / name
            if not page.is_file():
                continue

            def read(url: str) -> str | None:
                module = static_dir / url.lstrip("/")
                inside = module.resolve().is_relative_to(static_dir.resolve())
                return module.read_text(encoding="utf-8") if inside and module.is_file() else None

            rewritten = defer_app_scripts(page.read_text(encoding="utf-8"), read)
            if rewritten is None:
                log.warning("first paint: %s has an unexpected shape; left as built", page)
                continue
            page.write_text(rewritten, encoding="utf-8")
        for data in static_dir.rglob("*.geojson"):
            data.with_name(data.name + ".gz").write_bytes(gzip.compress(data.read_bytes(), 9))
