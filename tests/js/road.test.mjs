// "Road now" on the phone (assets/kei/road.js): freshness, the road line and the alerts.
import assert from "node:assert/strict";
import { test } from "node:test";

import { STALE_MS, UNKNOWN, currentRoad, latestRoad, reportRoad, roadAlert, roadText, subscribeRoad } from "../../assets/kei/road.js";

const ramp = {
  status: "matched", name: "I 99 ramp", class: "motorway_link", ramp: true, motorway: true,
  posted_limit_mph: null, cap_mph: null, above_cap: false, state: "PA",
};
const east = {
  status: "matched", name: "East Street", class: "residential", ramp: false, motorway: false,
  posted_limit_mph: 25, cap_mph: 45, above_cap: false, state: "PA",
};
const us15 = { ...east, name: "US 15", class: "trunk", posted_limit_mph: 55, above_cap: true };

test("a batch answer is shown while fresh, then the road is unknown", () => {
  const seen = [];
  const stop = subscribeRoad((entry) => seen.push(entry.road.name));
  reportRoad(200, { accepted: 3, road: east }, 1_000);
  stop();
  assert.deepEqual(seen, ["East Street"]);
  assert.equal(currentRoad(latestRoad(), 1_000 + STALE_MS).name, "East Street");
  assert.equal(currentRoad(latestRoad(), 1_001 + STALE_MS).reason, "stale");
  assert.equal(roadText(currentRoad(latestRoad(), 1_001 + STALE_MS)), UNKNOWN);
  assert.equal(currentRoad(null, 0).status, "unknown");
});

test("no connection makes the road unknown at once; other failures change nothing", () => {
  reportRoad(200, { road: east }, 5_000);
  reportRoad(503, { error: "busy" }, 5_100);
  reportRoad(200, { accepted: 3 }, 5_200); // an answer without road (not asked) says nothing
  assert.equal(currentRoad(latestRoad(), 5_300).name, "East Street");
  reportRoad(0, null, 5_400);
  const road = currentRoad(latestRoad(), 5_500);
  assert.equal(road.reason, "no_connection");
  assert.equal(roadText(road), "road unknown");
  assert.equal(roadAlert(road), null);
});

test("the road line names the road and its class", () => {
  assert.equal(roadText(east), "East Street · residential");
  assert.equal(roadText(ramp), "I 99 ramp · motorway ramp");
  assert.equal(roadText({ ...east, name: "" }), "Unnamed residential");
  assert.equal(roadText({ status: "unknown", reason: "outside_map" }), "road unknown");
  const trunk = { ...east, name: "President Street", class: "trunk", town_trunk: false };
  assert.equal(roadText(trunk), "President Street · trunk road");
  // posted 35 mph or less: an ordinary road to the route audit, not "trunk road"
  assert.equal(roadText({ ...trunk, town_trunk: true }), "President Street · town main road");
});

test("alerts: motorway ramp, motorway, above the cap; none on an ordinary road", () => {
  assert.equal(roadAlert(ramp).kind, "ramp");
  assert.match(roadAlert(ramp).text, /Motorway ramp \(I 99 ramp\)/);
  assert.equal(roadAlert({ ...ramp, ramp: false, class: "motorway", name: "I 99" }).kind, "motorway");
  const over = roadAlert(us15);
  assert.equal(over.kind, "above_cap");
  assert.equal(over.text, "US 15 is posted 55 mph, above the 45 mph Kei cap in PA");
  assert.equal(over.speech, "Posted 55. Above the Kei cap of 45.");
  const permitted = roadAlert({ ...us15, cap_mph: 35, cap_permit: "Coldwater, OH" });
  assert.equal(
    permitted.text,
    "US 15 is posted 55 mph, above the 35 mph cap of your local permit (Coldwater, OH)",
  );
  assert.equal(roadAlert(east), null);
  assert.equal(roadAlert({ ...ramp, motorway: false, class: "trunk_link" }), null); // trunk ramps are no ban
});
