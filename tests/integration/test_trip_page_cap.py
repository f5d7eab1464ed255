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
