"""``core.long_stops``: where a log that kept logging while the truck stood parked is cut."""

from __future__ import annotations

import numpy as np

from kei_drive.core.long_stops import between_stops, long_stops, parked_fixes
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import analyze_track
from tests.support.trips import M_PER_DEG_LAT, TrackBuilder


def _stops(builder: TrackBuilder, min_s: float = 1800.0):
    track = TrackArrays.from_points(builder.points)
    return track, long_stops(analyze_track(track), track, min_s)


def test_a_long_stop_is_found_from_arrival_to_departure():
    b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=3).start()
    b.drive(8_000, 12.0).stop(6 * 3600, jitter_m=5.0)
    arrived_at = len(b.points) - 6 * 60 - 1  # the fix where the drive ended
    left_at = len(b.points) - 1
    b.drive(8_000, 12.0, north=False)
    track, stops = _stops(b)
    (stop,) = stops
    # the statistics' own standing fixes: within two fixes of the true ends
    assert abs(stop.arrived - arrived_at) <= 2 and abs(stop.left - left_at) <= 2
    assert 6 * 3600 - 240 <= stop.seconds <= 6 * 3600
    first, second = between_stops(len(track), stops)
    assert (first.start, first.stop, second.start, second.stop) == (
        0,
        stop.arrived + 1,
        stop.left,
        len(track),
    )
    assert parked_fixes(len(track), stops) == stop.left - stop.arrived - 1


def test_a_stop_shorter_than_the_pause_is_not_cut():
    b = TrackBuilder(interval_s=1.0, seed=4).start().drive(3_000, 12.0).stop(20 * 60)
    _track, stops = _stops(b.drive(3_000, 12.0))
    assert stops == []
    _track, stops = _stops(b, min_s=10 * 60)
    assert len(stops) == 1


def test_a_glitch_while_parked_does_not_break_the_stop():
    b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=5).start().drive(5_000, 10.0)
    b.stop(3 * 3600, jitter_m=5.0).glitch(41.0, -105.0).stop(3 * 3600, jitter_m=5.0)
    _track, stops = _stops(b.drive(5_000, 10.0))
    (stop,) = stops
    assert stop.seconds > 6 * 3600 - 300


def test_an_untimed_log_has_no_stops():
    b = TrackBuilder(seed=6).start().drive(2_000, 10.0).stop(3600).drive(2_000, 10.0)
    track = TrackArrays.from_points(b.points)
    untimed = TrackArrays.from_columns(track.lat, track.lon)
    assert long_stops(analyze_track(untimed), untimed, 1800.0) == []


def _with_speed(builder: TrackBuilder, speed: list[float]) -> TrackArrays:
    track = TrackArrays.from_points(builder.points)
    return TrackArrays.from_columns(
        track.lat, track.lon, t=track.t, accuracy=track.accuracy, speed=np.array(speed)
    )


def test_a_jump_while_parked_does_not_end_the_stop():
    """Two fixes 300 m off in the middle of eight hours parked (multipath) read as moving:
    the stop goes on through them (its halves made a trip of ~600 m of the jump)."""
    for seed in range(3):
        b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=seed).start().drive(8_000, 12.0)
        b.stop(4 * 3600, jitter_m=5.0)
        lat = b.lat
        b.lat += 300 / M_PER_DEG_LAT
        b.stop(120, jitter_m=5.0)
        b.lat = lat
        b.stop(4 * 3600, jitter_m=5.0).drive(8_000, 12.0, north=False)
        _track, stops = _stops(b)
        assert len(stops) == 1 and stops[0].seconds > 8 * 3600 - 600


def test_jumps_a_few_minutes_apart_while_parked_do_not_end_the_stop():
    """Multipath comes in bursts: three fixes 300 m off, one back in place, two 400 m off,
    in the middle of eight hours parked. Each burst is a jump; together they were five
    fixes away, more than one jump's three, and the stop was cut in two around them."""
    for seed in range(3):
        b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=seed).start().drive(8_000, 12.0)
        b.stop(4 * 3600, jitter_m=5.0)
        home = b.lat
        for away_m, seconds in ((300.0, 180), (0.0, 60), (400.0, 120)):
            b.lat = home + away_m / M_PER_DEG_LAT
            b.stop(seconds, jitter_m=5.0)
        b.lat = home
        b.stop(4 * 3600, jitter_m=5.0).drive(8_000, 12.0, north=False)
        _track, stops = _stops(b)
        assert len(stops) == 1 and stops[0].seconds > 8 * 3600 - 600


def test_a_queue_creeping_up_is_driving_not_a_stop():
    """48 minutes of three minutes standing and 25 m rolled, at a fix a minute: every fix
    reads as standing, but the queue moved 400 m."""
    b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=1).start().drive(8_000, 12.0)
    for _ in range(16):
        b.stop(180, jitter_m=5.0).drive(25, 2.0)
    _track, stops = _stops(b.drive(8_000, 12.0))
    assert stops == []


def test_a_crawl_a_phone_reads_as_standing_is_not_a_stop():
    """45 minutes at 1 m/s, from a phone claiming 30 m: standing for the statistics (its
    steps are within the claimed error), 2.7 km for the driver."""
    b = TrackBuilder(interval_s=1.0, accuracy_m=30.0, seed=2).start().drive(5_000, 12.0)
    b.drive(2_700, 1.0, jitter_m=3.0).drive(5_000, 12.0)
    _track, stops = _stops(b)
    assert stops == []


def test_standing_fixes_far_apart_are_two_stops():
    """A 2 min tracker whose two fixes of a 1.1 km move both read a speed of 0 (taken at
    red lights): the parks either side are two stops, and the move is a drive between."""
    b = TrackBuilder(interval_s=120.0, accuracy_m=5.0, seed=0).start().drive(8_000, 12.0)
    speed = [0.0] + [12.0] * (len(b.points) - 1)
    for step in (lambda: b.stop(3 * 3600), lambda: b.drive(1_100, 5.3), lambda: b.stop(3 * 3600)):
        step()
        speed += [0.0] * (len(b.points) - len(speed))
    b.drive(8_000, 12.0)
    speed += [12.0] * (len(b.points) - len(speed))
    track = _with_speed(b, speed)
    stops = long_stops(analyze_track(track), track, 1800.0)
    assert len(stops) == 2
    first, moved, _last = between_stops(len(track), stops)
    assert analyze_track(track.take(moved)).stats.distance_m > 900


def test_a_stop_begins_where_the_truck_came_to_rest():
    """A queue (40 m rolled every two minutes, at a fix a minute) before 45 minutes parked at
    a closed road: the queue belongs to the drive before the stop, though its last fixes
    read as standing."""
    for seed in (3, 4):
        b = TrackBuilder(interval_s=60.0, accuracy_m=None, seed=seed).start().drive(6_000, 12.0)
        for _ in range(6):
            b.stop(120, jitter_m=4.0).drive(40, 2.0)
        parked_from = len(b.points) - 1
        b.stop(45 * 60, jitter_m=4.0).drive(6_000, 12.0)
        _track, stops = _stops(b)
        (stop,) = stops
        assert abs(stop.arrived - parked_from) <= 3
