"""Reading OwnTracks, Overland and GPSLogger payloads (documented examples) into fixes."""

from __future__ import annotations

import math

import pytest

from kei_drive.api import validate_points
from kei_drive.core.ingest import (
    IngestFormatError,
    epoch_ms,
    read_gpslogger,
    read_overland,
    read_owntracks,
)
from tests.support.ingest_payloads import (
    GPSLOGGER_QUERY,
    OVERLAND_README_EXAMPLE,
    OWNTRACKS_ANDROID_LOCATION,
    OWNTRACKS_TRACCAR_EXAMPLE,
)

NOW_MS = 1_800_000_000_000  # 2027: every example lies before it


def test_owntracks_location_units_and_device():
    batch = read_owntracks(OWNTRACKS_ANDROID_LOCATION)
    (fix,) = batch.fixes
    assert fix["t"] == 1497476456000  # tst is epoch seconds
    assert (fix["lat"], fix["lon"]) == (48.85833, 2.29513)
    assert fix["speed"] == pytest.approx(15.0)  # vel 54 km/h
    assert (fix["heading"], fix["alt"], fix["acc"]) == (271, 48, 13)
    assert batch.device == "phone"  # from the topic owntracks/jane/phone
    good, rejected, cleaned = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert len(good) == 1 and rejected == [] and cleaned == []
    assert good[0].speed_mps == pytest.approx(15.0)


def test_owntracks_array_minimal_message_and_other_types():
    payload = [
        OWNTRACKS_TRACCAR_EXAMPLE,
        {"_type": "transition", "event": "enter", "tst": 1497476460, "lat": 1, "lon": 2},
        {"_type": "lwt", "tst": 1497476000},
        {"_type": "encrypted", "data": "c2VjcmV0"},
    ]
    batch = read_owntracks(payload)
    assert [f["t"] for f in batch.fixes] == [1497476456000]
    assert batch.fixes[0]["speed"] is None and batch.fixes[0]["acc"] is None
    assert batch.ignored == 3
    assert batch.device is None  # no topic; the tracker id "JJ" is only initials
    assert read_owntracks(None).fixes == []  # the empty body OwnTracks may send


@pytest.mark.parametrize("payload", ["text", 42, [{"lat": 1}], {"no_type": True}, [[]]])
def test_owntracks_malformed_shape_raises(payload):
    with pytest.raises(IngestFormatError):
        read_owntracks(payload)


def test_owntracks_bad_values_reach_validation_with_reasons():
    base = dict(OWNTRACKS_TRACCAR_EXAMPLE)
    payload = [
        base | {"tst": 1497476456},
        base | {"tst": 1497476457, "lat": 91.5},
        base | {"tst": "yesterday"},
        base | {"tst": 1497476458, "lon": float("nan")},
        base | {"tst": 1497476459, "vel": -5},  # negative: unknown, not an error
        base | {"tst": 4102444800},  # 2100: in the future
    ]
    good, rejected, _ = validate_points(read_owntracks(payload).fixes, None, now_ms=NOW_MS)
    assert [p.time_ms for p in good] == [1497476456000, 1497476459000]
    reasons = [r["reason"] for r in rejected]
    assert any("out of range" in r for r in reasons)
    assert any("invalid t" in r for r in reasons)
    assert any("NaN" in r for r in reasons)
    assert any("future" in r for r in reasons)
    assert len(rejected) == 4


def test_overland_readme_example():
    batch = read_overland(OVERLAND_README_EXAMPLE)
    (fix,) = batch.fixes
    assert fix["t"] == 1443711600000  # 2015-10-01T08:00:00-0700 == 15:00 UTC
    assert (fix["lat"], fix["lon"]) == (37.3318, -122.030581)  # GeoJSON is [lon, lat]
    assert (fix["speed"], fix["acc"], fix["alt"]) == (4, 30, 0)
    assert batch.device is None  # device_id "" names no device
    good, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert len(good) == 1 and not rejected


def test_overland_negative_speed_and_course_are_unknown():
    feature = OVERLAND_README_EXAMPLE["locations"][0]
    props = feature["properties"] | {"speed": -1, "course": -1, "device_id": "hijet"}
    batch = read_overland({"locations": [feature | {"properties": props}]})
    assert batch.fixes[0]["speed"] is None and batch.fixes[0]["heading"] is None
    assert batch.device == "hijet"


