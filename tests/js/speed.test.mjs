// Unit tests of the browser's speed maths (run by `node --test tests/js`, called from pytest).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ParkedWatch,
  SpeedAlert,
  SpeedEstimator,
  formatSpeed,
  haversineM,
  MPS_PER_MPH,
} from "../../assets/kei/speed.js";

const START = { lat: 39.2904, lon: -76.6122 };
const M_PER_DEG_LAT = 111_195;

// A straight northbound stream at `mps`, one fix a second, no device speed.
function stream(mps, seconds, { accuracy = 8, t0 = 1_000_000, speed } = {}) {
  return Array.from({ length: seconds + 1 }, (_, i) => ({
    lat: START.lat + (mps * i) / M_PER_DEG_LAT,
    lon: START.lon,
    accuracy,
    speed,
    timestamp: t0 + i * 1000,
  }));
}

function feed(estimator, fixes) {
  return fixes.map((f) => estimator.addFix(f));
}

test("haversine matches a known distance", () => {
  // One degree of latitude is ~111.2 km on the mean sphere.
  assert.ok(Math.abs(haversineM(0, 0, 1, 0) - 111_195) < 5);
});

test("derived speed of 13.41 m/s reads 30 mph and 48 km/h", () => {
  const est = new SpeedEstimator();
  const fixes = stream(13.41, 10);
  feed(est, fixes);
  const snap = est.snapshot(fixes.at(-1).timestamp);
  assert.equal(snap.status, "ok");
  assert.equal(formatSpeed(snap.speedMps, "mph"), "30");
  assert.equal(formatSpeed(snap.speedMps, "kmh"), "48");
});

test("device-reported speed is used when plausible", () => {
  const est = new SpeedEstimator();
  feed(est, stream(20, 3, { speed: 20 }));
  assert.equal(formatSpeed(est.snapshot(1_003_000).speedMps, "mph"), "45");
});

test("stationary jitter reads 0 and adds no distance", () => {
  const est = new SpeedEstimator();
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < 120; i++) {
    est.addFix({
      lat: START.lat + (rand() * 5) / M_PER_DEG_LAT,
      lon: START.lon + (rand() * 5) / 86_000,
      accuracy: 10,
      timestamp: 1_000_000 + i * 1000,
    });
    // "--" while too few fixes tell parked from driving (the first 4 s), then 0
    const shown = formatSpeed(est.snapshot(1_000_000 + i * 1000).speedMps, "mph");
    assert.equal(shown, i < 4 ? "--" : "0", `fix ${i}`);
  }
  assert.equal(est.odometerM, 0);
});

test("a far-away glitch is rejected and does not spike the readout", () => {
  const est = new SpeedEstimator();
  const fixes = stream(13.41, 10);
  feed(est, fixes.slice(0, 6));
  const glitch = { lat: 25.03, lon: 121.56, accuracy: 5, timestamp: fixes[5].timestamp + 500 };
  assert.deepEqual(est.addFix(glitch), { accepted: false, reason: "glitch" });
  feed(est, fixes.slice(6));
  const snap = est.snapshot(fixes.at(-1).timestamp);
  assert.equal(formatSpeed(snap.speedMps, "mph"), "30");
  assert.ok(Math.abs(snap.odometerM - 134) < 15, `odometer ${snap.odometerM}`);
});

test("a wrong first fix is abandoned after consistent fixes disagree with it", () => {
  const est = new SpeedEstimator();
  est.addFix({ lat: 25.03, lon: 121.56, accuracy: 5, timestamp: 999_000 });
  feed(est, stream(13.41, 8));
  assert.equal(formatSpeed(est.snapshot(1_008_000).speedMps, "mph"), "30");
});

test("poor accuracy fixes do not move the readout", () => {
  const est = new SpeedEstimator();
  const result = est.addFix({ ...START, accuracy: 400, timestamp: 1 });
  assert.equal(result.reason, "poor");
  assert.equal(est.snapshot(1).speedMps, null);
  assert.equal(est.snapshot(1).status, "weak");
});

