"""Which segments of one GPX track are one device's log (``core.device_logs``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

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


def test_a_convoy_is_two_logs():
    a = drive_a()
    behind = shifted(a, seconds=4)  # the same road, 48 m behind
    assert sizes(separate_logs(segments(a, behind))) == [[len(a)], [len(behind)]]


def test_two_phones_in_one_cab_count_the_drive_once():
    """A second phone (its own noise, its own instants) logs from the middle of the drive
    to past its end: one log, the minutes both logged counted once (the phone with more
    fixes then keeps them), each phone's own minutes kept."""
    a = TrackBuilder().start().drive(3_600, 12.0).drive(1_200, 12.0).points  # 400 s
    phone = TrackBuilder(seed=5).start(jitter_m=5).drive(4_800, 12.0, jitter_m=5).points
    phone = [replace(p, time=p.time + timedelta(seconds=0.4)) for p in phone]
    first, second = a[:300], phone[150:]  # a: 0-299 s; phone: 150.4-400.4 s
    notes: list[str] = []
    (log,) = separate_logs(segments(first, second), notes)
    t = np.concatenate([s.t for s in log])
    under = [p for p in second if p.time <= first[-1].time]  # the phone's, while a logs
    assert len(under) == 149 and t.size == len(first) + len(second) - len(under)
    assert t.min() == first[0].time.timestamp() and t.max() == second[-1].time.timestamp()
    assert len(notes) == 1 and "segment 2" in notes[0] and "149 fixes" in notes[0]
    sparse = [p for i, p in enumerate(second) if i % 2 == 0]  # fewer fixes: it gives way
    (log,) = separate_logs(segments(sparse, first))
    assert sum(len(s) for s in log) == 300 + len([p for p in sparse if p.time > first[-1].time])


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
    segment (two minutes) dated 1980 until the logger reads the satellites' time; a clock
    that steps back an hour in the middle of a long drive: one log each."""
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


def test_a_clock_set_back_between_segments_is_not_told_from_two_vans_of_one_depot():
    """Van B leaves the depot where van A arrives later, their clocks whole hours and a
    minute apart (for a local-time logger: the same drive an hour back after a stop): two
    logs, nothing lost. A drive whose logger steps back an hour between segments is then
    two trips of their own lengths (a known limit), never two vans woven into one."""
    a = TrackBuilder().start().drive(54_000, 15.0).points  # 60 min, back at the depot
    b = TrackBuilder(seed=3, lat=a[-1].lat, t=a[-1].time - timedelta(seconds=3600 - 60))
    b = b.start().drive(27_000, 15.0, north=False).points
    assert sorted(sizes(separate_logs(segments(a, b)))) == [[len(b)], [len(a)]]


def test_whichever_the_file_order_each_vehicle_keeps_its_segments():
    """Vehicle B logs a first piece before A starts, then drives beside A; each device's
    signal-loss segments written newest first: B's pieces stay with B, A's with A."""
    a = TrackBuilder().start().drive(37_200, 12.0).points  # 3,101 fixes; b 3,001
    b_early = shifted(TrackBuilder(seed=5).start().drive(6_000, 12.0).points, -1200, EAST)
    b = TrackBuilder(seed=3, lat=40 + 6_000 / 111_195).start().drive(30_000, 10.0).points
    b = shifted(b, seconds=200, east=EAST)  # after a: a is the first log
    for order in ([a, b_early, b], [b_early, b, a], [b, a, b_early]):
        logs = separate_logs(segments(*order))
        assert sorted(sorted(log) for log in sizes(logs)) == [[len(b_early), len(b)], [len(a)]]

    def three(seed: int, east: float) -> list[list[TrackPoint]]:
        drive = TrackBuilder(seed=seed).start().drive(18_000, 15.0).hidden(60, 15.0)
        points = shifted(drive.drive(18_000, 15.0).hidden(60, 15.0).drive(18_000, 15.0).points)
        points = shifted(points, east=east)
        return [points[:1201], points[1201:2401], points[2401:]]

    a3, b3 = three(0, 0.0), three(3, EAST)
    logs = separate_logs(segments(*a3[::-1], *b3[::-1]))
    assert sorted(sizes(logs)) == sorted([[len(p) for p in a3[::-1]], [len(p) for p in b3[::-1]]])


def test_a_phone_and_a_30_s_tracker_on_a_winding_road_are_one_drive():
    """The tracker's straight lines cut the bends (up to ~100 m off the road): its own
    fixes are compared with the phone's positions, not the phone's with its lines."""
    along = np.linspace(0, 20_000, 200_001)
    east = 400 * np.sin(2 * np.pi * along / 2000)
    arc = np.concatenate([[0], np.cumsum(np.hypot(np.diff(east), np.diff(along)))])

    def logger(interval_s: float, from_s: float = 0.0) -> list[TrackPoint]:
        steps = np.arange(20.0 * from_s, arc[-1], 20.0 * interval_s)
        k = np.minimum(np.searchsorted(arc, steps), along.size - 1)
        t0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)
        return [
            TrackPoint(
                40 + along[j] / 111_195,
                -105 + east[j] / (111_195 * 0.766),
                t0 + timedelta(seconds=from_s + i * interval_s),
            )
            for i, j in enumerate(k.tolist())
        ]

    phone, tracker = logger(1.0), logger(30.0, from_s=7.5)  # its own instants
    notes: list[str] = []
    (log,) = separate_logs(segments(phone, tracker), notes)
    assert sum(len(s) for s in log) == len(phone) and len(notes) == 1


def test_a_thousand_start_ups_dated_1980_are_one_log():
    """Each of 1,000 segments starts with 30 fixes dated 1980 (all at the same instants):
    one log (compared pair by pair, they took 30 s: see bench_device_logs)."""
    drive = TrackBuilder().start().drive(130_000, 12.0).points
    epoch = datetime(1980, 1, 6, tzinfo=UTC)
    pieces = [
        [
            replace(p, time=epoch + timedelta(seconds=i)) if i < 30 else p
            for i, p in enumerate(piece)
        ]
        for piece in (drive[i : i + 10] + drive[i + 10 : i + 10] for i in range(0, 10_000, 10))
    ]
    assert len(separate_logs(segments(*pieces))) == 1


def test_a_convoy_out_of_a_tunnel_is_each_truck_where_it_was_heading():
    """Two trucks 300 m apart lose the signal for 50 s in a tunnel: after it, the truck
    behind is nearer the one ahead's last fix (700 m) than its own (1,000 m); each goes on
    where it was heading, whatever the file order."""

    def truck(offset_m: float, seed: int) -> tuple[list[TrackPoint], list[TrackPoint]]:
        drive = TrackBuilder(seed=seed, lat=40 + offset_m / 111_195).start()
        points = drive.drive(10_000, 20.0).hidden(50, 20.0).drive(10_000, 20.0).points
        return points[:501], points[501:]

    (a1, a2), (c1, c2) = truck(300, 0), truck(0, 4)
    a1, c2 = a1[:-3], c2[:-5]  # told apart by their sizes; c2 is placed before a2
    for order in ([c1, a1, c2, a2], [a1, a2, c1, c2], [c2, a1, c1, a2]):
        logs = separate_logs(segments(*order))
        want = sorted([sorted([len(a1), len(a2)]), sorted([len(c1), len(c2)])])
        assert sorted(sorted(log) for log in sizes(logs)) == want


def test_two_trackers_parked_in_one_barn_each_keep_their_drive():
    """Two 60 s trackers log all day in one barn; each truck drives out and back at its own
    hour. In one place 96 % of the time, but each was elsewhere for 14 minutes: two logs,
    every fix kept (the one giving way lost its whole drive)."""

    def tracker(seed: int, out_at_s: float) -> list[TrackPoint]:
        day = TrackBuilder(seed=seed, interval_s=60.0).start().stop(out_at_s, jitter_m=3)
        day.drive(5_000, 12.0).drive(5_000, 12.0, north=False)  # 14 minutes
        return day.stop(12 * 3600 - out_at_s, jitter_m=3).points

    a, b = tracker(0, 3600), tracker(3, 5 * 3600)
    notes: list[str] = []
    logs = separate_logs(segments(a, b), notes)
    assert sorted(sizes(logs)) == sorted([[len(a)], [len(b)]]) and notes == []


def test_two_phones_at_motorway_speed_with_stamps_under_a_second_apart_are_one_drive():
    """At 33 m/s a phone stamping its fixes 0.8 s later than another is 26 m behind
    (plus noise) at each stamp: still one drive, counted once."""
    a = TrackBuilder(seed=1).start(jitter_m=5).drive(39_000, 33.0, jitter_m=5).points
    b = TrackBuilder(seed=2).start(jitter_m=5).drive(39_000, 33.0, jitter_m=5).points
    b = shifted(b, seconds=0.8)
    notes: list[str] = []
    (log,) = separate_logs(segments(a, b), notes)
    assert len(notes) == 1 and sum(len(s) for s in log) < len(a) + 5


def test_a_tracker_writing_each_fix_alone_beside_another_vehicle_keeps_to_itself():
    """Vehicle A logs in 100 s segments with 30 s gaps; vehicle B, 3 km east, writes each
    fix as a segment of its own (after a first long one): A's segments are each 30 of B's
    away in time, and still find A's log."""
    from kei_drive.core.gpx import GpxSegment

    def segment(t: np.ndarray, lon: float) -> GpxSegment:
        nan = np.full(t.size, np.nan)
        lat = 40 + (t - 1.7e9) * 12 / 111_195
        return GpxSegment(lat, np.full(t.size, lon), t, nan, nan, nan, nan)

    a = [segment(1.7e9 + k * 130 + np.arange(100.0), -105.0) for k in range(20)]
    b = [segment(1.7e9 + np.arange(600.0), -104.965)]
    b += [segment(np.array([1.7e9 + s]), -104.965) for s in range(600, 2600)]
    logs = separate_logs([*a, *b])
    assert sorted(sum(len(s) for s in log) for log in logs) == [2000, 2600]
