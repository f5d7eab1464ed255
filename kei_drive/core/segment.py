"""Cut one device's stream of fixes into trips (pure; used for background loggers).

A logger such as OwnTracks or Overland sends positions all day, parked or driving; the
driver never presses "start". The rules, applied to the device's fixes in time order:

1. **Chains.** A time step longer than ``gap_s`` (default 5 min) or a jump no vehicle
   could drive (faster than ``max_speed_mps`` plus the fixes' accuracy and a slack) ends
   the chain; nothing joins fixes across it. A jump away that comes straight back within
   ``glitch_max_fixes`` fixes is a glitch (a stray network fix): skipped, chain kept.
2. **Trips inside a chain.** Where the device stands is a *stay*: fixes within 3x their
   accuracy (at least ``stop_radius_m``) of the stay's centroid (``_Stay``); a stray fix
   outside it whose next fixes come back is skipped (farther than 2 radii only when out and
   back is faster than a truck drives). A fix outside the stay *departs*: a trip starts at
   the stay's last fix within its accuracy of the centroid (its first, if it never stood: a
   logger woken already moving), never inside the trip before. In a trip the stay follows
   the last fixes close together; it ends the trip when it stood ``stop_s`` (its fixes
   within their accuracy, or 1.5x their median distance, of the centroid for that long) and
   did not crawl (its older and newer halves within half the radius). The trip ends at its
   arrival, the first fix where it stood (near the stay's centroid weighted by time, past
   the braking-in its device reports as moving); the fixes it stood there belong to no trip
   (as an import leaves them out). A trip also ends with its chain. Judging the cluster, not
   each step from the last, is what sees a stop through 30 m of noise indoors, where every
   other fix is over 50 m from the one before.
   The device's speed, when it sends one, is heard too: a stray may report standing, or
   claim an accuracy that reaches back to the stay (``_shows_no_move``); parked, a fix
   reporting standing departs only beyond ``STANDING_REACH`` radii; in a trip whose fixes
   scatter too far for the stay, 5 minutes of dense fixes reporting standing and lying
   together (``_stood_by_speed``) is a stop.
3. A trip must get ``min_trip_m`` from where it started, so a phone lying on a desk
   whose fixes wander makes no trips; nor does one whose every fix reports standing, lying
   together (``_stood_throughout``).

A trip is *ended* when it stopped, when its chain was cut by a gap or a jump, or when no
fix has come for ``gap_s`` (``now_ms``); otherwise it is still open and may grow.
Re-running on a window of fixes that begins and ends at chain boundaries gives the same
trips as running on the whole history, which is how late fixes reopen a trip.
"""

from __future__ import annotations

