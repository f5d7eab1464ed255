"""A big GPX import stores every fix exactly once, the same on SQLite (executemany) and
PostgreSQL (COPY), in chunks that leave nothing behind on failure."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa

from kei_drive.core.gpx import read_gpx_columns
from kei_drive.db import migrate, session, trip_import
from tests.support.trips import fresh_db_url

N = 12_345  # several commit chunks (IMPORT_COMMIT_ROWS), not a multiple of one
COLUMNS = "client_id, seq, time_ms, lat, lon, accuracy_m, speed_mps, heading_deg, altitude_m"


def big_gpx(path, n: int = N):
    """n fixes at 1 Hz heading north-east; every 7th has no elevation, every 11th a speed
    and course extension, every 13th no HDOP."""
    t0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC).timestamp()
    rows = []
    for i in range(n):
        stamp = datetime.fromtimestamp(t0 + i, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ele = "" if i % 7 == 0 else f"<ele>{100 + i % 50}.5</ele>"
        hdop = "" if i % 13 == 0 else "<hdop>0.9</hdop>"
        ext = (
            f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>{10 + i % 5}.25"
            f"</gpxtpx:speed><gpxtpx:course>{i % 360}</gpxtpx:course>"
            "</gpxtpx:TrackPointExtension></extensions>"
            if i % 11 == 0
            else ""
        )
        rows.append(
            f'<trkpt lat="{39.0 + i * 8e-5:.7f}" lon="{-77.0 + i * 6e-5:.7f}">{ele}'
            f"<time>{stamp}</time>{hdop}{ext}</trkpt>\n"
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">'
        f"<trk><name>Long</name><trkseg>\n{''.join(rows)}</trkseg></trk></gpx>\n"
    )
    return path


def _stored(url: str, trip_id: int) -> list[tuple]:
    with session(url) as s:
        return [
            tuple(r)
            for r in s.execute(
                sa.text(f"SELECT {COLUMNS} FROM track_points WHERE trip_id = :t ORDER BY seq"),
                {"t": trip_id},
            )
        ]


@pytest.fixture(scope="module")
def gpx_file(tmp_path_factory):
    return big_gpx(tmp_path_factory.mktemp("bulk") / "long.gpx")


@pytest.fixture(scope="module")
def sqlite_rows(gpx_file, tmp_path_factory):
    url = fresh_db_url("sqlite", tmp_path_factory.mktemp("sqlite"))
    migrate(url)
    with session(url) as s:
        ((trip, stats),) = trip_import.import_gpx(s, gpx_file)
        trip_id = trip.id
    return _stored(url, trip_id), stats


def test_sqlite_bulk_import_stores_every_fix_once(sqlite_rows, gpx_file):
    rows, stats = sqlite_rows
    (track,) = read_gpx_columns(gpx_file)
    (seg,) = track.segments
    assert len(rows) == N == stats.points
    assert [r[1] for r in rows] == list(range(N))  # seq
    assert len({r[0] for r in rows}) == N  # client ids unique
    lat = np.array([r[3] for r in rows])
    assert np.array_equal(lat, seg.lat)
    assert [r[2] for r in rows[:2]] == [round(seg.t[0] * 1000), round(seg.t[1] * 1000)]
    assert rows[0][8] is None and rows[1][8] == 101.5  # no <ele> on fix 0
    assert rows[0][5] is None and rows[1][5] == pytest.approx(0.9 * 5)  # HDOP -> metres
    assert rows[11][6] == 11.25 and rows[11][7] == 11 and rows[12][6] is None
    assert all(isinstance(r[2], int) for r in rows)


def test_postgresql_copy_stores_the_same_rows_as_sqlite(sqlite_rows, gpx_file, tmp_path):
    url = fresh_db_url("postgresql", tmp_path)
    migrate(url)
    with session(url) as s:
        ((trip, stats),) = trip_import.import_gpx(s, gpx_file)
        trip_id = trip.id
    rows = _stored(url, trip_id)
    expected, sqlite_stats = sqlite_rows
    assert len(rows) == N
    for got, want in zip(rows, expected, strict=True):
        assert got[:3] == want[:3]
        for a, b in zip(got[3:], want[3:], strict=True):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    assert stats.distance_m == pytest.approx(sqlite_stats.distance_m)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_log_overlapping_a_stored_one_stores_only_its_new_stretch(kind, tmp_path):
    """The first 5,000 fixes imported, then fixes 3,000 to the end: the second import
    stores 3,000 (from the first import's last fix on); the rest is trip 1's already."""
    url = fresh_db_url(kind, tmp_path)
    migrate(url)
    (track,) = read_gpx_columns(big_gpx(tmp_path / "log.gpx", 8_000))
    (seg,) = track.segments
    early = big_gpx(tmp_path / "early.gpx", 5_000)
    late = tmp_path / "late.gpx"
    text = (tmp_path / "log.gpx").read_text().split("\n")
    late.write_text("\n".join(text[:2] + text[2 + 3_000 :]))
    with session(url) as s:
        ((first, _),) = trip_import.import_gpx(s, early)
        skipped: list[int] = []
        ((second, stats),) = trip_import.import_gpx(s, late, skipped_out=skipped)
        assert skipped == [first.id]
        assert second.point_count == 3_001 == stats.points
        assert stats.started_at == first.ended_at
    assert [r[3] for r in _stored(url, second.id)] == pytest.approx(seg.lat[4_999:].tolist())
