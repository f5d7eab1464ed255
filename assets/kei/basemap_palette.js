// Colours and road kinds of the Kei basemap style (pure: shared by the map's paint rules in
// basemap_style.js, the legend in map_legend.jsx and the Node tests). Colours follow the
// Okabe-Ito colour-blind-safe palette; patterns (stripes, dots) repeat the meaning.

export const THEMES = {
  day: {
    background: "#f2efe9",
    water: "#a5c9e6",
    green: "#d3e6c4",
    farm: "#eef0d5",
    urban: "#e8e3dc",
    building: "#d9d0c9",
    boundary: "#8e8a9c",
    rail: "#9a9a9a",
    road: "#ffffff",
    roadCasing: "#a8a39b",
    notForKei: "#d55e00",
    notForKeiCasing: "#1a1a1a",
    notForKeiStripe: "#ffffff",
    fast: "#e69f00",
    fastCasing: "#1a1a1a",
    fastDots: "#1a1a1a",
    label: "#2b2b2b",
    halo: "#ffffff",
  },
  night: {
    background: "#1b1e24",
    water: "#1d3549",
    green: "#1f2b22",
    farm: "#24271f",
    urban: "#22252b",
    building: "#2c3038",
    boundary: "#7d7a8c",
    rail: "#5c5c5c",
    road: "#59606b",
    roadCasing: "#2a2e35",
    notForKei: "#ff7a33",
    notForKeiCasing: "#000000",
    notForKeiStripe: "#1b1e24",
    fast: "#f0b400",
    fastCasing: "#000000",
    fastDots: "#000000",
    label: "#e4e4e7",
    halo: "#111317",
  },
};

export const DEFAULT_CAP_MPH = 45;

// OpenMapTiles `transportation` classes that are roads (ramps carry ramp=1 on their class).
const ROAD_WIDTH = {
  motorway: 3.2, trunk: 2.8, primary: 2.4, secondary: 2.1, tertiary: 1.8,
  minor: 1.3, service: 0.8, track: 0.7,
};

/** How the Kei style draws a road: "motorway" | "trunk" | "over_cap" | "road" | null (not a road). */
export function roadKind(props, capMph = DEFAULT_CAP_MPH) {
  const cls = props?.class;
  if (!(cls in ROAD_WIDTH)) return null;
  if (cls === "motorway") return "motorway";
  if (cls === "trunk") return "trunk";
  const limit = Number(props.maxspeed_mph);
  if (Number.isFinite(limit) && capMph != null && limit > capMph) return "over_cap";
  return "road";
}

/** Line width in CSS px for a road class at a display zoom. */
export function roadWidth(z, cls) {
  const base = ROAD_WIDTH[cls] ?? 1;
  return Math.min(18, Math.max(0.6, base * 2 ** ((z - 13) / 2)));
}

export const THEME_KEY = "kei-map-theme"; // the driver's day/night choice (localStorage)
export const CAP_EVENT = "kei-map-cap"; // window event: {state, capMph} the map judges roads by

function storedTheme() {
  try {
    return globalThis.localStorage?.getItem(THEME_KEY) ?? null;
  } catch {
    return null;
  }
}

/**
 * "day" or "night": an explicit choice wins, then the driver's stored choice, else the local
 * clock (night 19:00-07:00).
 */
export function resolveTheme(choice, now = new Date()) {
  if (choice === "day" || choice === "night") return choice;
  const stored = storedTheme();
  if (stored === "day" || stored === "night") return stored;
  const hour = now.getHours();
  return hour >= 7 && hour < 19 ? "day" : "night";
}

/** What the Plan page's legend shows, with the same colours and patterns as the map. */
export const LEGEND = [
  { kind: "motorway", label: "Motorway or ramp: not for Kei", fill: "notForKei",
    casing: "notForKeiCasing", pattern: "notForKeiStripe", dash: "6 6" },
  { kind: "trunk", label: "Trunk road: avoided (fast traffic)", fill: "fast", casing: "fastCasing" },
  { kind: "over_cap", label: "Speed limit above the Kei cap", fill: "fast", casing: "fastCasing",
    pattern: "fastDots", dash: "2 4" },
  { kind: "road", label: "Roads a Kei may use", fill: "road", casing: "roadCasing" },
];
