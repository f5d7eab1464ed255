// Which US state is a point in, from the bundled state polygons (pure, no DOM).
// Used by the Drive screen so the state badge works offline once loaded.

const NEAR_BORDER_M = 2000;
const M_PER_DEG = 111_195;

/** Prepare GeoJSON features {properties: {code, name}} for lookups. */
export function indexStates(geojson) {
  return geojson.features.map((f) => {
    const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const poly of polygons)
      for (const [x, y] of poly[0]) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    return { code: f.properties.code, name: f.properties.name, polygons, bbox: [minX, minY, maxX, maxY] };
  });
}

function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(x, y, rings) {
  return inRing(x, y, rings[0]) && !rings.slice(1).some((hole) => inRing(x, y, hole));
}

function inBbox(x, y, [minX, minY, maxX, maxY], margin = 0) {
  return x >= minX - margin && x <= maxX + margin && y >= minY - margin && y <= maxY + margin;
}

/** Distance (m) from a point to the outline of a state, in a local flat approximation. */
function distanceToOutline(lat, lon, state) {
  const kx = M_PER_DEG * Math.cos((lat * Math.PI) / 180);
  let best = Infinity;
  for (const poly of state.polygons)
    for (const ring of poly)
      for (let i = 1; i < ring.length; i++) {
        const ax = (ring[i - 1][0] - lon) * kx;
        const ay = (ring[i - 1][1] - lat) * M_PER_DEG;
        const bx = (ring[i][0] - lon) * kx;
        const by = (ring[i][1] - lat) * M_PER_DEG;
        const dx = bx - ax;
        const dy = by - ay;
        const len2 = dx * dx + dy * dy;
        const t = len2 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
        best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
      }
  return best;
}

/** {code, name, nearby: [codes of other states within 2 km]} or null outside every state. */
export function locate(states, lat, lon) {
  const home = states.find((s) => inBbox(lon, lat, s.bbox) && s.polygons.some((p) => inPolygon(lon, lat, p)));
  const margin = NEAR_BORDER_M / (M_PER_DEG * Math.cos((lat * Math.PI) / 180));
  const nearby = states
    .filter((s) => s !== home && inBbox(lon, lat, s.bbox, margin))
    .filter((s) => distanceToOutline(lat, lon, s) <= NEAR_BORDER_M)
    .map((s) => s.code);
  return home ? { code: home.code, name: home.name, nearby } : nearby.length ? { code: null, name: null, nearby } : null;
}

const SEVERITY = { legal: 0, unclear: 1, restricted: 2, banned: 3 };

/** Is rule `a` stricter for a Kei driver than rule `b`? */
export function stricter(a, b) {
  if (!a) return false;
  const rank = SEVERITY[a.status] ?? 1;
  const other = b ? SEVERITY[b.status] ?? 1 : 0;
  if (rank !== other) return rank > other;
  const capA = a.max_road_speed_mph ?? Infinity;
  const capB = b?.max_road_speed_mph ?? Infinity;
  return capA < capB;
}
