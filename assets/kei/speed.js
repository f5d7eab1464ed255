// Speed from GPS fixes, computed in the browser so it keeps working offline.
// Pure module (no DOM): unit-tested with `node --test tests/js`.

export const MPS_PER_MPH = 0.44704;
export const MPS_PER_KMH = 1 / 3.6;
export const METERS_PER_MILE = 1609.344;

export const DEFAULTS = Object.freeze({
  maxAccuracyM: 50, // fixes less accurate than this never move the readout
  maxPlausibleMps: 200 / 3.6, // a jump implying more than 200 km/h is a glitch
  windowMs: 4000, // derived speed: least-squares fit over this window when precise...
  shortPrecision: 0.15, // ...to this relative standard error (else a crawl looks faster)
  sharpPrecision: 0.1, // ...or, moving, to this by its own scatter (a crawl stays steady)
  longWindowMs: 10000, // otherwise over this window,
  significance: 5, // where it counts only above this many standard errors (else parked)
  lostAfterMs: 5000, // no fix for this long: show "--", never a stale number
  stationaryMps: 0.6, // device-reported speeds below this are GPS noise
  contradictMps: 3, // a device speed and the positions this far apart (and more) contradict
  staleRepeats: 3, // a device speed repeated exactly this often is stale, not measured
  crawlWindowMs: 20000, // a crawl the claimed accuracy hides: a line over this window that
  crawlMinM: 30, // moved this far, and 3x the claimed accuracy (a wander comes back)
  clockBackMs: 1000, // a fix stamped this much before the last: the clock stepped back
  glitchResetCount: 3, // this many consistent "glitches" in a row mean we were wrong
});

const EARTH_RADIUS_M = 6371008.8;
const toRad = (deg) => (deg * Math.PI) / 180;

export function haversineM(lat1, lon1, lat2, lon2) {
  const dPhi = toRad(lat2 - lat1);
  const dLam = toRad(lon2 - lon1);
  const a =
    Math.sin(dPhi / 2) ** 2 +
    Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLam / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, a)));
}

export const mpsToMph = (mps) => mps / MPS_PER_MPH;
export const mpsToKmh = (mps) => mps * 3.6;

/** Whole number for the readout, or "--" when unknown. */
export function formatSpeed(mps, unit) {
  if (mps === null || mps === undefined || !Number.isFinite(mps)) return "--";
  const value = unit === "kmh" ? mpsToKmh(mps) : mpsToMph(mps);
  return String(Math.round(value));
}

export function isValidFix(fix) {
  return (
    fix &&
    Number.isFinite(fix.lat) &&
    Number.isFinite(fix.lon) &&
    Math.abs(fix.lat) <= 90 &&
    Math.abs(fix.lon) <= 180 &&
    Number.isFinite(fix.timestamp)
  );
}

/**
 * Turns a stream of fixes {lat, lon, accuracy, speed, timestamp} into a speed,
 * an odometer and a GPS status. Feed it with addFix(); read it with snapshot(now).
 */
export class SpeedEstimator {
  constructor(options = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.reset();
  }

  reset() {
    this.window = []; // accepted fixes within windowMs of the newest
    this.suspects = []; // consecutive fixes rejected as glitches
    this.lastFixAt = null; // any fix, even a poor one
    this.lastGoodAt = null;
    this.lastAccuracy = null;
    this.speedMps = null;
    this.odometerM = 0;
    this.anchor = null; // odometer counts distance from here once it exceeds the noise
    this.repeats = 0; // fixes in a row whose device speed repeats the one before exactly
    this.counts = { accepted: 0, poor: 0, glitch: 0, invalid: 0, duplicate: 0 };
  }

  /** A new drive from here: the odometer at 0, counting from the newest fix. The speed and
   * the GPS status carry on (starting a trip while moving must not blank the readout). */
  restartOdometer() {
    this.odometerM = 0;
    this.anchor = this.window[this.window.length - 1] ?? null;
  }

