// The offline basemap in the browser: is one installed (/tiles/basemap.json), which tiles a
// route corridor or a map view needs, how big they are, and asking the service worker to
// store them in its basemap cache (assets/sw.js). Pure functions first (tested with Node).

export const TILE_URL = "/tiles/{z}/{x}/{y}.pbf";
export const INFO_URL = "/tiles/basemap.json";
// protomaps-leaflet draws display zoom z from data tile z-1 (512-px tiles); display zooms
// above the basemap's max zoom reuse (overzoom) its last level.
export const LEVEL_DIFF = 1;
export const CORRIDOR_KM = 2;
export const CORRIDOR_ZOOMS = [10, 16]; // display zooms a driver uses along a route
export const MAX_AREA_TILES = 4000; // "Download this area" refuses bigger requests
const KM_PER_DEG_LAT = 111.32;

/** XYZ tile holding lat/lon at zoom z (Web Mercator). */
export function tileOf(lat, lon, z) {
  const n = 2 ** z;
  const clampedLat = Math.max(-85.05112878, Math.min(85.05112878, lat));
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (clampedLat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n);
  return { x: Math.min(n - 1, Math.max(0, x)), y: Math.min(n - 1, Math.max(0, y)) };
}

/** Data zooms to fetch for a range of display zooms, within the basemap's own zooms. */
export function dataZooms([displayMin, displayMax], info = { minzoom: 0, maxzoom: 14 }) {
  const lo = Math.max(info.minzoom ?? 0, displayMin - LEVEL_DIFF);
  const hi = Math.min(info.maxzoom ?? 14, displayMax - LEVEL_DIFF);
  const zooms = [];
  for (let z = lo; z <= hi; z += 1) zooms.push(z);
  return zooms;
}

function addBox(keys, z, south, west, north, east) {
  const a = tileOf(north, west, z);
  const b = tileOf(south, east, z);
  for (let x = a.x; x <= b.x; x += 1) for (let y = a.y; y <= b.y; y += 1) keys.add(`${z}/${x}/${y}`);
}

/** Points along the lines no further apart than stepKm (so buffered boxes overlap). */
function densify(lines, stepKm) {
  const out = [];
  for (const line of lines) {
    for (let i = 0; i < line.length; i += 1) {
      const [lon, lat] = line[i];
      out.push([lon, lat]);
      const next = line[i + 1];
      if (!next) continue;
      const dy = (next[1] - lat) * KM_PER_DEG_LAT;
      const dx = (next[0] - lon) * KM_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180);
      const steps = Math.floor(Math.hypot(dx, dy) / stepKm);
      for (let s = 1; s <= steps; s += 1) {
        const t = s / (steps + 1);
        out.push([lon + (next[0] - lon) * t, lat + (next[1] - lat) * t]);
      }
    }
  }
  return out;
}

/**
 * Tiles ("z/x/y") within bufferKm of the lines ([[lon, lat], ...] each), for the given data
 * zooms. Each point along the route (at most bufferKm apart) adds the tiles of a box of
 * ±bufferKm around it, so the corridor is covered with no gaps.
 */
export function corridorTiles(lines, { bufferKm = CORRIDOR_KM, zooms = [9, 14] } = {}) {
  const keys = new Set();
  const points = densify(lines, Math.max(0.25, bufferKm));
  for (const z of zooms) {
    for (const [lon, lat] of points) {
      const dLat = bufferKm / KM_PER_DEG_LAT;
      const dLon = bufferKm / (KM_PER_DEG_LAT * Math.max(0.05, Math.cos((lat * Math.PI) / 180)));
      addBox(keys, z, lat - dLat, lon - dLon, lat + dLat, lon + dLon);
    }
  }
  return [...keys];
}

/** Tiles covering a view (south, west, north, east) at the given data zooms. */
export function areaTiles({ south, west, north, east }, zooms) {
  const keys = new Set();
  for (const z of zooms) addBox(keys, z, south, west, north, east);
  return [...keys];
}

/** The LineStrings ([[lon, lat], ...]) of GeoJSON layers (route, track). */
export function linesOf(layers) {
  const lines = [];
  const visit = (g) => {
    if (!g) return;
    if (g.type === "FeatureCollection") g.features.forEach((f) => visit(f.geometry));
    else if (g.type === "Feature") visit(g.geometry);
    else if (g.type === "LineString") lines.push(g.coordinates);
    else if (g.type === "MultiLineString") lines.push(...g.coordinates);
    else if (g.type === "GeometryCollection") g.geometries.forEach(visit);
  };
  for (const layer of layers || []) visit(layer?.geojson);
  return lines.filter((l) => l.length >= 2);
}

function tileBounds(z, x, y) {
  const n = 2 ** z;
  const lon = (i) => (i / n) * 360 - 180;
  const lat = (j) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * j) / n))) * 180) / Math.PI;
  return { west: lon(x), east: lon(x + 1), north: lat(y), south: lat(y + 1) };
}

/** Keep the tiles that touch the basemap's bounds (the others are empty 204s). */
export function withinData(keys, info) {
  if (!info?.bounds) return keys;
  const [west, south, east, north] = info.bounds;
  return keys.filter((key) => {
    const [z, x, y] = key.split("/").map(Number);
    const b = tileBounds(z, x, y);
    return b.east >= west && b.west <= east && b.north >= south && b.south <= north;
  });
}

/** Estimated bytes for the tiles, from the basemap's mean tile size per zoom. */
export function estimateBytes(keys, info) {
  let bytes = 0;
  for (const key of withinData(keys, info)) {
    const z = key.split("/")[0];
    bytes += info?.zooms?.[z]?.mean_bytes ?? 0;
  }
  return bytes;
}

export function tileUrl(key) {
  const [z, x, y] = key.split("/");
  return TILE_URL.replace("{z}", z).replace("{x}", x).replace("{y}", y);
}

export function formatBytes(bytes) {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

// ------------------------------------------------------------------ browser side

let infoPromise = null;

/** TileJSON of the installed basemap, or null (none installed, or offline and never seen). */
export function loadBasemapInfo() {
  infoPromise ??= fetch(INFO_URL, { cache: "no-cache" })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  return infoPromise;
}

/**
 * Ask the service worker to store the tiles in its basemap cache. onProgress receives
 * {done, total, bytes, failed, finished, error?}. Resolves with the last progress report.
 */
export function prefetchTiles(keys, onProgress = () => {}) {
  const urls = keys.map(tileUrl);
  const worker = typeof navigator !== "undefined" && navigator.serviceWorker?.controller;
  if (!worker) {
    const report = { done: 0, total: urls.length, bytes: 0, failed: 0, finished: true,
      error: "offline maps need the installed app (service worker not active)" };
    onProgress(report);
    return Promise.resolve(report);
  }
  const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve) => {
    const listen = (event) => {
      const msg = event.data;
      if (msg?.type !== "basemap-progress" || msg.id !== id) return;
      onProgress(msg);
      if (msg.finished) {
        navigator.serviceWorker.removeEventListener("message", listen);
        resolve(msg);
      }
    };
    navigator.serviceWorker.addEventListener("message", listen);
    worker.postMessage({ type: "basemap-prefetch", id, urls });
  });
}
