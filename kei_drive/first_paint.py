"""Paint the Drive screen before its code loads (issue 13, point 10).

Reflex prerenders each page to HTML at build time (React Router ``prerender``), so ``/``
already holds the nav and the speed readout's first-paint shell
(``kei_drive.components.drive_shell``). But the page's head also asks for the whole app at
once: ~20 ``<link rel="modulepreload">`` and a ``<script type="module">`` that start with the
stylesheets, so on a phone the readout paints only when ~250 KiB of JavaScript have arrived.

``FirstPaintPlugin`` (a Reflex plugin, run after the production build and before the
pre-compression) rewrites the Drive page's HTML so that the app's code is asked for right
after the first paint: the module preloads and the entry script move into a small loader
that runs on the first animation frame. The entry script keeps its exact text (it becomes an
inert ``text/plain`` script the loader copies), so the CSP hashes of the build's inline
scripts (``kei_drive.server.asgi``) still cover it. A page that does not have the shape this
expects is left as it is.

It also writes gzip sidecars for the GeoJSON data files (the state lines, 330 KB raw, 100 KB
gzipped), which Reflex's pre-compression skips (it knows .json, not .geojson); the static
file server sends a sidecar to any browser that accepts gzip.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path

import reflex as rx

log = logging.getLogger(__name__)

PAGES = ("index.html",)  # the Drive screen, /
ENTRY_ID = "kei-app-entry"
_MODULEPRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
_ENTRY = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)

# Runs where the entry script was. Hidden pages get no animation frame: load at once there.
# One module preload per task, then the entry: each request started costs the main thread
# (and a phone's other cores) a little, and ~20 in one task made one long task after the paint.
LOADER = """(function () {
  var started = false;
  function load() {
    if (started) return;
    started = true;
    var hrefs = PRELOADS.slice();
    (function next() {
      var href = hrefs.shift();
      if (href === undefined) {
        var entry = document.createElement("script");
        entry.type = "module";
        entry.textContent = document.getElementById("ENTRY_ID").textContent;
        document.body.appendChild(entry);
        return;
      }
      var link = document.createElement("link");
      link.rel = "modulepreload";
      link.href = href;
      document.head.appendChild(link);
      setTimeout(next, 0);
    })();
  }
  function afterPaint() {
    // A frame later: the first frame (the readout) is on screen before the code is asked for.
    requestAnimationFrame(function () { setTimeout(load, 0); });
  }
  if (document.visibilityState === "hidden") load();
  else requestAnimationFrame(afterPaint);
  setTimeout(load, 3000);
})();"""


def defer_app_scripts(html: str) -> str | None:
    """The page with its module preloads and entry script loaded after the first paint,
    or None when the page does not look like a React Router prerender."""
    preloads = _MODULEPRELOAD.findall(html)
    entries = _ENTRY.findall(html)
    if not preloads or len(entries) != 1 or "</" in entries[0] or ENTRY_ID in html:
        return None
    loader = LOADER.replace("PRELOADS", json.dumps(preloads)).replace("ENTRY_ID", ENTRY_ID)
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
            rewritten = defer_app_scripts(page.read_text(encoding="utf-8"))
            if rewritten is None:
                log.warning("first paint: %s has an unexpected shape; left as built", page)
                continue
            page.write_text(rewritten, encoding="utf-8")
        for data in static_dir.rglob("*.geojson"):
            data.with_name(data.name + ".gz").write_bytes(gzip.compress(data.read_bytes(), 9))
