// Route guidance maths for the Drive screen (pure, no DOM): where the truck is along the
// planned route, the next maneuver and its distance, what is left, the off-route decision,
// arrival, the warning ahead and the voice prompts. Unit-tested by tests/js/guidance.test.mjs.
//
// A route is the API's RouteResult.to_dict(): geometry [[lat, lon]…], distance_m, duration_s,
// maneuvers [{instruction, street_names, begin_index, type…}], warnings [{kind, message, from_m…}].
// Stored guidance (localStorage "kei-drive.guidance") adds "announcements" [{kind, at_m, text}].

export const OFF_ROUTE_M = 50; // further than this from the route counts as off it...
export const OFF_ROUTE_MIN_FIXES = 3; // ...for this many fixes in a row
export const OFF_ROUTE_MIN_MS = 3000; // spanning at least this long
export const AWAY_GROWTH_M = 10; // and the distance to the route grew by this much (heading away)
export const PARALLEL_DRIVE_M = 120; // or the truck drove this far (plus twice its accuracy) beyond it
export const BACK_ON_ROUTE_M = 35; // within this again: back on the route
export const USELESS_ACCURACY_M = 100; // fixes this vague say nothing about being off route
export const ARRIVE_M = 30;
export const PASSED_TURN_HOLD_M = 50; // noise this far back across a turn made is not a step back
export const HEADING_BASE_M = 15; // fixes this far apart give the truck's heading
export const START_WARNING_M = 500; // a warning about where the route starts shows this far
export const THEN_GAP_S = 8; // a maneuver this soon after the next is said with it ("…, then …")
export const METERS_PER_MILE = 1609.344;
export const METERS_PER_FOOT = 0.3048;
const M_PER_DEG_LAT = 111_195;
const DEFAULT_SPEED_MPS = 13; // ~30 mph when the speed is not known yet
const toRad = (deg) => (deg * Math.PI) / 180;

// Valhalla maneuver types that end the route.
const DESTINATION_TYPES = new Set([4, 5, 6]);

/** Flat metres east/north of (lat0, lon0): a local equirectangular projection. */
function project(lat, lon, lat0, lon0) {
  return [(lon - lon0) * M_PER_DEG_LAT * Math.cos(toRad(lat0)), (lat - lat0) * M_PER_DEG_LAT];
}

function flatDistance(a, b) {
  const [x, y] = project(b[0], b[1], a[0], a[1]);
  return Math.hypot(x, y);
}

/** Compass bearing (degrees from north) from a to b, both [lat, lon]. */
export function bearing(a, b) {
  const [x, y] = project(b[0], b[1], a[0], a[1]);
  return (Math.atan2(x, y) * 180) / Math.PI + (x < 0 ? 360 : 0);
}

/** The angle between two compass bearings, 0-180 degrees. */
function angleBetween(a, b) {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return d > 180 ? 360 - d : d;
}

const COMPASS = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];
export function compass(degrees) {
  return COMPASS[Math.round((((degrees % 360) + 360) % 360) / 45) % 8];
}

/** Fallback when stored guidance has no announcements: one per audit warning. */
export function announcementsFromWarnings(route) {
  return (route.warnings || [])
    .filter((w) => w.kind !== "unreachable")
    .map((w) => {
      // "New York: Kei vehicles are not allowed (1.5 mi of the route). …" -> first sentence
      const first = String(w.message || w.kind).split(/\.\s/)[0].replace(/\s*\([^)]*\)\s*$/, "");
      return { kind: w.kind, at_m: w.from_m ?? 0, to_m: w.to_m, text: first.replace(/\.$/, "") };
    });
}

/**
 * Ready a stored guidance {route, announcements} for lookups: cumulative metres along the
 * geometry, each maneuver's position (atM) and the announcements sorted by where they start.
 */