import itertools
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
SPREAD_MIN_FIXES = 5  # fewer fixes cannot tell how a stay's fixes scatter
STANDING_SPEED_MPS = 0.5  # a device reporting less than this stood when it took the fix
# fixes that all report standing stood, unless the centroids of their older and newer
# halves lie farther apart than this (5 min of a speed field stuck at 0 while driving)
STANDING_DRIFT_M = 100.0
STANDING_STEP_MS = 15_000  # ... and none of them over 15 s apart
DENSE_STANDING_SCALE = 1.5  # ... 1.5x as far, for a whole trip of fixes up to 15 s apart
STANDING_REACH = 3.0  # a parked fix reporting standing leaves within this many stay radii
ARRIVAL_MIN_M = 15.0  # a stop told by speed arrived within this of where it stood (or its spread)
LONE_STRAY_MS = 130_000  # parked, a lone fix off, its neighbours this close in time: a stray


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
    speed_mps: float | None = None  # the device's own speed, when it gives one


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
        """The fix the device left from: its last fix within its accuracy (or, with
        ``SPREAD_MIN_FIXES`` or more, 1.5x their median distance) of where it stood (a truck
        pulling away is seen only a few fixes later, 3x that far away). Fixes without an
        accuracy, scattering 24 m, seldom lie within 17 m: a 2-minute logger's trip began
        an hour early."""
        off = self._offsets()
        core = self.radius(self.members[-1]) / STAY_ACCURACY_FACTOR
        if len(off) >= SPREAD_MIN_FIXES:  # (fewer: a truck pulling away at once, a line)
            if not self.still() and self.span_ms() < self.cfg.stop_s * 1000:
                # never stood: a logger woken already moving (its first fixes a line 50 m
                # long), whose trip starts at its first fix, not half way along the line
                # (a stay of minutes stood, however its fixes drifted: a truck moved 45 m
                # across a lot and parked an hour there leaves from its last spot)
                return self.members[0]
            core = max(core, 1.5 * statistics.median(off))
        within = [k for k, d in zip(self.members, off, strict=True) if d <= core]
        if not within:
            return self.members[0]
        return _past_rolling(self.fixes, within[::-1])

    def _centroid(self, by_time: bool = True) -> Fix:
        """Where it stands: its fixes' centroid weighted by time (a dense braking-in, counted
        alike with fixes 30 s apart parked, pulled it 20 m back along the road), or by count
        for ``stood_ms`` and ``still``. Judged by time whether it stood, a drive-through's
        inching forward weighed next to nothing (its drives split 15 times in 150, not 12),
        and a 2-minute logger's parks went unseen (38 of 100 merged, not 16): an outside
        review, which found ends right either way once ``arrival`` looks back."""
        if not by_time:
            n = len(self.members)
            return Fix(0, self.sum_lat / n, self.sum_lon / n)
        return _centre(self.fixes, self.members, _time_weights(self.fixes, self.members))

    def _offsets(self, centre: Fix | None = None) -> list[float]:
        """Each member's distance from the centroid."""
        centre = centre or self._centroid()
        return [distance_m(centre, self.fixes[k]) for k in self.members]

    def span_ms(self) -> int:
        return self.fixes[self.members[-1]].t_ms - self.fixes[self.members[0]].t_ms

    def _near(self, by_time: bool = True) -> tuple[list[int], Fix, float]:
        """Its fixes within their accuracy (or 1.5x their median distance) of the centroid,
        where it stood: braking in and pulling away inside 3x that radius are not. With the
        centroid and that distance."""
        centre = self._centroid(by_time)
        off = self._offsets(centre)
        # (fixes that scatter wider than they claim: 1.5x their median distance, ~80 % of
        # them; braking and pulling away, a few fixes, do not widen it)
        spread = 1.5 * statistics.median(off)
        core = max(self.radius(self.members[-1]) / STAY_ACCURACY_FACTOR, spread)
        return [k for k, d in zip(self.members, off, strict=True) if d <= core], centre, core

    def stood_ms(self) -> int:
        """How long it stood: from its first to its last fix near the centroid (``_near``):
        a 4.5 min wait at a level crossing counted as 5 with the braking in."""
        near = self._near(by_time=False)[0]
        return self.fixes[near[-1]].t_ms - self.fixes[near[0]].t_ms if near else 0

    def arrival(self, trip: list[int]) -> int:
        """The fix it arrived at: its first near the centroid (``_near``), past the braking-in
        its device says was moving. The stand may have begun before the stay's first fix:
        its newest fixes scattering a little wider, a stand is told only once the window of
        ``stop_s`` has let its first fixes go (a trip ran on 30-90 s into the parking). So
        the trip's fixes in a row before it within the stay's radius count too."""
        near, centre, core = self._near()
        if not near:
            return self.members[0]
        # the trip's fixes in a row before the stay's first, within its radius (as the stay
        # held them before it let them go), and of those the ones near
        end = start = bisect_left(trip, self.members[0])
        reach = self.radius(self.members[-1])
        while start > 0 and distance_m(centre, self.fixes[trip[start - 1]]) <= reach:
            start -= 1
        before = [k for k in trip[start:end] if distance_m(centre, self.fixes[k]) <= core]
        return _past_rolling(self.fixes, before + near)

    def still(self) -> bool:
        """Did it stand, rather than crawl within the radius? The centroids of its older
        and newer halves lie within half the radius (a queue at 0.6 m/s, its fixes 40 m
        rough, stays 5 min inside 3x that radius, but its halves are 90 m apart)."""
        members = list(self.members)
        return _halves_apart_m(self.fixes, members) <= self.radius(members[-1]) / 2

    def forget_before(self, span_ms: float) -> None:
        """Keep only its fixes of the last ``span_ms``."""
        while len(self.members) > 1 and self.span_ms() >= span_ms:
            self._drop_oldest()


