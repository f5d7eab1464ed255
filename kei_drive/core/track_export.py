"""Streaming GPX 1.1 and GeoJSON writers: text is produced chunk by chunk as fixes are
read, so exporting a trip of a million fixes takes constant memory.

The output matches ``core.gpx.to_gpx`` / ``to_geojson`` in content (same elements, same
GeoJSON layout), and every text value is made valid XML: characters XML 1.0 forbids
(control characters, lone surrogates, U+FFFE/U+FFFF) are dropped, never written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from kei_drive.core.gpx import CREATOR, GPXTPX_NS, HDOP_TO_METERS, TrackPoint
from kei_drive.core.xmltext import xml_safe

CHUNK_POINTS = 250  # fixes per yielded piece of text (short turns on the interpreter)
GPX_NS = "http://www.topografix.com/GPX/1/1"
_SCHEMA = "http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd"


def _xml_text(text: str) -> str:
    return escape(xml_safe(text))


def _iso(when: datetime) -> str:
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _num(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _trkpt(p: TrackPoint) -> str:
    parts = [f'<trkpt lat="{p.lat}" lon="{p.lon}">']
    ele = _num(p.elevation)
    if ele is not None:
        parts.append(f"<ele>{ele}</ele>")
    if p.time is not None:
        parts.append(f"<time>{_iso(p.time)}</time>")
    acc = _num(p.accuracy_m)
    if acc is not None:
        parts.append(f"<hdop>{round(acc / HDOP_TO_METERS, 3)}</hdop>")
    speed, course = _num(p.speed_mps), _num(p.course)
    if speed is not None or course is not None:
        parts.append("<extensions><gpxtpx:TrackPointExtension>")
        if speed is not None:
            parts.append(f"<gpxtpx:speed>{speed:.3f}</gpxtpx:speed>")
        if course is not None:
            parts.append(f"<gpxtpx:course>{course:.1f}</gpxtpx:course>")
        parts.append("</gpxtpx:TrackPointExtension></extensions>")
    parts.append("</trkpt>\n")
    return "".join(parts)


def _chunks(items: Iterable[Any], size: int = CHUNK_POINTS) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_gpx(points: Iterable[TrackPoint], name: str | None = None) -> Iterator[str]:
    """A GPX 1.1 document with one track and one segment, in pieces."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx xmlns="{GPX_NS}" xmlns:gpxtpx="{GPXTPX_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{_SCHEMA}" version="1.1" creator={quoteattr(CREATOR)}>\n'
        "<trk>\n"
    )
    if name:
        yield f"<name>{_xml_text(name)}</name>\n"
    yield "<trkseg>\n"
    for batch in _chunks(points):
        yield "".join(_trkpt(p) for p in batch)
    yield "</trkseg>\n</trk>\n</gpx>\n"


def _json_list(values: Iterable[Any]) -> Iterator[str]:
    """A JSON array, in pieces (NaN and infinities become null, as JSON has neither)."""
    yield "["
    first = True
    for batch in _chunks(values):
        text = json.dumps(batch, allow_nan=False, separators=(",", ":"))[1:-1]
        if text:
            yield text if first else "," + text
            first = False
    yield "]"


def iter_geojson(
    rows: Callable[[], Iterable[TrackPoint]],
    name: str | None = None,
    properties: dict[str, Any] | None = None,
    with_elevation: bool = False,
) -> Iterator[str]:
    """A FeatureCollection with one LineString, in pieces, laid out like ``to_geojson``.

    ``rows`` is called once per pass (coordinates, times, speeds), so the fixes never
    need to be held in memory; ``with_elevation`` when every fix has an altitude.
    """

    def coord(p: TrackPoint) -> list[float | None]:
        return [p.lon, p.lat, _num(p.elevation)] if with_elevation else [p.lon, p.lat]

    props: dict[str, Any] = {"name": name} if name else {}
    props.update(properties or {})
    head = json.dumps(props, separators=(",", ":"))[:-1]  # open: coordinateProperties follow
    yield '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":'
    yield '{"type":"LineString","coordinates":'
    yield from _json_list(coord(p) for p in rows())
    yield '},"properties":' + head + ("," if props else "") + '"coordinateProperties":'
    yield '{"times":'
    yield from _json_list(_iso(p.time) if p.time is not None else None for p in rows())
    yield ',"speeds_mps":'
    yield from _json_list(_num(p.speed_mps) for p in rows())
    yield "}}}]}"