export function prepareRoute(guidance) {
  const route = guidance.route ?? guidance;
  const points = (route.geometry || []).filter((p) => Number.isFinite(p?.[0]) && Number.isFinite(p?.[1]));
  if (points.length < 2) throw new Error("the route has no line to follow");
  const cum = [0];
  for (let i = 1; i < points.length; i += 1) cum.push(cum[i - 1] + flatDistance(points[i - 1], points[i]));
  const lengthM = cum[cum.length - 1];
  const lastIndex = points.length - 1;
  const maneuvers = (route.maneuvers || []).map((m, i) => ({
    ...m,
    index: i,
    atM: cum[Math.min(Math.max(0, m.begin_index ?? 0), lastIndex)],
    street: (m.street_names || [])[0] || "",
  }));
  const raw = guidance.announcements ?? announcementsFromWarnings(route);
  const announcements = raw
    .filter((a) => Number.isFinite(a.at_m) && a.text)
    // toM: where the stretch ends (unknown in stored guidance older than to_m: never "on it")
    .map((a, i) => ({ ...a, index: i, atM: a.at_m, toM: Number.isFinite(a.to_m) ? a.to_m : a.at_m }))
    .sort((a, b) => a.atM - b.atM);
  return {
    points,
    cum,
    lengthM,
    durationS: Number.isFinite(route.duration_s) ? route.duration_s : null,
    maneuvers,
    announcements,
  };
}

const NEAR_PASS_M = 25; // another pass of the route this much farther off is "nearly as close"
const AGAINST_DEG = 120; // a segment this far from the truck's heading runs against it
const HEADING_REACH_M = 300; // the heading picks a pass only this far along from the last snap
export const HEADING_MIN_MPS = 3; // slower, a phone's heading is too rough to pick a pass by
const FIRST_PASS_TIE_M = 5; // passes this much farther off than the nearest are as close

/**
 * The nearest point of the route to (lat, lon): {index (segment start), lat, lon, offsetM
 * (distance from the route), alongM, bearing (of that segment)}. With headingDeg (the truck's
 * course, given at HEADING_MIN_MPS or faster), a pass of the route nearly as close that runs
 * the truck's way wins over one against it (over AGAINST_DEG off): on a road the route takes
 * out and back, both passes lie on the same line, and the truck was snapped to its way back 50
 * m before turning round (the distance along ran backwards) or to its way out after. A pass
 * more than HEADING_REACH_M ahead of hintM does not count: a rough heading at the start of a
 * route ending where it starts jumped to its end, "arrived". With hintM (the previous distance
 * along), among near-equal candidates the one closest to it wins, so a route that passes the
 * same place twice is not jumped along; without it (guidance starting), the earliest of
 * passes as close wins: a route is driven from its start.
 */
export function snapToRoute(prepared, lat, lon, hintM = null, headingDeg = null) {
  const { points, cum } = prepared;
  let candidates = [];
  let best = Infinity;
  for (let i = 0; i < points.length - 1; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    const [bx, by] = project(b[0], b[1], a[0], a[1]);
    const [px, py] = project(lat, lon, a[0], a[1]);
    const len2 = bx * bx + by * by;
    const t = len2 > 0 ? Math.max(0, Math.min(1, (px * bx + py * by) / len2)) : 0;
    const offsetM = Math.hypot(px - t * bx, py - t * by);
    const heading = len2 > 0 ? (Math.atan2(bx, by) * 180) / Math.PI : null;
    candidates.push({ i, t, offsetM, heading });
    best = Math.min(best, offsetM);
  }
  if (Number.isFinite(headingDeg)) {
    const alongOf = (c) => cum[c.i] + c.t * (cum[c.i + 1] - cum[c.i]);
    const reached = (c) => hintM === null || alongOf(c) - hintM <= HEADING_REACH_M;
    // (a zero-length segment has no way: it runs with no one)
    const withTruck = (c) => c.heading !== null && angleBetween(c.heading, headingDeg) <= AGAINST_DEG && reached(c);
    const chosen = candidates.filter(withTruck);
    if (chosen.some((c) => c.offsetM <= best + NEAR_PASS_M)) {
      candidates = chosen;
      best = Math.min(...candidates.map((c) => c.offsetM));
    }
  }
  let chosen = candidates.reduce((m, c) => (c.offsetM < m.offsetM ? c : m));
  if (hintM === null) {
    const asClose = candidates.filter((c) => c.offsetM <= best + FIRST_PASS_TIE_M);
    chosen = asClose.reduce((m, c) => (c.i < m.i || (c.i === m.i && c.t < m.t) ? c : m), chosen);
  } else {
    // Another pass of the route nearly as close (> 100 m further along or back): the one
    // nearer to where the truck was wins; within one pass the nearest point does.
    const along = (c) => cum[c.i] + c.t * (cum[c.i + 1] - cum[c.i]);
    const passes = candidates.filter((c) => c.offsetM <= best + NEAR_PASS_M && Math.abs(along(c) - along(chosen)) > 100);
    chosen = [chosen, ...passes].reduce((m, c) => (Math.abs(along(c) - hintM) < Math.abs(along(m) - hintM) ? c : m));
  }
  const { i, t, offsetM } = chosen;
  const a = points[i];
  const b = points[i + 1];
  return {
    index: i,
    lat: a[0] + t * (b[0] - a[0]),
    lon: a[1] + t * (b[1] - a[1]),
    offsetM,
    alongM: cum[i] + t * (cum[i + 1] - cum[i]),
    bearing: bearing(a, b),
  };
}

