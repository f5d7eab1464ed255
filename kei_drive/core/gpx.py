"""GPX reading (streaming, expat) and GPX/GeoJSON writing (gpxpy), with clear errors.

Reading returns one list of ``TrackPoint`` per track segment or route, in file order, or
the same as numpy columns (``read_gpx_columns``: big files, no per-point objects).
Times are always timezone-aware UTC (a GPX time without a zone is taken as UTC).
Speed and course come from GPX 1.0 ``<speed>``/``<course>`` or from GPX 1.1 extensions
(Garmin ``TrackPointExtension``); accuracy comes from HDOP when present (estimate, see
``HDOP_TO_METERS``). Written GPX is 1.1 with speed/course in a ``gpxtpx`` extension.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import re
import warnings
import xml.etree.ElementTree as ET
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import numpy as np

from kei_drive.core import gpx_scan
from kei_drive.core.memory import trim_heap
from kei_drive.core.times import as_utc, iso_z
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
# declaration (UTF-8, UTF-16 with its BOM or without one, ISO-8859-1, US-ASCII, and
# Python's single-byte codecs such as windows-1252); any other declared encoding ("ANSI",
# Shift_JIS...) is a GpxError naming it. ElementTree's iterparse is never used: on CPython
# 3.12.1 an abandoned iterparse crashes the interpreter at exit (code 139) after a parse
# error.

READ_CHUNK = 1 << 20
SPEED_FIELD_MAX = 1000.0  # a <speed> beyond this (1e308) is read as none, whatever its unit


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


def _epoch(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (no zone: UTC); NaN for an empty one. Raises
    ``ValueError`` for anything else."""
    text = text.strip()
    if not text:
        return math.nan
    try:  # RFC 3339 allows a lower-case "z" (and "t"), which ``fromisoformat`` refuses
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return _loose_epoch(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# What loggers write beside ISO 8601: fields without their leading zeros (a home-made
# logger's "2024-5-4T9:03:07Z") and 24:00:00 (XML Schema's end of a day). A leap second
# (23:59:60) stays unreadable: epoch seconds have no room for it (read as the next second,
# its step took 0 s: a 43 mph drive read 14 s over a 45 mph cap); its fix is left out.
_LOOSE_TIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?"
    r"\s*(?:([Zz])|([+-])(\d{1,2}):?(\d{2}))?"
)


