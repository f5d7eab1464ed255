// "The road you are on" (issue #13 point 4), without React: the latest `road` answer of a
// points batch (kei_drive/services/road.py), how old it may be, and what the driver is told.
// The recorder reports each batch answer here (reportRoad); road_status.jsx shows it.

export const STALE_MS = 20_000; // an answer older than this says nothing about the road now
export const UNKNOWN = "road unknown";

let latest = null; // { road, at }
const listeners = new Set();

// The answer to one batch: `status` 0 is no connection; other non-200 answers say nothing.
export function reportRoad(status, reply, now = Date.now()) {
  let road;
  if (status === 0) road = { status: "unknown", reason: "no_connection", detail: "no connection to the server" };
  else if (status === 200 && reply && typeof reply.road === "object" && reply.road) road = reply.road;
  else return;
  latest = { road, at: now };
  listeners.forEach((listener) => listener(latest));
}

export function subscribeRoad(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function latestRoad() {
  return latest;
}

// The road to show at `now`: the latest answer if fresh, else "unknown" with the reason.
export function currentRoad(entry, now = Date.now()) {
  if (!entry) return { status: "unknown", reason: "no_answer", detail: "no answer from the server yet" };
  if (now - entry.at > STALE_MS) {
    return { status: "unknown", reason: "stale", detail: "no recent answer from the server" };
  }
  return entry.road;
}

const CLASS_LABEL = {
  motorway: "motorway",
  motorway_link: "motorway ramp",
  trunk: "trunk road",
  trunk_link: "trunk ramp",
  link: "ramp",
  primary: "primary road",
  secondary: "secondary road",
  tertiary: "tertiary road",
  unclassified: "minor road",
  residential: "residential",
  service_other: "service road",
  service: "service road",
};

// The #road-now line: "East Street · residential", or "road unknown".
export function roadText(road) {
  if (!road || road.status !== "matched") return UNKNOWN;
  // a trunk posted 35 mph or less is an ordinary road to the route audit: not "trunk road"
  const label = road.town_trunk ? "town main road" : (CLASS_LABEL[road.class] ?? road.class ?? "road");
  return road.name ? `${road.name} · ${label}` : `Unnamed ${label}`;
}

// The alert for this road, or null: { kind, text (banner), speech (voice line) }.
export function roadAlert(road) {
  if (!road || road.status !== "matched") return null;
  const where = road.state ? ` in ${road.state}` : "";
  if (road.motorway && road.ramp) {
    return {
      kind: "ramp",
      text: `Motorway ramp${road.name && road.name !== "ramp" ? ` (${road.name})` : ""}: Kei vehicles may not use motorways`,
      speech: "Motorway ramp. Not for Kei. Turn off if you can.",
    };
  }
  if (road.motorway) {
    return {
      kind: "motorway",
      text: `On a motorway${road.name ? ` (${road.name})` : ""}: Kei vehicles may not use motorways — leave at the next exit`,
      speech: "Motorway. Not for Kei. Leave at the next exit.",
    };
  }
  if (road.above_cap) {
    return {
      kind: "above_cap",
      text: `${road.name || "This road"} is posted ${road.posted_limit_mph} mph, above the ${road.cap_mph} mph ${
        road.cap_permit ? `cap of your local permit (${road.cap_permit})` : `Kei cap${where}`
      }`,
      speech: `Posted ${road.posted_limit_mph}. Above the Kei cap of ${road.cap_mph}.`,
    };
  }
  return null;
}
