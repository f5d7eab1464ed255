"""GPX reading and GPX/GeoJSON writing (gpxpy), with clear errors for bad files.

Reading returns one list of ``TrackPoint`` per track segment or route, in file order.
Times are always timezone-aware UTC (a GPX time without a zone is taken as UTC).
Speed and course come from GPX 1.0 ``<speed>``/``<course>`` or from GPX 1.1 extensions
(Garmin ``TrackPointExtension``); accuracy comes from HDOP when present (estimate, see
``HDOP_TO_METERS``). Written GPX is 1.1 with speed/course in a ``gpxtpx`` extension.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import gpxpy
import gpxpy.gpx

from kei_drive.core.xmltext import xml_safe

# A consumer GPS fix is typically 3-5 m per unit of HDOP (user-equivalent range error).
HDOP_TO_METERS = 5.0
GPXTPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
CREATOR = "Kei Drive"

GpxSource = str | bytes | Path | IO[str] | IO[bytes]


class GpxError(ValueError):
    """The input is not a usable GPX file; the message says why."""


@dataclass(frozen=True)
class TrackPoint:
    lat: float
    lon: float
    time: datetime | None
    elevation: float | None = None
    speed_mps: float | None = None
    course: float | None = None
    accuracy_m: float | None = None


# --------------------------------------------------------------------------- reading


def _read_text(source: GpxSource) -> str:
    if isinstance(source, Path):
        try:
            data: str | bytes = source.read_bytes()
        except OSError as exc:
            raise GpxError(f"cannot read GPX file {source}: {exc.strerror or exc}") from exc
    elif isinstance(source, str) and "<" not in source and Path(source).is_file():
        return _read_text(Path(source))  # a path given as a string
    elif isinstance(source, str | bytes):
        data = source
    elif hasattr(source, "read"):
        data = source.read()
    else:
        raise GpxError(f"not a GPX source: {type(source).__name__}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GpxError(f"not a GPX file: not UTF-8 text ({exc.reason})") from exc
    return data


def _root_tag(text: str) -> str:
    """Local name of the XML root element (reads only up to it)."""
    try:
        for _event, elem in ET.iterparse(io.StringIO(text), events=("start",)):
            return elem.tag.rsplit("}", 1)[-1]
    except ET.ParseError as exc:
        raise GpxError(f"not a GPX file: malformed XML ({exc})") from exc
    raise GpxError("not a GPX file: empty document")


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _extension_value(point: gpxpy.gpx.GPXTrackPoint, name: str) -> float | None:
    """A numeric child named ``name`` anywhere in the point's extensions (any namespace)."""
    for ext in point.extensions or ():
        for elem in ext.iter():
            if elem.tag.rsplit("}", 1)[-1].lower() == name and elem.text:
                try:
                    return float(elem.text)
                except ValueError:
                    return None
    return None


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _convert(point: gpxpy.gpx.GPXTrackPoint, where: str) -> TrackPoint:
    lat, lon = point.latitude, point.longitude
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        raise GpxError(f"GPX point {where} has no valid coordinates (lat={lat}, lon={lon})")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise GpxError(f"GPX point {where} is out of range (lat={lat}, lon={lon})")
    speed = getattr(point, "speed", None)
    if speed is None:
        speed = _extension_value(point, "speed")
    course = getattr(point, "course", None)
    if course is None:
        course = _extension_value(point, "course")
    hdop = _finite_or_none(point.horizontal_dilution)
    return TrackPoint(
        lat=float(lat),
        lon=float(lon),
        time=_as_utc(point.time),
        elevation=_finite_or_none(point.elevation),
        speed_mps=_finite_or_none(speed),
        course=_finite_or_none(course),
        accuracy_m=hdop * HDOP_TO_METERS if hdop is not None else None,
    )


def _parse(source: GpxSource) -> gpxpy.gpx.GPX:
    text = _read_text(source)
    if not text.strip():
        raise GpxError("not a GPX file: empty document")
    root = _root_tag(text)
    if root != "gpx":
        raise GpxError(f"not a GPX file: the root element is <{root}>, expected <gpx>")
    try:
        return gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as exc:
        raise GpxError(f"not a GPX file: malformed XML ({exc})") from exc
    except gpxpy.gpx.GPXException as exc:
        raise GpxError(f"not a valid GPX file: {exc}") from exc


def read_gpx_tracks(source: GpxSource) -> list[tuple[str | None, list[list[TrackPoint]]]]:
    """Like ``read_gpx`` but grouped per track, then per route: ``[(name, segments)]``."""
    parsed = _parse(source)
    out: list[tuple[str | None, list[list[TrackPoint]]]] = []
    for ti, track in enumerate(parsed.tracks, 1):
        segments = []
        for si, segment in enumerate(track.segments, 1):
            where = f"of track {ti} segment {si}"
            points = [_convert(p, f"#{pi} {where}") for pi, p in enumerate(segment.points, 1)]
            if points:
                segments.append(points)
        if segments:
            out.append((track.name or None, segments))
    for ri, route in enumerate(parsed.routes, 1):
        points = [_convert(p, f"#{pi} of route {ri}") for pi, p in enumerate(route.points, 1)]
        if points:
            out.append((route.name or None, [points]))
    if not out:
        raise GpxError("GPX has no track or route points")
    return out


