"""The /trips page's per-file import: a good file makes trips, a bad one changes nothing."""

from __future__ import annotations

import pytest

from kei_drive import config
from kei_drive.core.gpx import GpxError
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.pages.trips.state import import_file
from tests.support.trips_pages import BROKEN_GPX, synthetic_gpx


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'kd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def count(url):
    with app_session(url) as s:
        return q.list_trips(s).total


def test_good_file_makes_two_trips_with_links(url):
    result = import_file("drive.gpx", synthetic_gpx(), None)
    assert result.file == "drive.gpx"
    assert [t.name for t in result.trips] == [
        "Synthetic drive (1/2)",
        "Synthetic drive (2/2)",
    ]
    assert all(t.id.isdigit() and " mi · " in t.distance for t in result.trips)
    assert [t.href for t in result.trips] == [f"/trips/{t.id}" for t in result.trips]
    assert count(url) == 2


def test_malformed_or_oversized_file_stores_nothing(url):
    with pytest.raises(GpxError, match="malformed XML"):
        import_file("broken.gpx", BROKEN_GPX, None)
    with pytest.raises(GpxError, match="larger than"):
        import_file("huge.gpx", b" " * (config.MAX_GPX_BYTES + 1), None)
    assert count(url) == 0


def test_a_file_with_a_bad_fix_is_imported_and_the_page_says_what_was_left_out(url):
    """Issue 11: one bad fix (here a NaN latitude) never sinks the trip."""
    data = synthetic_gpx().decode()
    first = data.index('lat="', data.index("<trkpt")) + len('lat="')
    data = data[:first] + "nan" + data[data.index('"', first) :]
    result = import_file("drive.gpx", data.encode(), None)
    assert len(result.trips) == 2 and count(url) == 2
    assert result.note.startswith("1 point of the file was left out: point #1 of track 1 ")
    assert "(lat=nan" in result.note


def test_unnamed_trips_are_named_in_the_browsers_time_zone(url):
    """A web import named its trips in UTC ("2024-05-04 14:00 UTC") above local times on the
    same page; it is named in the browser's zone now (the CLI's stay in UTC, said so)."""
    from zoneinfo import ZoneInfo

    gpx = synthetic_gpx(east_m=90, name=None)
    result = import_file("drive.gpx", gpx, None, zone=ZoneInfo("America/Los_Angeles"))
    assert [t.name for t in result.trips] == [
        "2024-05-04 07:00 PDT (MD)",
        "2024-05-04 09:00 PDT (MD)",
    ]
    with app_session(url) as s:  # the trips' own zone: their pages show their times in it
        zones = [q.get_trip(s, int(t.id)).time_zone for t in result.trips]
    assert zones == ["America/Los_Angeles"] * 2


def test_the_pages_imports_take_turns(url):
    """Three 25 MB uploads at once took a worker to 991 MB (an outside review): an import
    waits while another runs in the same process."""
    import threading

    from kei_drive.pages.trips import state

    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (import_file("drive.gpx", synthetic_gpx(), None), done.set())
    )
    with state._import_turn:  # another upload being read
        worker.start()
        assert not done.wait(1.0)
    assert done.wait(60)
    worker.join()
    assert count(url) == 2


def test_a_file_of_many_trips_links_the_first_ten_and_counts_the_rest(url):
    """A year's log (209 trips) listed every link in one block, filling the screen."""
    tracks = []
    for day in range(12):
        one = synthetic_gpx(east_m=400.0 * day).decode()
        body = one[one.index("<trk>") : one.rindex("</trk>") + len("</trk>")]
        tracks.append(body.replace("2024-05-04", f"2024-05-{day + 4:02d}"))
    head = synthetic_gpx().decode()
    gpx = head[: head.index("<trk>")] + "".join(tracks) + head[head.rindex("</trk>") + 6 :]
    result = import_file("year.gpx", gpx.encode(), None)
    assert count(url) == 24
    assert len(result.trips) == 10
    assert result.more.startswith("…and 14 more trips: 24 in all, ")
    assert result.more.endswith("every one is in the trips list, by date.")
    assert import_file("drive.gpx", synthetic_gpx(east_m=90_000), None).more == ""
