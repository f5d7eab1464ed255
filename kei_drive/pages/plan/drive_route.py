""" "Drive this route": the Plan page hands the exact request it planned (or checked) to
the browser, which posts it to ``/api/v1/route``, stores the guidance the Drive screen
follows (localStorage ``kei-drive.guidance``, version 1 of the shared contract) and opens
``/?guide=1``. A failure is said under the button; the stored guidance is then untouched.
"""

from __future__ import annotations

from typing import Any

from kei_drive import routes
from kei_drive.js_text import js_string, js_value

GUIDANCE_KEY = "kei-drive.guidance"
ROUTE_API = "/api/v1/route"
STATUS_ID = "drive-route-status"

_SCRIPT = """(async () => {
  const status = document.getElementById(%(status)s);
  const say = (text) => { if (status) status.textContent = text; };
  say("Getting the route ready for the Drive screen…");
  let answer;
  try {
    answer = await fetch(%(api)s, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(%(request)s),
    });
  } catch (e) {
    say("No connection to the server: the route was not loaded. Try again.");
    return;
  }
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok || data.version !== 1) {
    say((data.error || "The route could not be loaded") + (data.detail ? ": " + data.detail : ""));
    return;
  }
  const guidance = {version: 1, request: data.request, route: data.route,
                    announcements: data.announcements, saved_at: Date.now()};
  try {
    localStorage.setItem(%(key)s, JSON.stringify(guidance));
  } catch (e) {
    say("This phone has no room left to store the route.");
    return;
  }
  window.location.assign(%(drive)s);
})()"""


def drive_route_script(request: dict[str, Any]) -> str:
    """The script that fetches and stores the guidance for ``request`` and opens Drive."""
    return _SCRIPT % {
        "status": js_string(STATUS_ID),
        "api": js_string(ROUTE_API),
        "request": js_value(request),
        "key": js_string(GUIDANCE_KEY),
        "drive": js_string(f"{routes.DRIVE}?guide=1"),
    }
