"""Measuring a trip by the speed its device reported (a GPS's Doppler speed), where a log
has one: trapezoids of that speed over the moving steps, and the checks that say when it
cannot be trusted (another unit, copied from the positions, too few steps). Used by
``trips.analyze_track``; plain numpy arrays in and out."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kei_drive.core.distance import haversine_m

DEVICE_SPEED_MAX_STEP_S = 5.0  # steps this long at most are measured by the device's speed
DEVICE_SPEED_MAX_STEP_CAP_S = 15.0  # (longer in a sparse log, up to this)
DEVICE_SPEED_MIN_STEPS = 10  # fewer steps with a speed at both ends: positions only
TRACKER_STEPS = 1.5  # a tracker's steps up to this many typical ones are measured by it
SPARSE_STEP_S = 5.0  # steps this long hold little position noise against their length
DEVICE_SPEED_AGREES = (0.6, 1.6)  # its length against the positions' (units are 1.9x+ off)
# A log's trusted speed measures a sparse trip (fixes over 15 s apart) unless its length is
# this far off the trip's lines: a winding road's bends between fixes 1-2 min apart read
# ~1.7-2.8x the lines; zeros while the truck drove read far under, km/h as m/s 3.6x (or more
# on bends). A denser trip's lines follow the road: ``DEVICE_SPEED_AGREES``.
LOG_VERDICT_HOLDS = (0.6, 3.0)
DEVICE_MOVING_FIXES = 5  # a measured speed held this many fixes is movement (a spike is not)
COPIED_SPEED_SHARE = 0.8  # a "speed" equal to the step before or after at this many fixes...
COPIED_SPEED_TOLERANCE = 0.02  # ...within 2 % was computed from the positions, not measured
CALIBRATION_MIN_M = 5000.0  # straight runs measured by the speed: at least this long...
CALIBRATION_MAX = 0.03  # ...to scale it by at most this much (else it is left as it is)
WANDER_MAX_MPS = 2.0  # a parked phone's positions drift slower than this on "moving" steps
SPEED_ONLY_BORNE_OUT = 0.5  # movement by the speed alone: its ends this far apart, at least
STRAIGHT_MIN_STEP_M = 5.0
STRAIGHT_MIN_RUN_M = 1000.0  # a run's ends hold the wander of a few metres: long runs only
STRAIGHT_MAX_TURN_DEG = 5.0  # over two chords of 5 fixes: a radius of 1.4 km at 25 m/s
STRAIGHT_BASE_FIXES = 5


def _typical_step_s(dt: NDArray) -> float:
    return float(np.median(dt[dt > 0])) if (dt > 0).any() else 0.0


def _use(speed: NDArray, dt: NDArray, seg_moving: NDArray) -> NDArray:
    """Moving steps with a reported speed at both ends, short enough to be measured by it
    (``DEVICE_SPEED_MAX_STEP_S``, or 4 typical steps of a sparser log up to
    ``DEVICE_SPEED_MAX_STEP_CAP_S``: a 3 s log's dropped fixes are measured as its other
    steps; a fitted or averaged position cuts more from such a step than a trapezoid errs).
    A tracker's own steps (20-30 s) are measured by its speed too: the straight line
    between its fixes cuts a winding road's bends by up to half, while a trapezoid of two
    speeds errs either way."""
    typical = _typical_step_s(dt)
    longest = min(max(DEVICE_SPEED_MAX_STEP_S, 4.0 * typical), DEVICE_SPEED_MAX_STEP_CAP_S)
    if typical > DEVICE_SPEED_MAX_STEP_CAP_S:
        longest = TRACKER_STEPS * typical
    with np.errstate(invalid="ignore"):
        known = np.isfinite(speed) & (speed >= 0)
        return seg_moving & known[:-1] & known[1:] & (dt > 0) & (dt <= longest)


def steps_with_speed(speed: NDArray, dt: NDArray, seg_moving: NDArray) -> NDArray:
    """The moving steps ``measured_steps`` measures by the device's speed."""
    return _use(speed, dt, seg_moving)


def measured_steps(speed: NDArray, dt: NDArray, seg_len: NDArray, seg_moving: NDArray) -> NDArray:
    """``seg_len`` with each moving step that has a speed at both ends measured by those
    speeds (a trapezoid); a step over ``DEVICE_SPEED_MAX_STEP_CAP_S`` never shorter than the
    positions make it (their noise is small against it; a truck stopping or starting in it
    made the trapezoid shorter than a straight line)."""
    use = _use(speed, dt, seg_moving)
    trapezoid = (speed[:-1] + speed[1:]) / 2 * np.where(use, dt, 0.0)
    with np.errstate(invalid="ignore"):
        long_step = dt > DEVICE_SPEED_MAX_STEP_CAP_S
        trapezoid = np.where(long_step, np.fmax(trapezoid, seg_len), trapezoid)
    return np.where(use, trapezoid, seg_len)