test("after a 6 s gap the readout is -- and the status lost", () => {
  const est = new SpeedEstimator();
  const fixes = stream(13.41, 5);
  feed(est, fixes);
  const snap = est.snapshot(fixes.at(-1).timestamp + 6000);
  assert.equal(snap.status, "lost");
  assert.equal(formatSpeed(snap.speedMps, "mph"), "--");
  assert.equal(formatSpeed(snap.speedMps, "kmh"), "--");
});

test("invalid fixes (NaN, out of range), the same time again and a late fix are rejected", () => {
  const est = new SpeedEstimator();
  assert.equal(est.addFix({ lat: NaN, lon: 0, timestamp: 1 }).reason, "invalid");
  assert.equal(est.addFix({ lat: 91, lon: 0, timestamp: 1 }).reason, "invalid");
  est.addFix({ ...START, accuracy: 5, timestamp: 10_000 });
  assert.equal(est.addFix({ ...START, accuracy: 5, timestamp: 10_000 }).reason, "duplicate");
  assert.equal(est.addFix({ ...START, accuracy: 5, timestamp: 9_500 }).reason, "late");
});

test("a clock stepping back 60 s is read on, not every later fix refused", () => {
  // every fix after the step was refused as "going back": "GPS lost", then "--", at 30 mph
  const est = new SpeedEstimator();
  feed(est, stream(13.41, 10));
  const after = stream(13.41, 10, { t0: 1_000_000 - 50_000 }).map((f) => ({
    ...f,
    lat: f.lat + (13.41 * 11) / M_PER_DEG_LAT,
  }));
  const results = feed(est, after);
  assert.ok(results.every((r) => r.accepted), JSON.stringify(results));
  const snap = est.snapshot(after.at(-1).timestamp);
  assert.equal(snap.status, "ok");
  assert.equal(formatSpeed(snap.speedMps, "mph"), "30");
});

test("a reload at 30 mph reads -- until its fixes tell, never 0", () => {
  const est = new SpeedEstimator();
  const shown = stream(13.41, 6).map((fix) => {
    est.addFix(fix);
    return formatSpeed(est.snapshot(fix.timestamp).speedMps, "mph");
  });
  assert.ok(!shown.includes("0"), shown.join(","));
  assert.equal(shown.at(-1), "30");
});

test("a device speed the positions deny is not shown", () => {
  // 0 at every fix while the positions move at 30 mph (some phones), and a speed stuck at
  // 30 mph after the truck stopped: the positions' speed is shown
  let est = new SpeedEstimator();
  feed(est, stream(13.41, 12, { speed: 0 }));
  assert.equal(formatSpeed(est.snapshot(1_012_000).speedMps, "mph"), "30");
  est = new SpeedEstimator();
  feed(est, noisyStream(0, 12, { hz: 1, jitterM: 1 }).map((f) => ({ ...f, speed: 13.41 })));
  assert.equal(formatSpeed(est.snapshot(1_012_000).speedMps, "mph"), "0");
});

test("a crawl at 1 fix a second from a phone claiming 10 m reads 4-5 mph, not 0", () => {
  // (and a parked phone whose error wanders as far as it claims does not: it turns back)
  for (const mph of [4, 5]) {
    const est = new SpeedEstimator();
    const fixes = noisyStream(mph * MPS_PER_MPH, 60, { hz: 1, jitterM: 1.5, accuracy: 10 });
    const shown = fixes.map((fix) => {
      est.addFix(fix);
      return formatSpeed(est.snapshot(fix.timestamp).speedMps, "mph");
    });
    const settled = shown.slice(22); // a crawl hidden in the claimed error: told within 20 s
    assert.ok(settled.every((r) => Math.abs(Number(r) - mph) <= 1), `${mph} mph: ${shown}`);
  }
});

test("odometer counts a straight drive", () => {
  const est = new SpeedEstimator();
  feed(est, stream(15, 60));
  assert.ok(Math.abs(est.odometerM - 900) < 30, `odometer ${est.odometerM}`);
});

