"""Long tracks are thinned for drawing; statistics stay those of every fix."""

from __future__ import annotations

import numpy as np

from kei_drive.core.thinning import display_indices, thin_for_display
from kei_drive.core.track import TrackArrays
from kei_drive.core.trips import analyze_track
from kei_drive.core.units import mph_to_mps
from tests.support.trips import TrackBuilder


def long_track() -> TrackArrays:
    builder = TrackBuilder().start()
    for _ in range(5):
        builder.drive(20_000, 25.0).hidden(3600, 20.0).drive(15_000, 12.0)
    return TrackArrays.from_points(builder.points)


def test_a_long_track_is_drawn_with_few_points_keeping_cuts_and_colour_edges():
    track = long_track()
    cap = mph_to_mps(45)  # 25 m/s is over, 12 m/s under: many colour edges
    full = analyze_track(track, cap, with_states=False)
    assert full.used.sum() > 5000 and full.breaks_after.size >= 5
    points, thin = thin_for_display(track, full, max_points=1000)
    assert 500 < len(points) <= 1100  # evenly spread, plus the cut and colour edges
    assert thin.stats is full.stats  # figures from every fix
    assert thin.breaks_after.size == full.breaks_after.size  # every gap still a gap
    idx = display_indices(full, 1000)
    flips_full = np.count_nonzero(np.diff(full.over_cap[np.flatnonzero(full.used)].astype(int)))
    assert np.count_nonzero(np.diff(thin.over_cap.astype(int))) == flips_full
    assert idx[0] == np.flatnonzero(full.used)[0] and idx[-1] == np.flatnonzero(full.used)[-1]


def test_a_short_track_is_drawn_whole():
    track = TrackArrays.from_points(TrackBuilder().start().drive(3000, 15.0).points)
    full = analyze_track(track, None, with_states=False)
    points, thin = thin_for_display(track, full)
    assert len(points) == int(full.used.sum())
    assert np.array_equal(thin.speed_mps, full.speed_mps[full.used])