/**
 * The distance along to use for a snap at `alongM` when the last two were `hintM` and, before
 * it, `beforeM`: a step back of under PASSED_TURN_HOLD_M across a maneuver that both earlier
 * fixes were past (GPS noise at a corner snapping to the street just left) keeps the last, so
 * a turn already made is not shown and counted down again. A step back across a maneuver only
 * one fix was past (that fix was the noise), or a longer one (a U-turn, a loop), is taken.
 */
export function heldAlong(prepared, alongM, hintM, beforeM = null) {
  if (hintM === null || beforeM === null || alongM >= hintM || hintM - alongM >= PASSED_TURN_HOLD_M) return alongM;
  const crossed = prepared.maneuvers.filter((m) => m.atM > alongM + 1 && m.atM <= hintM + 1);
  return crossed.length && crossed.every((m) => beforeM >= m.atM - 1) ? hintM : alongM;
}

/**
 * Whether the truck has arrived for good: arrival that holds once reached, so driving on into
 * a lot is not "off route". It holds only after the truck came along the route (two fifths,
 * or all but its last 200 m): a loop's first fix, nearer its closing leg, snaps at the end.
 */
export class ArrivalLatch {
  constructor() {
    this.reset();
  }

  reset() {
    this.latched = false;
    this.coveredM = 0;
    this.lastAlongM = null;
  }

  update(alongM, arrived, lengthM) {
    // forward steps only (a step back is noise, or the snap leaving a loop's closing leg);
    // a long one counts too: the phone asleep for a while, then on along the route
    if (this.lastAlongM !== null) this.coveredM += Math.max(0, alongM - this.lastAlongM);
    this.lastAlongM = alongM;
    if (arrived && this.coveredM >= Math.min(0.4 * lengthM, Math.max(0, lengthM - 200))) this.latched = true;
    return this.latched;
  }
}

/**
 * Where guidance stands at a snapped position: {alongM, remainingM, remainingS, next,
 * after, nextDistanceM, warning: {announcement, distanceM} | null (the next one ahead),
 * startWarning (one about where the route starts, in its first stretch) | null, within:
 * {announcement, leftM} | null (the flagged stretch the truck is on), arrived}.
 * "next" is the first maneuver ahead of the truck (the start maneuver at 0 m never is).
 */
export function progress(prepared, snap, fix = null) {
  const { lengthM, durationS, maneuvers, announcements, points } = prepared;
  const alongM = snap.alongM;
  const remainingM = Math.max(0, lengthM - alongM);
  const remainingS = durationS !== null && lengthM > 0 ? (durationS * remainingM) / lengthM : null;
  const nextIdx = maneuvers.findIndex((m) => m.atM > alongM + 1);
  const next = nextIdx >= 0 ? maneuvers[nextIdx] : null;
  const after = nextIdx >= 0 ? maneuvers[nextIdx + 1] ?? null : null;
  const ahead = announcements.find((a) => a.atM > alongM);
  // about where the route starts ("Maryland: Kei rules unverified"): apart, so that it never
  // hides a warning ahead in the first stretch
  const start = alongM <= START_WARNING_M ? announcements.find((a) => a.atM <= 1) : null;
  // on a flagged stretch (one from where the route starts is the start warning's): it stays
  // said until the truck is off it; it went as soon as the truck was on it
  const within = announcements.find((a) => a.atM > 1 && a.atM <= alongM && alongM < a.toM);
  const end = points[points.length - 1];
  const toEndM = fix ? flatDistance([fix.lat, fix.lon], end) : remainingM + snap.offsetM;
  const lastManeuver = maneuvers[maneuvers.length - 1];
  const pastLast =
    lastManeuver && !DESTINATION_TYPES.has(lastManeuver.type) && alongM > lastManeuver.atM && remainingM <= ARRIVE_M;
  // Near the end in a straight line counts only near it along the route too: a route that
  // curls back past its end is not over there
  const nearEnd = toEndM <= ARRIVE_M && remainingM <= ARRIVE_M + snap.offsetM;
  const arrived = nearEnd || (snap.offsetM <= OFF_ROUTE_M && remainingM <= ARRIVE_M) || Boolean(pastLast);
  return {
    alongM,
    remainingM,
    remainingS,
    next,
    after,
    nextDistanceM: next ? next.atM - alongM : null,
    warning: ahead ? { announcement: ahead, distanceM: ahead.atM - alongM } : null,
    startWarning: start ? { announcement: start, distanceM: 0 } : null,
    within: within ? { announcement: within, leftM: within.toM - alongM } : null,
    arrived,
  };
}