def _loose_epoch(text: str) -> float:
    match = _LOOSE_TIME.fullmatch(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    fraction = float("0." + match[7]) if match[7] else 0.0
    if hour == 24 and (minute, second, fraction) != (0, 0, 0.0):
        raise ValueError(text)
    # datetime refuses hour 24: count it on from the hour before
    extra = 3600 * (hour == 24)
    start = datetime(year, month, day, hour - (hour == 24), minute, second)
    offset = 0
    if match[9]:
        offset = (int(match[10]) * 60 + int(match[11])) * 60 * (1 if match[9] == "+" else -1)
    return start.replace(tzinfo=UTC).timestamp() + extra + fraction - offset


_NS = r"(?:[\w.-]+:)?"
# The general scan (text that the vectorised one leaves): the tokens that matter, in
# document order: points (whole), track/route/segment bounds, names, and what to skip
# whole (comments, CDATA, waypoints).
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""  # a quoted attribute value may hold ">"
_TOKEN = re.compile(
    rf"""<!--.*?-->
    | <!\[CDATA\[.*?\]\]>
    | <{_NS}(?P<pt>trkpt|rtept)(?=[\s/>])(?P<attrs>{_ATTRS})
      (?:/>|>(?P<body>[^<]*(?:<(?!/{_NS}(?P=pt)\s*>)[^<]*)*)</{_NS}(?P=pt)\s*>)
    | <{_NS}wpt(?=[\s/>]){_ATTRS}(?:/>|>.*?</{_NS}wpt\s*>)
    | <{_NS}(?P<open>trkseg|trk|rte)(?=[\s/>]){_ATTRS}(?P<empty>/?)>
    | </{_NS}(?P<close>trkseg|trk|rte)\s*>
    | <{_NS}name\s*>(?P<name>(?:<!\[CDATA\[.*?\]\]>|[^<])*)<""",
    re.S | re.X,
)
# Where a chunk may be cut: before a point, a structure tag, a waypoint, a comment or CDATA.
# (a name ends at a blank, "/" or ">": "<trk:foo>" is an extension element of prefix trk)
_STARTS = re.compile(
    rb"<(?:(?:[\w.-]+:)?(?:trkpt|rtept|trkseg|trk|rte|wpt)(?=[\s/>])|!--|!\[CDATA\[)"
)
_FIELDS = {  # the literal first (fast search), then: an opening tag, optionally prefixed
    key: re.compile(rf"{tag.decode()}(?<=[<:]{tag.decode()})\s*>([^<]*)<")
    for key, tag in gpx_scan.FIELD_TAGS.items()
}
_LAT = re.compile(r"""(?<=\s)lat\s*=\s*["']([^"']*)["']""")
_LON = re.compile(r"""(?<=\s)lon\s*=\s*["']([^"']*)["']""")

ALL_FIELDS = ("t", "elevation", "speed", "course", "accuracy")  # besides lat and lon
POSITIONS_ONLY: tuple[str, ...] = ()


class _Extractor:
    """Points and track structure from GPX text (UTF-8 bytes) that expat has checked is
    well-formed.

    Bytes arrive in pieces; each piece is cut before its last point or track token (which
    may be incomplete) and the rest waits for the next piece. A piece is scanned by
    ``gpx_scan`` (vectorised: positions and values of every point at once); a piece that
    scan leaves (comments, CDATA, odd markup) goes through a regex scan, token by token.
    ``fields`` are the columns read besides lat and lon (the others stay NaN)."""

    def __init__(self, fields: tuple[str, ...] = ALL_FIELDS) -> None:
        self.fields = tuple(f for f in ALL_FIELDS if f in fields)
        self.tracks: list[GpxTrack] = []
        self.track: GpxTrack | None = None
        self.cols: _Columns | None = None
        self.counts = {"trk": 0, "rte": 0}
        self.seg_no = 0
        self.in_segment = False
        self.pending = b""
        self.started = False
        # fixes left out for a bad coordinate or time (a logger's glitch): counted, the
        # first described; one bad fix never sinks the file
        self.invalid = 0
        self.invalid_first: str | None = None
        self.dropped_in_segment = 0  # so that later fixes keep their numbers in messages
        # fixes whose time could not be read in a batch with no readable time (a log whose
        # every time is garbled): kept untimed, counted, the first described
        self.untimed = 0
        self.untimed_first: str | None = None
        self._bad: np.ndarray = np.zeros(0, dtype=bool)
        self._unread: list[tuple[int, str]] = []  # the batch's fixes whose time is unreadable

    def feed(self, data: bytes, final: bool = False) -> None:
        data = self.pending + data
        if not self.started:
            data = self._skip_declaration(data, final)
            if not self.started:
                self.pending = data
                return
        cut = len(data)
        if not final:
            cut = data.rfind(b"<")
            while cut > 0 and not _STARTS.match(data, cut):
                cut = data.rfind(b"<", 0, cut)
            cut = max(cut, 0)
            for opening, closing in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>")):
                at = data.rfind(opening, 0, cut) if b"<!" in data else -1
                if at >= 0 and data.find(closing, at, cut) < 0:
                    cut = at  # never cut inside a comment or CDATA
        self.pending = data[cut:]
        if not cut:
            return
        piece = data[:cut] if cut < len(data) else data
        tokens = gpx_scan.scan(piece, self.fields)
        if tokens is not None:
            self._feed_tokens(piece, tokens)
        else:
            self._feed_text(piece.decode("utf-8"))

    def _skip_declaration(self, data: bytes, final: bool) -> bytes:
        """The text after the XML declaration (once it is whole)."""
        data = data.removeprefix(codecs.BOM_UTF8)
        if not data[:256].lstrip().startswith(b"<?xml"):
            self.started = bool(data.strip()) or final
            return data
        end = data.find(b"?>")
        if end < 0:
            self.started = final
            return data
        self.started = True
        return data[end + 2 :]

    def _feed_text(self, text: str) -> None:
        """The general scan: each token in turn, the points between them in bulk."""
        starts: list[int] = []
        ends: list[int] = []
        for m in _TOKEN.finditer(text):
            if m.group("pt"):
                if self.cols is not None:  # else a point outside any segment or route
                    starts.append(m.start())
                    ends.append(m.end())
                continue
            self._flush(text, starts, ends)
            starts, ends = [], []
            if m.group("open"):
                self._open(m.group("open"), bool(m.group("empty")))
            elif m.group("close"):
                self._close(m.group("close"))
            elif m.group("name") is not None and self._naming():
                self.track.name = _text(m.group("name")) or None  # type: ignore[union-attr]
        self._flush(text, starts, ends)

    def _feed_tokens(self, data: bytes, tokens: gpx_scan.Tokens) -> None:
        """The fast path: structure events in order, the points between them in bulk."""
        st, done = tokens.starts, 0
        columns = self._converted(tokens)  # once for the whole piece: a file of 20,000
        # one-fix segments converted each on its own took 0.7 ms a segment
        for pos, kind, tag, value in tokens.events:
            j = int(np.searchsorted(st, pos))
            if j > done:
                self._store_scanned(tokens, columns, done, j)
                done = j
            if kind == "open":
                self._open(tag, bool(value))
            elif kind == "close":
                self._close(tag)
            elif self._naming():
                name = _text(bytes(value).decode("utf-8"))  # type: ignore[arg-type]
                self.track.name = name or None  # type: ignore[union-attr]
        if done < st.size:
            self._store_scanned(tokens, columns, done, st.size)

    def _converted(self, tokens: gpx_scan.Tokens) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per column, every scanned point's value and whether the fast conversion read it
        (NaN and True where the point has no such field)."""
        buf, n = tokens.buf, tokens.starts.size
        out = {}
        for key in ("lat", "lon", *(k for k in ALL_FIELDS if k in self.fields)):
            a, b = tokens.spans[key]
            values, ok = np.full(n, np.nan), np.ones(n, dtype=bool)
            k = np.flatnonzero(a >= 0)
            convert = gpx_scan.iso_times if key == "t" else gpx_scan.decimals
            values[k], ok[k] = convert(buf, a[k], b[k])
            out[key] = (values, ok)
        return out

    def _naming(self) -> bool:
        """A <name> here names the current track or route (not yet named)."""
        return self.track is not None and not self.in_segment and self.track.name is None

    def drop_unfinished_point(self) -> None:
        """A file cut off: what follows its last whole point (a point cut in the middle, its
        fields perhaps half written) is left out."""
        ends = [self.pending.rfind(tag) for tag in (b"</trkpt>", b"</rtept>", b"/>")]
        last = max(ends)
        self.pending = self.pending[: last + (2 if last == ends[2] else 8)] if last >= 0 else b""

    def finish(self) -> list[GpxTrack]:
        self.feed(b"", final=True)
        self._close("trk")
        return self.tracks

    def _where(self, k: int = 0) -> str:
        n = (len(self.cols) if self.cols is not None else 0) + self.dropped_in_segment + k + 1
        if self.track is not None and self.track.kind == "rte":
            return f"#{n} of route {self.counts['rte']}"
        return f"#{n} of track {self.counts['trk']} segment {self.seg_no}"

    def _open(self, tag: str, empty: bool) -> None:
        if tag in ("trk", "rte"):
            self._close("trk")
            self.counts[tag] += 1
            self.track = GpxTrack(None, [], tag)
            self.seg_no = 0
            if tag == "rte":
                self.cols = _Columns()
                self.dropped_in_segment = 0
            if empty:
                self._close(tag)
        elif tag == "trkseg" and self.track is not None and self.track.kind == "trk":
            self._close_segment()
            self.seg_no += 1
            self.cols = _Columns()
            self.dropped_in_segment = 0
            self.in_segment = not empty
            if empty:
                self._close_segment()

    def _close(self, tag: str) -> None:
        if tag == "trkseg":
            self._close_segment()
            return
        self._close_segment()
        if self.track is not None and self.track.segments:
            self.tracks.append(self.track)
        self.track = None

    def _close_segment(self) -> None:
        if self.cols is not None and self.track is not None and len(self.cols):
            self.track.segments.append(self.cols.freeze())
        self.cols = None
        self.in_segment = False

    def _store_scanned(
        self,
        tokens: gpx_scan.Tokens,
        columns: dict[str, tuple[np.ndarray, np.ndarray]],
        i: int,
        j: int,
    ) -> None:
        """Store the scanned points i..j-1 (``columns``: their values, converted)."""
        if self.cols is None:
            return  # points outside any segment or route
        buf = tokens.buf
        self._bad = np.zeros(j - i, dtype=bool)
        self._unread: list[tuple[int, str]] = []
        out: dict[str, np.ndarray] = {}
        for key in ("lat", "lon"):
            a, b = (x[i:j] for x in tokens.spans[key])
            values, ok = (c[i:j].copy() for c in columns[key])
            for k in np.flatnonzero(~ok).tolist():
                values[k] = self._coordinate(key, _raw(buf, a[k], b[k]), k)
            out[key] = values
        self._check_coordinates(out["lat"], out["lon"])
        for key in ALL_FIELDS:
            if key not in columns:
                out[key] = np.full(j - i, np.nan)
                continue
            a, b = (x[i:j] for x in tokens.spans[key])
            values, ok = (c[i:j].copy() for c in columns[key])
            odd = np.flatnonzero(~ok)
            if odd.size:
                raw = [_raw(buf, a[m], b[m]) for m in odd.tolist()]
                values[odd] = _times(raw, self, odd) if key == "t" else _numbers(raw)
            out[key] = values
        self._append(out)

    def reject(self, k: int, why: str) -> None:
        """Leave out point ``k`` of the batch being stored (``why`` completes "point ...")."""
        self._bad[k] = True
        if self.invalid_first is None:
            self.invalid_first = f"point {self._where(k)} {why}"

    def unreadable_time(self, k: int, raw: str) -> None:
        """Point ``k`` of the batch being stored has a time that cannot be read (judged with
        the batch: ``_judge_unread_times``)."""
        self._unread.append((k, raw))

    def _judge_unread_times(self, t: np.ndarray) -> None:
        """Fixes whose time cannot be read are left out among timed ones: an untimed fix in a
        timed log turns off the repairs of its stamps (a 2 Hz logger's whole seconds read at
        its rhythm: one garbled time made a 43 mph drive 47 mph, 44 s over a 45 mph cap). In
        a batch with no readable time (every time garbled) they are kept, untimed."""
        unread, self._unread = self._unread, []
        if not unread:
            return
        if np.isfinite(t).any():
            for k, raw in unread:
                if not self._bad[k]:
                    self.reject(k, f"has a bad time {raw.strip()!r}")
            return
        for k, raw in unread:
            if self._bad[k]:
                continue  # left out already (a bad coordinate): not kept untimed
            self.untimed += 1
            if self.untimed_first is None:
                self.untimed_first = f"point {self._where(k)} has {raw.strip()!r}"

    def _coordinate(self, key: str, raw: str, k: int) -> float:
        try:
            return float(unescape(raw) if "&" in raw else raw)  # lat="&#51;9.29" is XML
        except ValueError:
            self.reject(k, f"has {key}={raw!r}, not a number")
            return math.nan

    def _check_coordinates(self, lat: np.ndarray, lon: np.ndarray) -> None:
        bad = ~(np.isfinite(lat) & np.isfinite(lon)) & ~self._bad
        for i in np.flatnonzero(bad)[:1].tolist():
            self.reject(i, f"has no valid coordinates (lat={lat[i]}, lon={lon[i]})")
        self._bad |= bad
        with np.errstate(invalid="ignore"):
            bad = ((np.abs(lat) > 90.0) | (np.abs(lon) > 180.0)) & ~self._bad
        for i in np.flatnonzero(bad)[:1].tolist():
            self.reject(i, f"is out of range (lat={lat[i]}, lon={lon[i]})")
        self._bad |= bad

    def _append(self, out: dict[str, np.ndarray]) -> None:
        self._judge_unread_times(out["t"])
        out["accuracy"] = out["accuracy"] * HDOP_TO_METERS
        with np.errstate(invalid="ignore"):  # no vehicle's speed in any unit: no speed
            out["speed"][np.abs(out["speed"]) > SPEED_FIELD_MAX] = np.nan
        if self._bad.any():
            keep = ~self._bad
            out = {key: column[keep] for key, column in out.items()}
            dropped = int(self._bad.sum())
            self.invalid += dropped
            self.dropped_in_segment += dropped
        for key in _COLUMNS:
            self.cols.cols[key].frombytes(out[key].astype(float).tobytes())  # type: ignore[union-attr]

    def _column(
        self, pattern: re.Pattern[str], text: str, st: np.ndarray, en: np.ndarray
    ) -> tuple[np.ndarray, list[str]]:
        """(point index, value) of the first match of ``pattern`` inside each point."""
        found = [(m.start(), m.group(1)) for m in pattern.finditer(text, int(st[0]), int(en[-1]))]
        if not found:
            return np.zeros(0, dtype=np.intp), []
        pos = np.fromiter((f[0] for f in found), dtype=np.int64, count=len(found))
        k, first = gpx_scan.first_per_point(pos, st, en)
        return k, [found[i][1] for i in first.tolist()]

    def _flush(self, text: str, starts: Sequence[int], ends: Sequence[int]) -> None:
        """Store the points at [starts[i], ends[i]) of ``text`` (the general scan)."""
        if not len(starts) or self.cols is None:
            return
        st, en = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        n = len(st)
        self._bad = np.zeros(n, dtype=bool)
        self._unread = []
        out: dict[str, np.ndarray] = {}
        for key, pattern in (("lat", _LAT), ("lon", _LON)):
            column = np.full(n, np.nan)
            k, values = self._column(pattern, text, st, en)
            for missing in np.setdiff1d(np.arange(n), k)[:1].tolist():
                self.reject(missing, f"has no {key}")
            column[k] = [self._coordinate(key, v, int(i)) for v, i in zip(values, k, strict=True)]
            out[key] = column
        self._check_coordinates(out["lat"], out["lon"])
        for key in ALL_FIELDS:
            column = np.full(n, np.nan)
            if key in self.fields:
                k, values = self._column(_FIELDS[key], text, st, en)
                if k.size:
                    column[k] = _times(values, self, k) if key == "t" else _numbers(values)
            out[key] = column
        self._append(out)


def _raw(buf: np.ndarray, a: int, b: int) -> str:
    return buf[a:b].tobytes().decode("utf-8")


def _text(raw: str) -> str:
    """Element text: CDATA sections verbatim, the rest with its entities resolved."""
    parts = re.split(r"<!\[CDATA\[(.*?)\]\]>", raw, flags=re.S)
    return "".join(p if i % 2 else unescape(p) for i, p in enumerate(parts)).strip()


def _numbers(values: list[str]) -> np.ndarray:
    """Floats; NaN for anything unreadable or infinite (an optional field is then unknown)."""
    values = [unescape(v) if "&" in v else v for v in values]  # character references
    try:
        out = np.array(values, dtype=float)
    except ValueError:
        out = np.array([_number(v) for v in values], dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _times(values: list[str], where: _Extractor, k: np.ndarray) -> np.ndarray:
    """Epoch seconds of ISO 8601 times (no zone: UTC); numpy parses the common forms at once
    (checked on the joined text, in C), anything with an offset or odd goes through
    ``datetime.fromisoformat``."""
    joined = "|".join(values)
    plain = (
        joined.count("-") == 2 * len(values)  # dates only: no negative offset
        and not any(c in joined for c in "+ \t\r\n")
        and "||" not in joined
        and not joined.startswith("|")
        and not joined.endswith("|")
    )
    if plain:
        try:
            with warnings.catch_warnings():  # numpy warns of a zone it drops: read it below
                warnings.simplefilter("error", UserWarning)
                warnings.simplefilter("error", DeprecationWarning)
                stamps = np.array(
                    joined.replace("Z|", "|").removesuffix("Z").split("|"),
                    dtype="datetime64[us]",
                )
            return stamps.astype(np.int64) / 1e6
        except (ValueError, UserWarning, DeprecationWarning):
            pass
    out = np.full(len(values), np.nan)
    for m, (value, i) in enumerate(zip(values, k.tolist(), strict=True)):
        try:
            out[m] = _epoch(value)
        except ValueError:  # kept, untimed: its position is as good as its neighbours'
            where.unreadable_time(i, value)
    return out


class _Validator:
    """Expat over the raw bytes (it honours the encoding declaration and the BOM): checks
    well-formedness, refuses entity declarations and checks the root element. Only the
    root element reaches Python; everything else stays in C."""

    def __init__(self) -> None:
        self.encoding: str | None = None
        self.root_seen = False
        self.truncated = ""  # expat's error where the file stops inside its root element
        self.parser = expat.ParserCreate()
        self.parser.XmlDeclHandler = self._decl
        self.parser.StartElementHandler = self._root
        self.parser.EntityDeclHandler = _refuse_entities
        self.parser.UnparsedEntityDeclHandler = _refuse_entities
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def _decl(self, _version: str, encoding: str | None, _standalone: int) -> None:
        self.encoding = encoding

    def _root(self, tag: str, _attrs: dict[str, str]) -> None:
        self.root_seen = True
        self.parser.StartElementHandler = None
        name = tag.rsplit(":", 1)[-1]
        if name != "gpx":
            raise GpxError(f"not a GPX file: the root element is <{name}>, expected <gpx>")

    def feed(self, chunk: str | bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            no_elements = expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]
            if not self.root_seen and exc.code == no_elements:
                raise GpxError("not a GPX file: empty document") from None
            if final and self.root_seen and exc.code in _CUT_OFF:
                self.truncated = str(exc)  # well-formed up to where it stops: keep what is there
                return
            if exc.code == _INVALID_TOKEN and self.root_seen and not _valid_utf8(chunk):
                raise GpxError(_not_utf8_message(self.encoding, exc)) from None
            raise GpxError(f"not a GPX file: malformed XML ({exc})") from None
        except GpxError:
            raise
        except (LookupError, ValueError) as exc:
            # Only expat's call into Python's codecs raises these: the declared encoding is
            # none expat knows itself, and Python has no codec for it (LookupError) or not
            # one expat can use (ValueError: multi-byte, or a codec failing on its bytes).
            raise _encoding_error(self.encoding, exc) from None


# Expat's errors for a document that stops before its end (only the final parse raises them).
_CUT_OFF = {
    expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
    expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION],
}
_INVALID_TOKEN = expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]
TRUNCATED_NOTE = (
    "The file stops before its end (no closing tags: a logger or phone cut off while "
    "writing it?); the points up to there were read."
)


def _valid_utf8(chunk: str | bytes) -> bool:
    """Are the chunk's bytes valid UTF-8 (but for a character cut by the chunk's end)? Expat
    calls bytes of another encoding in a UTF-8 document an invalid token, as it calls a
    stray "<" or "&"."""
    if not isinstance(chunk, bytes):
        return True
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as bad:
        return bad.reason == "unexpected end of data"  # a character cut by the chunk's end
    return True


def _not_utf8_message(encoding: str | None, exc: expat.ExpatError) -> str:
    declared = f"declares {encoding}" if encoding else "declares no encoding (so UTF-8)"
    return (
        f"not a GPX file: its bytes are not UTF-8 (line {exc.lineno}, column {exc.offset + 1}), "
        f"though it {declared}: another encoding, e.g. Latin-1 or Windows-1252? Re-save the "
        'file as UTF-8, or name its encoding (<?xml version="1.0" encoding="windows-1252"?>)'
    )


def _bom_encoding(head: bytes) -> str | None:
    """The encoding the first bytes show, as expat reads them: a BOM, or else UTF-16 without
    one (a document starts with an ASCII character, so a NUL in its first two bytes is the
    high byte of UTF-16BE or UTF-16LE; expat reads those bytes the same way)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head[:1] == b"\0":
        return "utf-16-be"
    if head[1:2] == b"\0":
        return "utf-16-le"
    return None


