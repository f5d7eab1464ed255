// Unit tests of the route-guidance maths (assets/kei/guidance.js). Most use a small L-shaped
// route built here; tests/unit/test_guidance_js.py also passes a real plan_route() answer on the
// synthetic network in KEI_ROUTE_JSON (skipped when run without it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  ArrivalLatch,
  OffRouteMonitor,
  VoicePrompter,
  announcementsFromWarnings,
  compass,
  formatDistance,
  formatDuration,
  headBack,
  heldAlong,
  prepareRoute,
  progress,
  promptStages,
  snapToRoute,
  spokenDistance,
  travelHeading,
  warningLine,
  withDistance,
} from "../../assets/kei/guidance.js";

const M_PER_DEG_LAT = 111_195;
const LAT0 = 41.96;
const LON0 = -77.05;
const KX = M_PER_DEG_LAT * Math.cos((LAT0 * Math.PI) / 180);
// metres east/north of (LAT0, LON0) -> [lat, lon]
const at = (east, north) => [LAT0 + north / M_PER_DEG_LAT, LON0 + east / KX];

// North 1000 m on "Oak Avenue", right (east) 1000 m on "Main Street", then arrive.
const L_ROUTE = {
  distance_m: 2000,
  duration_s: 200,
  geometry: [at(0, 0), at(0, 500), at(0, 1000), at(500, 1000), at(1000, 1000)],
  maneuvers: [
    { instruction: "Drive north on Oak Avenue.", street_names: ["Oak Avenue"], begin_index: 0, type: 1 },
    { instruction: "Turn right onto Main Street.", street_names: ["Main Street"], begin_index: 2, type: 10 },
    { instruction: "You have arrived at your destination.", street_names: [], begin_index: 4, type: 4 },
  ],
  warnings: [
    {
      kind: "road_access",
      message: "Ohio: only in towns that allow Kei (0.6 mi of the route). Check before you drive.",
      from_m: 1500,
      to_m: 2000,
    },
  ],
};
const ANNOUNCED = { route: L_ROUTE, announcements: [{ kind: "road_access", at_m: 1500, text: "Ohio line: only in towns that allow Kei" }] };

test("the route is measured along its line", () => {
  const r = prepareRoute(ANNOUNCED);
  assert.ok(Math.abs(r.lengthM - 2000) < 1, r.lengthM);
  assert.deepEqual(
    r.maneuvers.map((m) => Math.round(m.atM)),
    [0, 1000, 2000],
  );
  assert.equal(r.maneuvers[1].street, "Main Street");
  assert.throws(() => prepareRoute({ route: { geometry: [[1, 2]] } }), /no line/);
});

test("on a road the route takes out and back, the truck is on the pass it drives", () => {
  // North 1 km to a dead end, turn round, back the same road: both passes on one line. The
  // truck keeps right (1.5 m east going north, west coming back), a fix every 10 m.
  const outBack = prepareRoute({ geometry: [at(0, 0), at(0, 1000), at(0, 0)], maneuvers: [] });
  const drive = (withHeading) => {
    const alongs = [];
    let hint = null;
    let before = null;
    const fixes = [];
    for (let n = 0; n <= 1000; n += 10) fixes.push([1.5, n, 0]);
    for (let n = 990; n >= 0; n -= 10) fixes.push([-1.5, n, 180]);
    for (const [east, north, heading] of fixes) {
      const s = snapToRoute(outBack, ...at(east, north), hint, withHeading ? heading : null);
      const along = heldAlong(outBack, s.alongM, hint, before);
      [before, hint] = [hint, along];
      alongs.push(along);
    }
    return alongs;
  };
  const alongs = drive(true);
  const truth = [...Array(101).keys()].map((k) => 10 * k).concat([...Array(100).keys()].map((k) => 1010 + 10 * k));
  alongs.forEach((a, k) => assert.ok(Math.abs(a - truth[k]) < 1, `fix ${k}: ${a} for ${truth[k]}`));
  // Without the heading, the way back was taken 50 m before the dead end.
  assert.ok(drive(false).some((a, k) => Math.abs(a - truth[k]) > 50));
  // Parked (no heading), the distance along is where the truck was, as before.
  const parked = snapToRoute(outBack, ...at(1.5, 400), 400, null);
  assert.ok(Math.abs(parked.alongM - 400) < 1, parked.alongM);
});

