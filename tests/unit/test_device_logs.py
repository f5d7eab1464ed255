"""Which segments of one GPX track are one device's log (``core.device_logs``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kei_drive.core.device_logs import separate_logs
from kei_drive.core.gpx import TrackPoint, read_gpx_columns, to_gpx
from tests.support.trips import TrackBuilder

EAST = 0.035  # ~3 km east at 40 N


def segments(*parts: list[TrackPoint]):
    (track,) = read_gpx_columns(to_gpx(list(parts)))
    return track.segments


def sizes(logs) -> list[list[int]]:
    return [[len(s) for s in log] for log in logs]


def shifted(points: list[TrackPoint], seconds: float = 0.0, east: float = 0.0):
    return [replace(p, time=p.time + timedelta(seconds=seconds), lon=p.lon + east) for p in points]


def drive_a() -> list[TrackPoint]:
    return TrackBuilder().start().drive(3_600, 12.0).points  # 300 s


def drive_b() -> list[TrackPoint]:
    return shifted(TrackBuilder(seed=3).start().drive(3_000, 10.0).points, east=EAST)


def test_two_vehicles_over_the_same_minutes_are_two_logs_in_time_order():
    a, b = drive_a(), drive_b()
    assert sizes(separate_logs(segments(a, b))) == [[len(a)], [len(b)]]
    late_b = shifted(b, seconds=120)  # b starts two minutes after a: still together
    assert sizes(separate_logs(segments(late_b, a))) == [[len(a)], [len(late_b)]]


def test_one_log_stays_one_log():
    a, b = drive_a(), drive_b()
    seam = shifted(b, seconds=295)  # starts 5 s before a ends (a logger's seam)
    assert len(separate_logs(segments(a, seam))) == 1
    assert len(separate_logs(segments(seam, a))) == 1  # written newest first
    thinned = [p for i, p in enumerate(a) if i % 3]
    assert sizes(separate_logs(segments(a, b, thinned))) == [[len(a), len(thinned)], [len(b)]]
    beside = shifted(a, seconds=0.5, east=0.0005)  # a second phone in the same cab, 40 m off
    assert len(separate_logs(segments(a, beside))) == 1


def test_a_vehicles_own_signal_losses_stay_with_it_beside_another():
    """Vehicle one loses the signal twice while vehicle two logs throughout: its three
    segments are one log, in any file order."""
    a = TrackBuilder().start().drive(3_000, 10.0).hidden(60, 10.0).drive(3_000, 10.0)
    a = a.hidden(60, 10.0).drive(3_000, 10.0).points
    a1, a2, a3 = a[:301], a[301:601], a[601:]
    b = shifted(TrackBuilder(seed=3).start().drive(10_000, 10.0).points, east=EAST)
    want = [[len(a1), len(a2), len(a3)], [len(b)]]
    assert sizes(separate_logs(segments(a1, a2, a3, b))) == want
    assert sizes(separate_logs(segments(a1, b, a2, a3))) == want
    assert sorted(sizes(separate_logs(segments(b, a1, a2, a3)))) == want  # both at 0 s


def test_a_vehicle_logging_in_short_pieces_beside_another_is_a_log_of_its_own():
    """Pieces of 50 s (less than the 60 s a long segment must be elsewhere) with 10 s
    signal losses, beside a vehicle logging throughout, in either file order."""
    a = TrackBuilder().start().drive(9_000, 15.0).points  # 600 s
    pieces = [a[i : i + 50] for i in range(0, len(a), 60)]
    b = shifted(TrackBuilder(seed=3).start().drive(6_000, 10.0).points, east=EAST)
    pieces_of_a = [[len(p) for p in pieces]]
    assert sizes(separate_logs(segments(*pieces, b))) == [*pieces_of_a, [len(b)]]
    assert sorted(sizes(separate_logs(segments(b, *pieces)))) == sorted([*pieces_of_a, [len(b)]])


def test_a_bad_clock_never_splits_a_log():
    """One fix dated 2044 in a log of many signal-loss segments; the first fixes of each
    segment (two minutes) dated 1980 until the logger reads the satellites' time; a clock that steps back
    an hour in the middle of a long drive: one log each."""
    drive = TrackBuilder().start().drive(60_000, 12.0).points  # ~83 min
    pieces = [drive[i : i + 50] for i in range(0, len(drive), 55)]
    wild = [
        replace(p, time=datetime(2044, 1, 1, tzinfo=UTC)) if i == 7 else p
        for i, p in enumerate(pieces[3])
    ]
    logs = separate_logs(segments(*pieces[:3], wild, *pieces[4:]))
    assert len(logs) == 1 and len(logs[0]) == len(pieces)

    epoch = datetime(1980, 1, 6, tzinfo=UTC)
    cold = [
        [
            replace(p, time=epoch + timedelta(seconds=i)) if i < 120 else p
            for i, p in enumerate(piece)
        ]
        for piece in (drive[i : i + 200] for i in range(0, len(drive), 210))
    ]
    assert len(separate_logs(segments(*cold))) == 1

    half = len(drive) // 2
    dst = drive[:half] + shifted(drive[half:], seconds=-3600)
    after = shifted(
        TrackBuilder(lat=dst[-1].lat, t=drive[-1].time).start().drive(2_000, 12.0).points,
        seconds=-3600 + 30,
    )
    assert len(separate_logs(segments(dst, after))) == 1
