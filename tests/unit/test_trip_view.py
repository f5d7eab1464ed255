"""Trip presenters: text formats, list rows, coloured track features, chart series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kei_drive.api_validation import zone_arg
from kei_drive.core.gpx import TrackPoint
from kei_drive.core.units import mph_to_mps
from kei_drive.core.vocabulary import RecordingState, TripFlag, TripSource
from kei_drive.db.models import Trip
from kei_drive.presenters.format import fmt_distance, fmt_duration, fmt_speed, fmt_when, iso_utc
from kei_drive.presenters.track_map import (
    GAP_COLOR,
    MAX_CHART_POINTS,
    NO_SPEED_COLOR,
    OVER_CAP_COLOR,
    SPEED_BANDS,
    UNDER_CAP_COLOR,
    track_view,
)
from kei_drive.presenters.trips import (
    default_trip_name,
    highway_use_row,
    stats_rows,
    trip_dict,
    trip_flags,
    trip_row,
)

M_PER_DEG_LAT = 111_195.0
T0 = datetime(2024, 5, 4, 14, 0, tzinfo=UTC)


def drive(speeds_mps, start=T0, lat=39.29, lon=-76.61, timed=True):
    points, t = [], start
    for v in speeds_mps:
        points.append(TrackPoint(lat, lon, t if timed else None))
        lat += v / M_PER_DEG_LAT
        t += timedelta(seconds=1)
    return points


def lines(fc):
    return [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]


def test_text_formats():
    assert fmt_distance(1609.344) == "1.0 mi · 1.6 km"
    assert fmt_duration(3725) == "1 h 02 min"
    assert fmt_duration(7199) == "2 h 00 min"  # rounded, as a driver reads it
    assert fmt_duration(4732) == "1 h 19 min"
    assert fmt_duration(3599) == "59 min 59 s"
    assert fmt_duration(245) == "4 min 05 s"
    assert fmt_duration(None) == "–"
    assert fmt_speed(mph_to_mps(44.6)) == "45 mph"
    assert fmt_when("2024-05-04T14:00:00Z") == "Sat 2024-05-04 14:00 UTC"
    assert fmt_when(None) == "Undated"


def test_iso_utc_gives_the_browser_an_unambiguous_utc_time():
    assert iso_utc("2024-05-04T14:00:00Z") == "2024-05-04T14:00:00Z"
    assert iso_utc("2024-05-04T08:00:00-06:00") == "2024-05-04T14:00:00Z"
    assert iso_utc("2024-05-04T14:00:00") == "2024-05-04T14:00:00Z"  # naive = stored UTC
    assert iso_utc(None) == "" and iso_utc("yesterday") == ""


def test_trip_row_marks_recording_and_keeps_warnings():
    trip = Trip(
        id=7,
        uuid="00000000-0000-4000-8000-000000000007",
        user_id=1,
        recording_state=RecordingState.RECORDING,
        source=TripSource.RECORDED,
        started_at=T0,
        point_count=12,
        over_cap_s=240.0,
        stats=None,
    )
    assert trip_flags(trip) == [TripFlag.OVER_CAP, TripFlag.RECORDING]
    assert trip_dict(trip)["warnings"] == ["above cap for 4 min 00 s", "still recording"]
    row = trip_row(trip)
    assert row.recording is True
    assert row.href == "/trips/7"
    assert row.name == "Unnamed trip" and row.vehicle == "No vehicle"
    assert row.warnings == ["above cap for 4 min 00 s"]  # the badge says "recording"
    assert row.distance == "12 points so far"
    assert row.started_at == "2024-05-04T14:00:00Z"  # formatted in the browser's zone
    assert row.when == "Sat 2024-05-04 14:00 UTC"  # its tooltip


def test_flags_are_worded_with_their_figures():
    gaps = {"gaps": [{"duration_s": 300.0}, {"duration_s": 120.0}]}
    trip = Trip(uuid="u", user_id=1, over_cap_s=42.0, stats=gaps, highway_use=True)
    trip.recording_state = RecordingState.FINISHED
    assert trip_dict(trip)["warnings"] == [
        "above cap for 42 s",
        "2 gaps in recording (7 min 00 s)",
        "highway use",
    ]
    trip.over_cap_s, trip.stats = 91.0, {"gaps": [{"duration_s": 91.0}]}  # as the page says
    assert trip_dict(trip)["warnings"][:2] == [
        "above cap for 1 min 31 s",
        "1 gap in recording (1 min 31 s)",
    ]
    trip.over_cap_s = 29.0  # under OVER_CAP_FLAG_S: noise
    assert TripFlag.OVER_CAP not in trip_flags(trip)


def test_stats_rows_say_when_no_cap_is_set():
    rows = {r.label: r.value for r in stats_rows({"points": 3}, 3)}
    assert rows["Time above cap"] == "no cap set"
    assert rows["Gaps in recording"] == "none"


def test_the_trip_pages_distance_says_how_much_was_measured_along_roads_between_fixes():
    step = {"start": "a", "end": "b", "duration_s": 60.0, "distance_m": 1000.0}
    stats = {
        "distance_m": 2500.0,
        "points": 4,
        "road_steps": [step | {"road_m": 1200.0}, step | {"duration_s": 90.0, "road_m": 1250.0}],
    }
    distance = {r.label: r.value for r in stats_rows(stats, 4)}["Distance"]
    assert distance == (
        "1.6 mi · 2.5 km (incl. 1.5 mi · 2.5 km along the shortest road between fixes "
        "60-90 s apart: 2 steps, 1.2 mi · 2.0 km in straight lines)"
    )
    assert "incl." not in {r.label: r.value for r in stats_rows({"points": 3}, 3)}["Distance"]


def test_the_trip_page_says_whether_the_trip_used_a_highway_and_why_not_known():
    def row(**fields):
        return highway_use_row(Trip(name="t", **fields)).value

    finished = RecordingState.FINISHED.value
    assert row(recording_state=finished, highway_use=True) == "yes (motorway or trunk)"
    assert row(recording_state=finished, highway_use=False) == "no"
    why = "No routing tiles are installed (kei-drive tiles build): not checked."
    assert row(recording_state=finished, stats={"highway_use_note": why}) == f"unknown. {why}"
    assert row(recording_state=RecordingState.RECORDING.value) == "checked when the trip ends"


def test_track_is_cut_at_a_recording_gap_and_coloured_by_speed_and_cap():
    first = drive([20.0] * 120)
    after = first[-1].time + timedelta(minutes=10)
    second = drive([5.0] * 60, start=after, lat=first[-1].lat + 0.05)
    view = track_view(first + second, cap_mps=mph_to_mps(35))
    speed_lines = lines(view.speed_geojson)
    colors = {f["properties"]["color"] for f in speed_lines}
    assert SPEED_BANDS[2][1] in colors  # 45 mph: 30-45 band (20 m/s = 44.7 mph)
    assert SPEED_BANDS[0][1] in colors  # 11 mph
    # no drawn line crosses the gap: every line stays on one side of it
    gap_lat = first[-1].lat + 0.001
    for f in speed_lines:
        lats = [c[1] for c in f["geometry"]["coordinates"]]
        assert max(lats) < gap_lat or min(lats) > gap_lat
    gaps = view.gaps_geojson["features"]
    assert len(gaps) == 1 and gaps[0]["properties"]["color"] == GAP_COLOR
    assert "10 min" in gaps[0]["properties"]["label"]
    cap_colors = [f["properties"]["color"] for f in lines(view.cap_geojson)]
    assert cap_colors[0] == OVER_CAP_COLOR and cap_colors[-1] == UNDER_CAP_COLOR
    # the chart breaks at the gap (a None speed) and shows the cruise speed
    chart = view.chart
    assert [p["mph"] for p in chart].count(None) == 1
    assert max(p["mph"] or 0 for p in chart) == pytest.approx(44.7, abs=0.5)


def test_a_far_glitch_is_not_drawn():
    points = drive([15.0] * 60)
    points[30] = TrackPoint(25.03, 121.56, points[30].time)  # Taiwan
    view = track_view(points, None)
    for f in view.speed_geojson["features"]:
        coords = f["geometry"]["coordinates"]
        coords = [coords] if f["geometry"]["type"] == "Point" else coords
        assert all(c[0] < -70 for c in coords)
    assert {f["properties"]["color"] for f in lines(view.cap_geojson)} == {NO_SPEED_COLOR}


def test_untimed_track_has_lines_but_no_chart():
    view = track_view(drive([10.0] * 30, timed=False), None)
    assert lines(view.speed_geojson)
    assert view.chart == []


def test_a_fix_without_a_time_leaves_the_chart_to_the_others():
    """One fix written without a time emptied the whole chart (review)."""
    from dataclasses import replace

    points = drive([12.0] * 120)
    points[60] = replace(points[60], time=None)
    view = track_view(points, None)
    assert len(view.chart) == 119
    assert all(p["mph"] == pytest.approx(26.8, abs=0.5) for p in view.chart[10:-10])
    minutes = [p["min"] for p in view.chart]
    assert minutes == sorted(minutes) and minutes[-1] == pytest.approx(119 / 60, abs=0.01)


def test_long_trip_chart_is_bounded_and_keeps_the_peak():
    speeds = [13.0] * 5000
    speeds[2500:2520] = [25.0] * 20  # a 56 mph burst
    view = track_view(drive(speeds), None)
    assert len(view.chart) <= MAX_CHART_POINTS
    assert max(p["mph"] for p in view.chart) > 50


def test_the_chart_and_map_show_speeds_as_the_top_speed_holds_them():
    """A one-second spike of the positions (no device speed, 8 m of noise) drew the chart's
    peak above the trip's top speed (70.4 against 69.2 mph on the Illinois fixture): the
    chart and map now show each fix's speed as held over the fixes the top speed needs."""
    import numpy as np

    from kei_drive.core.trips import analyze_track

    rng = np.random.default_rng(7)
    points = drive([13.0] * 600)
    points = [TrackPoint(p.lat + rng.normal(0, 8) / M_PER_DEG_LAT, p.lon, p.time) for p in points]
    analysis = analyze_track(points, mph_to_mps(25), with_states=False)
    view = track_view(points, mph_to_mps(25), analysis)
    peak = max(p["mph"] for p in view.chart if p["mph"] is not None)
    assert peak == pytest.approx(analysis.stats.max_speed_mps / 0.44704, abs=0.05)


def test_too_few_points_give_empty_layers():
    view = track_view(drive([1.0]), None)
    assert view.speed_geojson["features"] == [] and view.chart == []


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (None, "2024-05-04 14:00 UTC (CO, WY)"),
        ("America/Denver", "2024-05-04 08:00 MDT (CO, WY)"),
        ("America/Phoenix", "2024-05-04 07:00 MST (CO, WY)"),
        (-300, "2024-05-04 09:00 UTC-05:00 (CO, WY)"),
        (330, "2024-05-04 19:30 UTC+05:30 (CO, WY)"),
    ],
)
def test_default_trip_name_is_the_start_in_the_drivers_time_zone(zone, expected):
    trip = Trip(uuid="x", user_id=1, started_at=T0, states=["CO", "WY"])
    tz = zone_arg(zone, None) if isinstance(zone, str) else zone_arg(None, zone)
    assert default_trip_name(trip, tz) == expected
