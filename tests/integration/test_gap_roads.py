"""A gap in recording counts along the shortest drivable road, not the straight line
(``core.gap_roads``, ``routing.gap_roads``): on the synthetic network's street grid a gap
over a corner is ~30 % longer by road than across."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kei_drive.cli import main
from kei_drive.core.gap_roads import gap_key
from kei_drive.core.gpx import TrackPoint, to_gpx
from kei_drive.core.trips import Gap, compute_stats
from kei_drive.routing.gap_roads import roads_across_gaps
from tests.support.osm_synth import synth_tiles
from tests.support.trips import T0, drive_path

# 2 Street east, then Avenue F north: the gap hides the corner at (41.955, -77.025).
ROUTE = [(41.955, -77.045), (41.955, -77.025), (41.975, -77.025)]
SPEED_MPS = 10.0
HIDDEN_M = (900.0, 2_230.0)  # along the route: 760 m before the corner to 570 m after it


@pytest.fixture(scope="module")
def tiles_env(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEI_DRIVE_TILES", str(synth_tiles(tmp_path_factory)))
        patch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
        yield


def corner_drive() -> tuple[list[TrackPoint], float]:
    """1 Hz fixes along ROUTE, the stretch HIDDEN_M missing (a locked screen)."""
    fixes, length = drive_path(ROUTE, SPEED_MPS, noise_m=2.0, accuracy_m=5.0, seed=3)
    gone = [HIDDEN_M[0] <= (p.time - T0).total_seconds() * SPEED_MPS <= HIDDEN_M[1] for p in fixes]
    return [p for p, hidden in zip(fixes, gone, strict=True) if not hidden], length


def import_json(tmp_path, capsys, fixes) -> dict:
    gpx = tmp_path / "corner.gpx"
    gpx.write_text(to_gpx(fixes, name="Corner"))
    assert main(["trips", "import", str(gpx), "--json"]) == 0
    (trip,) = json.loads(capsys.readouterr().out)["trips"]
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    return shown.get("trip", shown)


def test_a_gap_over_a_corner_counts_the_road_around_it(tiles_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    fixes, length = corner_drive()
    straight = compute_stats(fixes)
    (gap,) = straight.gaps
    assert straight.distance_m < 0.93 * length  # the corner cut: what the straight line gives

    trip = import_json(tmp_path, capsys, fixes)
    (stored,) = trip["stats"]["gaps"]
    assert stored["distance_m"] == pytest.approx(gap.distance_m, abs=0.1)
    assert stored["road_m"] == pytest.approx(HIDDEN_M[1] - HIDDEN_M[0], rel=0.05)
    assert trip["stats"]["distance_m"] == pytest.approx(length, rel=0.02)
    assert trip["stats"]["avg_moving_speed_mps"] > straight.avg_moving_speed_mps

    # the statistics computed again (another vehicle, a new cap) keep the road's length
    from kei_drive.db import app_session
    from kei_drive.db import queries as q

    with app_session() as s:
        q.refresh_stats(s, q.get_trip(s, trip["id"]))
        s.commit()
    assert main(["trips", "show", str(trip["id"])]) == 0
    text = capsys.readouterr().out
    assert "along the shortest road (counted)" in text
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    again = again.get("trip", again)["stats"]
    assert again["distance_m"] == trip["stats"]["distance_m"]
    assert again["gaps"] == trip["stats"]["gaps"]


def test_without_tiles_a_gap_stays_a_straight_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    fixes, _length = corner_drive()
    trip = import_json(tmp_path, capsys, fixes)
    (stored,) = trip["stats"]["gaps"]
    assert "road_m" not in stored
    assert trip["stats"]["distance_m"] == pytest.approx(compute_stats(fixes).distance_m, rel=1e-6)


def test_a_road_that_could_not_be_driven_in_the_gap_is_not_counted(tiles_env):
    """Across the corner in 20 s: the road (1.45 km) needs far longer at its speeds, so the
    fixes were not on it both times (a glitch, another vehicle's log): the line stays."""
    start, end = T0, T0 + timedelta(seconds=20)
    ends = (41.955, -77.0332, 41.9619, -77.025)
    quick = Gap(start, end, 20.0, 945.0, ends=ends)
    slow = Gap(start, end + timedelta(seconds=100), 120.0, 945.0, ends=ends)
    parked = Gap(start, end, 20.0, 5.0, ends=(41.955, -77.0332, 41.955, -77.03325))
    roads = roads_across_gaps([quick, slow, parked])
    assert list(roads) == [gap_key(slow)]  # in 2 minutes the road could be driven
    assert roads[gap_key(slow)] == pytest.approx(679 + 767, rel=0.03)


def test_a_recorded_trip_finished_counts_its_gap_along_the_road(tiles_env, tmp_path, monkeypatch):
    """The Drive screen's trip: the page was hidden over the corner; finishing it (the API)
    measures the gap on the road, and the trip page's Distance says how."""
    from starlette.testclient import TestClient

    from kei_drive.api import api
    from kei_drive.presenters.trips import stats_rows

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_SINGLE_USER", "1")
    client = TestClient(api)
    trip = "7f1b2c3d-0000-4000-8000-0000000000a1"
    fixes, length = corner_drive()
    t0 = 1_780_000_000_000
    points = [
        {
            "id": f"p{i}",
            "t": t0 + round((p.time - T0).total_seconds() * 1000),
            "lat": p.lat,
            "lon": p.lon,
            "acc": 5,
        }
        for i, p in enumerate(fixes)
    ]
    assert client.post(f"/api/v1/trips/{trip}/points", json={"points": points}).status_code == 200
    finished = client.post(f"/api/v1/trips/{trip}/finish", json={}).json()["trip"]
    assert finished["stats"]["distance_m"] == pytest.approx(length, rel=0.02)
    (gap,) = finished["stats"]["gaps"]
    distance = stats_rows(finished["stats"])[0]
    assert distance.label == "Distance"
    assert "along the shortest road across 1 gap in recording" in distance.value
    assert gap["road_m"] > 1.3 * gap["distance_m"]


def test_a_stop_with_the_screen_locked_is_not_bridged_by_a_drive(tiles_env):
    """An hour parked between two fixes 43 m apart, arriving eastbound and leaving
    westbound: the engine's road between them goes round the block (~2.5 km), but the truck
    stood (43 m in an hour is not driving, as its moving time says): the line stays."""
    start, end = T0, T0 + timedelta(hours=1)
    ends = (41.955, -77.0352, 41.955, -77.0347)
    parked = Gap(start, end, 3600.0, 43.0, ends=ends, headings=(90.0, 270.0))
    assert roads_across_gaps([parked]) == {}
    driven = Gap(
        start, start + timedelta(seconds=60), 60.0, 43.0, ends=ends, headings=(90.0, 270.0)
    )
    # moved: the loop round the block takes longer than the gap, and the truck may have
    # turned round, so it counts no more than the road without directions (the 43 m line)
    assert all(road < 50.0 for road in roads_across_gaps([driven]).values())


def test_a_loggers_trip_is_finished_with_the_engine_outside_the_write_lock(
    tiles_env, tmp_path, monkeypatch
):
    """A background logger's trip (OwnTracks, Overland...) is finished in the ingest
    transaction; the engine's part (highway use, gaps along the road) comes after its
    commit, so while the engine works another writer can write (map matching a long trip
    takes seconds: SQLite's busy timeout is 5 s)."""
    import sqlite3

    import kei_drive.routing as routing
    from kei_drive import config
    from kei_drive.db import migrate, session
    from kei_drive.db import queries as q
    from kei_drive.routing.valhalla_local import LocalValhallaRouter
    from kei_drive.services import ingest

    db_path = tmp_path / "trips.db"
    url = f"sqlite:///{db_path}"
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    probes: list[str] = []

    class WriterProbe(LocalValhallaRouter):
        """The real engine; before each request, another connection tries to write."""

        def _call(self, action, request):
            with sqlite3.connect(db_path, timeout=0.2) as other:
                try:
                    other.execute("BEGIN IMMEDIATE")
                    probes.append("free")
                except sqlite3.OperationalError as exc:
                    probes.append(str(exc))
            return super()._call(action, request)

        def lanes(self, count):
            return [WriterProbe(self.tiles_dir, own_engine=True) for _ in range(count)]

    monkeypatch.setattr(routing, "get_router", lambda *a, **k: WriterProbe(config.tiles_dir()))
    fixes, length = corner_drive()
    batch = [
        q.PointIn(str(i), round(p.time.timestamp() * 1000), p.lat, p.lon, p.accuracy_m)
        for i, p in enumerate(fixes)
    ]
    later = batch[-1].time_ms + 3_600_000  # the device went quiet: its trip is over
    ingest.ingest_batch(url, uid, "Sambar phone", "owntracks", batch, now_ms=later)
    ingest.finish_idle(url, now_ms=later)
    with session(url) as s:
        ((trip, _vehicle),) = q.list_trips(s, user_id=uid).items
    assert trip.recording_state == "finished"
    assert trip.highway_use is False  # the street grid: matched, no highway
    assert trip.stats["gaps"][0]["road_m"] > 1.3 * trip.stats["gaps"][0]["distance_m"]
    assert trip.distance_m == pytest.approx(length, rel=0.03)
    assert probes and set(probes) == {"free"}, probes


def test_a_trip_whose_engine_check_never_came_is_checked_by_the_sweeper(
    tiles_env, tmp_path, monkeypatch
):
    """The server stopped between finishing a logger's trip and asking the engine: the trip
    says so, and the once-a-minute sweeper of quiet devices checks it later."""
    from kei_drive.db import migrate, session
    from kei_drive.db import queries as q
    from kei_drive.services import ingest
    from kei_drive.services.trips import PENDING_NOTE

    url = f"sqlite:///{tmp_path / 'trips.db'}"
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    fixes, length = corner_drive()
    batch = [
        q.PointIn(str(i), round(p.time.timestamp() * 1000), p.lat, p.lon, p.accuracy_m)
        for i, p in enumerate(fixes)
    ]
    later = batch[-1].time_ms + 3_600_000
    with session(url) as s:  # the ingest transaction, and then the server stops
        ingest.record_fixes(s, uid, "Sambar phone", "owntracks", batch, now_ms=later)
        ingest.finish_idle_trips(s, now_ms=later)
    with session(url) as s:
        ((trip, _vehicle),) = q.list_trips(s, user_id=uid).items
    assert trip.recording_state == "finished" and trip.highway_use is None
    assert trip.stats["highway_use_note"] == PENDING_NOTE
    ingest.finish_idle(url)  # a minute later: too recent to call it lost
    with session(url) as s:
        assert q.get_trip(s, trip.id).stats["highway_use_note"] == PENDING_NOTE
    monkeypatch.setattr(ingest, "PENDING_RETRY_S", 0)
    ingest.finish_idle(url)
    with session(url) as s:
        trip = q.get_trip(s, trip.id)
    assert trip.highway_use is False and "highway_use_note" not in trip.stats
    assert trip.distance_m == pytest.approx(length, rel=0.03)  # its gap along the road


def test_an_engine_failure_after_the_commit_leaves_the_trip_saying_why(
    tiles_env, tmp_path, monkeypatch
):
    """The tiles vanish under the engine (rebuilt meanwhile): the logger's batch is stored
    and its trip finished; its highway use stays unknown, saying why, not "not yet"."""
    import kei_drive.routing as routing
    from kei_drive import config
    from kei_drive.db import migrate, session
    from kei_drive.db import queries as q
    from kei_drive.routing.valhalla_local import LocalValhallaRouter
    from kei_drive.services import ingest

    class Vanishing(LocalValhallaRouter):
        def _call(self, action, request):
            raise OSError("graph tile vanished")

        def lanes(self, count):
            return [Vanishing(self.tiles_dir, own_engine=True) for _ in range(count)]

    monkeypatch.setattr(routing, "get_router", lambda *a, **k: Vanishing(config.tiles_dir()))
    url = f"sqlite:///{tmp_path / 'trips.db'}"
    migrate(url)
    with session(url) as s:
        uid = q.local_user(s).id
    fixes, _length = corner_drive()
    batch = [
        q.PointIn(str(i), round(p.time.timestamp() * 1000), p.lat, p.lon, p.accuracy_m)
        for i, p in enumerate(fixes)
    ]
    later = batch[-1].time_ms + 3_600_000
    result = ingest.ingest_batch(url, uid, "Sambar phone", "owntracks", batch, now_ms=later)
    assert result.accepted == len(batch)
    ingest.finish_idle(url, now_ms=later)
    with session(url) as s:
        ((trip, _vehicle),) = q.list_trips(s, user_id=uid).items
    assert trip.recording_state == "finished" and trip.highway_use is None
    assert "could not check the track: graph tile vanished" in trip.stats["highway_use_note"]


def test_a_truck_that_turned_round_in_a_gap_is_not_sent_round_the_blocks(tiles_env):
    """A delivery stop in a sparse log: east along 2 Street, five minutes without a fix,
    then 414 m back west, heading west. Routed in those directions the road loops round the
    grid's blocks (drivable in five minutes, so it used to count); routed in any direction it
    is the street itself, which is what the truck drove at the least."""
    start = T0
    ends = (41.955, -77.030, 41.955, -77.035)
    stop = Gap(start, start + timedelta(minutes=5), 300.0, 414.0, ends=ends, headings=(90.0, 270.0))
    from kei_drive.routing import get_router
    from kei_drive.routing.gap_roads import gap_route_request

    looped = get_router().route(gap_route_request(stop))["trip"]["summary"]["length"] * 1000
    assert looped > 1.5 * 414.0  # what the directions alone gave
    (road,) = roads_across_gaps([stop]).values()
    assert road == pytest.approx(414.0, rel=0.05)


def test_fixes_far_from_any_road_are_not_joined_to_one(tiles_env):
    """Two fixes in the fields ~900 m north of PA 287 (nothing nearer): without a cutoff the
    engine snapped them to it and the trip page said "along the shortest road"."""
    start = T0
    ends = (41.948, -77.090, 41.948, -77.085)
    field = Gap(start, start + timedelta(seconds=120), 120.0, 414.0, ends=ends)
    assert roads_across_gaps([field]) == {}
