"""A sparse log's steps count along the road between its fixes (``core.trips._road_steps``,
``core.gap_roads``): a 60 s logger up a staircase of the synthetic street grid cuts every
corner between its fixes, ~20 % short in straight lines."""

from __future__ import annotations

import json

import pytest

from kei_drive.cli import main
from kei_drive.core.gpx import TrackPoint, to_gpx
from kei_drive.core.trips import compute_stats
from tests.support.osm_synth import GRID_LATS, GRID_LONS, synth_tiles
from tests.support.trips import drive_path

SPEED_MPS = 10.0
LOGGER_S = 60.0


@pytest.fixture(scope="module")
def tiles_env(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEI_DRIVE_TILES", str(synth_tiles(tmp_path_factory)))
        patch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
        yield


def staircase() -> list[tuple[float, float]]:
    """East one block, north one block, ... across the grid (every leg a street)."""
    points = [(GRID_LATS[1], GRID_LONS[1])]
    for k in range(2, 8):
        points.append((GRID_LATS[k - 1], GRID_LONS[k]))
        points.append((GRID_LATS[k], GRID_LONS[k]))
    return points


def sparse_drive() -> tuple[list[TrackPoint], float]:
    return drive_path(staircase(), SPEED_MPS, interval_s=LOGGER_S, noise_m=4.0, seed=5)


def import_and_show(tmp_path, capsys, fixes) -> tuple[dict, str]:
    gpx = tmp_path / "sparse.gpx"
    gpx.write_text(to_gpx(fixes, name="Tracker"))
    assert main(["trips", "import", str(gpx), "--json"]) == 0
    (trip,) = json.loads(capsys.readouterr().out)["trips"]
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["trips", "show", str(trip["id"])]) == 0
    return shown.get("trip", shown), capsys.readouterr().out


def test_a_sparse_logs_steps_count_along_the_road(tiles_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    fixes, length = sparse_drive()
    chords = compute_stats(fixes)
    assert chords.distance_m < 0.9 * length  # every corner cut: what straight lines give
    assert len(chords.road_steps) >= 7 and not chords.gaps  # steps, not gaps in recording
    assert "road_steps" not in chords.to_dict()  # nothing measured: nothing stored

    trip, text = import_and_show(tmp_path, capsys, fixes)
    stats = trip["stats"]
    assert stats["distance_m"] == pytest.approx(length, rel=0.03)
    assert stats["avg_moving_speed_mps"] == pytest.approx(SPEED_MPS, rel=0.05)
    assert stats["max_speed_mps"] >= stats["avg_moving_speed_mps"]
    steps = stats["road_steps"]
    assert len(steps) >= 7 and all(s["road_m"] >= s["distance_m"] for s in steps)
    assert stats["gaps"] == []
    assert "along the shortest road between fixes" in text

    # computed again (another cap, a new vehicle) from the fixes: the roads are kept
    from kei_drive.db import app_session
    from kei_drive.db import queries as q

    with app_session() as s:
        q.refresh_stats(s, q.get_trip(s, trip["id"]))
        s.commit()
    assert main(["trips", "show", str(trip["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    kept = shown.get("trip", shown)["stats"]
    assert kept["distance_m"] == pytest.approx(stats["distance_m"], abs=0.5)  # roads kept to 0.1 m
    assert [s["road_m"] for s in kept["road_steps"]] == [s["road_m"] for s in steps]


def test_a_dense_log_has_no_steps_to_measure():
    fixes, _length = drive_path(staircase(), SPEED_MPS, interval_s=1.0, noise_m=4.0, seed=5)
    assert compute_stats(fixes).road_steps == ()


def test_without_tiles_a_sparse_log_keeps_its_straight_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KEI_DRIVE_TILES", str(tmp_path / "no-tiles"))
    monkeypatch.delenv("KEI_DRIVE_VALHALLA_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trips.db'}")
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    fixes, _length = sparse_drive()
    trip, text = import_and_show(tmp_path, capsys, fixes)
    assert "road_steps" not in trip["stats"]
    assert trip["stats"]["distance_m"] == pytest.approx(compute_stats(fixes).distance_m, rel=1e-6)
    assert "steps between fixes" not in text