  /** Returns {accepted, reason}: reason "invalid" (no position), "duplicate" (the same time
   * again), "poor" (accuracy), "glitch" (a jump no vehicle makes) or "late" (out of order). */
  addFix(fix) {
    if (!isValidFix(fix)) return this.#reject("invalid");
    const last = this.window[this.window.length - 1];
    if (last && fix.timestamp === last.timestamp) return this.#reject("duplicate");
    if (last && fix.timestamp < last.timestamp - this.opts.clockBackMs) {
      // the phone's clock stepped back: what came before cannot be fitted with what follows
      this.window = [];
      this.suspects = [];
    } else if (last && fix.timestamp < last.timestamp) {
      return this.#reject("late");
    }
    this.lastFixAt = fix.timestamp;
    this.lastAccuracy = Number.isFinite(fix.accuracy) ? fix.accuracy : null;
    if (this.lastAccuracy !== null && this.lastAccuracy > this.opts.maxAccuracyM) {
      return this.#reject("poor");
    }
    const previous = this.window[this.window.length - 1];
    if (previous) {
      const dt = (fix.timestamp - previous.timestamp) / 1000;
      const implied = haversineM(last.lat, last.lon, fix.lat, fix.lon) / dt;
      if (implied > this.opts.maxPlausibleMps && !this.#suspectsAgree(fix)) {
        return this.#reject("glitch");
      }
    }
    this.suspects = [];
    this.#accept(fix);
    return { accepted: true, reason: null };
  }