test("a new trip while moving restarts the odometer, not the speed or the GPS status", () => {
  const est = new SpeedEstimator();
  const fixes = stream(15, 60);
  feed(est, fixes.slice(0, 31));
  const now = fixes[30].timestamp;
  const moving = est.snapshot(now);
  assert.ok(moving.odometerM > 400 && Math.abs(moving.speedMps - 15) < 1, JSON.stringify(moving));
  est.restartOdometer();
  const restarted = est.snapshot(now);
  assert.equal(restarted.odometerM, 0);
  assert.equal(restarted.status, "ok");
  assert.equal(restarted.speedMps, moving.speedMps);
  feed(est, fixes.slice(31));
  assert.ok(Math.abs(est.odometerM - 450) < 20, `odometer ${est.odometerM} after 30 s at 15 m/s`);
});

test("speed alert fires once per crossing with hysteresis", () => {
  const alert = new SpeedAlert();
  const cap = 45 * MPS_PER_MPH;
  const mph = (v) => v * MPS_PER_MPH;
  assert.equal(alert.update(mph(40), cap).crossed, false);
  assert.deepEqual(alert.update(mph(46), cap), { over: true, crossed: true });
  assert.deepEqual(alert.update(mph(47), cap), { over: true, crossed: false });
  assert.equal(alert.update(mph(44.5), cap).over, true); // inside the 1 mph band
  assert.equal(alert.update(mph(43), cap).over, false);
  assert.equal(alert.update(mph(46), cap).crossed, true);
  assert.equal(alert.update(null, cap).over, false);
});

// Seeded Gaussian noise (Box-Muller on a Park-Miller generator).
function gaussian(seed) {
  let s = seed;
  const uniform = () => (s = (s * 16807) % 2147483647) / 2147483647;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

// Fixes at `hz` moving north at `mps` with `jitterM` of Gaussian noise per axis.
function noisyStream(mps, seconds, { hz = 2, jitterM = 3, accuracy = 5, seed = 11 } = {}) {
  const noise = gaussian(seed);
  return Array.from({ length: seconds * hz + 1 }, (_, i) => ({
    lat: START.lat + (mps * (i / hz) + jitterM * noise()) / M_PER_DEG_LAT,
    lon: START.lon + (jitterM * noise()) / 86_000,
    accuracy,
    timestamp: 1_000_000 + (i * 1000) / hz,
  }));
}

test("parked at 2 Hz with 3 m jitter and no device speed reads 0", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const est = new SpeedEstimator();
    for (const fix of noisyStream(0, 600, { seed })) {
      est.addFix(fix);
      const shown = formatSpeed(est.snapshot(fix.timestamp).speedMps, "mph");
      const soon = fix.timestamp - 1_000_000 < 4000; // "--" until its fixes can tell
      assert.equal(shown, soon ? "--" : "0", `seed ${seed} at ${fix.timestamp}`);
    }
    assert.equal(est.odometerM, 0);
  }
});

test("a 5 mph crawl at 2 Hz reads 5", () => {
  for (const jitterM of [0, 1, 3]) {
    const est = new SpeedEstimator();
    const readings = [];
    for (const fix of noisyStream(5 * MPS_PER_MPH, 120, { jitterM })) {
      est.addFix(fix);
      readings.push(formatSpeed(est.snapshot(fix.timestamp).speedMps, "mph"));
    }
    const settled = readings.slice(30); // after the first 15 s
    const fives = settled.filter((r) => r === "5").length;
    assert.ok(settled.every((r) => ["4", "5", "6"].includes(r)), `jitter ${jitterM}: ${settled}`);
    assert.ok(fives >= 0.7 * settled.length, `jitter ${jitterM}: ${fives}/${settled.length}`);
  }
});

