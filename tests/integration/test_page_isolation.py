"""Reflex event handlers act for the signed-in account only (in-process, real SQLite).

Each handler runs on a real state instance whose websocket headers carry Bob's session
cookie (as the browser sends it), with Alice's ids forged into its arguments or route:
Bob gets nothing of Alice's and changes nothing (checked in the database afterwards).
The list of handlers comes from the app's own states: a handler that takes an id, or any
handler of the trip page (its id comes from the route), without a case here fails
``test_every_handler_taking_an_id_has_a_case``.
"""

from __future__ import annotations

import inspect
import uuid as uuidlib

import pytest
import reflex as rx
from reflex.istate.data import RouterData

import kei_drive.pages  # noqa: F401  (registers every page and its state; no App: test_page_errors makes one)
from kei_drive.components.vehicle_select import NO_VEHICLE
from kei_drive.core.local_permits import make_permit
from kei_drive.core.rules import document_with_override
from kei_drive.db import accounts as acc
from kei_drive.db import get_engine, migrate, session
from kei_drive.db import overrides as ov
from kei_drive.db import permits as pm
from kei_drive.db import queries as q
from kei_drive.pages.garage.state import GarageState
from kei_drive.pages.plan.state import PlanState
from kei_drive.pages.states.state import StatesState
from kei_drive.pages.trip_detail.state import TripState
from kei_drive.pages.trips.state import TripsState
from kei_drive.web_auth import COOKIE_NAME
from tests.support.aio import run_coroutine

T0_MS = 1_764_650_000_000
ALICES_PERMIT = {
    "state": "OH",
    "label": "Coldwater, OH",
    "note": "Alice's ordinance",
    "center": (40.48, -84.63),
    "radius_m": 3000.0,
}


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "rule_overrides.json"))
    monkeypatch.delenv("KEI_DRIVE_SINGLE_USER", raising=False)
    migrate(url)
    with session(url) as s:
        alice = acc.create_account(s, "alice", "alice's long password")
        bob = acc.create_account(s, "bob", "bob's long password")
        vehicle = q.create_vehicle(s, "Alice's Sambar", user_id=alice.id)
        trip, _ = q.ensure_trip(s, str(uuidlib.uuid4()), vehicle_id=vehicle.id, user_id=alice.id)
        fixes = [q.PointIn(f"a{i}", T0_MS + i * 1000, 40.0 + i * 1e-4, -105.0) for i in range(5)]
        q.add_points(s, trip, fixes)
        trip.name = "Alice's secret trip"
        ov.save_document(
            s, alice.id, document_with_override(None, "GA", {"status": "legal"}, "Alice's letter")
        )
        pm.add_permit(s, alice.id, make_permit(**ALICES_PERMIT))
        bob_cookie = acc.start_session(s, bob)
        alice_cookie = acc.start_session(s, alice)
    return type(
        "World",
        (),
        {
            "url": url,
            "vehicle": vehicle.id,
            "trip": trip.id,
            "cookie": f"{COOKIE_NAME}={bob_cookie}",
            "alice_cookie": f"{COOKIE_NAME}={alice_cookie}",
            "alice": alice.id,
            "bob": bob.id,
        },
    )


def state_of(cls: type[rx.State], cookie: str, query: dict | None = None) -> rx.State:
    """A state instance as an event from a browser with this Cookie header would see it."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    root.router_data = {"headers": {"cookie": cookie}, "pathname": "/", "query": query or {}}
    root.router = RouterData.from_router_data(root.router_data)
    return state


def run(state: rx.State, handler: str, *args):
    """Call an event handler the way Reflex does (plain, generator or coroutine)."""
    out = type(state).event_handlers[handler].fn(state, *args)
    if inspect.iscoroutine(out):
        out = run_coroutine(out)
    elif inspect.isgenerator(out):
        out = list(out)
    elif inspect.isasyncgen(out):

        async def drain():
            return [x async for x in out]

        out = run_coroutine(drain())
    return out


def snapshot(url: str) -> list[tuple]:
    """Every trip, point and vehicle, and every account's overrides and permits, except
    Bob's own (he may change his)."""
    with get_engine(url).connect() as conn:
        rows = [
            tuple(r)
            for t in ("vehicles", "trips", "track_points")
            for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY id")
        ]
        for t in ("rule_overrides", "local_permits"):
            not_bob = "user_id NOT IN (SELECT id FROM users WHERE username = 'bob')"
            sql = f"SELECT * FROM {t} WHERE {not_bob} ORDER BY user_id"
            rows += [tuple(r) for r in conn.exec_driver_sql(sql)]
        return rows


def _garage(handler: str, *args, editing: bool = False):
    def case(w) -> None:
        state = state_of(GarageState, w.cookie)
        if editing:
            state.editing_id = w.vehicle  # a forged form submission for Alice's vehicle
        run(state, handler, *(w.vehicle if a == "VEHICLE" else a for a in args))
        assert "Alice" not in str(state.form) and not state.vehicles

    return case


def _trip(handler: str, *args):
    def case(w) -> None:
        state = state_of(TripState, w.cookie, {"trip_id": str(w.trip)})
        state.ref = str(w.trip)  # as if a forged load had stored Alice's trip id
        run(state, handler, *args)
        assert state.name != "Alice's secret trip" and "Alice" not in str(state.vehicles)

    return case