test("a rough heading never jumps the truck to a far pass of the route, nor onto a doubled point", () => {
  // A route ending where it starts: pulling out, a heading 91 degrees off the road jumped the
  // truck to the route's end ("arrived" before driving); one wholly against it may not either.
  const loop = prepareRoute({ geometry: [at(0, 0), at(0, 1000), at(0, 0)], maneuvers: [] });
  for (const heading of [91, 135, 180]) {
    const s = snapToRoute(loop, ...at(1.5, 3), 2, heading);
    assert.ok(Math.abs(s.alongM - 3) < 1, `heading ${heading}: ${s.alongM}`);
  }
  // Guidance starting there (no distance along yet, no heading: pulling out slowly) starts at
  // the route's start, not at its end (both lie on the truck's spot; the end held it there).
  for (const east of [-1.5, 1.5]) {
    const first = snapToRoute(loop, ...at(east, 1), null, null);
    assert.ok(first.alongM < 5, `${east}: ${first.alongM}`);
  }
  // Driving a route the wrong way past a doubled point: the truck stays on the road's line.
  const doubled = prepareRoute({ geometry: [at(0, 0), at(0, 500), at(0, 500), at(0, 1000)], maneuvers: [] });
  for (let north = 480; north <= 524; north += 4) {
    const s = snapToRoute(doubled, ...at(-1.5, north), north, 180);
    assert.ok(Math.abs(s.offsetM - 1.5) < 0.5 && Math.abs(s.alongM - north) < 1, JSON.stringify(s));
  }
});

test("a fix snaps to the nearest point of the route", () => {
  const r = prepareRoute(ANNOUNCED);
  const [lat, lon] = at(20, 300); // 20 m east of Oak Avenue, 300 m up
  const s = snapToRoute(r, lat, lon);
  assert.ok(Math.abs(s.offsetM - 20) < 0.5, s.offsetM);
  assert.ok(Math.abs(s.alongM - 300) < 0.5, s.alongM);
  assert.equal(s.index, 0);
  assert.ok(Math.abs(s.lon - LON0) < 1e-9);
  assert.equal(compass(s.bearing), "north");
  // Beyond the corner, on Main Street.
  const t = snapToRoute(r, ...at(700, 990));
  assert.ok(Math.abs(t.alongM - 1700) < 0.5 && Math.abs(t.offsetM - 10) < 0.5, JSON.stringify(t));
  assert.equal(compass(t.bearing), "east");
  // Before the start: clamped to the start.
  const u = snapToRoute(r, ...at(0, -80));
  assert.equal(Math.round(u.alongM), 0);
  assert.equal(Math.round(u.offsetM), 80);
});

test("a route passing the same place twice keeps the truck where it was along it", () => {
  // Out 1 km north and back the same way.
  const outBack = prepareRoute({ geometry: [at(0, 0), at(0, 1000), at(3, 0)], maneuvers: [] });
  const [lat, lon] = at(1.4, 400);
  const early = snapToRoute(outBack, lat, lon, 390);
  const late = snapToRoute(outBack, lat, lon, 1590);
  assert.ok(Math.abs(early.alongM - 400) < 5, early.alongM);
  assert.ok(Math.abs(late.alongM - 1600) < 5, late.alongM);
});

test("progress: next maneuver, the one after, what is left, the warning ahead", () => {
  const r = prepareRoute(ANNOUNCED);
  const p = progress(r, snapToRoute(r, ...at(0, 250)));
  assert.equal(p.next.instruction, "Turn right onto Main Street.");
  assert.ok(Math.abs(p.nextDistanceM - 750) < 1);
  assert.equal(p.after.type, 4);
  assert.ok(Math.abs(p.remainingM - 1750) < 1);
  assert.ok(Math.abs(p.remainingS - 175) < 0.5); // duration scaled by the share left
  assert.ok(Math.abs(p.warning.distanceM - 1250) < 1);
  assert.equal(p.arrived, false);
  // Past the turn the destination is next; past the warning's start it is no longer ahead.
  const q = progress(r, snapToRoute(r, ...at(600, 1000)));
  assert.equal(q.next.type, 4);
  assert.equal(q.after, null);
  assert.equal(q.warning, null);
});

