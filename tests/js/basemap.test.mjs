// Unit tests of the basemap's browser logic: corridor tiles, size estimates, road kinds.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  areaTiles,
  corridorTiles,
  dataZooms,
  estimateBytes,
  linesOf,
  tileOf,
  tileUrl,
  withinData,
} from "../../assets/kei/basemap.js";
import { LEGEND, THEMES, resolveTheme, roadKind } from "../../assets/kei/basemap_palette.js";

// A 30 km east-west line at Baltimore's latitude.
const LAT = 39.28;
const KM_PER_DEG_LON = 111.32 * Math.cos((LAT * Math.PI) / 180);
const LINE = [[-76.9, LAT], [-76.9 + 30 / KM_PER_DEG_LON, LAT]];

test("tileOf matches the standard XYZ scheme", () => {
  assert.deepEqual(tileOf(0, 0, 1), { x: 1, y: 1 });
  assert.deepEqual(tileOf(39.2647, -76.5644, 14), { x: 4707, y: 6246 });
});

test("display zooms 10-16 map to data zooms 9-14 (512-px tiles, z14 overzoomed)", () => {
  assert.deepEqual(dataZooms([10, 16], { minzoom: 0, maxzoom: 14 }), [9, 10, 11, 12, 13, 14]);
  assert.deepEqual(dataZooms([10, 16], { minzoom: 0, maxzoom: 12 }), [9, 10, 11, 12]);
});

test("the corridor covers every tile within 2 km of the route and no far ones", () => {
  const keys = new Set(corridorTiles([LINE], { bufferKm: 2, zooms: [14] }));
  // Every point of the route, and points 1.9 km north and south of it, are covered.
  for (let i = 0; i <= 100; i += 1) {
    const lon = LINE[0][0] + ((LINE[1][0] - LINE[0][0]) * i) / 100;
    for (const dLat of [-1.9 / 111.32, 0, 1.9 / 111.32]) {
      const { x, y } = tileOf(LAT + dLat, lon, 14);
      assert.ok(keys.has(`14/${x}/${y}`), `missing tile at ${LAT + dLat},${lon}`);
    }
  }
  // Nothing 6 km away (2 km buffer + at most one z14 tile, ~1.9 km here).
  const far = tileOf(LAT + 6 / 111.32, LINE[0][0] + 0.1, 14);
  assert.ok(!keys.has(`14/${far.x}/${far.y}`));
  // A 30 km x 4 km corridor at z14: about 16 x 3-4 tiles.
  assert.ok(keys.size >= 40 && keys.size <= 90, `${keys.size} tiles`);
});

test("linesOf reads LineStrings out of GeoJSON layers", () => {
  const layers = [
    { id: "route", geojson: { type: "FeatureCollection", features: [
      { type: "Feature", geometry: { type: "LineString", coordinates: LINE } },
      { type: "Feature", geometry: { type: "Point", coordinates: LINE[0] } },
    ] } },
    { id: "legs", geojson: { type: "MultiLineString", coordinates: [LINE, LINE] } },
    { id: "empty" },
  ];
  assert.equal(linesOf(layers).length, 3);
});

test("estimates count only tiles inside the basemap, at its mean size per zoom", () => {
  const info = { bounds: [-76.61, 39.26, -76.53, 39.31], zooms: { 14: { mean_bytes: 10000 } } };
  const inside = tileOf(39.28, -76.57, 14);
  const outside = tileOf(34.05, -118.25, 14);
  const keys = [`14/${inside.x}/${inside.y}`, `14/${outside.x}/${outside.y}`];
  assert.deepEqual(withinData(keys, info), [keys[0]]);
  assert.equal(estimateBytes(keys, info), 10000);
  assert.equal(tileUrl(keys[0]), `/tiles/14/${inside.x}/${inside.y}.pbf`);
});

test("area tiles of a view", () => {
  const keys = areaTiles({ south: 39.26, west: -76.61, north: 39.31, east: -76.53 }, [13, 14]);
  assert.ok(keys.some((k) => k.startsWith("13/")) && keys.some((k) => k.startsWith("14/")));
});

test("road kinds: motorways and ramps are not for Kei, fast roads marked against the cap", () => {
  assert.equal(roadKind({ class: "motorway" }), "motorway");
  assert.equal(roadKind({ class: "motorway", ramp: 1 }), "motorway");
  assert.equal(roadKind({ class: "trunk" }), "trunk");
  assert.equal(roadKind({ class: "primary", maxspeed_mph: 55 }, 45), "over_cap");
  assert.equal(roadKind({ class: "primary", maxspeed_mph: 55 }, 55), "road");
  assert.equal(roadKind({ class: "minor", maxspeed_mph: 25 }, 45), "road");
  assert.equal(roadKind({ class: "minor" }, 45), "road");
  assert.equal(roadKind({ class: "rail" }), null);
});

test("each theme gives motorway, trunk and calm roads different colours", () => {
  for (const c of Object.values(THEMES)) {
    assert.notEqual(c.notForKei, c.road);
    assert.notEqual(c.fast, c.road);
    assert.notEqual(c.notForKei, c.fast);
  }
  assert.deepEqual(LEGEND.map((e) => e.kind), ["motorway", "trunk", "over_cap", "road"]);
  assert.equal(resolveTheme("night"), "night");
  assert.equal(resolveTheme("auto", new Date(2026, 0, 1, 12)), "day");
  assert.equal(resolveTheme("auto", new Date(2026, 0, 1, 23)), "night");
});