test("a fresh device speed is preferred over the fitted one", () => {
  const est = new SpeedEstimator();
  // (a measured speed varies from fix to fix; one repeated exactly is stale)
  const fixes = noisyStream(0, 10).map((f, i) => ({ ...f, speed: 8.94 + (i % 3) * 0.01 }));
  feed(est, fixes);
  assert.equal(formatSpeed(est.snapshot(fixes.at(-1).timestamp).speedMps, "mph"), "20");
});

test("a 3 mph crawl never pauses the recording; standing 2 min does, and moving on resumes", () => {
  // the pause went by the readout's speed alone: a crawl under 1.5 m/s paused after 2 min
  const crawl = new ParkedWatch();
  const fixes = noisyStream(3 * MPS_PER_MPH, 300, { hz: 1, jitterM: 1.5 });
  assert.ok(fixes.every((fix) => !crawl.update(fix, 1.2)), "a crawl paused");
  const watch = new ParkedWatch();
  const standing = noisyStream(0, 180, { hz: 1, jitterM: 5 });
  const parked = standing.map((fix) => watch.update(fix, 0));
  assert.equal(parked.indexOf(true), 121); // after 2 min, not before
  const on = [80, 81, 82].map((m, i) => ({
    ...START,
    lat: START.lat + m / M_PER_DEG_LAT,
    accuracy: 5,
    timestamp: 1_181_000 + i * 1000,
  }));
  const after = on.map((fix) => watch.update(fix, 1.0));
  assert.deepEqual(after, [true, true, false]); // 80 m on at a crawl, three fixes: moving again
});

test("a rough GPS parked pauses the recording too, and stays paused when the clock steps back", () => {
  // 20 m of scatter each way claiming 20 m crossed a line around the first fix every few
  // fixes: it never paused and kept every parked fix
  const watch = new ParkedWatch();
  const parked = noisyStream(0, 600, { hz: 1, jitterM: 20, accuracy: 20, seed: 3 });
  const first = parked.map((fix) => watch.update(fix, 0)).indexOf(true);
  assert.ok(first > 120 && first < 240, `paused at ${first} s`);
  const back = { ...parked.at(-1), timestamp: parked.at(-1).timestamp - 3_600_000 };
  assert.equal(watch.update(back, 0), true); // the clock an hour back: still parked
});

test("a parked phone whose error wanders as far as it claims seldom shows a speed", () => {
  // position error drifting smoothly (AR(1): 10 m, 30 s), claiming 10 m, 30 min at 1 Hz: a
  // first crawl rule (10 s lines farther than the claim) showed a speed at 17 % of fixes
  const noise = gaussian(5);
  const a = Math.exp(-1 / 30);
  const b = Math.sqrt(1 - a * a);
  let ex = 10 * noise();
  let ny = 10 * noise();
  const est = new SpeedEstimator();
  let shown = 0;
  for (let i = 0; i < 1800; i++) {
    ex = a * ex + b * 10 * noise();
    ny = a * ny + b * 10 * noise();
    est.addFix({
      lat: START.lat + ny / M_PER_DEG_LAT,
      lon: START.lon + ex / 86_000,
      accuracy: 10,
      timestamp: 1_000_000 + i * 1000,
    });
    if ((est.speedMps ?? 0) > MPS_PER_MPH / 2) shown += 1;
  }
  assert.ok(shown < 0.04 * 1800, `a speed at ${shown} of 1800 fixes`);
});

test("a paused recording resumes on a drive whose fixes claim over 50 m", () => {
  // the readout leaves such fixes out; fed with no speed, their positions still move on
  const watch = new ParkedWatch();
  noisyStream(0, 300, { hz: 1, jitterM: 5, accuracy: 10 }).forEach((fix) => watch.update(fix, 0));
  const drive = noisyStream(20, 30, { hz: 1, jitterM: 10, accuracy: 65 }).map((fix) => ({
    ...fix,
    timestamp: fix.timestamp + 301_000,
  }));
  const paused = drive.map((fix) => watch.update(fix, null));
  assert.equal(paused[0], true);
  assert.equal(paused.at(-1), false, paused.join(","));
});