test("on a flagged stretch its warning stays, with what is left of it", () => {
  // It went as soon as the truck was on the stretch, the part a driver most needs.
  const onIt = (guidance, east, north) => {
    const r = prepareRoute(guidance);
    return progress(r, snapToRoute(r, ...at(east, north)), { lat: at(east, north)[0], lon: at(east, north)[1] });
  };
  const ohio = { kind: "road_access", at_m: 1500, to_m: 1900, subject: "Ohio line", subject_on: "Ohio", detail: "only in towns that allow Kei" };
  const withEnd = { route: L_ROUTE, announcements: [{ ...ohio, text: "Ohio line: only in towns that allow Kei" }] };
  const before = onIt(withEnd, 400, 1000);
  assert.equal(before.within, null);
  assert.equal(warningLine(before).text, "Ohio line in 350 ft: only in towns that allow Kei");
  const on = onIt(withEnd, 700, 1000); // 1700 m along: 200 m of it left
  assert.ok(Math.abs(on.within.leftM - 200) < 1, on.within?.leftM);
  assert.equal(warningLine(on).text, "Ohio for another 650 ft: only in towns that allow Kei");
  assert.equal(warningLine(on).announcement.kind, "road_access");
  assert.equal(warningLine(onIt(withEnd, 950, 1000)), null); // past its end
  // without subject and detail (the fallback from the audit's warnings), from the text
  assert.equal(
    warningLine(onIt({ route: L_ROUTE }, 600, 1000)).text,
    "Ohio for another 0.2 mi: only in towns that allow Kei",
  );
  // guidance stored before to_m: never "on it", as before
  assert.equal(onIt(ANNOUNCED, 600, 1000).within, null);
  // a warning ahead within 500 m that comes before the stretch ends shows instead
  const bridge = { kind: "clearance", at_m: 1700, to_m: 1710, text: "Low bridge: 11 ft clearance" };
  const two = { route: L_ROUTE, announcements: [{ ...ohio, to_m: 2000, text: "Ohio line: only in towns that allow Kei" }, bridge] };
  assert.equal(warningLine(onIt(two, 600, 1000)).text, "Low bridge in 350 ft: 11 ft clearance");
  assert.match(warningLine(onIt(two, 800, 1000)).text, /^Ohio for another/);
});

test("arrival: within 30 m of the end, or at the end of the line", () => {
  const r = prepareRoute(ANNOUNCED);
  const near = at(975, 1000);
  assert.equal(progress(r, snapToRoute(r, ...near), { lat: near[0], lon: near[1] }).arrived, true);
  const short = at(940, 1000);
  assert.equal(progress(r, snapToRoute(r, ...short), { lat: short[0], lon: short[1] }).arrived, false);
  const beyond = at(1100, 1010); // overshot the end by 100 m: not "arrived" (it is off route)
  assert.equal(progress(r, snapToRoute(r, ...beyond), { lat: beyond[0], lon: beyond[1] }).arrived, false);
});

function offsets(list, { accuracy = 8, t0 = 0, stepMs = 1000 } = {}) {
  const m = new OffRouteMonitor();
  return list.map((offsetM, i) => m.update({ offsetM, accuracy, timestamp: t0 + i * stepMs }).offRoute);
}

