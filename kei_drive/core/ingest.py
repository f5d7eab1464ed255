"""Read the location payloads of native background loggers (pure: no network, no database).

Each reader turns one request of its protocol into ``Batch.fixes``: dicts in the shape of
the points API (``{"id", "t", "lat", "lon", "acc", "speed", "heading", "alt"}`` with ``t``
in epoch milliseconds, speed in m/s, heading in degrees, altitude and accuracy in metres),
so that the API's own per-fix validation (``kei_drive.api.validate_points``) judges them.
A reader converts units and names only; it never drops a fix for a bad value, it passes
the value on so that validation rejects it with a reason. A payload whose *shape* is
wrong (not JSON, no ``locations`` list…) raises ``IngestFormatError`` before anything is
stored.

Protocols (field names and units as each app documents them):

- OwnTracks, HTTP mode (owntracks.org booklet, "JSON" page): a message object or an array
  of them; ``_type: "location"`` carries ``lat``, ``lon``, ``tst`` (epoch s), ``acc`` (m),
  ``vel`` (km/h), ``cog`` (degrees), ``alt`` (m) and ``topic`` (``owntracks/user/device``,
  which names the device; ``tid`` is only the initials shown on a map). Other
  ``_type``\\ s are counted and ignored; an empty body (sent when a friend is deleted) is
  an empty batch.
- Overland (its README, "API"): ``{"locations": [GeoJSON Point Feature…]}``, coordinates
  ``[lon, lat]``, properties ``timestamp`` (ISO 8601), ``speed`` (m/s), ``course``
  (degrees), ``altitude`` (m), ``horizontal_accuracy`` (m), ``device_id``. iOS reports an
  invalid speed, course or accuracy as a negative number: those become "unknown".
- GPSLogger for Android, "Log to custom URL": query or form parameters the user writes in
  the URL template (``lat=%LAT&lon=%LON&time=%TIME&s=%SPD&acc=%ACC&alt=%ALT&dir=%DIR&
  batt=%BATT&ser=%SER``); values are text. ``time`` is ISO 8601 (``%TIME``) or epoch
  seconds/milliseconds (``%TIMESTAMP``); speed is m/s (Android ``Location.getSpeed``).
  Battery and other extras are accepted and not kept. Common alternative names
  (``latitude``, ``longitude``, ``spd``, ``speed``, ``timestamp``, ``accuracy``,
  ``altitude``, ``direction``, ``device``, ``aid``) are read too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KMH_PER_MPS = 3.6
# A bare epoch number above this is milliseconds, below it seconds (1e11 s is the year 5138).
EPOCH_MS_THRESHOLD = 100_000_000_000
DEVICE_NAME_MAX = 80


class IngestFormatError(ValueError):
    """The payload as a whole is not what the protocol sends (answered 400, nothing stored)."""


@dataclass
class Batch:
    """One request's fixes in the points-API shape, with what the payload said about them."""

    fixes: list[dict[str, Any]] = field(default_factory=list)
    device: str | None = None  # the device the payload names (topic, device_id, ser…)
    ignored: int = 0  # messages that carry no position (other OwnTracks types)


# ------------------------------------------------------------------------------ values


