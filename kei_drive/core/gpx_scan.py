"""Vectorised scan of GPX bytes (UTF-8) that expat has already checked is well-formed.

A big GPX file is hundreds of thousands of ``<trkpt>`` elements and a handful of track,
segment and name tags. Visiting each point in Python costs microseconds a point; here the
positions of every tag, attribute and value come from numpy comparisons over the bytes
(one byte per element: markup is ASCII, and no UTF-8 continuation byte equals an ASCII
one), and numbers and times are converted as whole columns (``decimals``, ``iso_times``),
so the per-point work stays in C. Anything unusual for this fast path (comments, CDATA,
processing instructions, an attribute value holding ">", a field tag with attributes, a
point inside a point, a structure tag inside a point...) returns ``None`` and the caller
reads that piece of text with its general regex scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_LT, _GT, _SLASH, _COLON, _EQ, _DQ, _SQ = (ord(c) for c in "<>/:=\"'")
_PAD = 64  # zeros after the bytes: windows read past a value's end read no other memory
_NAME_W = 24  # an element name (with its prefix) longer than this is none of ours
_IS_DELIM = np.zeros(256, dtype=bool)  # what ends an element name
_IS_DELIM[[ord(c) for c in " \t\r\n/>"]] = True
_IS_WS = np.zeros(256, dtype=bool)
_IS_WS[[ord(c) for c in " \t\r\n"]] = True

# The columns a caller may ask for, and the element holding each (in the point or in its
# extensions, with any namespace prefix); lat and lon are the point's attributes.
FIELD_TAGS = {"t": b"time", "elevation": b"ele", "speed": b"speed", "course": b"course"}
FIELD_TAGS["accuracy"] = b"hdop"


_IS_NAME = np.zeros(256, dtype=bool)  # bytes of an element name (non-ASCII: UTF-8 letters)
_IS_NAME[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:"]] = (
    True
)
_IS_NAME[128:] = True
_P10F = 10.0 ** np.arange(23)


def padded(data: bytes) -> np.ndarray:
    """The bytes as uint8, followed by ``_PAD`` zeros."""
    buf = np.zeros(len(data) + _PAD, dtype=np.uint8)
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return buf


class Tags:
    """Every tag of the bytes: where it starts ("<"), whether it closes, and where its
    local name starts (after "<", "</" or a namespace prefix's ":")."""

    def __init__(self, buf: np.ndarray, data: bytes) -> None:
        self.buf = buf
        self.lt = np.flatnonzero(buf == _LT)
        self.gt = np.flatnonzero(buf == _GT)
        self.quotes = {q: np.flatnonzero(buf == q) for q in (_DQ, _SQ)}
        self.closing = buf[self.lt + 1] == _SLASH
        self.name = self.lt + 1 + self.closing
        colon = np.flatnonzero(buf == _COLON)
        if colon.size:  # move past namespace prefixes (to the last ":" in a name)
            k = np.searchsorted(self.lt, colon) - 1
            colon, k = colon[k >= 0], k[k >= 0]
            gt = self.gt
            same_tag = gt[np.minimum(np.searchsorted(gt, self.lt[k]), gt.size - 1)] > colon
            colon, k = colon[same_tag], k[same_tag]  # (a time's ":" follows its tag's ">")
            if colon.size:
                start = self.name[k]
                width = int((colon - start).max()) + 1
                span = np.arange(width)
                between = buf[np.minimum(start[:, None] + span, buf.size - 1)]
                named = (_IS_NAME[between] | (span >= (colon - start)[:, None])).all(axis=1)
                self.name[k[named]] = colon[named] + 1  # ascending: the last ":" wins
        s = self.name
        self.head = (  # the first four bytes of each name, as one number
            buf[s].astype(np.uint32)
            | buf[s + 1].astype(np.uint32) << 8
            | buf[s + 2].astype(np.uint32) << 16
            | buf[s + 3].astype(np.uint32) << 24
        )

    def find(self, name: bytes, closing: bool | None = None) -> np.ndarray:
        """Indices of the tags named ``name`` (any prefix); opening or closing ones only
        when ``closing`` says so."""
        head = name[:4]
        mask = (1 << (8 * len(head))) - 1
        wanted = int.from_bytes(head, "little")
        idx = np.flatnonzero(
            self.head == wanted if mask == 0xFFFFFFFF else (self.head & mask) == wanted
        )
        for j in range(4, len(name)):
            idx = idx[self.buf[self.name[idx] + j] == name[j]]
        idx = idx[_IS_DELIM[self.buf[self.name[idx] + len(name)]]]
        if closing is not None:
            idx = idx[self.closing[idx] == closing]
        return idx


def decimals(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals (``-?digits[.digits]``, at most 15 digits) in the spans [a, b) as
    floats, and which spans were such decimals (the others: NaN, for the caller to read).

    The digits make an exact integer and 10**k is exact, so one IEEE division gives the
    correctly rounded value: the same double as ``float(text)``. The values are read
    right-aligned (the last byte of each in the last column), a column at a time."""
    n = a.size
    if not n:
        return np.zeros(0), np.zeros(0, dtype=bool)
    length = b - a
    w = int(min(max(int(length.max()), 1), 17))
    columns = sliding_window_view(buf, w)[np.maximum(b - w, 0)].T.copy()
    first = np.clip(w - length, 0, w).astype(np.int8)  # the column of each value's first byte
    neg = (columns[np.minimum(first, w - 1), np.arange(n)] == ord("-")) & (length > 1)
    bad = (length < 1) | (length > w) | (b < w)
    mantissa = np.zeros(n, dtype=np.int64)
    frac = np.zeros(n, dtype=np.int8)
    digits = np.zeros(n, dtype=np.int8)
    dots = np.zeros(n, dtype=np.int8)
    for j in range(w):  # Horner's rule; the digits after the dot are counted
        byte = columns[j]
        inside = first <= j
        digit = byte - np.uint8(ord("0"))
        is_digit = (digit < 10) & inside
        is_dot = (byte == ord(".")) & inside
        bad |= inside & ~is_digit & ~is_dot & ~(neg & (first == j))
        np.copyto(mantissa, mantissa * 10 + digit, where=is_digit)
        frac += is_digit & (dots > 0)
        dots += is_dot
        digits += is_digit
    ok = ~bad & (dots <= 1) & (digits >= 1) & (digits <= 15)
    value = mantissa / _P10F[np.minimum(frac, 22)]
    value = np.where(neg, -value, value)
    value[~ok] = np.nan
    return value, ok


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 1, 12) - 1]
    return days + ((month == 2) & leap)


def iso_times(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff][Z]`` (UTC) in the spans [a, b) as epoch seconds, and
    which spans had that form and a real date (the others: NaN, for the caller to read).
    Computed as whole microseconds / 1e6, exactly as the general reader does."""
    if not a.size:
        return np.zeros(0), np.zeros(0, dtype=bool)
    length = b - a

    def at(col: int) -> np.ndarray:
        return buf[a + col].astype(np.int64)

    ok = (length >= 19) & (length <= 27)
    for col, c in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        ok &= at(col) == ord(c)

    def num(*cols: int) -> np.ndarray:
        nonlocal ok
        out = np.zeros(a.size, dtype=np.int64)
        for col in cols:
            d = at(col) - ord("0")
            ok &= (d >= 0) & (d <= 9)
            out = out * 10 + d
        return out

    year, month, day = num(0, 1, 2, 3), num(5, 6), num(8, 9)
    hour, minute, second = num(11, 12), num(14, 15), num(17, 18)
    zulu = (length >= 20) & (buf[np.maximum(b - 1, 0)] == ord("Z"))
    end = length - zulu  # the end of the seconds and their fraction
    has_frac = (end > 19) & (at(19) == ord("."))
    nfrac = np.where(has_frac, end - 20, 0)
    ok &= (end == 19) | (has_frac & (nfrac >= 1) & (nfrac <= 6))
    frac_us = np.zeros(a.size, dtype=np.int64)
    for j in range(6):  # microseconds: the fraction's digits, zero-padded to six
        d = at(20 + j) - ord("0")
        inside = j < nfrac
        ok &= ~inside | ((d >= 0) & (d <= 9))
        frac_us = frac_us * 10 + np.where(inside, d, 0)
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= (day <= _days_in_month(year, month)) & (hour < 24) & (minute < 60) & (second < 60)
    # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    micros = ((days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000) + frac_us
    value = micros / 1e6
    value[~ok] = np.nan
    return value, ok


@dataclass
class Tokens:
    """Point spans [start, end) in byte order, the structure events around them,
    ``(offset, kind, tag, value)`` with kind "open" (value: self-closing), "close" or
    "name" (value: the raw bytes of a track or route name), and per column the span
    [a, b) of each point's value (a = -1: the point has none)."""

    starts: np.ndarray
    ends: np.ndarray
    events: list[tuple[int, str, str, object]]
    buf: np.ndarray
    spans: dict[str, tuple[np.ndarray, np.ndarray]]


def first_per_point(
    pos: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, index into ``pos``) of the first position inside each point."""
    if not starts.size:  # a piece of waypoints only (their <time>, <ele> are no point's)
        none = np.empty(0, dtype=np.int64)
        return none, none
    k = np.searchsorted(starts, pos, side="right") - 1
    inside = (k >= 0) & (pos < ends[np.clip(k, 0, None)])
    idx = np.flatnonzero(inside)
    k, first = np.unique(k[idx], return_index=True)
    return k, idx[first]


def _attribute_spans(
    buf: np.ndarray,
    quotes: dict[int, np.ndarray],
    name: bytes,
    starts: np.ndarray,
    tag_ends: np.ndarray,
    eq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Spans of attribute ``name``'s value in the start tags [starts, tag_ends); None when
    some attribute is written in a way this scan does not read (blanks around "=")."""
    n = len(name)
    hit = _IS_WS[buf[eq - n - 1]]
    for j, c in enumerate(name):
        hit &= buf[eq - n + j] == c
    pos = eq[hit]
    a = np.full(starts.size, -1, dtype=np.int64)
    b = np.full(starts.size, -1, dtype=np.int64)
    k, first = first_per_point(pos, starts, tag_ends)
    if not k.size:
        return a, b
    at = pos[first]
    quote = buf[at + 1]
    if not ((quote == _DQ) | (quote == _SQ)).all():
        return None
    a[k] = at + 2
    for q in (_DQ, _SQ):
        sel = quote == q
        if sel.any():
            qpos = quotes[q]
            b[k[sel]] = qpos[np.searchsorted(qpos, at[sel] + 2)]
    return a, b


def scan(data: bytes, fields: tuple[str, ...]) -> Tokens | None:
    """Points, structure and the value spans of ``fields`` (keys of ``FIELD_TAGS``) in
    ``data`` (complete tokens only), or None: use the general scan."""
    if b"<!" in data or b"<?" in data:
        return None
    buf = padded(data)
    tags = Tags(buf, data)
    lt, gt, quotes = tags.lt, tags.gt, tags.quotes
    # Points: <trkpt …> … </trkpt> or <trkpt …/>, never nested.
    pt_open = np.sort(lt[np.concatenate((tags.find(b"trkpt", False), tags.find(b"rtept", False)))])
    tag_end = gt[np.searchsorted(gt, pt_open)] if pt_open.size else pt_open
    self_closing = buf[tag_end - 1] == _SLASH
    if not _real_ends(quotes, pt_open, tag_end):
        return None  # a ">" inside an attribute value: the general scan decides
    pt_close = np.sort(lt[np.concatenate((tags.find(b"trkpt", True), tags.find(b"rtept", True)))])
    if pt_close.size != int((~self_closing).sum()):
        return None
    ends = tag_end + 1
    if pt_close.size:
        ends[~self_closing] = gt[np.searchsorted(gt, pt_close)] + 1
        if not (pt_close > tag_end[~self_closing]).all():
            return None
    if ends.size > 1 and not (ends[:-1] <= pt_open[1:]).all():
        return None  # nested or unpaired points
    events: list[tuple[int, str, str, object]] = []
    for tag in ("trkseg", "trk", "rte"):
        pos = lt[tags.find(tag.encode(), False)]
        end = gt[np.searchsorted(gt, pos)]
        if not _real_ends(quotes, pos, end):
            return None
        for at, empty in zip(pos.tolist(), (buf[end - 1] == _SLASH).tolist(), strict=True):
            events.append((at, "open", tag, empty))
        for pos in lt[tags.find(tag.encode(), True)].tolist():
            events.append((pos, "close", tag, None))
    if events and _inside(np.array([e[0] for e in events]), pt_open, ends).any():
        return None  # a structure tag inside a point
    names = tags.find(b"name", False)
    if names.size:
        pos, name_end = lt[names], tags.name[names] + 4
        outside = ~_inside(pos, pt_open, ends)
        pos, name_end = pos[outside], name_end[outside]
        if not (buf[name_end] == _GT).all():
            return None  # "<name attr…>" or "<name >": the general scan decides
        for at, end in zip(pos.tolist(), name_end.tolist(), strict=True):
            value_end = int(lt[np.searchsorted(lt, end + 1)])
            events.append((at, "name", "name", data[end + 1 : value_end]))
    events.sort()
    spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    eq = np.flatnonzero(buf == _EQ)
    eq = eq[_inside(eq, pt_open, tag_end)]  # only the points' start tags matter
    for column in ("lat", "lon"):
        found = _attribute_spans(buf, quotes, column.encode(), pt_open, tag_end, eq)
        if found is None or (found[0] < 0).any():
            return None  # "lat = …", or a point without it: the general scan decides
        spans[column] = found
    for column in fields:
        tag = FIELD_TAGS.get(column)
        if tag is None:
            continue
        found_tags = tags.find(tag, False)
        pos, end = lt[found_tags], tags.name[found_tags] + len(tag)
        k, first = first_per_point(pos, pt_open, ends)
        a = np.full(pt_open.size, -1, dtype=np.int64)
        b = np.full(pt_open.size, -1, dtype=np.int64)
        if k.size:
            end = end[first]
            term = buf[end]
            if not ((term == _GT) | (term == _SLASH)).all():
                return None  # "<time zone=…>" or "<ele >": the general scan decides
            keep = term == _GT  # "<ele/>": no value
            start = end[keep] + 1
            a[k[keep]] = start
            b[k[keep]] = lt[np.searchsorted(lt, start)]
        spans[column] = (a, b)
    return Tokens(pt_open, ends, events, buf, spans)


def _real_ends(quotes: dict[int, np.ndarray], starts: np.ndarray, ends: np.ndarray) -> bool:
    """Is each ">" at ``ends`` the end of the tag at ``starts``, not a ">" inside one of
    its attribute values (legal XML)? Then each kind of quote comes in pairs before it."""
    if not starts.size:
        return True
    for at in quotes.values():
        if at.size and ((np.searchsorted(at, ends) - np.searchsorted(at, starts)) % 2).any():
            return False
    return True


def _inside(pos: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not starts.size:
        return np.zeros(pos.size, dtype=bool)
    k = np.searchsorted(starts, pos, side="right") - 1
    return (k >= 0) & (pos < ends[np.clip(k, 0, None)])
