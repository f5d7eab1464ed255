"""A stored trip's highway use follows the current rules (``core.trips.HIGHWAY_RULES``): the
sweeper (``services.ingest.refresh_outdated_highway_use``) and ``kei-drive trips recheck``
judge again, from the stored fixes, trips that older rules judged or no engine looked at,
on a real database and the real engine on the synthetic motorway network."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import to_gpx
from kei_drive.core.trips import HIGHWAY_RULES
from kei_drive.db import migrate, session
from kei_drive.db import queries as q
from kei_drive.db.models import Trip
from kei_drive.routing.highway_use import NO_TILES_NOTE
from kei_drive.services import ingest
from kei_drive.services import trips as trip_service
from tests.integration.test_ingest_service import DEVICE, commute, points
from tests.integration.test_track_matching import VIA_MOTORWAY
from tests.support.osm_synth import synth_tiles
from tests.support.trips import T0, drive_path, fresh_db_url

pytestmark = pytest.mark.usefixtures("no_engine")


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    return synth_tiles(tmp_path_factory)


@pytest.fixture
def no_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = fresh_db_url(request.param, tmp_path)
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    return url, uid


def with_engine(monkeypatch, tiles) -> None:
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tiles))


def import_motorway_drive(db, tmp_path, day: int = 0) -> int:
    """An imported drive up a ramp, along I 99 and down the other ramp (``day`` days later
    than the first, so that it is not the same log)."""
    url, uid = db
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5, t0=T0 + timedelta(days=day))
    gpx = tmp_path / f"motorway{day}.gpx"
    gpx.write_text(to_gpx(fixes))
    with session(url) as s:
        ((trip, _stats),) = trip_service.import_gpx(s, gpx, user_id=uid)
        return trip.id


def stored(db, trip_id: int) -> Trip:
    with session(db[0]) as s:
        trip = s.get(Trip, trip_id)
        s.expunge(trip)
        return trip


def as_older_code_stored_it(db, trip_id: int, rules: int | None, use: bool | None) -> None:
    with session(db[0]) as s:
        trip = s.get(Trip, trip_id)
        trip.highway_rules, trip.highway_use = rules, use
        trip.stats = {k: v for k, v in trip.stats.items() if k != "highway_use_note"}
        s.add(trip)


def test_an_interstate_drive_older_rules_read_legal_is_judged_again_once(
    db, tmp_path, tiles, monkeypatch
):
    with_engine(monkeypatch, tiles)
    trip_id = import_motorway_drive(db, tmp_path)
    trip = stored(db, trip_id)
    assert trip.highway_use is True and trip.highway_rules == HIGHWAY_RULES
    with session(db[0]) as s:
        assert q.outdated_highway_use(s, 10**9) == []  # judged by these rules already

    as_older_code_stored_it(db, trip_id, rules=None, use=False)  # before the rules were versioned
    assert ingest.finish_idle(db[0], now_ms=0) == []  # the server's minute
    trip = stored(db, trip_id)
    assert trip.highway_use is True and trip.highway_rules == HIGHWAY_RULES
    assert ingest.refresh_outdated_highway_use(db[0]) == []  # once

    as_older_code_stored_it(db, trip_id, rules=HIGHWAY_RULES - 1, use=False)  # older rules
    assert ingest.refresh_outdated_highway_use(db[0]) == [trip_id]
    assert stored(db, trip_id).highway_use is True


def test_a_trip_stored_without_tiles_waits_for_them(db, tmp_path, tiles, monkeypatch):
    trip_id = import_motorway_drive(db, tmp_path)  # no tiles installed yet
    trip = stored(db, trip_id)
    assert trip.highway_use is None and trip.highway_rules is None
    assert trip.stats["highway_use_note"] == NO_TILES_NOTE
    assert ingest.refresh_outdated_highway_use(db[0]) == []  # still none: nothing asked
    assert stored(db, trip_id).stats["highway_use_note"] == NO_TILES_NOTE

    with_engine(monkeypatch, tiles)  # kei-drive tiles build
    assert ingest.refresh_outdated_highway_use(db[0]) == [trip_id]
    trip = stored(db, trip_id)
    assert trip.highway_use is True and trip.highway_rules == HIGHWAY_RULES
    assert "highway_use_note" not in trip.stats


def test_an_unreachable_routing_server_changes_nothing(db, tmp_path, tiles, monkeypatch):
    with_engine(monkeypatch, tiles)
    trip_id = import_motorway_drive(db, tmp_path)
    as_older_code_stored_it(db, trip_id, rules=None, use=True)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("KEI_DRIVE_VALHALLA_URL", f"http://127.0.0.1:{port}")
    assert ingest.refresh_outdated_highway_use(db[0]) == []
    trip = stored(db, trip_id)
    assert trip.highway_use is True and trip.highway_rules is None  # kept, asked again later
    assert "highway_use_note" not in trip.stats


def test_a_trip_the_engine_fails_on_keeps_its_answer_and_is_not_retried(
    db, tmp_path, tiles, monkeypatch
):
    from kei_drive.routing import highway_use

    with_engine(monkeypatch, tiles)
    ids = [import_motorway_drive(db, tmp_path, day) for day in (0, 1)]
    for trip_id in ids:
        as_older_code_stored_it(db, trip_id, rules=None, use=True)
    real = highway_use.highway_use_and_note
    calls = []

    def failing_first(fixes):
        calls.append(len(fixes))
        if len(calls) == 1:
            raise MemoryError("a trip too big for this machine")
        return real(fixes)

    monkeypatch.setattr(highway_use, "highway_use_and_note", failing_first)
    assert ingest.refresh_outdated_highway_use(db[0]) == [ids[1]]
    assert stored(db, ids[0]).highway_use is True  # its answer stands
    with session(db[0]) as s:
        assert q.outdated_highway_use(s, 10**9) == []  # not tried again every minute


def test_a_trip_waiting_for_its_finish_check_is_left_to_it(db, tiles, monkeypatch):
    with_engine(monkeypatch, tiles)
    url, uid = db
    pts = points(commute())
    with session(url) as s:  # finished; the engine's part comes after the commit
        ingest.record_fixes(s, uid, DEVICE, "owntracks", pts, now_ms=pts[-1].time_ms)
        (trip_id,) = ingest.finished_in(s)
    with session(url) as s:
        assert q.outdated_highway_use(s, 10**9) == []
    ingest.complete_finished(url, [trip_id])
    trip = stored(db, trip_id)  # judged (outside the synthetic map: unknown, saying why)
    assert trip.highway_rules == HIGHWAY_RULES
    assert "outside the installed map data" in trip.stats["highway_use_note"]


def test_trips_recheck_brings_the_history_up_to_date(tmp_path, tiles, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    db = (url, uid)
    trip_id = import_motorway_drive(db, tmp_path)  # no tiles: waits

    assert main(["trips", "recheck"]) == 0
    out = capsys.readouterr().out
    assert "highway use judged again: 0 trip(s)" in out
    assert "1 trip(s) wait for a routing engine" in out

    with_engine(monkeypatch, tiles)
    assert main(["trips", "recheck", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"stats": 0, "highway_use": 1, "waiting": 0}
    assert stored(db, trip_id).highway_use is True


def test_late_fixes_onto_the_interstate_after_stop_are_judged(tmp_path, tiles, monkeypatch):
    """The phone's queue arrives after Stop (no signal on the way): the Drive-screen trip had
    been judged on its first fixes, along a grid street; the late ones go up the ramp and
    along I 99, and the sweep judges the whole track again."""
    from starlette.testclient import TestClient

    from kei_drive.api import api

    with_engine(monkeypatch, tiles)
    url = f"sqlite:///{tmp_path / 'kei.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    migrate(url)
    fixes, _ = drive_path(VIA_MOTORWAY, 20.0, accuracy_m=5)
    sent = [
        {"id": f"f{i}", "t": round(p.time.timestamp() * 1000), "lat": p.lat, "lon": p.lon}
        | {"acc": 5.0}
        for i, p in enumerate(fixes)
    ]
    on_the_street = 25  # 500 m of the 556 m before the on-ramp
    trip = "0b6f4c1e-7d1a-4c55-9a39-5f3c7a1d2e10"
    with TestClient(api) as client:
        client.put(f"/api/v1/trips/{trip}", json={})
        client.post(f"/api/v1/trips/{trip}/points", json={"points": sent[:on_the_street]})
        assert client.post(f"/api/v1/trips/{trip}/finish").json()["trip"]["highway_use"] is False
        late = client.post(f"/api/v1/trips/{trip}/points", json={"points": sent[on_the_street:]})
        assert late.json()["accepted"] == len(sent) - on_the_street
        assert client.get(f"/api/v1/trips/{trip}").json()["highway_use"] is False  # not yet
        assert ingest.finish_idle(url) == []  # the server's minute
        assert client.get(f"/api/v1/trips/{trip}").json()["highway_use"] is True


def test_a_sparse_log_stored_without_tiles_is_measured_along_the_road_by_the_sweep(
    db, tmp_path, tiles, monkeypatch
):
    """A 60 s logger's trip imported before the tiles were built keeps its straight lines
    (every corner of the street grid cut); the engine's sweep measures its steps along the
    road once there is an engine, as a trip imported then would be."""
    from tests.integration.test_sparse_steps import sparse_drive

    url, uid = db
    fixes, length = sparse_drive()
    gpx = tmp_path / "tracker.gpx"
    gpx.write_text(to_gpx(fixes))
    with session(url) as s:
        ((trip, _stats),) = trip_service.import_gpx(s, gpx, user_id=uid)
        trip_id = trip.id
    lines = stored(db, trip_id).stats
    assert lines["distance_m"] < 0.9 * length and "road_steps" not in lines

    with_engine(monkeypatch, tiles)
    assert ingest.refresh_outdated_highway_use(url) == [trip_id]
    trip = stored(db, trip_id)
    assert trip.highway_rules == HIGHWAY_RULES and trip.highway_use is False
    assert trip.stats["distance_m"] == pytest.approx(length, rel=0.03)
    assert len(trip.stats["road_steps"]) >= 7
    assert ingest.refresh_outdated_highway_use(url) == []  # once