  #reject(reason) {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    return { accepted: false, reason };
  }

  // Several "glitches" in a row that agree with each other mean the earlier
  // fixes were the bad ones (e.g. a wrong first fix): start over from them.
  #suspectsAgree(fix) {
    const prev = this.suspects[this.suspects.length - 1];
    const consistent =
      prev &&
      fix.timestamp > prev.timestamp &&
      haversineM(prev.lat, prev.lon, fix.lat, fix.lon) / ((fix.timestamp - prev.timestamp) / 1000) <=
        this.opts.maxPlausibleMps;
    this.suspects = consistent ? [...this.suspects, fix] : [fix];
    if (this.suspects.length < this.opts.glitchResetCount) return false;
    this.window = this.suspects.slice(0, -1);
    this.anchor = this.window[0] ?? null;
    this.suspects = [];
    return true;
  }

  #accept(fix) {
    this.counts.accepted += 1;
    this.lastGoodAt = fix.timestamp;
    const before = this.window[this.window.length - 1];
    const repeated = Number.isFinite(fix.speed) && before?.speed === fix.speed;
    this.repeats = repeated ? this.repeats + 1 : 0;
    this.window.push(fix);
    const keepMs = Math.max(this.opts.windowMs, this.opts.longWindowMs, this.opts.crawlWindowMs);
    while (this.window.length > 2 && fix.timestamp - this.window[0].timestamp > keepMs) {
      this.window.shift();
    }
    this.speedMps = this.#estimate(fix);
    this.#advanceOdometer(fix);
  }

  #noiseRadius(...fixes) {
    const acc = fixes.map((f) => (Number.isFinite(f.accuracy) ? f.accuracy : 10));
    return Math.min(Math.max(1.5 * Math.max(...acc), 5), 40);
  }

  #estimate(fix) {
    const fitted = this.#fitted(fix);
    const reported = fix.speed;
    if (Number.isFinite(reported) && reported >= 0 && reported <= this.opts.maxPlausibleMps) {
      if (!this.#contradicted(reported, fitted)) {
        return reported < this.opts.stationaryMps ? 0 : reported; // the device's own, fresh
      }
    }
    return fitted;
  }

  // A device speed the positions plainly deny: 0 while they move at 3 m/s or more (some
  // phones send 0 while driving), or a value repeated exactly, fixes in a row, while they
  // show under a third of it (a speed stuck after a stop). Else the device is believed.
  #contradicted(reported, fitted) {
    if (fitted === null) return false;
    const limit = this.opts.contradictMps;
    if (reported < this.opts.stationaryMps) return fitted >= limit;
    return this.repeats >= this.opts.staleRepeats && reported >= limit && fitted < reported / 3;
  }

  // Least-squares velocity, or null while too few fixes tell ("--", never a made-up 0: a
  // reload at 30 mph read 0 for three fixes).
  // Over the short window (responsive) when it is precise there, else over the long window
  // (resolves a crawl); within the noise it is parked. The claimed accuracy sets a noise
  // floor that keeps a parked phone's wander at 0; once the long fit shows movement, the
  // short window is judged by its own scatter (claims of 10 m made a 20 mph truck's readout
  // lag 5 s), and a line that moved farther than a parked phone wanders is a crawl.
  #fitted(fix) {
    const within = (ms) => this.window.filter((f) => fix.timestamp - f.timestamp <= ms);
    const shortFixes = within(this.opts.windowMs);
    const precise = (v) => v && v.standardError < this.opts.shortPrecision * v.speed;
    const short = fitVelocity(shortFixes);
    if (precise(short)) return short.speed;
    const longFixes = within(this.opts.longWindowMs);
    const long = fitVelocity(longFixes);
    if (!long) return null;
    if (long.speed > this.opts.significance * long.standardError) {
      // (precise for the slower of the two: a noisy short fit reading high is not "precise")
      const sharp = fitVelocity(shortFixes, { byScatter: true });
      const sure = sharp && sharp.standardError < this.opts.sharpPrecision * Math.min(sharp.speed, long.speed);
      return sure ? sharp.speed : long.speed;
    }
    const span = (run) => (run[run.length - 1].timestamp - run[0].timestamp) / 1000;
    if (span(longFixes) < this.opts.windowMs / 1000) return null; // too soon to tell
    return this.#crawling(within(this.opts.crawlWindowMs)) ? long.speed : 0;
  }

  // A crawl whose fixes claim more error than it moves in 10 s: over 20 s its fitted line
  // went on farther than a parked phone's wander reaches (30 m, and 3x the claimed
  // accuracy; a wander turns back within a minute), significant by the fit's own scatter.
  #crawling(fixes) {
    const spanS = (fixes[fixes.length - 1].timestamp - fixes[0].timestamp) / 1000;
    if (spanS < 0.8 * (this.opts.crawlWindowMs / 1000)) return false;
    const fit = fitVelocity(fixes, { byScatter: true });
    if (!fit || fit.speed <= this.opts.significance * fit.standardError) return false;
    const claimed = Math.max(...fixes.map((f) => (Number.isFinite(f.accuracy) ? f.accuracy : 10)));
    return fit.speed * spanS > Math.max(this.opts.crawlMinM, 3 * claimed);
  }

  #advanceOdometer(fix) {
    if (!this.anchor) {
      this.anchor = fix;
      return;
    }
    const moved = haversineM(this.anchor.lat, this.anchor.lon, fix.lat, fix.lon);
    if (this.speedMps > 0 && moved > this.#noiseRadius(this.anchor, fix) / 2) {
      this.odometerM += moved;
      this.anchor = fix;
    }
  }

  /** What the screen shows at time `now` (ms). */
  snapshot(now) {
    const lost = this.lastGoodAt === null || now - this.lastGoodAt > this.opts.lostAfterMs;
    let status = "waiting";
    if (this.lastFixAt !== null) {
      if (now - this.lastFixAt > this.opts.lostAfterMs) status = "lost";
      else if (lost) status = "weak";
      else status = "ok";
    }
    return {
      status,
      speedMps: lost ? null : this.speedMps,
      accuracyM: this.lastAccuracy,
      odometerM: this.odometerM,
    };
  }
}

/**
 * Velocity of a run of fixes by a straight-line least-squares fit of east and north
 * positions against time: {speed (m/s), standardError (m/s)} or null (too few fixes).
 * The position noise is the larger of the fit's own scatter and a floor from the fixes'
 * reported accuracy (a radius, taken as ~2 sigma), so a parked phone's jitter fits a
 * velocity smaller than its standard error; `byScatter`: the fit's own scatter alone (1 m
 * at least), for a truck already known to move.
 */
