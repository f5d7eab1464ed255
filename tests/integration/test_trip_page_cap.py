"""The trip page after the vehicle's cap changed: its figures and its map/chart agree."""

from __future__ import annotations

import pytest

from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.pages.trip_detail.state import read_trip
from kei_drive.services.trips import finish_trip
from tests.support.trips import TrackBuilder

UUID = "6f1c1a44-0000-4000-8000-0000000000d1"


def test_the_page_reads_time_above_the_cap_its_map_draws_before_the_sweeper_runs(
    tmp_path, monkeypatch
):
    """The Garage's cap changed 45 -> 35 mph: the page said "0 s above cap (45 mph)" beside
    a chart whose cap line was at 35 with the speed above it."""
    url = f"sqlite:///{tmp_path / 'kd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    track = TrackBuilder().start().drive(3_000, 18.0)  # 40 mph
    with app_session(url) as s:
        vehicle = q.create_vehicle(s, "Hijet", speed_cap_mph=45)
        uid, vid = vehicle.user_id, vehicle.id
        trip, _ = q.ensure_trip(s, UUID, vehicle_id=vid)
        q.add_points(
            s,
            trip,
            [
                q.PointIn(f"p{i}", round(p.time.timestamp() * 1000), p.lat, p.lon, 5.0)
                for i, p in enumerate(track.points)
            ],
        )
        finish_trip(s, trip)
        trip_id = trip.id
    trip, stats, cap, *_ = read_trip(str(trip_id), None, uid)
    assert stats["over_cap_s"] == 0 and cap == pytest.approx(45 * 0.44704)
    # the cap unchanged: the stored figures as they are (road-measured time included); the
    # statistics' cap, rounded to 3 decimals, read as another cap at 45 mph
    assert stats == trip.stats
    with app_session(url) as s:
        q.update_vehicle(s, vid, uid, speed_cap_mph=35)
    _, stats, cap, *_ = read_trip(str(trip_id), None, uid)
    assert cap == pytest.approx(35 * 0.44704)
    assert stats["cap_mps"] == pytest.approx(cap)
    assert stats["over_cap_s"] == pytest.approx(3_000 / 18.0, abs=3)


def test_a_sparse_trips_chart_and_map_show_what_its_roads_held(tmp_path, monkeypatch):
    """A tracker every 60 s whose steps the engine measured along the road: the page said
    "max 52 mph, 2 min above the cap" beside a chart peaking at 34.7 mph (its lines) and a
    cap map with nothing above the cap (review)."""
    from kei_drive.core.gap_roads import gap_key, with_roads_across_gaps
    from kei_drive.core.trips import compute_stats
    from kei_drive.db.models import Trip

    url = f"sqlite:///{tmp_path / 'kd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    track = TrackBuilder(interval_s=60.0).start().drive(7_200, 12.0)  # lines at 27 mph
    with app_session(url) as s:
        vehicle = q.create_vehicle(s, "Hijet", speed_cap_mph=45)
        uid = vehicle.user_id
        trip, _ = q.ensure_trip(s, UUID, vehicle_id=vehicle.id)
        q.add_points(
            s,
            trip,
            [
                q.PointIn(f"p{i}", round(p.time.timestamp() * 1000), p.lat, p.lon, 5.0)
                for i, p in enumerate(track.points)
            ],
        )
        finish_trip(s, trip)
        stats = compute_stats(q.trip_arrays(s, trip.id), cap_mps=45 * 0.44704)
        fast = {gap_key(g): 2.0 * g.distance_m for g in stats.road_steps[3:6]}  # 54 mph
        stored = s.get(Trip, trip.id)
        stored.stats = with_roads_across_gaps(stats, fast).to_dict()  # as the engine's sweep
        s.add(stored)
        s.commit()
        trip_id = trip.id
    _, stats, _, _, view, _ = read_trip(str(trip_id), None, uid)
    assert stats["max_speed_mps"] / 0.44704 == pytest.approx(53.7, abs=0.2)
    assert stats["over_cap_s"] == pytest.approx(180.0)
    peak = max(p["mph"] for p in view.chart if p["mph"] is not None)
    assert peak == pytest.approx(stats["max_speed_mps"] / 0.44704, abs=0.1)
    labels = [f["properties"].get("label") for f in view.cap_geojson["features"]]
    assert "above cap" in labels
    # the cap changed, not yet measured again: the row counts the steps the map draws over
    # it (it read 0 s beside two stretches above the cap; diff review)
    with app_session(url) as s:
        q.update_vehicle(s, stored.vehicle_id, uid, speed_cap_mph=40)
    _, stats, cap, _, view, _ = read_trip(str(trip_id), None, uid)
    assert cap == pytest.approx(40 * 0.44704)
    assert stats["over_cap_s"] == pytest.approx(180.0)
    labels = [f["properties"].get("label") for f in view.cap_geojson["features"]]
    assert "above cap" in labels