/**
 * Decides "off route" from a stream of {offsetM, accuracy, timestamp, lat?, lon?}: off only
 * after several fixes over a few seconds, each clearly beyond the route even allowing for its
 * accuracy, while the distance to the route grows (heading away: a truck parked beside the
 * route, or GPS drift around it, is not off route) or the truck drives on beyond it (a street
 * parallel to the route: its distance stays the same). Back on as soon as a fix is near the
 * route again.
 */
export class OffRouteMonitor {
  constructor() {
    this.reset();
  }

  reset() {
    this.offRoute = false;
    this.streak = []; // consecutive fixes beyond the route
  }

  update({ offsetM, accuracy, timestamp, lat = null, lon = null }) {
    const acc = Number.isFinite(accuracy) ? accuracy : 20;
    if (acc > USELESS_ACCURACY_M) return this.#result(false);
    if (offsetM <= BACK_ON_ROUTE_M) {
      const changed = this.offRoute;
      this.reset();
      return this.#result(changed);
    }
    // Beyond the route even at the near edge of the accuracy circle.
    const beyond = offsetM > OFF_ROUTE_M && offsetM - acc > OFF_ROUTE_M - 10;
    if (!beyond) {
      if (!this.offRoute) this.streak = [];
      return this.#result(false);
    }
    if (this.offRoute) return this.#result(false);
    const at = Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
    this.streak.push({ offsetM, timestamp, at });
    const first = this.streak[0];
    const away = offsetM - Math.min(...this.streak.map((s) => s.offsetM)) >= AWAY_GROWTH_M && offsetM > first.offsetM;
    const drivenOn = at && first.at && flatDistance(first.at, at) >= PARALLEL_DRIVE_M + 2 * acc;
    if (this.streak.length >= OFF_ROUTE_MIN_FIXES && timestamp - first.timestamp >= OFF_ROUTE_MIN_MS && (away || drivenOn)) {
      this.offRoute = true;
      return this.#result(true);
    }
    return this.#result(false);
  }

  #result(changed) {
    return { offRoute: this.offRoute, changed };
  }
}

// One rounding for the screen and the voice, so the voice never says "200 feet" beside "250
// ft": feet in steps of 50 below 0.2 mi (nobody says "0.1 miles"), then tenths of a mile,
// then whole miles from 10.
const FEET_UNTIL_MILES = 0.2;
function roundedDistance(meters) {
  const m = Math.max(0, meters);
  const miles = m / METERS_PER_MILE;
  if (miles >= 10) return { miles: Math.round(miles) };
  const tenths = Math.round(miles * 10) / 10;
  if (tenths >= FEET_UNTIL_MILES) return { miles: tenths };
  return { feet: Math.round(m / METERS_PER_FOOT / 50) * 50 };
}

/** "2.1 mi", "0.3 mi", "450 ft" for the screen. */
export function formatDistance(meters) {
  if (!Number.isFinite(meters)) return "";
  const { miles, feet } = roundedDistance(meters);
  return miles !== undefined ? `${miles} mi` : `${feet} ft`;
}

