"""Cut one device's stream of fixes into trips (pure; used for background loggers).

A logger such as OwnTracks or Overland sends positions all day, parked or driving; the
driver never presses "start". The rules, applied to the device's fixes in time order:

1. **Chains.** A time step longer than ``gap_s`` (default 5 min) or a jump no vehicle
   could drive (faster than ``max_speed_mps`` plus the fixes' accuracy and a slack) ends
   the chain; nothing joins fixes across it. A jump away that comes straight back within
   ``glitch_max_fixes`` fixes is a glitch (a stray network fix): skipped, chain kept.
2. **Trips inside a chain.** Where the device stands is a *stay*: fixes within 3x their
   accuracy (at least ``stop_radius_m``) of the stay's centroid (``_Stay``); a stray fix
   outside it whose next fixes come back is skipped (farther than 2 radii only when out
   and back is faster than a truck drives). A fix outside the stay *departs*: a trip
   starts at the stay's last fix within its accuracy of the centroid, never inside the
   trip before. In a trip the stay follows the last fixes close together; it ends the
   trip when it stood ``stop_s`` (its fixes within their accuracy, or 1.5x their median
   distance, of the centroid for that long) and did not crawl (its older and newer halves
   within half the radius). The trip keeps its fixes up to that moment; later parked
   fixes belong to no trip. A trip also ends with its chain. Judging the cluster, not
   each step from the last, is what sees a stop through 30 m of noise indoors, where
   every other fix is over 50 m from the one before.
3. A trip must get ``min_trip_m`` from where it started, so a phone lying on a desk
   whose fixes wander makes no trips.

A trip is *ended* when it stopped, when its chain was cut by a gap or a jump, or when no
fix has come for ``gap_s`` (``now_ms``); otherwise it is still open and may grow.
Re-running on a window of fixes that begins and ends at chain boundaries gives the same
trips as running on the whole history, which is how late fixes reopen a trip.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from kei_drive.core.distance import EARTH_RADIUS_M

MAX_ACCURACY_ALLOWANCE_M = 200.0  # a worse reported accuracy is not trusted further
STAY_ACCURACY_FACTOR = 3.0  # a standing device's fixes fall within 3x their accuracy
STRAY_REACH = 2.0  # a stray fix lies within this many stay radii
STRAY_ROUND_TRIP_MPS = 25.0  # or farther, out and back faster than a truck drives there


@dataclass(frozen=True)
class SegmentConfig:
    gap_s: float = 300.0  # a longer pause in the fixes starts a new trip
    stop_s: float = 300.0  # standing still this long ends a trip
    stop_radius_m: float = 50.0  # movement within this (or the accuracy) is standing still
    min_trip_m: float = 200.0  # a trip gets at least this far from where it started
    max_speed_mps: float = 60.0  # 216 km/h: a faster jump between fixes was not driven
    jump_slack_m: float = 200.0  # allowance for position error in the jump test
    glitch_max_fixes: int = 3  # at most this many stray fixes before the track comes back


DEFAULT_SEGMENT_CONFIG = SegmentConfig()


@dataclass(frozen=True)
class Fix:
    t_ms: int
    lat: float
    lon: float
    acc_m: float | None = None


@dataclass(frozen=True)
class Segment:
    """One trip: positions in the input sequence, in time order."""

    indices: tuple[int, ...]
    ended: bool
    end_reason: str  # "stopped", "gap", "jump", "idle" (no fix for gap_s) or "open"

    @property
    def first(self) -> int:
        return self.indices[0]

    @property
    def last(self) -> int:
        return self.indices[-1]


M_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0


def distance_m(a: Fix, b: Fix) -> float:
    """Equirectangular distance: within 0.1% of the great circle below ~100 km, which is
    all these thresholds need, and several times cheaper than haversine in a Python loop
    (the loops here visit fixes one at a time)."""
    dlon = (b.lon - a.lon + 180.0) % 360.0 - 180.0  # across the antimeridian too
    x = dlon * math.cos(math.radians((a.lat + b.lat) / 2))
    return M_PER_DEG * math.hypot(x, b.lat - a.lat)


def _allowance(fix: Fix) -> float:
    acc = fix.acc_m
    if acc is None or not math.isfinite(acc) or acc < 0:
        return 0.0
    return min(acc, MAX_ACCURACY_ALLOWANCE_M)


def undrivable(a: Fix, b: Fix, cfg: SegmentConfig = DEFAULT_SEGMENT_CONFIG) -> bool:
    """True when no vehicle could have gone from ``a`` to ``b`` in the time between."""
    dt_s = max(abs(b.t_ms - a.t_ms) / 1000.0, 1.0)
    reach = cfg.max_speed_mps * dt_s + cfg.jump_slack_m + _allowance(a) + _allowance(b)
    return distance_m(a, b) > reach


def _chains(fixes: Sequence[Fix], cfg: SegmentConfig) -> list[tuple[list[int], str]]:
    """Index lists split at gaps and undrivable jumps, with why each chain ended."""
    chains: list[tuple[list[int], str]] = []
    if not fixes:
        return chains
    gap_ms = cfg.gap_s * 1000.0
    chain = [0]
    k = 1
    while k < len(fixes):
        prev = fixes[chain[-1]]
        if fixes[k].t_ms - prev.t_ms > gap_ms:
            chains.append((chain, "gap"))
            chain, k = [k], k + 1
            continue
        if undrivable(prev, fixes[k], cfg):
            back = _comes_back(fixes, chain[-1], k, cfg)
            if back is not None:  # fixes k..back-1 were strays
                chain.append(back)
                k = back + 1
                continue
            chains.append((chain, "jump"))
            chain, k = [k], k + 1
            continue
        chain.append(k)
        k += 1
    chains.append((chain, "end"))
    return chains


def _comes_back(fixes: Sequence[Fix], anchor: int, stray: int, cfg: SegmentConfig) -> int | None:
    """The first fix after ``stray`` that is plausible from ``anchor`` again, if soon."""
    gap_ms = cfg.gap_s * 1000.0
    for j in range(stray + 1, min(len(fixes), stray + 1 + cfg.glitch_max_fixes)):
        if fixes[j].t_ms - fixes[anchor].t_ms > gap_ms:
            return None
        if not undrivable(fixes[anchor], fixes[j], cfg):
            return j
    return None


class _Stay:
    """Fixes where the device may be standing, judged by their spread: each new fix is
    compared with the centroid of the fixes before it, within ``STAY_ACCURACY_FACTOR``
    times their accuracy (at least ``stop_radius_m``). Parked with 30 m of noise, two
    fixes in a row are often over 50 m apart, but seldom over 3x their accuracy from
    where the device stands, so a stop is seen by the cluster, not fix by fix."""

    def __init__(self, fixes: Sequence[Fix], cfg: SegmentConfig) -> None:
        self.fixes, self.cfg = fixes, cfg
        self.members: deque[int] = deque()
        self.sum_lat = self.sum_lon = self.sum_acc = 0.0

    def restart(self, k: int) -> None:
        self.members.clear()
        self.sum_lat = self.sum_lon = self.sum_acc = 0.0
        self.add(k)

    def add(self, k: int) -> None:
        fix = self.fixes[k]
        self.members.append(k)
        self.sum_lat += fix.lat
        self.sum_lon += fix.lon
        self.sum_acc += _allowance(fix)

    def _drop_oldest(self) -> None:
        fix = self.fixes[self.members.popleft()]
        self.sum_lat -= fix.lat
        self.sum_lon -= fix.lon
        self.sum_acc -= _allowance(fix)

    def radius(self, k: int) -> float:
        n = len(self.members)
        accuracy = max(_allowance(self.fixes[k]), self.sum_acc / n if n else 0.0)
        radius = STAY_ACCURACY_FACTOR * accuracy
        return min(max(radius, self.cfg.stop_radius_m), MAX_ACCURACY_ALLOWANCE_M)

    def away(self, k: int, factor: float = 1.0) -> bool:
        """Is fix ``k`` outside the stay (``factor`` times its radius)?"""
        n = len(self.members)
        if not n:
            return False
        fix = self.fixes[k]
        centre = Fix(fix.t_ms, self.sum_lat / n, self.sum_lon / n)
        return distance_m(centre, fix) > factor * self.radius(k)

    def slide_to(self, k: int) -> None:
        """Moving on: forget the oldest fixes until ``k`` fits, then take it."""
        while self.members and self.away(k):
            self._drop_oldest()
        self.add(k)

    def departure(self) -> int:
        """The fix the device left from: its last fix within its accuracy of where it stood
        (a truck pulling away is seen only a few fixes later, 3x that far away)."""
        n = len(self.members)
        centre = Fix(0, self.sum_lat / n, self.sum_lon / n)
        core = self.radius(self.members[-1]) / STAY_ACCURACY_FACTOR
        for k in reversed(self.members):
            if distance_m(centre, self.fixes[k]) <= core:
                return k
        return self.members[0]

    def span_ms(self) -> int:
        return self.fixes[self.members[-1]].t_ms - self.fixes[self.members[0]].t_ms

    def stood_ms(self) -> int:
        """How long it stood: from its first to its last fix within its accuracy (or 1.5x
        its fixes' median distance) of the centroid. Braking in and pulling away inside 3x that
        radius are no standing: a 4.5 min wait at a level crossing counted as 5."""
        n = len(self.members)
        centre = Fix(0, self.sum_lat / n, self.sum_lon / n)
        off = [distance_m(centre, self.fixes[k]) for k in self.members]
        # (fixes that scatter wider than they claim: 1.5x their median distance, ~80 % of
        # them; braking and pulling away, a few fixes, do not widen it)
        spread = 1.5 * statistics.median(off)
        core = max(self.radius(self.members[-1]) / STAY_ACCURACY_FACTOR, spread)
        near = [k for k, d in zip(self.members, off, strict=True) if d <= core]
        return self.fixes[near[-1]].t_ms - self.fixes[near[0]].t_ms if near else 0

    def still(self) -> bool:
        """Did it stand, rather than crawl within the radius? The centroids of its older
        and newer halves lie within half the radius (a queue at 0.6 m/s, its fixes 40 m
        rough, stays 5 min inside 3x that radius, but its halves are 90 m apart)."""
        members = list(self.members)
        half = len(members) // 2
        if not half:
            return True
        older, newer = members[:half], members[half:]
        a = Fix(0, _mean(self.fixes, older, "lat"), _mean(self.fixes, older, "lon"))
        b = Fix(0, _mean(self.fixes, newer, "lat"), _mean(self.fixes, newer, "lon"))
        return distance_m(a, b) <= self.radius(members[-1]) / 2

    def forget_before(self, span_ms: float) -> None:
        """Keep only its fixes of the last ``span_ms``."""
        while len(self.members) > 1 and self.span_ms() >= span_ms:
            self._drop_oldest()


def _mean(fixes: Sequence[Fix], members: list[int], field: str) -> float:
    return math.fsum(getattr(fixes[k], field) for k in members) / len(members)


def _stray(stay: _Stay, chain: list[int], pos: int, cfg: SegmentConfig) -> bool:
    """Is the fix at ``pos``, outside the stay, a stray: it and at most
    ``glitch_max_fixes - 1`` after it, and the next one is back inside? Farther than
    ``STRAY_REACH`` radii only when out and back is faster than ``STRAY_ROUND_TRIP_MPS``
    (a network fix 270 m off for 5 s); a real short drive takes its time. The last fixes
    of a chain cannot tell: they count as away."""
    fixes = stay.fixes
    before = fixes[chain[pos - 1]]
    farthest = 0.0
    for j in range(pos, min(len(chain), pos + cfg.glitch_max_fixes + 1)):
        k = chain[j]
        if j > pos and not stay.away(k):
            if farthest <= STRAY_REACH * stay.radius(k):
                return True
            seconds = max((fixes[k].t_ms - before.t_ms) / 1000.0, 1.0)
            return 2.0 * farthest / seconds > STRAY_ROUND_TRIP_MPS
        farthest = max(farthest, distance_m(before, fixes[k]))
    return False


def _trips_in_chain(
    fixes: Sequence[Fix], chain: list[int], cfg: SegmentConfig, in_trip: bool = False
) -> list[tuple[list[int], bool]]:
    """Trips of one chain as ``(indices, stopped)``; ``in_trip``: the chain begins inside
    a trip that already counts (the tail of an open trip)."""
    found: list[tuple[list[int], bool, float]] = []  # indices, stopped, reach
    stop_ms = cfg.stop_s * 1000.0
    stay = _Stay(fixes, cfg)  # parked: where it stands; in a trip: the last fixes close by
    stay.restart(chain[0])
    trip: list[int] | None = [chain[0]] if in_trip else None
    reach = cfg.min_trip_m if in_trip else 0.0  # how far the trip got from its start
    after_stop = 0  # a trip starts after the last one's fixes
    for pos in range(1, len(chain)):
        k = chain[pos]
        outside = stay.away(k)
        away = outside and not _stray(stay, chain, pos, cfg)
        if trip is None:
            if away:
                start = max(bisect_left(chain, stay.departure()), after_stop)
                trip = chain[start : pos + 1]
                reach = distance_m(fixes[trip[0]], fixes[k])
                stay.restart(k)
            elif not outside:
                stay.add(k)
            continue
        trip.append(k)
        reach = max(reach, distance_m(fixes[trip[0]], fixes[k]))
        if away:
            stay.slide_to(k)
        elif not outside:
            stay.add(k)
        if stay.span_ms() < stop_ms:
            continue
        if stay.stood_ms() < stop_ms or not stay.still():  # a wait, a crawl or braking
            stay.forget_before(stop_ms)  # in: what it passed before is no stop
            continue
        found.append((trip, True, reach))
        trip, after_stop = None, pos + 1  # parked: the stay goes on where it stopped
    if trip is not None:
        found.append((trip, False, reach))
    return [(t, stopped) for t, stopped, got in found if got >= cfg.min_trip_m]


def segment_fixes(
    fixes: Sequence[Fix],
    now_ms: int,
    cfg: SegmentConfig = DEFAULT_SEGMENT_CONFIG,
    in_trip_at_start: bool = False,
) -> list[Segment]:
    """The trips in ``fixes`` (sorted by time, one fix per timestamp).

    ``in_trip_at_start``: the first fix is inside an open trip (at least ``stop_s`` before
    its last fix), so only the tail of a long trip needs cutting again when fixes are
    appended; the first segment then continues that trip.
    """
    segments: list[Segment] = []
    for number, (chain, chain_end) in enumerate(_chains(fixes, cfg)):
        in_trip = in_trip_at_start and number == 0
        for indices, stopped in _trips_in_chain(fixes, chain, cfg, in_trip):
            if stopped:
                reason = "stopped"
            elif chain_end != "end":
                reason = chain_end
            elif now_ms - fixes[indices[-1]].t_ms > cfg.gap_s * 1000.0:
                reason = "idle"
            else:
                reason = "open"
            segments.append(Segment(tuple(indices), reason != "open", reason))
    return segments