export function fitVelocity(fixes, { byScatter = false } = {}) {
  const n = fixes.length;
  if (n < 3) return null;
  const t0 = fixes[0].timestamp;
  const ref = fixes[n - 1];
  const kx = toRad(1) * EARTH_RADIUS_M * Math.cos(toRad(ref.lat));
  const ky = toRad(1) * EARTH_RADIUS_M;
  const ts = fixes.map((f) => (f.timestamp - t0) / 1000);
  const xs = fixes.map((f) => (f.lon - ref.lon) * kx);
  const ys = fixes.map((f) => (f.lat - ref.lat) * ky);
  const mean = (a) => a.reduce((s, v) => s + v, 0) / n;
  const tm = mean(ts);
  const stt = ts.reduce((s, t) => s + (t - tm) ** 2, 0);
  if (stt <= 0) return null;
  const slope = (vs) => {
    const vm = mean(vs);
    const b = ts.reduce((s, t, i) => s + (t - tm) * (vs[i] - vm), 0) / stt;
    const rss = ts.reduce((s, t, i) => s + (vs[i] - vm - b * (t - tm)) ** 2, 0);
    return { b, rss };
  };
  const fx = slope(xs);
  const fy = slope(ys);
  const scatter = Math.sqrt((fx.rss + fy.rss) / (2 * Math.max(n - 2, 1)));
  const acc = fixes.map((f) => (Number.isFinite(f.accuracy) ? f.accuracy : 10));
  const floor = byScatter ? 1 : Math.max(1, acc.reduce((s, a) => s + a, 0) / n / 2);
  const sigma = Math.max(scatter, floor);
  return { speed: Math.hypot(fx.b, fy.b), standardError: sigma / Math.sqrt(stt) };
}

/**
 * Is the truck parked? It stood for `pauseAfterMs`: under `resumeMps`, its fixes around
 * where it stopped (their centroid), within `stillRadiusM` or twice the fix's accuracy;
 * `awayFixes` fixes in a row beyond that are a move. The speed alone is not enough: a
 * 3 mph crawl reads under 1.5 m/s and paused the recording while it moved; nor one fix
 * (a rough GPS's scatter crossed any line around the first fix and never paused).
 */
export class ParkedWatch {
  constructor({ pauseAfterMs = 120_000, resumeMps = 1.5, stillRadiusM = 50, awayFixes = 3 } = {}) {
    this.opts = { pauseAfterMs, resumeMps, stillRadiusM, awayFixes };
    this.reset();
  }

  reset() {
    this.since = null; // when it stopped (ms)
    this.last = null; // the newest fix's time
    this.lat = 0; // sums of its fixes since, for their centroid
    this.lon = 0;
    this.count = 0;
    this.away = 0; // fixes in a row beyond the radius
  }

  #stopAt(fix) {
    this.reset();
    this.since = fix.timestamp;
    this.last = fix.timestamp;
    this.#add(fix);
  }

  #add(fix) {
    this.lat += fix.lat;
    this.lon += fix.lon;
    this.count += 1;
    this.away = 0;
  }

  /** Feed each accepted fix with the speed then shown; returns true when parked. */
  update(fix, speedMps) {
    const { pauseAfterMs, resumeMps, stillRadiusM, awayFixes } = this.opts;
    if ((speedMps ?? 0) >= resumeMps) {
      this.reset();
      return false;
    }
    if (this.since === null) {
      this.#stopAt(fix); // stopped now
      return false;
    }
    if (fix.timestamp < this.last) this.since -= this.last - fix.timestamp; // clock went back
    this.last = fix.timestamp;
    const radius = Math.max(stillRadiusM, 2 * (Number.isFinite(fix.accuracy) ? fix.accuracy : 0));
    const off = haversineM(this.lat / this.count, this.lon / this.count, fix.lat, fix.lon);
    if (off <= radius) this.#add(fix);
    else if (++this.away >= awayFixes) {
      this.#stopAt(fix); // it moved on
      return false;
    }
    return fix.timestamp - this.since > pauseAfterMs;
  }
}

/** Fires once each time the speed rises above the cap; re-arms 1 mph below it. */
export class SpeedAlert {
  constructor() {
    this.over = false;
  }

  update(speedMps, capMps) {
    if (speedMps === null || !Number.isFinite(capMps)) return { over: false, crossed: false };
    if (!this.over && speedMps > capMps) {
      this.over = true;
      return { over: true, crossed: true };
    }
    if (this.over && speedMps < capMps - MPS_PER_MPH) this.over = false;
    return { over: this.over, crossed: false };
  }
}
