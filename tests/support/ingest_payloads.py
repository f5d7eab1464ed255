"""Example payloads of the three background loggers, shaped exactly as their projects
document them, and builders that turn a synthetic drive into each protocol's requests.

Sources (read 2026-12-02):
- OwnTracks: the booklet's JSON page (owntracks.org/booklet/tech/json/, ``_type=location``
  element list) and its Traccar page's HTTP example
  ``{"lon":2.29513,"lat":48.85833,"_type":"location","tst":1497476456,"tid":"JJ"}``;
  the other elements (acc, alt, batt, bs, cog, conn, t, topic, vel, created_at) as listed there.
- Overland: the README of aaronpk/Overland-iOS, section "API" (the POST body below is its
  example, with its ``-0700`` offset and ``vertical_accuracy: -1``).
- GPSLogger for Android: its custom-URL placeholders (CustomUrlManager: %LAT, %LON, %TIME
  as ISO 8601 UTC with milliseconds, %TIMESTAMP epoch s, %SPD m/s, %ACC, %ALT, %DIR, %BATT,
  %SER), in the URL template the README of this project recommends.
"""

from __future__ import annotations

from datetime import UTC, datetime

OWNTRACKS_TRACCAR_EXAMPLE = {
    "lon": 2.29513,
    "lat": 48.85833,
    "_type": "location",
    "tst": 1497476456,
    "tid": "JJ",
}

OWNTRACKS_ANDROID_LOCATION = {
    "_type": "location",
    "acc": 13,
    "alt": 48,
    "batt": 82,
    "bs": 1,
    "cog": 271,
    "conn": "m",
    "created_at": 1497476457,
    "lat": 48.85833,
    "lon": 2.29513,
    "t": "u",
    "tid": "JJ",
    "topic": "owntracks/jane/phone",
    "tst": 1497476456,
    "vac": 3,
    "vel": 54,
}

OVERLAND_README_EXAMPLE = {
    "locations": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-122.030581, 37.331800]},
            "properties": {
                "timestamp": "2015-10-01T08:00:00-0700",
                "altitude": 0,
                "speed": 4,
                "horizontal_accuracy": 30,
                "vertical_accuracy": -1,
                "motion": ["driving", "stationary"],
                "pauses": False,
                "activity": "other_navigation",
                "desired_accuracy": 100,
                "deferred": 1000,
                "significant_change": "disabled",
                "locations_in_payload": 1,
                "battery_state": "charging",
                "battery_level": 0.89,
                "device_id": "",
                "wifi": "",
            },
        }
    ],
}

GPSLOGGER_QUERY = {
    "lat": "39.2903848",
    "lon": "-76.6121893",
    "time": "2018-03-15T06:35:34.000Z",
    "s": "13.4",
    "acc": "10.618999481201172",
    "alt": "139.0",
    "dir": "87.5",
    "batt": "77.0",
    "ser": "a1b2c3d4e5",
}


def iso_ms(t_ms: int) -> str:
    """GPSLogger's %TIME: ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def overland_time(t_ms: int) -> str:
    """Overland's timestamp: ISO 8601 with a numeric offset, as iOS formats it."""
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def owntracks_message(t_ms: int, lat: float, lon: float, speed_mps: float = 0.0) -> dict:
    message = dict(OWNTRACKS_ANDROID_LOCATION)
    message.update(
        tst=t_ms // 1000,
        created_at=t_ms // 1000,
        lat=lat,
        lon=lon,
        vel=round(speed_mps * 3.6),
        t="t",
    )
    return message


def overland_feature(t_ms: int, lat: float, lon: float, speed_mps: float = 0.0) -> dict:
    template = OVERLAND_README_EXAMPLE["locations"][0]
    props = dict(template["properties"])
    props.update(timestamp=overland_time(t_ms), speed=speed_mps, device_id="sambar-iphone")
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def gpslogger_params(t_ms: int, lat: float, lon: float, speed_mps: float = 0.0) -> dict:
    params = dict(GPSLOGGER_QUERY)
    params.update(lat=str(lat), lon=str(lon), time=iso_ms(t_ms), s=str(speed_mps))
    return params
