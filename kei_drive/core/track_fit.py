"""Lengths of a GPS log measured between positions fitted by local quadratics (``local_fit``)
over windows just wide enough for its noise (``fit_windows``), less the white noise left
(``without_noise_left``): a moving average would cut inside every bend."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.time_order import spread_repeated_times
from kei_drive.core.track import StatsConfig, TrackArrays
from kei_drive.core.track_noise import (
    dense_log,
    local_xy_m,
    position_noise_m,
    second_difference_noise_m,
    winding_step_m,
)

# Noise left in a fitted step, as a share of the step (~0.5 % of length, subtracted by
# ``without_noise_left``). A narrower window would follow the bends still better, but
# would let slow GPS wander (correlated noise, which nothing can tell from a real path)
# lengthen the drive more than a moving average did.
LENGTH_NOISE_SHARE = 0.12


def _quadratic_weights(half: int) -> NDArray:
    """Savitzky-Golay weights of a local quadratic fit over +-``half`` fixes, at its centre."""
    k = np.arange(-half, half + 1, dtype=float)
    h = float(half)
    return (3 * (3 * h * h + 3 * h - 1) - 15 * k * k) / ((2 * h - 1) * (2 * h + 1) * (2 * h + 3))


def _step_noise_factors(max_half: int) -> NDArray:
    """Per half-window, the noise (per unit of position noise) left in the step between two
    consecutive quadratic-fit positions (the square root of the summed squared differences
    of consecutive weights); half 0 and 1 leave the fixes as they are: sqrt(2)."""
    return np.diagonal(_step_noise_table(max_half)).copy()


@functools.lru_cache(maxsize=16)
def _step_noise_table(max_half: int) -> NDArray:
    """[h1, h2]: the noise (per unit of position noise) left in the step from a fix fitted
    over +-h1 fixes to the next one fitted over +-h2 (windows shrink near a run's ends): the
    square root of the summed squared differences of the two fits' weights."""
    top = max_half + 1
    out = np.empty((top, top))
    for h1 in range(top):
        for h2 in range(top):
            weights = np.zeros(2 * top + 1)  # on offsets -top..top from the first fix
            weights[top - h1 : top + h1 + 1] -= _quadratic_weights(h1)
            weights[top + 1 - h2 : top + h2 + 2] += _quadratic_weights(h2)
            out[h1, h2] = np.sqrt(np.sum(weights**2))
    out.setflags(write=False)  # cached: shared by every call
    return out


def _length_half(noise_m: float, step_m: float, max_half: int, share: float) -> int:
    """The smallest half-window whose quadratic fit leaves at most ``share`` of the noise
    in a step of ``step_m`` (``max_half`` when none does)."""
    factors = _step_noise_factors(max_half)
    enough = np.flatnonzero(noise_m * factors <= share * max(step_m, 0.5))
    return int(enough[0]) if enough.size else max_half


FIT_BLOCK = 1 << 16  # fixes fitted at a time: a long log's sums stay small


def local_fit(
    columns: Sequence[NDArray],
    before: NDArray,
    after: NDArray,
    t: NDArray | None = None,
    quadratic: NDArray | None = None,
) -> list[NDArray]:
    """Each value of each column replaced by a least-squares fit over its window of
    ``before[i]`` fixes before it and ``after[i]`` after it, evaluated at the fix, against
    time ``t`` (fix numbers when None): a quadratic where the window holds as many fixes on
    either side (a Savitzky-Golay filter whose window may differ per fix), or where
    ``quadratic`` says; a straight line elsewhere (a run's ends, where a quadratic would
    extrapolate the noise). Unlike a moving average it follows a bend instead of cutting
    inside it, so a winding road keeps its length while the noise is averaged out. Windows
    must lie inside the arrays."""
    n = columns[0].size
    a = np.broadcast_to(np.asarray(before, dtype=np.intp), (n,))
    b = np.broadcast_to(np.asarray(after, dtype=np.intp), (n,))
    quad = (a == b) if quadratic is None else np.broadcast_to(quadratic, (n,))
    out = [np.array(c, dtype=float) for c in columns]
    for start in range(0, n, FIT_BLOCK):
        block = slice(start, min(start + FIT_BLOCK, n))
        offsets = _fit_offsets(columns, a, b, t, quad, block)
        for column, offset in zip(out, offsets, strict=True):
            column[block] += offset
    return out


def _fit_offsets(
    columns: Sequence[NDArray],
    a: NDArray,
    b: NDArray,
    t: NDArray | None,
    quadratic: NDArray,
    block: slice,
) -> list[NDArray]:
    """``local_fit`` for the fixes of ``block``: each fit's value less the fix's own."""
    n = columns[0].size
    lo, hi = block.start, block.stop
    a, b, quadratic = a[block], b[block], quadratic[block]
    top = int(max(a.max(), b.max())) if a.size else 0
    size = hi - lo
    if top < 1:
        return [np.zeros(size) for _ in columns]
    s = [np.ones(size)] + [np.zeros(size) for _ in range(4)]  # sums of u**m (u: offset in t)
    v = [[np.zeros(size) for _ in range(3)] for _ in columns]  # sums of u**m * (value - own)
    for k in [*range(-top, 0), *range(1, top + 1)]:
        first, last = max(lo, -k), min(hi, n - k)  # fixes whose neighbour k away exists
        if first >= last:
            continue
        here, there, mine = (
            slice(first, last),
            slice(first + k, last + k),
            slice(first - lo, last - lo),
        )
        mask = ((b[mine] >= k) if k > 0 else (a[mine] >= -k)).astype(float)
        u = np.full(mask.size, float(k)) if t is None else t[there] - t[here]
        s[0][mine] += mask
        power = mask * u
        for m in range(1, 5):
            s[m][mine] += power
            if m < 4:
                power = power * u
        for column, sums in zip(columns, v, strict=True):
            y = mask * (column[there] - column[here])
            sums[0][mine] += y
            y *= u
            sums[1][mine] += y
            y *= u
            sums[2][mine] += y
    with np.errstate(invalid="ignore", divide="ignore"):
        line_det = s[0] * s[2] - s[1] * s[1]
        # the quadratic's constant term by Cramer's rule on the 3x3 normal equations
        det = (
            s[0] * (s[2] * s[4] - s[3] * s[3])
            - s[1] * (s[1] * s[4] - s[3] * s[2])
            + s[2] * (s[1] * s[3] - s[2] * s[2])
        )
    quadratic = quadratic & (a >= 1) & (b >= 1)
    out = []
    for v0, v1, v2 in v:
        with np.errstate(invalid="ignore", divide="ignore"):
            line = (s[2] * v0 - s[1] * v1) / line_det
            quad = (
                v0 * (s[2] * s[4] - s[3] * s[3])
                - s[1] * (v1 * s[4] - s[3] * v2)
                + s[2] * (v1 * s[3] - s[2] * v2)
            ) / det
        offset = np.where(quadratic, quad, np.where(a + b >= 1, line, 0.0))
        out.append(np.where(np.isfinite(offset), offset, 0.0))
    return out


@dataclass(frozen=True)
class FitWindows:
    """Per fix, the fixes before and after it that its position is fitted over, and where
    the fit is a quadratic (else a line). Trip lengths use as many fixes on either side (a
    first fix logged 15 s early pulls no fit), fewer near a run's ends."""

    before: NDArray
    after: NDArray
    quadratic: NDArray


def fit_positions(arr: TrackArrays, windows: FitWindows) -> tuple[NDArray, NDArray]:
    """Positions fitted over their windows (``local_fit``), against time when timed."""
    t = spread_repeated_times(arr.t) if np.isfinite(arr.t).all() else None
    lat, lon = local_fit((arr.lat, arr.lon), windows.before, windows.after, t, windows.quadratic)
    return lat, lon


def count_windows(n: int, half: int, run_start: NDArray, run_end: NDArray) -> FitWindows:
    """+-``half`` fixes, shrunk near each run's ends (as many either side)."""
    i = np.arange(n)
    symmetric = np.minimum(half, np.minimum(i - run_start, run_end - i))
    return FitWindows(symmetric, symmetric, np.ones(n, dtype=bool))


def _white_noise_m(arr: TrackArrays) -> float:
    """The fast-changing (white) part of a dense log's position noise, per axis: the median
    of third differences (5.27 sigma in 2-D for white noise of sigma per axis). A car's
    path changes its bend little between dense fixes, so unlike second differences these
    hardly grow on a winding road; slow drift, which adds no length, does not show in them.
    0 for a sparse or drawn track (its third differences are the road's bends)."""
    if len(arr) < 8 or not dense_log(arr):
        return 0.0
    x, y = local_xy_m(arr)
    return float(np.median(np.hypot(np.diff(x, 3), np.diff(y, 3)))) / 5.266


def without_noise_left(arr: TrackArrays, seg_len: NDArray, windows: FitWindows) -> NDArray:
    """Step lengths between fitted positions less what the noise left in them adds: with
    noise of v per axis across a step of s, the step measures sqrt(s**2 + v) on average, so
    sqrt(d**2 - v) is the step. ``_step_noise_table`` gives v for two quadratic fits; steps
    at a run's ends (lines) are left as they are. (The fixes are taken as evenly spaced: a
    gap in a run makes v a little too large.)"""
    half = np.where(windows.quadratic, windows.before, 0)
    both = windows.quadratic[:-1] & windows.quadratic[1:]
    table = _step_noise_table(int(half.max()) if half.size else 0)
    left = np.where(both, _white_noise_m(arr) * table[half[:-1], half[1:]], 0.0)
    return np.sqrt(np.maximum(seg_len * seg_len - left * left, 0.0))


# The least noise a claim-doubted log's fits are sized for (a log claiming under 2 m).
FIT_NOISE_FLOOR_M = 1.0
# A claimed accuracy is doubted down to this share of it, no further: what second differences
# miss (a phone's sudden multipath offsets, lone spikes) the claim rises with, and fits sized
# below it followed those (downtown stop-and-go claiming 15 m read +18-28 %).
FIT_CLAIM_SHARE = 0.5


def fit_noise_m(arr: TrackArrays, moving: NDArray | None = None) -> float:
    """The noise a dense timed log's length fits must average out: its noise
    (``position_noise_m``), or less when its fixes claim an accuracy and scatter less from one
    moving fix to the next (parked fixes held still would show none): the scatter shown, at
    least ``FIT_CLAIM_SHARE`` of the claim. A claim is mostly error that wanders slowly, which
    adds little length between fixes a second apart: sized by a claimed 5 m, the fits of a
    clean 1 Hz log spanned +-6-10 s and cut every tight bend (a hairpin road 10-14 % short,
    S-bends 6-9 %). A log without a claim is sized by its scatter already."""
    noise = position_noise_m(arr)
    claimed = arr.accuracy[np.isfinite(arr.accuracy)]
    if not claimed.size:
        return noise
    keep = None if moving is None or moving.sum() < 5 else moving
    shown = second_difference_noise_m(arr, keep)
    floor = max(FIT_CLAIM_SHARE * float(np.median(claimed)), FIT_NOISE_FLOOR_M)
    return min(noise, max(shown, floor))


def fit_windows(
    arr: TrackArrays,
    disp: NDArray,
    span: NDArray,
    moving: NDArray,
    run: NDArray,
    run_start: NDArray,
    run_end: NDArray,
    cfg: StatsConfig,
) -> FitWindows:
    """Per fix, the window (in time, +-half seconds, inside its run) of the quadratic fit its
    position gets: per run, as many fixes as leave at most ``LENGTH_NOISE_SHARE`` of the
    noise in the run's median step while moving (``_length_half``), in seconds at the log's typical
    interval, between ``smooth_window_s`` and ``max_fit_window_s``: a log with dropped
    fixes gets fewer fixes, not a longer time. ``disp`` is each fix's displacement over the
    motion window of ``span`` seconds; ``moving``, whether the fix moves (a parked phone's
    jitter must not make the median step small: a long stop would widen every window)."""
    n = len(arr)
    t = spread_repeated_times(arr.t)
    steps = np.diff(t)
    steps = steps[steps > 0]
    dt_fix = max(float(np.median(steps)) if steps.size else 1.0, 0.1)
    noise = fit_noise_m(arr, moving)
    max_half = max(int(cfg.max_fit_window_s / dt_fix), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.nan_to_num(disp / span * dt_fix)
    half_s = np.full(n, cfg.max_fit_window_s)
    for a, b in run_slices(run):
        moving_steps = step[a:b][moving[a:b]]
        if moving_steps.size:
            step_m = float(np.median(moving_steps))
            fixes = _length_half(noise, step_m, max_half, LENGTH_NOISE_SHARE)
            half_s[a:b] = fixes * dt_fix
    half_s = np.clip(half_s, cfg.smooth_window_s, cfg.max_fit_window_s)
    i = np.arange(n)
    lo = np.maximum(np.searchsorted(t, t - half_s - 1e-9, side="left"), run_start)
    hi = np.minimum(np.searchsorted(t, t + half_s + 1e-9, side="right") - 1, run_end)
    # as many fixes either side, fewer near a run's ends: a truck parked there stays put
    # (a line fitted over the drive beyond would drag its fixes along)
    half = np.maximum(np.minimum(i - lo, hi - i), 0)
    return FitWindows(half, half, np.ones(n, dtype=bool))


def run_slices(run: NDArray) -> list[tuple[int, int]]:
    """[start, end) of each run (``run`` numbers the fixes' runs, never decreasing)."""
    starts = np.flatnonzero(np.diff(run, prepend=run[0] - 1))
    return list(zip(starts.tolist(), [*starts[1:].tolist(), run.size], strict=True))


def untimed_length_half(arr: TrackArrays, cfg: StatsConfig) -> int:
    """Half-window (fixes) of the quadratic fit smoothing an untimed log's positions for its
    length, sized as for timed logs (``fit_windows``), at most as many as a 1 Hz log's
    ``max_fit_window_s``; 0 for a log without noise."""
    noise = second_difference_noise_m(arr)
    step = winding_step_m(arr, noise)
    return _length_half(noise, step, int(cfg.max_fit_window_s), LENGTH_NOISE_SHARE)