/** "1 h 05 min", "12 min", "less than a minute". */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const minutes = Math.round(seconds / 60);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** The distance as said aloud, rounded as on the screen: "1.5 miles", "0.7 miles", "450 feet". */
export function spokenDistance(meters) {
  const { miles, feet } = roundedDistance(meters);
  if (miles !== undefined) return `${miles} ${miles === 1 ? "mile" : "miles"}`;
  return `${Math.max(50, feet)} feet`;
}

/**
 * The panel's warning line for a progress(), and the announcement it is about, or null: the
 * stretch the truck is on ("I 83 for another 0.3 mi: Interstate…"), unless another comes
 * sooner than it ends and within START_WARNING_M; else the one about where the route starts,
 * unless another comes within that stretch; else the next ahead ("Ohio line in 2.1 mi: …").
 */
export function warningLine(p) {
  const ahead = p.warning;
  const soon = ahead && ahead.distanceM <= START_WARNING_M;
  if (p.within && !(soon && ahead.distanceM < p.within.leftM)) {
    const a = p.within.announcement;
    const colon = a.text.indexOf(":");
    const subject = a.subject_on ?? (colon < 0 ? a.text : a.text.slice(0, colon)).replace(/ line$/, "");
    const detail = a.detail ?? (colon < 0 ? "" : a.text.slice(colon + 1).trim());
    const where = `${subject} for another ${formatDistance(p.within.leftM)}`;
    return { announcement: a, text: detail ? `${where}: ${sentence(detail)}` : where };
  }
  const warning = p.startWarning && !soon ? p.startWarning : ahead;
  if (!warning) return null;
  const text = sentence(warning.announcement.text);
  return {
    announcement: warning.announcement,
    text: warning.distanceM > 0 ? withDistance(text, formatDistance(warning.distanceM)) : text,
  };
}

/** "Ohio line: only in towns…" + "2.1 mi" -> "Ohio line in 2.1 mi: only in towns…". */
export function withDistance(text, distance) {
  const colon = text.indexOf(":");
  if (colon < 0) return `${text} in ${distance}`;
  return `${text.slice(0, colon)} in ${distance}${text.slice(colon)}`;
}

// Prompt distances a driver knows, picked by speed (seconds of warning, not fixed metres).
const PROMPT_DISTANCES = [
  { m: 1609, text: "1 mile" },
  { m: 805, text: "a half mile" },
  { m: 402, text: "a quarter mile" },
  { m: 305, text: "1000 feet" },
  { m: 152, text: "500 feet" },
];
const EARLY_S = 35; // the first prompt comes about this long before the turn
const NEAR_S = 12;
const NOW_S = 4;

const nearest = (list, target) => list.reduce((m, d) => (Math.abs(d.m - target) < Math.abs(m.m - target) ? d : m));

/**
 * The prompt stages for a speed: [{role, m, text}] from far ("early", "near") to "now" (text
 * null). At town speeds the early stage is already the shortest ("500 feet"): no near one.
 */
export function promptStages(speedMps) {
  const v = Number.isFinite(speedMps) && speedMps > 2 ? speedMps : DEFAULT_SPEED_MPS;
  const early = nearest(PROMPT_DISTANCES, v * EARLY_S);
  const shorter = PROMPT_DISTANCES.filter((d) => d.m < early.m);
  const near = shorter.length ? [{ role: "near", ...nearest(shorter, v * NEAR_S) }] : [];
  return [{ role: "early", ...early }, ...near, { role: "now", m: Math.max(30, v * NOW_S), text: null }];
}

const sentence = (text) => String(text || "").trim().replace(/\.$/, "");
const lowerFirst = (text) => text.charAt(0).toLowerCase() + text.slice(1);

/** A maneuver's instruction read ahead of it ("You have arrived at…" reads "Arrive at…"). */
export const instructionAhead = (maneuver) =>
  sentence(maneuver?.instruction).replace(/^You have arrived at/, "Arrive at");

function maneuverPhrase(maneuver, stage, distanceM, then = null) {
  const what = sentence(maneuver.instruction);
  // A stage first due well inside its distance (guidance just started, a speed change) says
  // the real distance, not the stage's round one.
  const far = stage.text && (distanceM < 0.75 * stage.m ? spokenDistance(distanceM) : stage.text);
  if (DESTINATION_TYPES.has(maneuver.type)) {
    return far ? `Your destination is in ${far}.` : null; // arrival says the rest
  }
  const thenPart = then ? `, then ${lowerFirst(instructionAhead(then))}` : "";
  return far ? `In ${far}, ${lowerFirst(what)}${thenPart}.` : `${what} now${thenPart}.`;
}