def read_gpx(source: GpxSource) -> list[list[TrackPoint]]:
    """Points of each track segment, then each route, in file order (empty ones dropped).

    ``source`` is GPX text (``str``; a ``str`` naming an existing file is read as a path),
    raw bytes, a ``Path`` or an open file.
    Raises ``GpxError`` for malformed XML, a non-GPX document, a GPX with no track or
    route points, or a point with NaN / out-of-range coordinates.
    """
    return [segment for _name, segments in read_gpx_tracks(source) for segment in segments]


def read_gpx_points(source: GpxSource) -> list[tuple[float, float]]:
    """All track and route points of the file concatenated, as ``(lat, lon)``."""
    return [(p.lat, p.lon) for segment in read_gpx(source) for p in segment]


# --------------------------------------------------------------------------- writing


def _as_segments(
    points: Sequence[TrackPoint] | Sequence[Sequence[TrackPoint]],
) -> list[Sequence[TrackPoint]]:
    if not points:
        return []
    if isinstance(points[0], TrackPoint):
        return [points]  # type: ignore[list-item]
    return [s for s in points if s]  # type: ignore[misc]


def _iso(value: datetime | None) -> str | None:
    value = _as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def to_gpx(
    points: Sequence[TrackPoint] | Sequence[Sequence[TrackPoint]],
    name: str | None = None,
    description: str | None = None,
) -> str:
    """A GPX 1.1 document with one track; one ``trkseg`` per given segment.

    ``points`` is a flat list of points (one segment) or a list of segments.
    """
    gpx = gpxpy.gpx.GPX()
    gpx.creator = CREATOR
    gpx.nsmap["gpxtpx"] = GPXTPX_NS
    track = gpxpy.gpx.GPXTrack(  # a control character in a name would break the XML
        name=xml_safe(name) if name else name,
        description=xml_safe(description) if description else description,
    )
    gpx.tracks.append(track)
    for seg in _as_segments(points):
        segment = gpxpy.gpx.GPXTrackSegment()
        track.segments.append(segment)
        for p in seg:
            out = gpxpy.gpx.GPXTrackPoint(p.lat, p.lon, elevation=p.elevation, time=_as_utc(p.time))
            if p.speed_mps is not None or p.course is not None:
                ext = ET.Element(f"{{{GPXTPX_NS}}}TrackPointExtension")
                if p.speed_mps is not None:
                    ET.SubElement(ext, f"{{{GPXTPX_NS}}}speed").text = f"{p.speed_mps:.3f}"
                if p.course is not None:
                    ET.SubElement(ext, f"{{{GPXTPX_NS}}}course").text = f"{p.course:.1f}"
                out.extensions.append(ext)
            if p.accuracy_m is not None:
                out.horizontal_dilution = round(p.accuracy_m / HDOP_TO_METERS, 3)
            segment.points.append(out)
    return gpx.to_xml(version="1.1")


def to_geojson(
    points: Sequence[TrackPoint] | Sequence[Sequence[TrackPoint]],
    name: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict:
    """A GeoJSON FeatureCollection with one track feature.

    A ``LineString`` for one segment, a ``MultiLineString`` for several; coordinates are
    ``[lon, lat]`` (plus elevation when every point has one). Per-point times and speeds
    go into ``properties.coordinateProperties`` (the convention of mapbox togeojson).
    """
    segments = _as_segments(points)
    with_ele = bool(segments) and all(p.elevation is not None for s in segments for p in s)

    def coords(seg: Iterable[TrackPoint]) -> list[list[float]]:
        return [
            [p.lon, p.lat, p.elevation] if with_ele else [p.lon, p.lat]  # type: ignore[list-item]
            for p in seg
        ]

    def per_point(seg: Sequence[TrackPoint], attr: str) -> list:
        values = [getattr(p, attr) for p in seg]
        return [_iso(v) for v in values] if attr == "time" else values

    if len(segments) == 1:
        geometry: dict[str, Any] = {"type": "LineString", "coordinates": coords(segments[0])}
        times = per_point(segments[0], "time")
        speeds = per_point(segments[0], "speed_mps")
    else:
        geometry = {"type": "MultiLineString", "coordinates": [coords(s) for s in segments]}
        times = [per_point(s, "time") for s in segments]
        speeds = [per_point(s, "speed_mps") for s in segments]
    props: dict[str, Any] = {"name": name} if name else {}
    props.update(properties or {})
    props["coordinateProperties"] = {"times": times, "speeds_mps": speeds}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": geometry, "properties": props}],
    }