def _trip_load(w) -> None:
    state = state_of(TripState, w.cookie, {"trip_id": str(w.trip)})
    run(state, "on_load")
    assert state.not_found and state.name != "Alice's secret trip"
    assert state.speed_geojson == {} or not state.speed_geojson.get("features")


def _trips_list(w) -> None:
    state = state_of(TripsState, w.cookie)
    run(state, "on_load")
    assert state.total == 0 and state.rows == [] and state.vehicles == []


def _override(handler: str, *args):
    def case(w) -> None:
        state = state_of(StatesState, w.cookie)
        state.selected = "GA"
        run(state, handler, *args)
        assert "Alice" not in str(state.detail) and "Alice" not in str(state.rows)

    return case


CASES = {
    "GarageState.on_load": _garage("on_load"),
    "GarageState.edit_vehicle": _garage("edit_vehicle", "VEHICLE"),
    "GarageState.ask_delete": _garage("ask_delete", "VEHICLE"),
    "GarageState.delete_vehicle": _garage("delete_vehicle", "VEHICLE"),
    "GarageState.save_vehicle": _garage(
        "save_vehicle", {"nickname": "Bob's now", "speed_cap_mph": "150"}, editing=True
    ),
    "TripState.on_load": _trip_load,
    "TripState.refresh": _trip("refresh"),
    "TripState.rename": _trip("rename", {"name": "renamed by Bob"}),
    "TripState.set_vehicle": _trip("set_vehicle", NO_VEHICLE),
    "TripState.export_gpx": _trip("export_gpx"),
    "TripState.export_geojson": _trip("export_geojson"),
    "TripState.delete": _trip("delete"),
    "TripState.set_mode": _trip("set_mode", "cap"),
    "TripState.set_name_draft": _trip("set_name_draft", "x"),
    "TripsState.on_load": _trips_list,
    "StatesState.save_override": _override(
        "save_override", {"status": "legal", "note": "by Bob", "max_speed": "85"}
    ),
    "StatesState.remove_override": _override("remove_override"),
}


def _states():
    stack = list(rx.State.get_substates())
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if cls.__module__.startswith("kei_drive.pages"):
            yield cls


def _must_cover() -> set[str]:
    out = set()
    for cls in _states():
        for name, handler in cls.event_handlers.items():
            params = list(inspect.signature(handler.fn).parameters)[1:]
            if cls is TripState or any("id" in p for p in params):
                out.add(f"{cls.__name__}.{name}")
    return out - {"TripState.setvar"}


def test_every_handler_taking_an_id_has_a_case():
    missing = _must_cover() - set(CASES)
    assert not missing, f"add isolation cases for: {sorted(missing)}"


def test_bob_gets_nothing_of_alices_and_changes_nothing(world):
    before = snapshot(world.url)
    for name, case in CASES.items():
        case(world)
        assert snapshot(world.url) == before, f"{name} changed Alice's data"


def test_signed_out_events_see_nothing_and_private_actions_go_to_sign_in(world):
    anonymous = "other=1"
    state = state_of(TripState, anonymous, {"trip_id": str(world.trip)})
    run(state, "on_load")
    assert state.not_found and state.name != "Alice's secret trip"
    garage = state_of(GarageState, anonymous)
    run(garage, "on_load")
    assert garage.vehicles == []
    plan = state_of(PlanState, anonymous)
    assert run(plan, "start_plan") is not None and not plan.busy  # to the sign-in form
    before = snapshot(world.url)
    for handler in ("delete", "rename"):
        state.ref = str(world.trip)
        run(state, handler, *([{"name": "x"}] if handler == "rename" else []))
    assert snapshot(world.url) == before


def test_each_account_sees_and_edits_only_its_own_rule_overrides(world):
    """The States page reads the signed-in account's overrides from the database: Alice's
    GA override shows for her only; Bob's own override is his alone; signed out, neither."""

    def ga(cookie: str) -> str:
        state = state_of(StatesState, cookie)
        state.selected = "GA"
        run(state, "today")  # loads the rules on today's date, GA's detail open
        return f"{state.detail.status}{' (override)' if state.detail.overridden else ''}"

    assert ga(world.alice_cookie) == "legal (override)"
    assert ga(world.cookie) == "banned"  # Bob: the package rule
    bob = state_of(StatesState, world.cookie)
    bob.selected = "GA"
    run(bob, "save_override", {"status": "restricted", "note": "Bob's letter", "max_speed": "25"})
    assert (
        bob.flash == "Saved your override for GA." and ga(world.cookie) == "restricted (override)"
    )
    assert ga(world.alice_cookie) == "legal (override)"
    assert ga("other=1") == "banned"  # signed out: nobody's overrides
    with session(world.url) as s:
        assert ov.load_document(s, world.bob)["overrides"]["GA"]["note"] == "Bob's letter"
        assert ov.load_document(s, world.alice)["overrides"]["GA"]["note"] == "Alice's letter"
    anonymous = state_of(StatesState, "other=1")
    anonymous.selected = "GA"
    before = snapshot(world.url)
    assert run(anonymous, "remove_override") is not None  # to the sign-in form
    assert run(anonymous, "save_override", {"status": "legal", "note": "x"}) is not None
    assert snapshot(world.url) == before
    run(bob, "remove_override")
    assert ga(world.cookie) == "banned" and ga(world.alice_cookie) == "legal (override)"