def _past_rolling(fixes: Sequence[Fix], run: list[int]) -> int:
    """The first fix of ``run`` (fixes near where a device stood, in the order to walk) past
    those whose device reports moving, dense ones only (steps up to ``STANDING_STEP_MS``):
    the last metres of braking in, or the first of pulling away, lie within the fixes'
    noise of where it stood, but a logger's speed tells them from the stand itself."""
    i = 0
    while (
        i + 1 < len(run)
        and _reports_moving(fixes[run[i]])
        and abs(fixes[run[i + 1]].t_ms - fixes[run[i]].t_ms) <= STANDING_STEP_MS
    ):
        i += 1
    return run[i]


def _reports_standing(fix: Fix) -> bool:
    speed = fix.speed_mps
    return speed is not None and 0.0 <= speed < STANDING_SPEED_MPS  # (NaN compares False)


def _stood_by_speed(fixes: Sequence[Fix], run: list[int], stop_ms: float) -> bool:
    """Did fixes that all report standing, none over ``STANDING_STEP_MS`` apart, stand for
    ``stop_ms``? They also lie together (``_huddled``): a speed field stuck at 0 while
    driving moves them kilometres apart."""
    if fixes[run[-1]].t_ms - fixes[run[0]].t_ms < stop_ms:
        return False
    if any(fixes[b].t_ms - fixes[a].t_ms > STANDING_STEP_MS for a, b in itertools.pairwise(run)):
        return False  # between sparse fixes it may have moved: a red light each minute
    return _huddled(fixes, run)


def _stood_throughout(fixes: Sequence[Fix], trip: list[int]) -> bool:
    """A trip whose every fix reports standing, its halves together: parked, its fixes
    scattered by the walls around it (indoors, 50-80 m while claiming 5 m). A sparse
    logger's fixes may all be taken standing, around a drive between them (a 550 m hop,
    a fix each 2 min): its fixes must lie closer together."""
    if not all(_reports_standing(fixes[k]) for k in trip):
        return False
    dense = all(
        fixes[b].t_ms - fixes[a].t_ms <= STANDING_STEP_MS for a, b in itertools.pairwise(trip)
    )
    # sampled every 15 s or less, a drive would show a speed: only a speed stuck at 0 could
    # hide one, and its road spreads the fixes wider than walls scatter them (120-140 m)
    return _huddled(fixes, trip, DENSE_STANDING_SCALE if dense else 1.0)


def _huddled(fixes: Sequence[Fix], members: list[int], scale: float = 1.0) -> bool:
    """Do fixes whose device says it stood lie where a standing device's would: their older
    and newer halves within ``STANDING_DRIFT_M``, nine in ten within twice that of their
    centroid? A speed stuck at 0 on a winding road can bring the halves together; five
    minutes of its road never fit that circle."""
    if _halves_apart_m(fixes, members) > scale * STANDING_DRIFT_M:
        return False
    centre = Fix(0, _mean(fixes, members, "lat"), _mean(fixes, members, "lon"))
    off = sorted(distance_m(centre, fixes[k]) for k in members)
    return off[int(0.9 * (len(off) - 1))] <= 2 * scale * STANDING_DRIFT_M


def _time_weights(fixes: Sequence[Fix], members: Sequence[int]) -> list[float]:
    """Per fix of ``members`` (time-ordered), the time it stands for: half the steps either
    side. A logger sends a fix a second driving and one every 30 s parked: counted alike,
    the few seconds of braking-in outweigh minutes parked."""
    t = [fixes[k].t_ms for k in members]
    if len(t) < 2:
        return [1.0] * len(t)
    steps = [b - a for a, b in itertools.pairwise(t)]
    # the first and last stand for their one step on both sides: evenly spaced fixes weigh
    # alike (half weights at the ends of 3-4 fixes 2 min apart missed parks: an outside review)
    return [
        (before + after) / 2
        for before, after in zip([steps[0], *steps], [*steps, steps[-1]], strict=True)
    ]


def _centre(fixes: Sequence[Fix], members: Sequence[int], weights: Sequence[float]) -> Fix:
    """The weighted centroid of ``members`` (their plain one when the weights are all 0)."""
    total = math.fsum(weights)
    if total <= 0:
        weights, total = [1.0] * len(members), float(len(members))
    lat = math.fsum(w * fixes[k].lat for k, w in zip(members, weights, strict=True))
    lon = math.fsum(w * fixes[k].lon for k, w in zip(members, weights, strict=True))
    return Fix(0, lat / total, lon / total)


