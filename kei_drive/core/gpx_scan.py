"""Vectorised token scan of GPX text that expat has already checked is well-formed.

A big GPX file is hundreds of thousands of ``<trkpt>`` elements and a handful of track,
segment and name tags. Visiting each point with a regex match and a Python loop cost
~7 µs a point; here the positions of every tag come from numpy comparisons over the
text's code points, so the per-point work stays in C. Anything unusual for this fast
path (comments, CDATA, waypoints, prefixed structure tags, a point inside a point…)
returns ``None`` and the caller reads that piece of text with its general regex scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_LT, _GT, _SLASH, _COLON = ord("<"), ord(">"), ord("/"), ord(":")
_DELIMS = np.array([ord(c) for c in " \t\n\r>/"], dtype=np.uint32)
_PAD = 16  # zeros after the text: comparisons past its end read no other memory
# Structure or point tags with a namespace prefix, which only the general scan handles.
_PREFIXED = re.compile(r":(?:trkpt|rtept|trkseg|trk|rte|wpt|name)[\s/>]")


def code_points(text: str) -> np.ndarray:
    """The text as uint32 code points, followed by ``_PAD`` zeros."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.concatenate((codes, np.zeros(_PAD, dtype=np.uint32)))


class Names:
    """Element names starting at given offsets of the code points (just after "<", "</"
    or a prefix's ":"): ``at(name)`` says which offsets begin that name followed by a
    delimiter (blank, ">" or "/"). The first letters are read once for every name asked."""

    def __init__(self, codes: np.ndarray, starts: np.ndarray) -> None:
        self.codes = codes
        self.starts = np.minimum(starts, codes.size - _PAD)  # names are shorter than _PAD
        self.first = codes[self.starts]

    def at(self, name: str) -> np.ndarray:
        alive = np.flatnonzero(self.first == ord(name[0]))
        for j, ch in enumerate(name[1:], 1):  # narrowing: later letters look at the few left
            alive = alive[self.codes[self.starts[alive] + j] == ord(ch)]
        after = self.codes[self.starts[alive] + len(name)]
        hit = np.zeros(self.starts.size, dtype=bool)
        hit[alive[np.isin(after, _DELIMS)]] = True
        return hit


def tag_positions(codes: np.ndarray, name_starts: np.ndarray, tag: str) -> np.ndarray:
    """Offsets of opening ``tag`` names among ``name_starts`` (offsets just after a "<"
    or a prefix's ":"); a closing tag has "/" there, so it never matches."""
    return name_starts[Names(codes, name_starts).at(tag)]


@dataclass
class Tokens:
    """Point spans [start, end) in text order and the structure events around them:
    ``(offset, kind, tag, value)`` with kind "open" (value: self-closing), "close" or
    "name" (value: the raw text of a track or route name)."""

    starts: np.ndarray
    ends: np.ndarray
    events: list[tuple[int, str, str, object]]
    codes: np.ndarray  # the text's code points (padded), for the field scans


def scan(text: str) -> Tokens | None:
    """Points and structure of ``text`` (complete tokens only), or None: use the general scan."""
    if "<!" in text or "<wpt" in text or _PREFIXED.search(text):
        return None
    codes = code_points(text)
    lt = np.flatnonzero(codes == _LT)
    gt = np.flatnonzero(codes == _GT)
    after = lt + 1
    closing = codes[after] == _SLASH
    opens, closes = lt[~closing], lt[closing]
    # Points: <trkpt …> … </trkpt> or <trkpt …/>, never nested.
    open_names, close_names = Names(codes, opens + 1), Names(codes, closes + 2)
    is_pt = open_names.at("trkpt") | open_names.at("rtept")
    pt_open = opens[is_pt]
    tag_end = gt[np.searchsorted(gt, pt_open)] if pt_open.size else pt_open
    self_closing = codes[tag_end - 1] == _SLASH
    is_close = close_names.at("trkpt") | close_names.at("rtept")
    pt_close = closes[is_close]
    if pt_close.size and not (codes[pt_close + 7] == _GT).all():
        return None  # "</trkpt >": leave it to the general scan
    if pt_close.size != int((~self_closing).sum()):
        return None
    ends = tag_end + 1
    ends[~self_closing] = pt_close + 8
    if ends.size > 1 and not (ends[:-1] <= pt_open[1:]).all():
        return None  # nested or unpaired points
    if (~self_closing).any() and not (pt_close >= pt_open[~self_closing]).all():
        return None
    events: list[tuple[int, str, str, object]] = []
    for tag in ("trkseg", "trk", "rte"):
        for pos in opens[open_names.at(tag)].tolist():
            end = int(gt[np.searchsorted(gt, pos)])
            events.append((pos, "open", tag, bool(codes[end - 1] == _SLASH)))
        for pos in closes[close_names.at(tag)].tolist():
            events.append((pos, "close", tag, None))
    names = opens[open_names.at("name")]
    if names.size:
        if not (codes[names + 5] == _GT).all():
            return None  # "<name attr…>" or "<name >": the general scan decides
        inside = _inside(names, pt_open, ends)
        for pos in names[~inside].tolist():
            value_end = int(lt[np.searchsorted(lt, pos + 6)])
            events.append((pos, "name", "name", text[pos + 6 : value_end]))
    events.sort()
    if events and _inside(np.array([e[0] for e in events]), pt_open, ends).any():
        return None  # a structure tag inside a point
    return Tokens(pt_open, ends, events, codes)


def _inside(pos: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not starts.size:
        return np.zeros(pos.size, dtype=bool)
    k = np.searchsorted(starts, pos, side="right") - 1
    return (k >= 0) & (pos < ends[np.clip(k, 0, None)])