def _refuse_utf32(head: bytes) -> None:
    """UTF-32 (its BOM, or "<" or blank space and three NULs), which expat cannot read:
    named, not "malformed XML"."""
    first = b"< \t\r\n"
    little = head[1:4] == b"\0\0\0" and head[:1] in first
    big = head[:3] == b"\0\0\0" and head[3:4] in first
    if head in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) or little or big:
        raise GpxError(
            "not a GPX file: its bytes are UTF-32, which is not supported; re-save the file "
            "as UTF-8"
        )


def _encoding_error(encoding: str | None, exc: Exception, declared: bool = True) -> GpxError:
    """The one-line error for an encoding that cannot be used (no guessing at code pages:
    the file is refused and its encoding named)."""
    if not encoding:
        name = "of its XML declaration"
    else:
        name = f"{encoding!r} " + ("named in its XML declaration" if declared else "of its bytes")
    if isinstance(exc, LookupError):
        why = "is not a known encoding"
    elif isinstance(exc, UnicodeDecodeError):
        why = f"does not match its content ({exc.reason})"
    elif "multi-byte" in str(exc):
        why = "is not supported (a multi-byte encoding other than UTF-8 or UTF-16)"
    else:
        why = "is not supported"
    return GpxError(f"not a GPX file: the encoding {name} {why}; re-save the file as UTF-8")


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