test("off route: several fixes over seconds, beyond 50 m and heading away", () => {
  // Off from the fourth fix beyond 50 m (three seconds after the first).
  assert.deepEqual(offsets([5, 20, 45, 60, 80, 100, 120, 140]), [false, false, false, false, false, false, true, true]);
  // One wild fix is not off route.
  assert.deepEqual(offsets([5, 90, 6, 7]), [false, false, false, false]);
  // Parked 70 m from the route (not moving away): not off route.
  assert.deepEqual(offsets([70, 71, 69, 70, 70, 71, 70]), Array(7).fill(false));
  // Coming back towards the route from a car park: not off route.
  assert.deepEqual(offsets([200, 180, 160, 140, 120, 100]), Array(6).fill(false));
  // Three fixes within one second are not "a few seconds".
  assert.deepEqual(offsets([60, 80, 100], { stepMs: 300 }), [false, false, false]);
  // Back within 35 m: on route again at once.
  assert.deepEqual(offsets([60, 80, 100, 120, 30]), [false, false, false, true, false]);
});

test("off route: driving on along a parallel street, its distance to the route the same", () => {
  // 80 m beside the route at 11 m/s: the distance never grew, so it was never off route.
  const m = new OffRouteMonitor();
  const seen = Array.from({ length: 20 }, (_, i) => {
    const [lat, lon] = [39.3 + (11 * i) / 111320, -76.6];
    return m.update({ offsetM: 80 + (i % 2), accuracy: 8, timestamp: i * 1000, lat, lon }).offRoute;
  });
  const firstOff = seen.indexOf(true);
  assert.ok(firstOff >= 12 && firstOff <= 14, `off from fix ${firstOff}: ${seen}`); // ~136 m on
  assert.ok(seen.slice(firstOff).every(Boolean));
  // Parked 70 m beside it with 10 m of drift: never off route.
  const parked = new OffRouteMonitor();
  for (let i = 0; i < 60; i += 1) {
    const drift = 10 * Math.sin(i);
    const [lat, lon] = [39.3 + drift / 111320, -76.6 + drift / 86000];
    assert.equal(parked.update({ offsetM: 70 + (i % 3), accuracy: 10, timestamp: i * 1000, lat, lon }).offRoute, false);
  }
});

test("off route allows for the accuracy of each fix", () => {
  // 70 m off with ±40 m: could be 30 m away, so it never counts.
  assert.deepEqual(offsets([70, 80, 90, 100], { accuracy: 40 }), [false, false, false, false]);
  // Useless fixes (±150 m) neither start nor break a streak.
  const m = new OffRouteMonitor();
  const seen = [
    m.update({ offsetM: 60, accuracy: 8, timestamp: 0 }),
    m.update({ offsetM: 500, accuracy: 150, timestamp: 1000 }),
    m.update({ offsetM: 75, accuracy: 8, timestamp: 2000 }),
    m.update({ offsetM: 90, accuracy: 8, timestamp: 3000 }),
  ].map((r) => r.offRoute);
  assert.deepEqual(seen, [false, false, false, true]);
});

test("distances and times read the way a US driver reads them", () => {
  assert.equal(formatDistance(3380), "2.1 mi");
  assert.equal(formatDistance(200), "650 ft"); // feet until 0.2 mi: nobody says "0.1 miles"
  assert.equal(formatDistance(320), "0.2 mi");
  assert.equal(formatDistance(137), "450 ft");
  assert.equal(formatDistance(20000), "12 mi");
  assert.equal(formatDuration(600), "10 min");
  assert.equal(formatDuration(3900), "1 h 05 min");
  assert.equal(spokenDistance(1250), "0.8 miles");
  assert.equal(spokenDistance(1609.344), "1 mile");
  assert.equal(spokenDistance(152), "500 feet");
  assert.equal(withDistance("Ohio line: only in towns that allow Kei", "2.1 mi"), "Ohio line in 2.1 mi: only in towns that allow Kei");
  assert.equal(withDistance("Highway stretch", "500 feet"), "Highway stretch in 500 feet");
});