def _halves_apart_m(fixes: Sequence[Fix], members: list[int]) -> float:
    """The distance between the centroids of the older and newer halves of ``members``."""
    half = len(members) // 2
    if not half:
        return 0.0
    older, newer = members[:half], members[half:]
    a = Fix(0, _mean(fixes, older, "lat"), _mean(fixes, older, "lon"))
    b = Fix(0, _mean(fixes, newer, "lat"), _mean(fixes, newer, "lon"))
    return distance_m(a, b)


def _mean(fixes: Sequence[Fix], members: list[int], field: str) -> float:
    return math.fsum(getattr(fixes[k], field) for k in members) / len(members)


def _stray(
    stay: _Stay, chain: list[int], pos: int, cfg: SegmentConfig, parked: bool = False
) -> bool:
    """Is the fix at ``pos``, outside the stay, a stray: it and at most
    ``glitch_max_fixes - 1`` after it, and the next one is back inside? Farther than
    ``STRAY_REACH`` radii only when out and back is faster than ``STRAY_ROUND_TRIP_MPS``
    (a network fix 270 m off for 5 s; a real short drive takes its time), or when none of
    those fixes shows a move (``_shows_no_move``), or, ``parked``, when it is one fix
    (``_lone_stray``). The last fixes of a chain cannot tell: they count as away."""
    fixes = stay.fixes
    before = fixes[chain[pos - 1]]
    farthest = 0.0
    for j in range(pos, min(len(chain), pos + cfg.glitch_max_fixes + 1)):
        k = chain[j]
        if j > pos and not stay.away(k):
            if farthest <= STRAY_REACH * stay.radius(k):
                return True
            if parked and j == pos + 1 and _lone_stray(fixes, before, chain[pos], k):
                return True
            seconds = max((fixes[k].t_ms - before.t_ms) / 1000.0, 1.0)
            if 2.0 * farthest / seconds > STRAY_ROUND_TRIP_MPS:
                return True
            return all(_shows_no_move(stay, chain[i]) for i in range(pos, j))
        farthest = max(farthest, distance_m(before, fixes[k]))
    return False


def _lone_stray(fixes: Sequence[Fix], before: Fix, lone: int, back: int) -> bool:
    """Parked, a single fix off the stay with the fixes on either side of it in the stay,
    ``LONE_STRAY_MS`` apart, is a stray unless its device reports a speed: a drive out and
    straight back within two fixes of a sparse logger is seldom made, and never told from
    a network fix claiming 10 m (a fix every 30-60 s made a phantom trip each)."""
    return not _reports_moving(fixes[lone]) and fixes[back].t_ms - before.t_ms <= LONE_STRAY_MS


def _reports_moving(fix: Fix) -> bool:
    speed = fix.speed_mps
    return speed is not None and speed >= STANDING_SPEED_MPS  # (NaN compares False)


def _shows_no_move(stay: _Stay, k: int) -> bool:
    """A fix off the stay that does not say the device left it: the device reports
    standing (its speed under ``STANDING_SPEED_MPS``), or the fix's own accuracy reaches
    back to where it stands (a network fix 530 m off claiming 460 m). Parked indoors,
    such fixes come every few minutes; each made a trip of its own."""
    fix = stay.fixes[k]
    speed = fix.speed_mps
    if speed is not None and 0.0 <= speed < STANDING_SPEED_MPS:  # (NaN compares False)
        return True
    accuracy = fix.acc_m
    if accuracy is None or not math.isfinite(accuracy) or accuracy <= 0:
        return False
    n = len(stay.members)
    centre = Fix(fix.t_ms, stay.sum_lat / n, stay.sum_lon / n)
    return distance_m(centre, fix) <= STAY_ACCURACY_FACTOR * accuracy