def _utf8_pieces(validator: _Validator, chunks: Iterable[str | bytes]) -> Iterator[bytes]:
    """Each chunk after expat has checked it, as UTF-8 bytes: UTF-8 and ASCII as they are,
    other encodings (the BOM's or the XML declaration's, as expat read them) converted."""
    decoder: codecs.IncrementalDecoder | None = None
    passthrough = False
    encoding, declared = "utf-8", False
    for chunk in chunks:
        if decoder is None and not passthrough and isinstance(chunk, bytes):
            _refuse_utf32(chunk[:4])
        validator.feed(chunk)
        if isinstance(chunk, str):
            yield chunk.encode("utf-8")
            continue
        if decoder is None and not passthrough:
            bom = _bom_encoding(chunk[:4])
            encoding = bom or validator.encoding or "utf-8"
            declared = bom is None and validator.encoding is not None
            try:
                name = codecs.lookup(encoding).name
                if name not in ("utf-8", "utf-8-sig", "ascii"):
                    decoder = codecs.getincrementaldecoder(name)()
            except LookupError as exc:  # expat refuses these first; never a traceback
                raise _encoding_error(encoding, exc, declared) from None
            passthrough = decoder is None
        yield chunk if decoder is None else _decode(decoder, chunk, encoding, declared)
    validator.feed(b"", final=True)
    if decoder is not None:
        yield _decode(decoder, b"", encoding, declared, final=True)