test("the voice says the distance the screen shows", () => {
  // Was: "In 200 feet" said beside "250 ft" on the screen, "600 feet" beside "0.1 mi".
  assert.equal(spokenDistance(76), "250 feet");
  assert.equal(formatDistance(76), "250 ft");
  for (let m = 15; m < 20000; m += 7) {
    const shown = formatDistance(m).split(" ");
    const said = spokenDistance(m).split(" ");
    assert.equal(said[0], shown[0], `${m} m: "${spokenDistance(m)}" beside "${formatDistance(m)}"`);
    assert.equal(said[1].slice(0, 2), shown[1].slice(0, 2) === "mi" ? "mi" : "fe", `${m} m`);
  }
  assert.equal(spokenDistance(5), "50 feet"); // never "0 feet"
});

test("announcements fall back to the audit warnings' first sentence", () => {
  assert.deepEqual(announcementsFromWarnings(L_ROUTE), [{ kind: "road_access", at_m: 1500, to_m: 2000, text: "Ohio: only in towns that allow Kei" }]);
});

test("prompt distances scale with speed", () => {
  assert.deepEqual(
    promptStages(25).map((s) => s.text),
    ["a half mile", "1000 feet", null],
  ); // 56 mph
  assert.deepEqual(
    promptStages(11).map((s) => s.text),
    ["a quarter mile", "500 feet", null],
  ); // 25 mph
  assert.deepEqual(
    promptStages(40).map((s) => s.text),
    ["1 mile", "a quarter mile", null],
  );
});

// Drive the L route at `mps` one fix a second and collect what the prompter says, with where.
function drive(guidance, mps, { from = 0, to = 2000 } = {}) {
  const r = prepareRoute(guidance);
  const voice = new VoicePrompter();
  const said = [];
  for (let d = from; d <= to; d += mps) {
    const [lat, lon] = d <= 1000 ? at(0, d) : at(d - 1000, 1000);
    const p = progress(r, snapToRoute(r, lat, lon), { lat, lon });
    for (const phrase of voice.update(p, mps)) said.push({ d: Math.round(d), phrase });
  }
  return said;
}

test("voice: each prompt once, in order, warning before its stretch, arrival at the end", () => {
  const said = drive(ANNOUNCED, 25);
  assert.deepEqual(
    said.map((s) => s.phrase),
    [
      "Ohio line in 0.9 miles: only in towns that allow Kei.", // a minute ahead at 56 mph
      "In a half mile, turn right onto Main Street.",
      "In 1000 feet, turn right onto Main Street.",
      "Turn right onto Main Street now.",
      "Your destination is in a half mile.",
      "Your destination is in 1000 feet.",
      "You have arrived at your destination.",
    ],
  );
  const where = Object.fromEntries(said.map((s) => [s.phrase.slice(0, 12), s.d]));
  assert.ok(where["In a half mi"] >= 1000 - 805 && where["In a half mi"] < 1000 - 780);
  assert.ok(where["Turn right o"] >= 900 && where["Turn right o"] < 1000);
  assert.ok(where["Ohio line in"] < 1500); // before the stretch starts
  // At 25 mph the warning comes later (a minute ahead is less far).
  const slow = drive(ANNOUNCED, 11).find((s) => s.phrase.startsWith("Ohio line"));
  assert.ok(slow.d >= 1500 - 660 && slow.d < 1500 - 600, JSON.stringify(slow));
  assert.ok(where["You have arr"] >= 1970);
});

test("voice: starting close to a turn says only the nearest prompt", () => {
  const said = drive(ANNOUNCED, 25, { from: 800, to: 1050 });
  assert.deepEqual(
    said.map((s) => s.phrase),
    ["Ohio line in 0.4 miles: only in towns that allow Kei.", "In 650 feet, turn right onto Main Street.", "Turn right onto Main Street now."], // 200 m: the real distance,
  );
});

test("prompt stages at every speed: town speeds have no near stage, never a crash", () => {
  // 2.5-6.4 m/s made the early stage "500 feet" and the near list empty: reduce() threw
  // and took the whole Drive screen down at 5.6-14.5 mph with a turn ahead
  for (let v = 0; v <= 45; v += 0.1) {
    const stages = promptStages(v);
    assert.equal(stages[stages.length - 1].role, "now");
    assert.ok(stages.every((s, i) => i === 0 || s.m < stages[i - 1].m), `${v}: ${JSON.stringify(stages)}`);
  }
  assert.deepEqual(
    promptStages(5).map((s) => s.text),
    ["500 feet", null],
  );
  assert.deepEqual(
    drive(ANNOUNCED, 5, { from: 700, to: 1100 })
      .map((s) => s.phrase)
      .filter((phrase) => phrase.includes("Main Street")),
    ["In 500 feet, turn right onto Main Street.", "Turn right onto Main Street now."],
  );
});

