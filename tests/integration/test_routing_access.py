"""Routing acts on road access (issue #10): the synthetic network placed inside Ohio (local
opt-in) and across the Tennessee/Kentucky line (Kentucky: designated roads only), audited
with the real rule book, per-stretch warnings, the avoid option and a local permission."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from kei_drive.core.local_permits import add_permit, load_permits
from kei_drive.core.rules import load_rules
from kei_drive.routing.kei_costing import KeiOptions
from kei_drive.routing.planner import plan_route
from kei_drive.routing.valhalla_local import LocalValhallaRouter
from tests.conftest import PROJECT_ROOT
from tests.support.osm_synth import SHIFT_OHIO, SHIFT_TN_KY, place, synth_tiles

ON = date(2026, 12, 2)


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_rules(overrides_path=tmp_path_factory.mktemp("r") / "none.json")


@pytest.fixture(scope="module")
def ohio_tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory, SHIFT_OHIO)


@pytest.fixture(scope="module")
def ohio(ohio_tiles):
    return LocalValhallaRouter(ohio_tiles)


@pytest.fixture(scope="module")
def tn_ky(tmp_path_factory):
    return LocalValhallaRouter(synth_tiles(tmp_path_factory, SHIFT_TN_KY))


def oh(name):
    return place(name, SHIFT_OHIO)


def of(result, kind):
    return [w for w in result.report.warnings if w.kind == kind]


def test_every_ohio_stretch_is_flagged_never_approved(ohio, rules):
    result = plan_route(
        oh("grid_sw"), oh("grid_ne"), router=ohio, rules=rules, permits=[],
        options=KeiOptions(on=ON),
    )  # fmt: skip
    assert [s.state for s in result.report.states] == ["OH"]
    assert result.report.states[0].road_access == "local_opt_in"
    (stretch,) = of(result, "road_access")
    assert stretch.message.startswith(
        "Ohio: only in towns that allow it by ordinance — check before you drive"
    )
    assert stretch.from_m == 0 and stretch.to_m == pytest.approx(result.report.distance_m, abs=1)
    assert not result.legal
    assert all(w.road_access == "local_opt_in" for w in result.report.warnings)


def test_a_local_permission_allows_one_town_only(ohio, rules, tmp_path):
    path = tmp_path / "permits.json"
    # "Town" around the grid's south-west corner: the rest of the route stays flagged.
    add_permit(
        state="OH", label="Sampleton, OH", note="Ordinance 12-2024, village office",
        cap_mph=25, center=oh("grid_sw"), radius_m=1200, path=path,
    )  # fmt: skip
    permits = load_permits(path)
    result = plan_route(
        oh("grid_sw"), oh("grid_ne"), router=ohio, rules=rules, permits=permits,
        options=KeiOptions(on=ON),
    )  # fmt: skip
    (inside,) = of(result, "local_permit")
    outside = of(result, "road_access")
    assert inside.from_m == 0 and inside.statement == "driver"
    assert "your own statement" in inside.message and "Sampleton, OH" in inside.message
    assert len(outside) == 1 and outside[0].from_m == pytest.approx(inside.to_m, abs=1)
    assert not result.legal  # the stretch outside the town is still not allowed
    # The whole route inside the town: allowed, on the driver's word, under its 25 mph cap.
    short = plan_route(
        oh("grid_sw"), place("grid_sw", (SHIFT_OHIO[0] + 0.005, SHIFT_OHIO[1])), router=ohio,
        rules=rules, permits=permits, options=KeiOptions(on=ON),
    )  # fmt: skip
    kinds = [w.kind for w in short.report.warnings]
    assert kinds[0] == "local_permit" and "road_access" not in kinds
    # The ordinance's 25 mph cap applies there: untagged streets (statutory 25-35 mph) are
    # now worth a look, which Ohio's 35 mph cap alone would not ask for.
    assert "unknown_speed_limit" in kinds
    assert short.legal


def test_kentucky_stretch_flagged_and_avoidable(tn_ky, rules):
    a, b = place("loop_a", SHIFT_TN_KY), place("loop_b", SHIFT_TN_KY)
    direct = plan_route(a, b, router=tn_ky, rules=rules, permits=[], options=KeiOptions(on=ON))
    assert [s.state for s in direct.report.states] == ["TN", "KY", "TN"]
    (ky,) = of(direct, "road_access")
    assert ky.state == "KY" and ky.road_access == "designated_roads"
    assert ky.message.startswith("Kentucky: only on roads the state or a local authority")
    # Tennessee is "unclear": flagged "unverified" on each of its two stretches.
    tn = of(direct, "unverified")
    assert [w.state for w in tn] == ["TN", "TN"] and all(w.road_access is None for w in tn)
    assert any("unverified in TN" in n for n in direct.notes)
    assert not direct.legal
    # "Avoid banned states" alone does not avoid Kentucky (it is not banned)...
    banned_only = plan_route(
        a, b, router=tn_ky, rules=rules, permits=[],
        options=KeiOptions(on=ON, avoid_banned_states=True),
    )  # fmt: skip
    assert "KY" in [s.state for s in banned_only.report.states]
    # ...the opt-in option does.
    safe = plan_route(
        a, b, router=tn_ky, rules=rules, permits=[],
        options=KeiOptions(on=ON, avoid_opt_in_states=True),
    )  # fmt: skip
    assert [s.state for s in safe.report.states] == ["TN"]
    assert not of(safe, "road_access")
    assert safe.report.distance_m > 1.5 * direct.report.distance_m


def test_route_json_warnings_carry_road_access(ohio_tiles, tmp_path):
    env = {"KEI_DRIVE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    a, b = oh("grid_sw"), oh("grid_ne")
    out = subprocess.run(
        [sys.executable, "-m", "kei_drive.cli", "route", "--from", f"{a[0]},{a[1]}",
         "--to", f"{b[0]},{b[1]}", "--tiles", str(ohio_tiles), "--on", "2026-12-02", "--json"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["warnings"] and all("road_access" in w for w in data["warnings"])
    assert {w["road_access"] for w in data["warnings"]} == {"local_opt_in"}
    assert data["legal"] is False


def test_check_route_json_warnings_carry_road_access(ohio_tiles, tmp_path):
    from datetime import UTC, datetime, timedelta

    from kei_drive.core.gpx import TrackPoint, to_gpx

    # A drive along the grid's west avenue in Ohio, then a permit for the south half.
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    lat0, lon0 = oh("grid_sw")
    line = [(lat0 + k * 0.0005, lon0 - 0.0005) for k in range(70)]
    gpx = tmp_path / "drive.gpx"
    gpx.write_text(
        to_gpx([TrackPoint(a, b, t0 + timedelta(seconds=i)) for i, (a, b) in enumerate(line)])
    )
    home = tmp_path / "home"
    env = {"KEI_DRIVE_HOME": str(home), "PATH": "/usr/bin:/bin"}

    def check():
        out = subprocess.run(
            [sys.executable, "-m", "kei_drive.cli", "check-route", str(gpx), "--tiles",
             str(ohio_tiles), "--on", "2026-12-02", "--json"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["warnings"]

    before = check()
    assert [w["kind"] for w in before if w["road_access"]] == ["road_access"]
    polygon = [[lat0 - 0.01, lon0 - 0.01], [lat0 - 0.01, lon0 + 0.01],
               [lat0 + 0.01, lon0 + 0.01], [lat0 + 0.01, lon0 - 0.01]]  # fmt: skip
    added = subprocess.run(
        [sys.executable, "-m", "kei_drive.cli", "permit", "add", "--polygon", json.dumps(polygon),
         "--label", "South Grid Township", "--note", "Township resolution 3-2025"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "recorded oh-south-grid-township" in added.stdout  # the state read from the polygon
    after = check()
    kinds = [w["kind"] for w in after]
    assert kinds.index("local_permit") < kinds.index("road_access")
    permit = after[kinds.index("local_permit")]
    assert permit["statement"] == "driver" and permit["road_access"] == "local_opt_in"


def test_plan_page_option_avoids_opt_in_states(tn_ky, tmp_path, monkeypatch):
    from kei_drive.services.planning import PlanRequest, run_plan

    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path))
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tn_ky.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    a, b = place("loop_a", SHIFT_TN_KY), place("loop_b", SHIFT_TN_KY)
    base = {"origin_text": f"{a[0]},{a[1]}", "dest_text": f"{b[0]},{b[1]}", "top_speed": "45"}
    base["trip_date"] = "2026-12-02"
    direct = run_plan(PlanRequest(**base), online=False).result
    avoided = run_plan(PlanRequest(**base, avoid_opt_in=True), online=False).result
    assert direct is not None and avoided is not None
    assert "road_access" in {w.kind for w in direct.warnings}
    assert "road_access" not in {w.kind for w in avoided.warnings}


def test_plan_page_judges_a_route_by_the_planners_own_permits_and_overrides(
    ohio, tmp_path, monkeypatch
):
    """Planning reads the signed-in account's local permits and rule overrides from the
    database: Alice's permit for a town, Bob's override of Ohio, neither sees the other's."""
    from kei_drive.core.local_permits import make_permit
    from kei_drive.core.rules import document_with_override
    from kei_drive.db import accounts as acc
    from kei_drive.db import app_session
    from kei_drive.db import overrides as ov
    from kei_drive.db import permits as pm
    from kei_drive.services.planning import PlanRequest, run_plan

    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'plan.db'}")
    monkeypatch.setenv("KEI_DRIVE_TILES", str(ohio.tiles_dir))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    with app_session() as s:
        alice = acc.create_account(s, "alice", "alice's long password")
        bob = acc.create_account(s, "bob", "bob's long password")
        town = make_permit(
            state="OH", label="Sampleton, OH", note="Ordinance 12-2024", cap_mph=25,
            center=oh("grid_sw"), radius_m=1200,
        )  # fmt: skip
        pm.add_permit(s, alice.id, town)
        legal = document_with_override(None, "OH", {"status": "legal"}, "Bob's reading")
        ov.save_document(s, bob.id, legal)
    a, b = oh("grid_sw"), place("grid_sw", (SHIFT_OHIO[0] + 0.005, SHIFT_OHIO[1]))
    base = {"origin_text": f"{a[0]},{a[1]}", "dest_text": f"{b[0]},{b[1]}", "top_speed": "45"}
    base["trip_date"] = ON.isoformat()

    def kinds(uid):
        result = run_plan(PlanRequest(**base, user_id=uid), online=False).result
        assert result is not None
        return {w.kind for w in result.warnings}

    assert "local_permit" in kinds(alice.id) and "road_access" not in kinds(alice.id)
    bobs = kinds(bob.id)  # Ohio legal statewide by his override; no town permit of Alice's
    assert "local_permit" not in bobs and "road_access" not in bobs
    assert "road_access" in kinds(None)  # nobody's: the package rule
