"""The noise a 3-5 s log without accuracy shows (``core.track_noise.sparse_smoothing_noise_m``):
told from a winding road by how second differences alternate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kei_drive.core.track import TrackArrays
from kei_drive.core.track_noise import _alternating_noise_m, sparse_smoothing_noise_m
from tests.support.trips import drive_path

# A winding road: 400 m legs turning 60 degrees, right and left (a grid's corners are sharper).
WINDING = [(41.95, -77.03)]
for k in range(12):
    heading = np.radians(30 if k % 2 else -30)
    lat, lon = WINDING[-1]
    WINDING.append((lat + 400 * np.cos(heading) / 111_195, lon + 400 * np.sin(heading) / 82_700))


def _log(noise_m: float, every_s: float, speed: float = 8.0, seed: int = 1) -> TrackArrays:
    fixes, _ = drive_path(WINDING, speed, interval_s=every_s, noise_m=noise_m, seed=seed)
    return TrackArrays.from_points(fixes)


@pytest.mark.parametrize("every_s", [3.0, 5.0])
def test_white_noise_is_told_from_the_roads_bends(every_s):
    assert _alternating_noise_m(_log(0.0, every_s)) < 1.0
    assert 10.0 < _alternating_noise_m(_log(15.0, every_s)) < 17.0
    assert 20.0 < _alternating_noise_m(_log(30.0, every_s)) < 33.0


def test_a_3_s_log_with_30_m_of_noise_is_smoothed_by_it_within_150_m_of_road():
    noise = sparse_smoothing_noise_m(_log(30.0, 3.0), 5.0)
    assert 5.0 < float(np.median(noise)) <= 5.0 * np.sqrt(2 * 6 + 1)  # 24 m steps: +-6 fixes


@pytest.mark.parametrize(
    ("track", "why"),
    [
        (_log(0.0, 3.0), "no noise shows"),
        (_log(5.0, 3.0), "no more than assumed"),
        (_log(30.0, 10.0), "fixes 10 s apart"),
        (_log(30.0, 1.0), "a dense log (its own estimate)"),
        (_log(30.0, 5.0, speed=25.0), "a car's 125 m steps: its bends alternate too"),
        (replace(_log(30.0, 3.0), accuracy=np.full(len(_log(30.0, 3.0)), 30.0)), "a claim"),
    ],
)
def test_the_noise_assumed_stands_where_the_log_cannot_tell_or_says(track, why):
    assert np.all(sparse_smoothing_noise_m(track, 5.0) == 5.0), why