function warningLead(speedMps) {
  const v = Number.isFinite(speedMps) && speedMps > 2 ? speedMps : DEFAULT_SPEED_MPS;
  return Math.min(3200, Math.max(600, v * 60)); // about a minute ahead
}

/**
 * Chooses what to say, each prompt once: maneuver prompts at speed-scaled distances (only the
 * nearest due stage when several are due at once), each warning about a minute before its
 * stretch with its distance, and the arrival. update(progress, speedMps) -> [phrases].
 */
export class VoicePrompter {
  constructor() {
    this.said = new Set();
  }

  /** A new route (a re-route): its prompts start over; a warning about where a route starts,
   * said already, is not said again at each re-route. */
  reset() {
    this.said = new Set([...this.said].filter((key) => key.startsWith("start:")));
  }

  update(p, speedMps) {
    const out = [];
    if (p.arrived) {
      if (!this.said.has("arrived")) {
        this.said.add("arrived");
        out.push("You have arrived at your destination.");
      }
      return out;
    }
    for (const a of [p.startWarning, p.warning].filter(Boolean)) {
      const key = a === p.startWarning ? `start:${a.announcement.text}` : `warning:${a.announcement.index}`;
      if (this.said.has(key) || a.distanceM > warningLead(speedMps)) continue;
      this.said.add(key);
      const text = sentence(a.announcement.text);
      const line = a.distanceM < 100 ? text : withDistance(text, spokenDistance(a.distanceM));
      out.push(`${line.charAt(0).toUpperCase()}${line.slice(1)}.`); // "ramp to I 95…" starts a sentence
    }
    if (p.next) {
      const stages = promptStages(speedMps);
      const due = stages.filter((s) => p.nextDistanceM <= s.m);
      const key = (maneuver, role) => `maneuver:${maneuver.index}:${role}`;
      const last = due[due.length - 1];
      if (last && !this.said.has(key(p.next, last.role))) {
        stages.slice(0, stages.indexOf(last) + 1).forEach((s) => this.said.add(key(p.next, s.role)));
        // A maneuver right after this one (two turns a few seconds apart, or one passed
        // between two fixes) is said with it; its own far prompts would come too late
        const v = Number.isFinite(speedMps) && speedMps > 2 ? speedMps : DEFAULT_SPEED_MPS;
        const soon = p.after && p.after.atM - p.next.atM <= Math.max(30, v * THEN_GAP_S) ? p.after : null;
        if (soon) ["early", "near"].forEach((role) => this.said.add(key(soon, role)));
        const phrase = maneuverPhrase(p.next, last, p.nextDistanceM, soon);
        if (phrase) out.push(phrase);
      }
    }
    return out;
  }
}

/**
 * The truck's direction of travel (degrees from north) from its latest fixes, oldest first:
 * the phone's own course when it gives one, else the bearing from the last fix at least
 * HEADING_BASE_M behind; null when not known (a re-route then starts either way).
 */
export function travelHeading(fixes) {
  const last = fixes[fixes.length - 1];
  if (!last) return null;
  if (Number.isFinite(last.heading) && (last.speed ?? 1) > 0.5) return ((last.heading % 360) + 360) % 360;
  for (let i = fixes.length - 2; i >= 0; i -= 1) {
    const from = [fixes[i].lat, fixes[i].lon];
    if (flatDistance(from, [last.lat, last.lon]) >= HEADING_BASE_M) return bearing(from, [last.lat, last.lon]);
  }
  return null;
}

/** Where to head back to while off route: {street, distanceM, direction}. */
export function headBack(prepared, snap, fix) {
  const before = prepared.maneuvers.filter((m) => m.atM <= snap.alongM + 1 && m.street);
  const street = before.length ? before[before.length - 1].street : prepared.maneuvers.find((m) => m.street)?.street;
  return {
    street: street || "the route",
    distanceM: snap.offsetM,
    direction: compass(bearing([fix.lat, fix.lon], [snap.lat, snap.lon])),
  };
}
