"""A log written twice, or a part of it again (``core.same_log``)."""

from __future__ import annotations

import numpy as np

from kei_drive.core.same_log import is_part_of, repeated_parts
from kei_drive.core.trips import TrackArrays


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