def _decode(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    encoding: str,
    declared: bool,
    final: bool = False,
) -> bytes:
    """A chunk expat has read, decoded the same way, as UTF-8."""
    try:
        return decoder.decode(chunk, final).encode("utf-8")
    except UnicodeDecodeError as exc:  # expat and Python disagree: never a traceback
        raise _encoding_error(encoding, exc, declared) from None


def read_gpx_columns(
    source: GpxSource, fields: Iterable[str] = ALL_FIELDS, notes_out: list[str] | None = None
) -> list[GpxTrack]:
    """Every track, then every route, with their points as columns (one streaming pass).

    ``source`` is GPX text (``str``; a ``str`` naming an existing file is read as a path),
    raw bytes, a ``Path`` or an open file. ``fields``: the columns read besides lat and lon
    (``ALL_FIELDS`` by default; the others are NaN). Raises ``GpxError`` for malformed XML,
    a non-GPX document, entity declarations, or a GPX with no valid track or route point.
    A point with a missing, NaN or out-of-range coordinate or an unreadable time is left
    out (one bad fix does not sink the file), but where no time can be read at all (every
    one garbled) the points are kept, untimed. ``notes_out`` (a list) receives a sentence
    for each kind saying how many there were and naming the first.

    Each chunk goes through expat first (well-formedness, encoding, no entities), then a
    vectorised scan picks the points out of the same chunk (as UTF-8): the file is read
    once and never held whole, and no per-point Python call is made.
    """
    validator = _Validator()
    extractor = _Extractor(tuple(fields))
    for piece in _utf8_pieces(validator, _chunks(source)):
        extractor.feed(piece)
    if validator.truncated:
        extractor.drop_unfinished_point()
    tracks = extractor.finish()
    trim_heap()  # the chunks' bytes and tokens are garbage now
    tracks = [t for t in tracks if t.kind == "trk"] + [t for t in tracks if t.kind == "rte"]
    if not tracks and validator.truncated:
        raise GpxError(f"not a GPX file: malformed XML ({validator.truncated})")
    if not tracks and extractor.invalid:
        raise GpxError(f"GPX has no valid track or route points: {extractor.invalid_first}")
    if not tracks:
        raise GpxError("GPX has no track or route points")
    if extractor.invalid and notes_out is not None:
        notes_out.append(skipped_points_note(extractor.invalid, extractor.invalid_first or ""))
    if extractor.untimed and notes_out is not None:
        notes_out.append(unread_times_note(extractor.untimed, extractor.untimed_first or ""))
    if validator.truncated and notes_out is not None:
        notes_out.append(TRUNCATED_NOTE)
    return tracks


