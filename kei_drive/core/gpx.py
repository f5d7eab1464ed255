"""GPX reading (streaming, expat) and GPX/GeoJSON writing (gpxpy), with clear errors.

Reading returns one list of ``TrackPoint`` per track segment or route, in file order, or
the same as numpy columns (``read_gpx_columns``: big files, no per-point objects).
Times are always timezone-aware UTC (a GPX time without a zone is taken as UTC).
Speed and course come from GPX 1.0 ``<speed>``/``<course>`` or from GPX 1.1 extensions
(Garmin ``TrackPointExtension``); accuracy comes from HDOP when present (estimate, see
``HDOP_TO_METERS``). Written GPX is 1.1 with speed/course in a ``gpxtpx`` extension.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import gpxpy
import gpxpy.gpx
import numpy as np

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
#
# One streaming pass with expat (pyexpat): no tree is built, the file is read in chunks
# and each point goes straight into per-segment columns. Expat honours the XML encoding
# declaration (UTF-8, UTF-16 with its BOM, ISO-8859-1, US-ASCII, and Python's single-byte
# codecs such as windows-1252). ElementTree's iterparse is never used: on CPython 3.12.1 an
# abandoned iterparse crashes the interpreter at exit (code 139) after a parse error.

READ_CHUNK = 1 << 20
_TEXT_FIELDS = frozenset({"time", "ele", "hdop", "speed", "course", "name"})


@dataclass
class GpxSegment:
    """One track segment or route as columns: degrees, epoch seconds (NaN: untimed),
    metres, m/s, degrees and metres of accuracy (NaN: not given)."""

    lat: np.ndarray
    lon: np.ndarray
    t: np.ndarray
    elevation: np.ndarray
    speed: np.ndarray
    course: np.ndarray
    accuracy: np.ndarray

    def __len__(self) -> int:
        return int(self.lat.size)

    def points(self) -> list[TrackPoint]:
        def opt(value: float) -> float | None:
            return None if math.isnan(value) else float(value)

        return [
            TrackPoint(
                lat=float(lat),
                lon=float(lon),
                time=None if math.isnan(t) else datetime.fromtimestamp(t, UTC),
                elevation=opt(ele),
                speed_mps=opt(speed),
                course=opt(course),
                accuracy_m=opt(acc),
            )
            for lat, lon, t, ele, speed, course, acc in zip(
                self.lat.tolist(),
                self.lon.tolist(),
                self.t.tolist(),
                self.elevation.tolist(),
                self.speed.tolist(),
                self.course.tolist(),
                self.accuracy.tolist(),
                strict=True,
            )
        ]


@dataclass
class GpxTrack:
    """A track (or route) with its name and its non-empty segments."""

    name: str | None
    segments: list[GpxSegment]
    kind: str = "trk"  # "trk" or "rte"

    @property
    def point_count(self) -> int:
        return sum(len(s) for s in self.segments)


_COLUMNS = ("lat", "lon", "t", "elevation", "speed", "course", "accuracy")


class _Columns:
    def __init__(self) -> None:
        self.cols = {name: array("d") for name in _COLUMNS}

    def __len__(self) -> int:
        return len(self.cols["lat"])

    def freeze(self) -> GpxSegment:
        return GpxSegment(**{k: np.frombuffer(v, dtype=float) for k, v in self.cols.items()})


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _epoch(text: str, where: str) -> float:
    text = text.strip()
    if not text:
        return math.nan
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise GpxError(f"not a valid GPX file: point {where} has a bad time {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class _GpxHandler:
    """Expat callbacks building ``GpxTrack``s; raises ``GpxError`` at the first problem."""

    def __init__(self) -> None:
        self.tracks: list[GpxTrack] = []
        self.depth = 0
        self.root_seen = False
        self.track: GpxTrack | None = None
        self.cols: _Columns | None = None
        self.counts = {"trk": 0, "rte": 0}
        self.seg_no = 0
        self.point: dict[str, float] | None = None
        self.point_depth = 0
        self.in_extensions = 0
        self.text_for: str | None = None
        self.text: list[str] = []
        self.track_name_depth = 0

    # --- helpers
    def _where(self) -> str:
        n = len(self.cols) + 1 if self.cols is not None else 0
        if self.track is not None and self.track.kind == "rte":
            return f"#{n} of route {self.counts['rte']}"
        return f"#{n} of track {self.counts['trk']} segment {self.seg_no}"

    def _close_segment(self) -> None:
        if self.cols is not None and self.track is not None and len(self.cols):
            self.track.segments.append(self.cols.freeze())
        self.cols = None

    # --- expat callbacks
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rsplit(":", 1)[-1]
        self.depth += 1
        if not self.root_seen:
            self.root_seen = True
            if name != "gpx":
                raise GpxError(f"not a GPX file: the root element is <{name}>, expected <gpx>")
            return
        if self.point is not None:
            if name == "extensions":
                self.in_extensions += 1
            direct = self.depth == self.point_depth + 1
            if (direct or self.in_extensions) and name in _TEXT_FIELDS and name != "name":
                self.text_for, self.text = name, []
            return
        if self.depth == 2 and name in ("trk", "rte"):
            self.counts[name] += 1
            self.track = GpxTrack(None, [], name)
            self.seg_no = 0
            if name == "rte":
                self.cols = _Columns()
        elif self.track is not None and self.depth == 3 and name == "name":
            self.text_for, self.text = "track_name", []
        elif self.track is not None and self.track.kind == "trk" and name == "trkseg":
            self.seg_no += 1
            self.cols = _Columns()
        elif self.cols is not None and name in ("trkpt", "rtept"):
            self._start_point(attrs)

    def _start_point(self, attrs: dict[str, str]) -> None:
        where = self._where()
        try:
            lat, lon = float(attrs["lat"]), float(attrs["lon"])
        except KeyError as exc:
            raise GpxError(f"not a valid GPX file: point {where} has no {exc.args[0]}") from exc
        except ValueError as exc:
            raise GpxError(f"not a valid GPX file: point {where}: {exc}") from exc
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise GpxError(f"GPX point {where} has no valid coordinates (lat={lat}, lon={lon})")
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise GpxError(f"GPX point {where} is out of range (lat={lat}, lon={lon})")
        self.point = {"lat": lat, "lon": lon}
        self.point_depth = self.depth

    def end(self, tag: str) -> None:
        name = tag.rsplit(":", 1)[-1]
        if self.text_for is not None and name in (self.text_for, "name"):
            self._field("".join(self.text))
            self.text_for = None
        if self.point is not None:
            if self.depth == self.point_depth:
                self._end_point()
            elif name == "extensions":
                self.in_extensions -= 1
        elif self.track is not None:
            if name == "trkseg" and self.depth == 3:
                self._close_segment()
            elif self.depth == 2:
                self._close_segment()
                if self.track.segments:
                    self.tracks.append(self.track)
                self.track = None
        self.depth -= 1

    def _field(self, text: str) -> None:
        key = self.text_for
        if key == "track_name":
            if self.track is not None:
                self.track.name = text.strip() or None
        elif self.point is not None and key is not None and key not in self.point:
            self.point[key] = _epoch(text, self._where()) if key == "time" else _number(text)

    def _end_point(self) -> None:
        p, self.point = self.point or {}, None
        self.in_extensions = 0
        nan = math.nan
        hdop = p.get("hdop", nan)
        c = self.cols.cols  # type: ignore[union-attr]
        c["lat"].append(p["lat"])
        c["lon"].append(p["lon"])
        c["t"].append(p.get("time", nan))
        c["elevation"].append(p.get("ele", nan))
        c["speed"].append(p.get("speed", nan))
        c["course"].append(p.get("course", nan))
        c["accuracy"].append(hdop * HDOP_TO_METERS)

    def chars(self, data: str) -> None:
        if self.text_for is not None:
            self.text.append(data)


def _refuse_entities(*_args: Any) -> None:
    # Entity declarations are how XML bombs and external-entity reads work; GPX needs none.
    raise GpxError("not a GPX file: malformed XML (entity declarations are not allowed in GPX)")


def _chunks(source: GpxSource) -> Iterator[str | bytes]:
    if isinstance(source, Path):
        try:
            handle = source.open("rb")
        except OSError as exc:
            raise GpxError(f"cannot read GPX file {source}: {exc.strerror or exc}") from exc
        with handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk
    elif isinstance(source, str) and "<" not in source and Path(source).is_file():
        yield from _chunks(Path(source))  # a path given as a string
    elif isinstance(source, str | bytes):
        yield source
    elif hasattr(source, "read"):
        while chunk := source.read(READ_CHUNK):
            yield chunk
    else:
        raise GpxError(f"not a GPX source: {type(source).__name__}")


def read_gpx_columns(source: GpxSource) -> list[GpxTrack]:
    """Every track, then every route, with their points as columns (one streaming pass).

    ``source`` is GPX text (``str``; a ``str`` naming an existing file is read as a path),
    raw bytes, a ``Path`` or an open file. Raises ``GpxError`` for malformed XML, a non-GPX
    document, entity declarations, a GPX with no track or route points, or a point with
    NaN / out-of-range coordinates.
    """
    handler = _GpxHandler()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.chars
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    no_elements = expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]
    try:
        for chunk in _chunks(source):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        if not handler.root_seen and exc.code == no_elements:
            raise GpxError("not a GPX file: empty document") from None
        raise GpxError(f"not a GPX file: malformed XML ({exc})") from None
    tracks = [t for t in handler.tracks if t.kind == "trk"]
    tracks += [t for t in handler.tracks if t.kind == "rte"]
    if not tracks:
        raise GpxError("GPX has no track or route points")
    return tracks


def read_gpx_tracks(source: GpxSource) -> list[tuple[str | None, list[list[TrackPoint]]]]:
    """Like ``read_gpx`` but grouped per track, then per route: ``[(name, segments)]``."""
    return [(t.name, [s.points() for s in t.segments]) for t in read_gpx_columns(source)]


def read_gpx(source: GpxSource) -> list[list[TrackPoint]]:
    """Points of each track segment, then each route, in file order (empty ones dropped).

    See ``read_gpx_columns`` for the sources accepted and the errors raised.
    """
    return [segment for _name, segments in read_gpx_tracks(source) for segment in segments]


def read_gpx_latlon(source: GpxSource) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All track and route points concatenated as columns ``(lat, lon, t, accuracy)``."""
    segments = [s for t in read_gpx_columns(source) for s in t.segments]
    return tuple(  # type: ignore[return-value]
        np.concatenate([getattr(s, k) for s in segments]) for k in ("lat", "lon", "t", "accuracy")
    )


def read_gpx_points(source: GpxSource) -> list[tuple[float, float]]:
    """All track and route points of the file concatenated, as ``(lat, lon)``."""
    lat, lon, _t, _acc = read_gpx_latlon(source)
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


# --------------------------------------------------------------------------- writing


def _as_segments(
    points: Sequence[TrackPoint] | Sequence[Sequence[TrackPoint]],
) -> list[Sequence[TrackPoint]]:
    if not points:
        return []
    if isinstance(points[0], TrackPoint):
        return [points]  # type: ignore[list-item]
    return [s for s in points if s]  # type: ignore[misc]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


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