test("voice: a turn right after the next one is said with it", () => {
  // Oak Avenue north, left onto Hoffman Street, 6 m on, right onto Ensor Street
  const route = {
    distance_m: 1506,
    duration_s: 150,
    geometry: [at(0, 0), at(0, 1000), at(-6, 1000), at(-6, 1500)],
    maneuvers: [
      { instruction: "Drive north on Oak Avenue.", street_names: ["Oak Avenue"], begin_index: 0, type: 1 },
      { instruction: "Turn left onto Hoffman Street.", street_names: ["Hoffman Street"], begin_index: 1, type: 15 },
      { instruction: "Turn right onto Ensor Street.", street_names: ["Ensor Street"], begin_index: 2, type: 10 },
      { instruction: "You have arrived at your destination.", street_names: [], begin_index: 3, type: 4 },
    ],
  };
  const r = prepareRoute({ route, announcements: [] });
  const voice = new VoicePrompter();
  const said = [];
  for (const [east, north] of [[0, 600], [0, 800], [0, 900], [0, 960], [-6, 1010], [-6, 1100]]) {
    const p = progress(r, snapToRoute(r, ...at(east, north)), { lat: at(east, north)[0], lon: at(east, north)[1] });
    said.push(...voice.update(p, 11));
  }
  assert.deepEqual(said, [
    "In a quarter mile, turn left onto Hoffman Street, then turn right onto Ensor Street.",
    "In 350 feet, turn left onto Hoffman Street, then turn right onto Ensor Street.",
    "Turn left onto Hoffman Street now, then turn right onto Ensor Street.",
    "Your destination is in a quarter mile.",
  ]);
});

test("arrival: a route curling back past its end is not over there", () => {
  // east 300 m, north 60 m, back west 300 m: the end is 60 m north of the start line's end...
  // ...and the route passes 20 m from the end 80 m before it
  const route = {
    distance_m: 460,
    geometry: [at(0, 0), at(300, 0), at(300, 40), at(0, 40)],
    maneuvers: [
      { instruction: "Drive east.", begin_index: 0, type: 1 },
      { instruction: "Turn left.", begin_index: 1, type: 15 },
      { instruction: "Turn left.", begin_index: 2, type: 15 },
      { instruction: "You have arrived at your destination.", begin_index: 3, type: 4 },
    ],
  };
  const r = prepareRoute({ route, announcements: [] });
  const [lat, lon] = at(20, 0); // 20 m along, 40 m from the end in a straight line
  assert.equal(progress(r, snapToRoute(r, lat, lon), { lat, lon }).arrived, false);
  const [la2, lo2] = at(0, 15); // 25 m from the end, off the route's start: 15 m along
  assert.equal(progress(r, snapToRoute(r, la2, lo2, 15), { lat: la2, lon: lo2 }).arrived, false);
  const [la3, lo3] = at(10, 40); // 10 m before the end, on the route
  assert.equal(progress(r, snapToRoute(r, la3, lo3, 630), { lat: la3, lon: lo3 }).arrived, true);
});

