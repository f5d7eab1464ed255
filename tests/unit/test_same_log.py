"""A log written twice, or a part of it again (``core.same_log``)."""

from __future__ import annotations

import numpy as np

from kei_drive.core.same_log import is_part_of, repeated_parts, runs_outside, shared_span
from kei_drive.core.track import TrackArrays


def log(n: int = 60, north_m: float = 0.0, t0: float = 1.7e9) -> TrackArrays:
    lat = 39.3 + (np.arange(n) * 12.0 + north_m) / 111_195
    lon = np.full(n, -76.6)
    return TrackArrays.from_columns(lat, lon, t0 + np.arange(n, dtype=float))


def test_a_thinned_or_rounded_part_is_part_of_the_log_and_a_convoy_is_not():
    drive = log()
    part = drive.take(np.arange(5, 40, 3))
    rounded = TrackArrays.from_columns(np.round(part.lat, 5), np.round(part.lon, 5), part.t)
    assert is_part_of(part, drive) and is_part_of(rounded, drive)
    assert not is_part_of(drive, part)  # the whole is not a part of its part
    assert not is_part_of(log(north_m=25.0).take(np.arange(10)), drive)  # 25 m beside it
    assert not is_part_of(log(t0=1.7e9 + 0.5).take(np.arange(10)), drive)  # other instants
    untimed = TrackArrays.from_columns(part.lat, part.lon)
    assert not is_part_of(untimed, drive)


def test_repeated_parts_keep_the_first_copy_and_the_whole():
    drive, other = log(), log(t0=1.7e9 + 3600)
    thinned = drive.take(np.arange(0, 60, 2))
    assert repeated_parts([thinned, drive, other]) == [0]
    assert repeated_parts([drive, drive, other]) == [1]
    assert repeated_parts([drive, other]) == []


def test_a_2_hz_log_with_whole_second_stamps_written_twice_is_one_log():
    """Two fixes to a second (a 2 Hz logger's whole-second stamps) at 25 m/s: the second fix
    of a stamp is 12 m from the first, so each fix is compared with every fix of its
    instant, not the first one only."""
    n = 120
    along = np.arange(n) * 12.5
    lat = 39.3 + along / 111_195
    t = 1.7e9 + np.floor(np.arange(n) / 2)
    drive = TrackArrays.from_columns(lat, np.full(n, -76.6), t)
    copy = TrackArrays.from_columns(np.round(lat, 6), np.full(n, -76.6), t)
    assert is_part_of(drive, drive) and is_part_of(copy, drive)
    assert repeated_parts([drive, copy]) == [1]


def test_the_span_a_stored_part_shares_with_the_log_and_what_is_left_around_it():
    drive = log()
    thinned = drive.take(np.arange(10, 31, 2))  # a thinned copy of the middle, stored first
    span = shared_span(drive, thinned)
    assert span == (drive.t[10], drive.t[30])
    runs = runs_outside(drive.t, [span])
    assert [(r.start, r.stop) for r in runs] == [(0, 11), (30, 60)]  # meeting it at its ends
    assert shared_span(drive, log(north_m=25.0).take(np.arange(10, 30))) is None  # beside it
    assert shared_span(drive, log(t0=1.7e9 + 0.5).take(np.arange(10, 30))) is None  # instants
    sparse = drive.take(np.array([10, 20, 30]))  # 3 of 21 fixes there: another log's
    rest = log(north_m=500.0).take(np.arange(10, 31))
    mixed = TrackArrays.from_columns(
        np.concatenate((sparse.lat, rest.lat)),
        np.concatenate((sparse.lon, rest.lon)),
        np.concatenate((sparse.t, rest.t + 0.25)),
    )
    assert shared_span(drive, mixed) is None


def test_two_trucks_parked_on_one_wifi_position_then_apart_share_no_span():
    parked = log(n=40)
    parked.lat[:] = parked.lat[0]
    a = TrackArrays.from_columns(
        np.concatenate((parked.lat, log(n=40, north_m=12.0).lat)),
        np.concatenate((parked.lon, log(n=40).lon)),
        1.7e9 + np.arange(80, dtype=float),
    )
    b = TrackArrays.from_columns(
        np.concatenate((parked.lat, 2 * parked.lat[0] - log(n=40, north_m=12.0).lat)),
        np.concatenate((parked.lon, log(n=40).lon)),
        a.t,
    )
    assert shared_span(a, b) is None and shared_span(b, a) is None
    assert shared_span(a, a.take(np.arange(30, 60))) == (a.t[30], a.t[59])
    assert runs_outside(a.t, []) == [slice(0, 80)]
    # b drives in and parks where a stands, until its log ends: a standing stretch alone
    # shares nothing (a stored, then b: b's parked minutes are b's)
    arrive = TrackArrays.from_columns(
        np.concatenate((2 * parked.lat[0] - log(n=40, north_m=12.0).lat[::-1], parked.lat)),
        np.concatenate((log(n=40).lon, parked.lon)),
        a.t - 40,
    )
    assert shared_span(arrive, a) is None


def test_spans_of_fast_loggers_unordered_logs_and_untimed_fixes():
    drive = log(n=300)
    stamps = np.floor((drive.t - drive.t[0]) / 3) + drive.t[0]  # 3 Hz, whole-second stamps
    fast = TrackArrays.from_columns(drive.lat, drive.lon, stamps)
    assert shared_span(fast, fast.take(np.arange(60, 150))) == (stamps[60], stamps[149])
    # two devices' segments in one track, in file order: never cut
    other = log(n=300, north_m=3_000.0)
    both = TrackArrays.from_columns(
        np.concatenate((drive.lat, other.lat)),
        np.concatenate((drive.lon, other.lon)),
        np.concatenate((drive.t, other.t)),
    )
    assert shared_span(both, drive) is None
    # an untimed fix between two shared ones is shared; times finer than the stored ms
    t = drive.t + 0.0004
    t[150:160] = np.nan
    runs = runs_outside(t, [shared_span(drive, drive.take(np.arange(100, 200)))])
    assert [(r.start, r.stop) for r in runs] == [(0, 101), (199, 300)]