def _number(value: Any) -> Any:
    """A number from JSON or form text; text that is not a number is passed on unchanged
    (validation then rejects or drops it with a reason). Empty text is "not given"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return value
    return value


def _known(value: Any) -> Any:
    """iOS and Android report "unknown" speed, course or accuracy as a negative number."""
    number = _number(value)
    if isinstance(number, int | float) and not isinstance(number, bool) and number < 0:
        return None
    return number


def _scaled(value: Any, factor: float) -> Any:
    number = _known(value)
    if isinstance(number, int | float) and not isinstance(number, bool):
        return number * factor
    return number


def epoch_ms(value: Any) -> Any:
    """Epoch milliseconds from ISO 8601 text or an epoch number (seconds or milliseconds).

    Anything unreadable is returned as is, for validation to reject ("missing or invalid t").
    """
    number = _number(value)
    if isinstance(number, int | float) and not isinstance(number, bool):
        if not math.isfinite(number):
            return number
        return round(number) if abs(number) >= EPOCH_MS_THRESHOLD else round(number * 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is None:  # loggers send UTC when they leave the zone out
            parsed = parsed.replace(tzinfo=UTC)
        return round(parsed.timestamp() * 1000)
    return value


MAX_ID_TIME_MS = 10**15  # beyond the year 30,000: no logger's clock


def _fix(
    index: int, t: Any, lat: Any, lon: Any, acc: Any, speed: Any, heading: Any, alt: Any
) -> dict[str, Any]:
    # an id from the time; a time of 1e300 s is refused as a time, not as a too long id
    ok_time = isinstance(t, int) and not isinstance(t, bool) and abs(t) < MAX_ID_TIME_MS
    return {
        "id": str(t) if ok_time else f"item {index}",  # the service derives the stored id
        "t": t,
        "lat": _number(lat),
        "lon": _number(lon),
        "acc": _known(acc),
        "speed": speed,
        "heading": _known(heading),
        "alt": _number(alt),
    }


def _device_name(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    # no control characters or lone surrogates (a stored name must print, and encode)
    text = "".join(c for c in str(value) if c.isprintable()).strip()
    return text[:DEVICE_NAME_MAX] or None


# ----------------------------------------------------------------------------- readers


def read_owntracks(payload: Any) -> Batch:
    """OwnTracks HTTP mode: one message object, or an array of them (``None``: empty body)."""
    if payload is None:
        return Batch()
    messages = payload if isinstance(payload, list) else [payload]
    batch = Batch()
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("_type"), str):
            raise IngestFormatError(
                f"message {index} is not an OwnTracks message (an object with a _type)"
            )
        if message["_type"] != "location":
            batch.ignored += 1
            continue
        tst = message.get("tst")
        t = tst * 1000 if isinstance(tst, int) and not isinstance(tst, bool) else tst
        if isinstance(tst, float) and math.isfinite(tst):
            t = round(tst * 1000)
        batch.fixes.append(
            _fix(
                index,
                t,
                message.get("lat"),
                message.get("lon"),
                message.get("acc"),
                _scaled(message.get("vel"), 1 / KMH_PER_MPS),
                message.get("cog"),
                message.get("alt"),
            )
        )
        topic = message.get("topic")  # owntracks/<user>/<device>; tid is only initials
        if isinstance(topic, str) and topic.count("/") >= 2:
            batch.device = _device_name(topic.split("/", 2)[2]) or batch.device
    return batch


def _feature_point(feature: Any, index: int) -> tuple[Any, Any, dict]:
    if not isinstance(feature, dict):
        raise IngestFormatError(f"location {index} is not a GeoJSON Feature object")
    geometry = feature.get("geometry")
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if not isinstance(coords, list) or len(coords) < 2:
        return None, None, props  # rejected by validation: "lat/lon missing"
    return coords[1], coords[0], props  # GeoJSON order is [lon, lat]


def read_overland(payload: Any) -> Batch:
    """Overland: ``{"locations": [Feature…], "current": …, "trip": …}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("locations"), list):
        raise IngestFormatError('an Overland body is {"locations": [GeoJSON Features]}')
    batch = Batch()
    for index, feature in enumerate(payload["locations"]):
        lat, lon, props = _feature_point(feature, index)
        batch.fixes.append(
            _fix(
                index,
                epoch_ms(props.get("timestamp")),
                lat,
                lon,
                props.get("horizontal_accuracy"),
                _known(props.get("speed")),
                props.get("course"),
                props.get("altitude"),
            )
        )
        batch.device = _device_name(props.get("device_id")) or batch.device
    return batch


def _first(params: Mapping[str, str], *names: str) -> Any:
    for name in names:
        if name in params:
            return params[name]
    return None


def read_gpslogger(params: Mapping[str, str]) -> Batch:
    """GPSLogger custom URL: one fix from query or form parameters."""
    lat = _first(params, "lat", "latitude")
    lon = _first(params, "lon", "lng", "long", "longitude")
    if lat is None or lon is None:
        missing = " and ".join(n for n, v in (("lat", lat), ("lon", lon)) if v is None)
        raise IngestFormatError(
            f"GPSLogger parameters need lat and lon ({missing} missing; "
            "e.g. ?lat=%LAT&lon=%LON&time=%TIME)"
        )
    batch = Batch()
    batch.fixes.append(
        _fix(
            0,
            epoch_ms(_first(params, "time", "timestamp", "utc", "epoch")),
            lat,
            lon,
            _first(params, "acc", "accuracy"),
            _known(_first(params, "s", "spd", "speed")),
            _first(params, "dir", "direction", "bearing"),
            _first(params, "alt", "altitude"),
        )
    )
    batch.device = _device_name(_first(params, "ser", "device", "aid", "serial"))
    return batch