test("a warning about where the route starts shows there and is said once", () => {
  const start = { route: L_ROUTE, announcements: [{ kind: "rules", at_m: 0, text: "Maryland: Kei rules unverified" }] };
  const r = prepareRoute(start);
  const p = progress(r, snapToRoute(r, ...at(0, 50)), { lat: at(0, 50)[0], lon: at(0, 50)[1] });
  assert.equal(p.startWarning.announcement.text, "Maryland: Kei rules unverified");
  assert.equal(p.startWarning.distanceM, 0);
  assert.equal(p.warning, null);
  const far = progress(r, snapToRoute(r, ...at(0, 900)), { lat: at(0, 900)[0], lon: at(0, 900)[1] });
  assert.equal(far.startWarning, null);
  const said = drive(start, 11, { from: 0, to: 300 }).map((x) => x.phrase);
  assert.deepEqual(said.filter((x) => x.startsWith("Maryland")), ["Maryland: Kei rules unverified."]);
  // not again on a new route (a re-route starts a new route at 0 m)
  const voice = new VoicePrompter();
  assert.deepEqual(voice.update(p, 11), ["Maryland: Kei rules unverified."]);
  voice.reset();
  assert.deepEqual(voice.update(p, 11), []);
});

test("a warning about the start never hides one ahead in the first stretch", () => {
  // the diff review: a low bridge at 300 m beside a start warning was never shown or said
  const both = {
    route: L_ROUTE,
    announcements: [
      { kind: "rules", at_m: 0, text: "Maryland: Kei rules unverified" },
      { kind: "clearance", at_m: 300, text: "Low bridge: 11 ft clearance" },
    ],
  };
  const said = drive(both, 11, { from: 0, to: 600 }).map((x) => x.phrase);
  assert.ok(said.includes("Maryland: Kei rules unverified."), said);
  assert.ok(said.some((x) => x.startsWith("Low bridge in")), said);
  const r = prepareRoute(both);
  const p = progress(r, snapToRoute(r, ...at(0, 100)), { lat: at(0, 100)[0], lon: at(0, 100)[1] });
  assert.equal(p.warning.announcement.text, "Low bridge: 11 ft clearance");
  assert.ok(Math.abs(p.warning.distanceM - 200) < 0.01, p.warning.distanceM);
});

test("the truck's heading for a re-route: the phone's course, else its last 15 m or more", () => {
  const fix = (east, north, extra = {}) => ({ lat: at(east, north)[0], lon: at(east, north)[1], ...extra });
  assert.equal(travelHeading([]), null);
  assert.equal(travelHeading([fix(0, 0), fix(0, 5)]), null); // too close to tell
  assert.ok(Math.abs(travelHeading([fix(0, 0), fix(10, 2), fix(20, 0)]) - 90) < 1); // east
  assert.ok(Math.abs(travelHeading([fix(0, 30), fix(0, 0)]) - 180) < 1); // south
  assert.equal(travelHeading([fix(0, 0), fix(0, 30, { heading: 271, speed: 8 })]), 271);
  // a course reported while standing is not one (the bearing of the fixes is)
  assert.ok(Math.abs(travelHeading([fix(0, 0), fix(0, 30, { heading: 271, speed: 0 })])) < 1);
});

test("a spoken warning starts with a capital, as a sentence does", () => {
  const ramp = { route: L_ROUTE, announcements: [{ kind: "highway", at_m: 1500, text: "ramp to I 95 North: not for Kei" }] };
  const said = drive(ramp, 25).map((x) => x.phrase);
  assert.ok(said.includes("Ramp to I 95 North in 0.9 miles: not for Kei."), said);
});

test("GPS noise at a corner does not bring back the turn just made", () => {
  const r = prepareRoute(ANNOUNCED);
  // 10 m, then 30 m along Main Street after the right turn, then a fix 10 m back on Oak Avenue
  const [lat, lon] = at(-4, 990);
  const snap = snapToRoute(r, lat, lon, 1030);
  assert.ok(snap.alongM < 1000); // the turn would be ahead again...
  const along = heldAlong(r, snap.alongM, 1030, 1010);
  assert.equal(along, 1030); // ...but the step back across it is held
  assert.equal(progress(r, { ...snap, alongM: along }, { lat, lon }).next.index, 2);
  // one fix past the turn was the noise (the one before it had not turned): taken back
  assert.equal(heldAlong(r, 985, 1020, 975), 985);
  // a step back with no maneuver crossed, or a long one (a U-turn), is taken
  assert.equal(heldAlong(r, 600, 620, 610), 600);
  assert.equal(heldAlong(r, 900, 1100, 1080), 900);
  assert.equal(heldAlong(r, 1200, null), 1200);
});

