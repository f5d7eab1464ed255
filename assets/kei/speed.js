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
  longWindowMs: 10000, // otherwise over this window,
  significance: 5, // where it counts only above this many standard errors (else parked)
  lostAfterMs: 5000, // no fix for this long: show "--", never a stale number
  stationaryMps: 0.6, // device-reported speeds below this are GPS noise
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
    this.counts = { accepted: 0, poor: 0, glitch: 0, invalid: 0 };
  }

  /** A new drive from here: the odometer at 0, counting from the newest fix. The speed and
   * the GPS status carry on (starting a trip while moving must not blank the readout). */
  restartOdometer() {
    this.odometerM = 0;
    this.anchor = this.window[this.window.length - 1] ?? null;
  }

  /** Returns {accepted, reason}. */
  addFix(fix) {
    if (!isValidFix(fix)) return this.#reject("invalid");
    this.lastFixAt = fix.timestamp;
    this.lastAccuracy = Number.isFinite(fix.accuracy) ? fix.accuracy : null;
    if (this.lastAccuracy !== null && this.lastAccuracy > this.opts.maxAccuracyM) {
      return this.#reject("poor");
    }
    const last = this.window[this.window.length - 1];
    if (last) {
      const dt = (fix.timestamp - last.timestamp) / 1000;
      if (dt <= 0) return this.#reject("invalid");
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
    this.counts[reason] += 1;
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
    this.window.push(fix);
    const keepMs = Math.max(this.opts.windowMs, this.opts.longWindowMs);
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
    const reported = fix.speed;
    if (Number.isFinite(reported) && reported >= 0 && reported <= this.opts.maxPlausibleMps) {
      return reported < this.opts.stationaryMps ? 0 : reported; // the device's own, fresh
    }
    // Least-squares velocity: over the short window (responsive) when it is precise there,
    // else over the long window (resolves a crawl); a speed within the noise is parked.
    const within = (ms) => this.window.filter((f) => fix.timestamp - f.timestamp <= ms);
    const short = fitVelocity(within(this.opts.windowMs));
    if (short && short.standardError < this.opts.shortPrecision * short.speed) return short.speed;
    const long = fitVelocity(within(this.opts.longWindowMs));
    if (long && long.speed > this.opts.significance * long.standardError) return long.speed;
    return 0;
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
 * velocity smaller than its standard error.
 */
export function fitVelocity(fixes) {
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
  const floor = Math.max(1, acc.reduce((s, a) => s + a, 0) / n / 2);
  const sigma = Math.max(scatter, floor);
  return { speed: Math.hypot(fx.b, fy.b), standardError: sigma / Math.sqrt(stt) };
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
