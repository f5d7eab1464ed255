"""``core.long_stops``: where a log that kept logging while the truck stood parked is cut."""

from __future__ import annotations

from kei_drive.core.long_stops import between_stops, long_stops, parked_fixes
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import analyze_track
from tests.support.trips import TrackBuilder


def _stops(builder: TrackBuilder, min_s: float = 1800.0):
    track = TrackArrays.from_points(builder.points)
    return track, long_stops(analyze_track(track), track.t, min_s)


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
    assert long_stops(analyze_track(untimed), untimed.t, 1800.0) == []