def skipped_points_note(count: int, first: str) -> str:
    """The sentence for fixes left out of a file (``first`` describes the first one)."""
    if count == 1:
        return f"1 point of the file was left out: {first}."
    return f"{count} points of the file were left out; the first: {first}."


def unread_times_note(count: int, first: str) -> str:
    """The sentence for fixes whose time could not be read (``first``: the first one)."""
    if count == 1:
        return f"1 point's time could not be read, so it is read as untimed: {first}."
    return (
        f"{count} points' times could not be read, so they are read as untimed; the first: {first}."
    )


def read_gpx_tracks(source: GpxSource) -> list[tuple[str | None, list[list[TrackPoint]]]]:
    """Like ``read_gpx`` but grouped per track, then per route: ``[(name, segments)]``."""
    return [(t.name, [s.points() for s in t.segments]) for t in read_gpx_columns(source)]


def read_gpx(source: GpxSource) -> list[list[TrackPoint]]:
    """Points of each track segment, then each route, in file order (empty ones dropped).

    See ``read_gpx_columns`` for the sources accepted and the errors raised.
    """
    return [segment for _name, segments in read_gpx_tracks(source) for segment in segments]


def read_gpx_latlon(
    source: GpxSource, fields: Iterable[str] = ("t", "accuracy")
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All track and route points concatenated as columns ``(lat, lon, t, accuracy)``
    (``fields=POSITIONS_ONLY``: t and accuracy are not read, NaN)."""
    segments = [s for t in read_gpx_columns(source, fields) for s in t.segments]
    return tuple(  # type: ignore[return-value]
        np.concatenate([getattr(s, k) for s in segments]) for k in ("lat", "lon", "t", "accuracy")
    )


def read_gpx_points(source: GpxSource) -> list[tuple[float, float]]:
    """All track and route points of the file concatenated, as ``(lat, lon)``."""
    lat, lon, _t, _acc = read_gpx_latlon(source, POSITIONS_ONLY)
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


def to_gpx(
    points: Sequence[TrackPoint] | Sequence[Sequence[TrackPoint]],
    name: str | None = None,
    description: str | None = None,
) -> str:
    """A GPX 1.1 document with one track; one ``trkseg`` per given segment.

    ``points`` is a flat list of points (one segment) or a list of segments.
    """
    import gpxpy.gpx  # writing only (reading is expat and numpy)

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
            out = gpxpy.gpx.GPXTrackPoint(p.lat, p.lon, elevation=p.elevation, time=as_utc(p.time))
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
        return [iso_z(v) for v in values] if attr == "time" else values

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


def fingerprint(tracks: Sequence[GpxTrack]) -> str:
    """sha256 of every fix (position to ~1 cm, time to the millisecond), in file order:
    the same log imported again has the same fingerprint, however it is formatted."""
    digest = hashlib.sha256()
    for track in tracks:
        for seg in track.segments:
            digest.update(np.round(seg.lat, 7).tobytes())
            digest.update(np.round(seg.lon, 7).tobytes())
            digest.update(np.nan_to_num(np.round(seg.t, 3), nan=-1.0).tobytes())
    return digest.hexdigest()