test("arrival holds only once the truck came along the route", () => {
  // a loop's first fix, nearer its closing leg, snaps at the end: not held
  const loop = new ArrivalLatch();
  assert.equal(loop.update(2000, true, 2000), false);
  assert.equal(loop.update(1990, true, 2000), false); // the hint keeps it on the closing leg
  assert.equal(loop.update(25, false, 2000), false); // out along the first leg
  // driven along: held at the end, and after it
  const drive = new ArrivalLatch();
  for (let d = 0; d < 1990; d += 25) assert.equal(drive.update(d, false, 2000), false);
  assert.equal(drive.update(1990, true, 2000), true);
  assert.equal(drive.update(2000, false, 2000), true);
  // guidance started half way (a reload): held after the second half
  const half = new ArrivalLatch();
  for (let d = 1000; d < 1990; d += 25) half.update(d, false, 2000);
  assert.equal(half.update(1995, true, 2000), true);
  // a short route (a re-route near the end): held at once
  assert.equal(new ArrivalLatch().update(80, true, 90), true);
});

test("head back: the street last turned onto, how far and which way", () => {
  const r = prepareRoute(ANNOUNCED);
  const fix = { lat: at(600, 1200)[0], lon: at(600, 1200)[1] }; // 200 m north of Main Street
  const back = headBack(r, snapToRoute(r, fix.lat, fix.lon), fix);
  assert.equal(back.street, "Main Street");
  assert.ok(Math.abs(back.distanceM - 200) < 1);
  assert.equal(back.direction, "south");
});

const live = process.env.KEI_ROUTE_JSON ? JSON.parse(readFileSync(process.env.KEI_ROUTE_JSON, "utf8")) : null;
const needLive = { skip: live ? false : "run through pytest (tests/unit/test_guidance_js.py)" };

test("a real planned route: turns counted down in order along its line", needLive, () => {
  const r = prepareRoute(live);
  // The geometry's length and the router's distance agree within 1 %.
  assert.ok(Math.abs(r.lengthM - live.route.distance_m) / live.route.distance_m < 0.01, `${r.lengthM}`);
  const seen = [];
  let hint = null;
  let last = Infinity;
  for (let d = 0; d <= r.lengthM; d += 20) {
    // the point d metres along, then 15 m to its side: still on route
    let i = 1;
    while (i < r.cum.length - 1 && r.cum[i] < d) i += 1;
    const [a, b] = [r.points[i - 1], r.points[i]];
    const t = (d - r.cum[i - 1]) / (r.cum[i] - r.cum[i - 1] || 1);
    // 15 m to the right of the direction of travel (on the line within 30 m of a corner,
    // where the inside of the turn is as near to the other street)
    const side = Math.min(d - r.cum[i - 1], r.cum[i] - d) > 30 ? 15 : 0;
    const kx = M_PER_DEG_LAT * Math.cos((a[0] * Math.PI) / 180);
    const [ex, ny] = [(b[1] - a[1]) * kx, (b[0] - a[0]) * M_PER_DEG_LAT];
    const len = Math.hypot(ex, ny) || 1;
    const lat = a[0] + t * (b[0] - a[0]) + ((-ex / len) * side) / M_PER_DEG_LAT;
    const lon = a[1] + t * (b[1] - a[1]) + ((ny / len) * side) / kx;
    const s = snapToRoute(r, lat, lon, hint);
    hint = s.alongM;
    const p = progress(r, s, { lat, lon });
    assert.ok(s.offsetM <= 15.5, `${d}: ${s.offsetM}`);
    if (p.next && seen[seen.length - 1] !== p.next.instruction) seen.push(p.next.instruction);
    else if (p.next) assert.ok(p.nextDistanceM < last + 1, `${d}: the countdown went up`);
    last = p.nextDistanceM;
  }
  const expected = live.route.maneuvers.slice(1).map((m) => m.instruction);
  assert.deepEqual(seen, expected);
});