def measured_speed(
    reported: NDArray,
    stamps: NDArray,
    raw: NDArray,
    dt: NDArray,
    seg_len: NDArray,
    seg_moving: NDArray,
    straight: tuple[NDArray, NDArray] | None,
    still_mps: float,
    verdict: bool | None = None,
    xy: tuple[NDArray, NDArray] | None = None,
) -> tuple[NDArray | None, bool]:
    """The speed the device ``reported`` at each fix (m/s, NaN: none), to measure the trip
    by (None when it cannot be), and whether it was refused as wrong (then it gives no speed
    value either). ``stamps``: the fixes' times as logged.

    A GPS's Doppler speed holds no position noise and cuts no bend, so a winding road,
    correlated wander and stop-and-go keep their true length when their steps are measured
    by it (a GPS unit's own trip meter works so), and a crawl in a queue, which moves too
    little for the positions to tell it from jitter, still counts as moving.

    It is not used when its length over the moving steps disagrees with the positions'
    ``seg_len`` (steps of ``SPARSE_STEP_S`` or more: the longer of it and ``raw``) by more
    than ``DEVICE_SPEED_AGREES`` (km/h written as m/s, speeds of 0 while moving: refused; a
    tracker's, by ``_wrong_unit``'s looser rule: a winding road's bends between fixes 20-30 s
    apart can make a true speed 1.9x the positions'; far below them where the phone stood
    and its positions wandered, it is used: ``_standing_phone``), when too few steps have
    it, or when it was computed from the positions (``raw``: the steps between the fixes as
    logged; it would bring their noise back, and at a standstill the noise over a second
    reads as rolling). ``dt``: time steps with repeated whole-second stamps spread
    (``core.time_order.spread_repeated_times``). Speeds under ``still_mps`` are returned as 0:
    a Doppler speed's noise at a standstill. Where the
    log has enough ``straight`` runs (``straight_runs``: there the fits lose no length),
    the speed is scaled to their length: a device's speed may read a little off (a real
    interstate log: 0.6 % high).

    ``verdict``: what the whole log these fixes were cut from said (``TrackArrays
    .speed_verdict``): True measures them by the speed with none of these checks (a few
    steps cannot be judged) unless over ``DEVICE_SPEED_MIN_STEPS`` of it are far off their
    lines (``LOG_VERDICT_HOLDS`` or, dense, ``DEVICE_SPEED_AGREES``: zeros while the truck
    drove, a unit slipped; a speed of 0 at every fix says it stood): then (None, False), to
    be judged here; False refuses it, None judges it here. ``xy``: the fixes in metres;
    steps among fixes that report standing and lie together (``standing_wander``) are left
    out of the comparison: there the positions' length is a parked phone's wander."""
    if verdict is False:
        return None, True
    use = _use(reported, dt, seg_moving)
    if verdict is None and int(use.sum()) < DEVICE_SPEED_MIN_STEPS:
        return None, _wrong_unit(reported, raw, dt, seg_moving)
    with np.errstate(invalid="ignore"):
        speed = np.where(reported < still_mps, 0.0, reported)
    along = measured_steps(speed, dt, np.zeros_like(seg_len), seg_moving)
    # A sparse log's fitted steps cut its bends (a 10 s log of a mountain road: a third
    # short); the straight line between its fixes as logged cuts less and holds little noise
    reference = np.where(dt >= SPARSE_STEP_S, np.maximum(seg_len, raw), seg_len)
    ratio = float(along.sum() / max(float(reference[use].sum()), 1e-9))
    if verdict:
        known = reported[np.isfinite(reported)]
        if known.size and not known.any():  # a phone that says it stood (a parked jump)
            return speed, False
        # (a dense log's lines follow the bends: its own bound)
        sparse = _typical_step_s(dt) > DEVICE_SPEED_MAX_STEP_CAP_S
        low, high = LOG_VERDICT_HOLDS if sparse else DEVICE_SPEED_AGREES
        if not low <= ratio <= high and int(use.sum()) >= DEVICE_SPEED_MIN_STEPS:  # (a few
            return None, False  # speeds taken at red lights say little): not its measure
        return _calibrated(speed, along, seg_len, use, straight), False
    if ratio < DEVICE_SPEED_AGREES[0] and _standing_phone(reported, seg_len, dt, use):
        return speed, False  # the positions' "movement" is a parked phone's wander
    if ratio < DEVICE_SPEED_AGREES[0] and xy is not None:
        driven = use & ~standing_wander(reported, still_mps, *xy)
        if driven.sum() >= DEVICE_SPEED_MIN_STEPS:  # the rest must agree
            ratio = float(along[driven].sum() / max(float(reference[driven].sum()), 1e-9))
    if not DEVICE_SPEED_AGREES[0] <= ratio <= DEVICE_SPEED_AGREES[1]:
        if _typical_step_s(dt) > DEVICE_SPEED_MAX_STEP_CAP_S:  # a winding road or a unit
            return None, _wrong_unit(reported, raw, dt, seg_moving)
        return None, True
    if _copied_speed(reported, raw, dt) or _copied_speed(reported, raw, np.diff(stamps)):
        return None, False  # the positions' own steps: a speed value still, not a measure
    return _calibrated(speed, along, seg_len, use, straight), False


