"""A route to follow on the synthetic network (tests/support/osm_synth.py), stored the way the
phone keeps active guidance (localStorage "kei-drive.guidance"): north on Avenue B, right onto
Center Street, left onto Avenue E and on north over the PA/NY line (New York: Kei banned)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

GUIDE_FROM = (41.9620, -77.0450)
GUIDE_TO = (42.0225, -77.0300)
ON = date(2026, 12, 2)
OPTIONS = {
    "top_speed_mph": 45,
    "avoid_banned": False,
    "avoid_opt_in": False,
    "avoid_trunks": True,
    "avoid_over_cap": True,
    "date": ON.isoformat(),
}


def _announcements(route: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The server's wording when it has one (issue #13's route API), else None: the phone
    then words the audit's warnings itself (guidance.js announcementsFromWarnings)."""
    try:
        from kei_drive.presenters.guidance import announcements  # type: ignore[import-not-found]
    except ImportError:
        return None
    return announcements(route["warnings"])


def planned_guidance(tiles: Path, rules_overrides: Path) -> dict[str, Any]:
    """Plan GUIDE_FROM -> GUIDE_TO on real Valhalla with the real rule book; the stored form."""
    from kei_drive.core.rules import load_rules
    from kei_drive.routing.kei_costing import KeiOptions
    from kei_drive.routing.planner import plan_route
    from kei_drive.routing.valhalla_local import LocalValhallaRouter

    result = plan_route(
        GUIDE_FROM,
        GUIDE_TO,
        router=LocalValhallaRouter(tiles),
        rules=load_rules(overrides_path=rules_overrides),
        permits=[],
        options=KeiOptions(on=ON),
    )
    route = result.to_dict()
    request = {
        "from": list(GUIDE_FROM),
        "to": list(GUIDE_TO),
        "to_name": "NY grid",
        "options": OPTIONS,
    }
    return {
        "version": 1,
        "request": request,
        "route": route,
        "announcements": _announcements(route),
        "saved_at": 1,
    }