def _trips_in_chain(
    fixes: Sequence[Fix], chain: list[int], cfg: SegmentConfig, in_trip: bool = False
) -> list[tuple[list[int], bool]]:
    """Trips of one chain as ``(indices, stopped)``; ``in_trip``: the chain begins inside
    a trip that already counts (the tail of an open trip)."""
    found: list[tuple[list[int], bool]] = []  # indices, stopped
    stop_ms = cfg.stop_s * 1000.0
    stay = _Stay(fixes, cfg)  # parked: where it stands; in a trip: the last fixes close by
    stay.restart(chain[0])
    trip: list[int] | None = [chain[0]] if in_trip else None
    after_stop = 0  # a trip starts after the last one's fixes
    standing_from: int | None = None  # in a trip: its last stop_s of fixes reporting standing
    for pos in range(1, len(chain)):
        k = chain[pos]
        outside = stay.away(k)
        away = outside and not _stray(stay, chain, pos, cfg, parked=trip is None)
        if trip is None:
            if away and _reports_standing(fixes[k]) and not stay.away(k, STANDING_REACH):
                away = False  # it says it stands: fixes scattered indoors (a stuck 0 drives on)
            if away:
                start = max(bisect_left(chain, stay.departure()), after_stop)
                trip = chain[start : pos + 1]
                stay.restart(k)
                standing_from = None  # (a run left by the last trip's stop is no part of it)
            elif not outside:
                stay.add(k)
            continue
        trip.append(k)
        if not _reports_standing(fixes[k]):
            standing_from = None
        elif standing_from is None:
            standing_from = pos
        else:  # only its last stop_s counts (a long run costs that window a fix, not all)
            since = fixes[k].t_ms - stop_ms
            while fixes[chain[standing_from + 1]].t_ms <= since:
                standing_from += 1
        if away:
            stay.slide_to(k)
        elif not outside:
            stay.add(k)
        if stay.span_ms() < stop_ms:
            # too scattered for the stay (indoors, 50-80 m while claiming 5 m): the device
            # saying it stood that long is a stop; parked, the stay is where they scatter
            standing = chain[standing_from : pos + 1] if standing_from is not None else []
            if standing and _stood_by_speed(fixes, standing, stop_ms):
                found.append((_until(trip, _arrival_by_speed(fixes, standing)), True))
                trip, after_stop, standing_from = None, pos + 1, None
                stay.restart(standing[0])
                for member in standing[1:]:
                    stay.add(member)
            continue
        if stay.stood_ms() < stop_ms or not stay.still():  # a wait, a crawl or braking
            stay.forget_before(stop_ms)  # in: what it passed before is no stop
            continue
        found.append((_until(trip, stay.arrival(trip)), True))
        trip, after_stop = None, pos + 1  # parked: the stay goes on where it stopped
    if trip is not None:
        found.append((trip, False))
    continued = chain[0] if in_trip else None  # the tail of a trip that moved before
    return [
        (t, stopped)
        for t, stopped in found
        if t[0] == continued
        or (_reach_m(fixes, t) >= cfg.min_trip_m and not _stood_throughout(fixes, t))
    ]


def _arrival_by_speed(fixes: Sequence[Fix], standing: list[int]) -> int:
    """The fix a stop told by the device's speed (``_stood_by_speed``) arrived at: the first
    of its fixes near where its newer half lies (within 1.5x their median distance of it,
    or ``ARRIVAL_MIN_M``); the fixes before it, reporting standing too, were still driving
    (a speed field stuck at 0)."""
    newer = standing[len(standing) // 2 :]
    centre = Fix(0, _mean(fixes, newer, "lat"), _mean(fixes, newer, "lon"))
    spread = statistics.median(distance_m(centre, fixes[k]) for k in newer)
    reach = max(ARRIVAL_MIN_M, 1.5 * spread)
    return next((k for k in standing if distance_m(centre, fixes[k]) <= reach), standing[0])


def _until(trip: list[int], arrival: int) -> list[int]:
    """The trip up to the fix it arrived at (at least two fixes): the fixes it then stood
    there belong to no trip, as an import leaves a stop's fixes out."""
    end = bisect_left(trip, arrival)
    return trip[: max(end + 1, 2)] if end < len(trip) and trip[end] == arrival else trip


def _reach_m(fixes: Sequence[Fix], trip: list[int]) -> float:
    """How far the trip got from its first fix, as two fixes in a row saw it: a lone fix
    far off with its neighbours close by (``LONE_STRAY_MS`` apart) does not count. Parked
    with 30 m of drifting noise, a network fix 300 m off gave the drift a trip's reach:
    phantom trips of 0.5-1.2 km. A sparse logger's lone fix, one whose device reports
    driving, and the last fix count."""
    origin = fixes[trip[0]]
    away = [distance_m(origin, fixes[k]) for k in trip]
    reach = away[-1]
    for p in range(1, len(trip) - 1):
        if _reports_moving(fixes[trip[p]]) or (
            fixes[trip[p + 1]].t_ms - fixes[trip[p - 1]].t_ms > LONE_STRAY_MS
        ):
            reach = max(reach, away[p])
        else:
            reach = max(reach, min(away[p], max(away[p - 1], away[p + 1])))
    return reach


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