def _calibrated(
    speed: NDArray,
    along: NDArray,
    seg_len: NDArray,
    use: NDArray,
    straight: tuple[NDArray, NDArray] | None,
) -> NDArray:
    """``speed`` scaled to the length of the ``straight`` runs where every step has one
    (``along``: the steps by it), when they are long enough and it is a little off."""
    if straight is None:
        return speed
    first, last = straight
    cum = np.concatenate(([0], np.cumsum(~use)))
    measured = cum[last + 1] - cum[first] == 0  # every step of the run has a speed

    def over_runs(steps: NDArray) -> float:
        total = np.concatenate(([0.0], np.cumsum(steps)))
        return float(np.sum((total[last + 1] - total[first])[measured]))

    by_speed = over_runs(along)
    scale = over_runs(seg_len) / by_speed if by_speed > 0 else 1.0
    if by_speed >= CALIBRATION_MIN_M and abs(scale - 1.0) <= CALIBRATION_MAX:
        return speed * scale
    return speed


def moves_a_standing_phone(
    rolling: NDArray,
    by_positions: NDArray,
    speed: NDArray,
    dt: NDArray,
    lat: NDArray,
    lon: NDArray,
    noise_m: float,
) -> bool:
    """Do the positions refute the reported ``speed``? A run of ``rolling`` fixes (moving
    by that speed) that moves by the speed alone (not ``by_positions``; a lone fix moving by
    the positions is jitter and does not break a run) must cover, in the straight line
    between its first and last fix plus ``noise_m`` at each end, ``SPEED_ONLY_BORNE_OUT`` of
    the length its speed gives. A crawl in a queue does; a parked phone whose logger repeats
    the last speed (or fills the field with a constant) does not: such a log's speed is
    made up, and moving fixes next to the standstill would be measured by it too."""
    before = np.concatenate(([False], by_positions[:-1]))
    after = np.concatenate((by_positions[1:], [False]))
    only = rolling & ~(by_positions & (before | after))
    edges = np.diff(np.concatenate(([0], only.astype(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if first.size == 0:
        return False
    with np.errstate(invalid="ignore"):
        steps = np.where(only[:-1] & only[1:], (speed[:-1] + speed[1:]) / 2 * dt, 0.0)
    total = np.concatenate(([0.0], np.cumsum(np.nan_to_num(steps))))
    claimed = total[last] - total[first]
    chord = haversine_m(lat[first], lon[first], lat[last], lon[last])
    return bool(np.any(chord + 2.0 * noise_m < SPEED_ONLY_BORNE_OUT * claimed))


def straight_runs(x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
    """Runs of steps between fitted positions (``x``, ``y``: metres) on a straight or gently
    curving road, where fits lose no length: (first step, last step) of each run at least
    ``STRAIGHT_MIN_RUN_M`` long in which the chords over ``STRAIGHT_BASE_FIXES`` fixes before
    and after each fix are ``STRAIGHT_MIN_STEP_M`` a fix or longer and turn by at most
    ``STRAIGHT_MAX_TURN_DEG`` (chords, not steps: what noise is left turns a short step
    more). A whole run is measured, not chosen steps: a fix fitted a little ahead lengthens
    one step and shortens the next."""
    b = STRAIGHT_BASE_FIXES
    straight_fix = np.zeros(x.size, dtype=bool)
    if x.size > 2 * b:
        cx, cy = x[b:] - x[:-b], y[b:] - y[:-b]  # chord k: fix k to fix k + b
        long_enough = np.hypot(cx, cy) >= b * STRAIGHT_MIN_STEP_M
        course = np.arctan2(cy, cx)
        turn = np.abs(np.angle(np.exp(1j * (course[b:] - course[:-b]))))  # at fix k + b
        calm = (turn <= np.radians(STRAIGHT_MAX_TURN_DEG)) & long_enough[b:] & long_enough[:-b]
        straight_fix[b:-b] = calm
    joined = straight_fix[:-1] & straight_fix[1:]  # step k joins fixes k and k + 1
    edges = np.diff(np.concatenate(([0], joined.astype(np.int8), [0])))
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1) - 1
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    keep = cum[last + 1] - cum[first] >= STRAIGHT_MIN_RUN_M
    return first[keep], last[keep]


def _standing_phone(reported: NDArray, seg_len: NDArray, dt: NDArray, use: NDArray) -> bool:
    """A log whose speed is far below the positions' because the phone stood (its position
    wandering: a parked hour measured up to 700 m by the positions) and not because the field
    holds zeros while it drove: the speed varies (a real GPS's noise at a standstill; a field
    that is one constant measures nothing) or is 0 at every fix (a phone saying it stood, as
    phones and loggers do: an hour under a roof, its position wandering 80 m, was a trip of
    500 m), and the positions' steps the speed disagrees with are slow (a parked phone's
    wander: under ``WANDER_MAX_MPS``; a drive with a field of zeros: faster)."""
    known = reported[np.isfinite(reported)]
    if known.size == 0 or (float(np.ptp(known)) == 0.0 and known[0] != 0.0):
        return False
    return float(np.median(seg_len[use] / dt[use])) < WANDER_MAX_MPS


WANDER_RUN_FIXES = 10  # fixes reporting standing in a row, to tell where they lie
WANDER_HALVES_M = 100.0  # a standing run's older and newer halves lie within this...
WANDER_SPREAD_M = 200.0  # ...and nine in ten of its fixes within this of its centroid


def standing_wander(reported: NDArray, still_mps: float, x: NDArray, y: NDArray) -> NDArray:
    """Per step, is it inside a run of at least ``WANDER_RUN_FIXES`` fixes that report
    standing and lie together (halves within ``WANDER_HALVES_M``, nine in ten within
    ``WANDER_SPREAD_M`` of their centroid)? Such a run is a parked phone whose fixes wander
    wider than it claims (5 min at a trip's end, 25 m of drifting noise: 440 m by the
    positions, and the speed, which said 0, was refused as zeros while driving). Zeros
    while the truck drove lie along the road: no such run."""
    with np.errstate(invalid="ignore"):
        still = reported < still_mps  # (NaN: no speed, no run)
    edges = np.diff(np.concatenate(([0], still.astype(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    wander = np.zeros(max(reported.size - 1, 0), dtype=bool)
    for a, b in zip(first, last, strict=True):  # fixes a .. b-1
        if b - a < WANDER_RUN_FIXES:
            continue
        rx, ry, half = x[a:b], y[a:b], (b - a) // 2
        apart = np.hypot(rx[:half].mean() - rx[half:].mean(), ry[:half].mean() - ry[half:].mean())
        spread = np.percentile(np.hypot(rx - rx.mean(), ry - ry.mean()), 90)
        if apart <= WANDER_HALVES_M and spread <= WANDER_SPREAD_M:
            wander[a : b - 1] = True
    return wander


def _wrong_unit(speed: NDArray, raw: NDArray, dt: NDArray, seg_moving: NDArray) -> bool:
    """A sparse log's speed (steps too long to measure by it) written in km/h instead of m/s
    (a tracker's usual slip): on moving steps faster than 2 m/s its median is 3 times the
    straight line between the fixes over their time, or more, or under a third of it. (A
    mountain road's switchbacks shorten the line between fixes 20-30 s apart by up to half,
    so mph and knots cannot be told from them.)"""
    with np.errstate(invalid="ignore", divide="ignore"):
        line = raw / dt
        reported = (speed[:-1] + speed[1:]) / 2
        ratio = (reported / line)[seg_moving & (line > 2.0) & np.isfinite(reported)]
    if ratio.size < DEVICE_SPEED_MIN_STEPS:
        return False
    typical = float(np.median(ratio))
    return not 1 / 3 <= typical <= 3.0


def _copied_speed(speed: NDArray, raw: NDArray, dt: NDArray) -> bool:
    """Is the log's speed the step to the fix before or after over its time (a logger that
    fills the field from the positions)? Judged on fixes moving faster than 1 m/s."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step_speed = raw / dt
        before = np.concatenate(([np.nan], step_speed))
        after = np.concatenate((step_speed, [np.nan]))
        moving = speed > 1.0
        close = np.fmin(np.abs(speed - before), np.abs(speed - after))
        copied = close <= COPIED_SPEED_TOLERANCE * speed
    count = int(moving.sum())
    return count > 0 and int((copied & moving).sum()) >= COPIED_SPEED_SHARE * count