@pytest.mark.parametrize(
    "payload", [[], {"locations": "x"}, {"points": []}, {"locations": [1]}, None]
)
def test_overland_malformed_shape_raises(payload):
    with pytest.raises(IngestFormatError):
        read_overland(payload)


def test_overland_feature_without_geometry_is_rejected_alone():
    good_feature = OVERLAND_README_EXAMPLE["locations"][0]
    broken = {"type": "Feature", "properties": {"timestamp": "2015-10-01T08:00:05-0700"}}
    batch = read_overland({"locations": [good_feature, broken]})
    good, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert len(good) == 1
    assert rejected == [
        {"id": "1443711605000", "reason": "lat/lon missing, NaN or infinite", "retryable": False}
    ]


def test_gpslogger_query_parameters():
    batch = read_gpslogger(GPSLOGGER_QUERY)
    (fix,) = batch.fixes
    assert fix["t"] == 1521095734000
    assert fix["lat"] == pytest.approx(39.2903848) and fix["lon"] == pytest.approx(-76.6121893)
    assert fix["speed"] == pytest.approx(13.4)  # m/s as sent
    assert fix["acc"] == pytest.approx(10.619, abs=1e-3) and fix["heading"] == 87.5
    assert batch.device == "a1b2c3d4e5"
    good, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert len(good) == 1 and not rejected


def test_gpslogger_epoch_time_and_alternative_names():
    batch = read_gpslogger(
        {"latitude": "39.29", "longitude": "-76.61", "timestamp": "1521095734", "spd": "2.5"}
    )
    assert batch.fixes[0]["t"] == 1521095734000 and batch.fixes[0]["speed"] == 2.5
    assert read_gpslogger({"lat": "1", "lon": "2", "time": "1521095734123"}).fixes[0]["t"] == (
        1521095734123
    )


def test_gpslogger_text_that_is_not_a_number_is_rejected_with_a_reason():
    batch = read_gpslogger({"lat": "NaN", "lon": "-76.6", "time": "2018-03-15T06:35:34Z"})
    good, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert good == [] and "NaN" in rejected[0]["reason"]
    batch = read_gpslogger({"lat": "39.2", "lon": "-76.6", "time": "%TIME"})
    good, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert good == [] and "invalid t" in rejected[0]["reason"]
    with pytest.raises(IngestFormatError):
        read_gpslogger({"time": "2018-03-15T06:35:34Z"})


def test_gpslogger_with_one_coordinate_names_the_missing_one_not_the_time():
    """A URL template missing %LAT was refused as "missing or invalid t"."""
    with pytest.raises(IngestFormatError, match="lat missing"):
        read_gpslogger({"lon": "-76.6"})
    with pytest.raises(IngestFormatError, match="lon missing"):
        read_gpslogger({"lat": "39.2", "time": "2018-03-15T06:35:34Z"})


def test_epoch_ms_forms():
    assert epoch_ms("2015-10-01T15:00:00Z") == 1443711600000
    assert epoch_ms("2015-10-01T15:00:00") == 1443711600000  # no zone: UTC
    assert epoch_ms(1443711600) == 1443711600000
    assert epoch_ms(1443711600000) == 1443711600000
    assert epoch_ms("soon") == "soon"
    assert math.isnan(epoch_ms(float("nan")))


def test_owntracks_a_topic_of_control_characters_or_a_lone_surrogate_names_no_device():
    """A device name must print and encode (a lone surrogate made the database raise: a 500
    OwnTracks would retry for ever); printable text of it is kept."""
    base = dict(OWNTRACKS_TRACCAR_EXAMPLE)
    assert read_owntracks(base | {"topic": "owntracks/a/\ud800"}).device is None
    assert read_owntracks(base | {"topic": "owntracks/a/Sam\x00\ud800bar"}).device == "Sambar"


def test_owntracks_an_absurd_time_is_refused_as_a_time():
    base = dict(OWNTRACKS_TRACCAR_EXAMPLE)
    batch = read_owntracks([base | {"tst": 1e300}, base | {"tst": 10**40}])
    _, rejected, _ = validate_points(batch.fixes, None, now_ms=NOW_MS)
    assert [r["reason"] for r in rejected] == ["time is in the future (after the year 2100)"] * 2
