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

/**
 * Compare two served `severity` lists element by element (the core's one order, from
 * /api/v1/rules: status, road access, lower cap, interstate ban). >0 when `a` is stricter.
 * There is deliberately no copy of the order here.
 */
export function compareSeverity(a = [], b = []) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -Infinity) - (b[i] ?? -Infinity);
    if (d) return d > 0 ? 1 : -1;
  }
  return 0;
}

/** Is rule `a` stricter for a Kei driver than rule `b` (no rule = least strict)? */
export function stricter(a, b) {
  if (!a?.severity) return false;
  return compareSeverity(a.severity, b?.severity ?? []) > 0;
}

/** The badge's words for a rule: access mode and the visitor rule, from the server. */
export function badgeText(code, rule) {
  if (!rule) return `${code} · …`;
  const access = rule.access_text ? rule.access_text.split(" · ")[0] : rule.status;
  return `${code} · ${rule.status} · ${access}`;
}

export function visitorText(rule) {
  if (!rule?.visitors) return "";
  return rule.visitors.rule === "may_not_operate"
    ? `Not even on out-of-state plates: ${rule.visitors.text}`
    : rule.visitor_text ?? "";
}

/** A rule in the badge's few words: "banned · No public roads". */
export function ruleWords(rule) {
  const access = rule.access_text ? rule.access_text.split(" · ")[0] : null;
  return access && access !== rule.status ? `${rule.status} · ${access}` : rule.status;
}

function wording(rule) {
  return rule.advice ?? `${rule.name}: ${rule.status}`;
}

/** The warning's headline, for a glance while driving ("Entered New York: banned · No public roads"). */
export function enteredHeadline(previousCode, code, rules) {
  if (!enteredWarning(previousCode, code, rules)) return null;
  return `Entered ${rules[code].name}: ${ruleWords(rules[code])}`;
}

/** Warning on crossing from `previousCode` into `code` if the new state is stricter. */
export function enteredWarning(previousCode, code, rules) {
  if (!code || !previousCode || code === previousCode) return null;
  const rule = rules[code];
  return stricter(rule, rules[previousCode]) ? `Entered ${rule.name}. ${wording(rule)}` : null;
}

function stricterNearby(here, rules) {
  if (!here) return [];
  const rule = here.code ? rules[here.code] : null;
  return here.nearby.map((c) => rules[c]).filter((r) => r && stricter(r, rule));
}

/** Warning near a line into stricter states (`here` from `locate`). */
export function nearWarning(here, rules) {
  const worse = stricterNearby(here, rules);
  if (!worse.length) return null;
  return `Near ${worse.map((r) => r.name).join(", ")}: ${worse.map(wording).join(" ")}`;
}

/** Its headline: "Near New York: banned · No public roads". */
export function nearHeadline(here, rules) {
  const worse = stricterNearby(here, rules);
  if (!worse.length) return null;
  return `Near ${worse.map((r) => `${r.name}: ${ruleWords(r)}`).join("; ")}`;
}

const DAY_MS = 86_400_000;

/** A dated rule change within `days` for any of `codes` (current state, home state). */
export function upcomingChange(codes, rules, today, days = 90) {
  const now = Date.parse(today);
  for (const code of codes) {
    const next = code ? rules[code]?.next_change : null;
    if (!next) continue;
    const ahead = (Date.parse(next.on) - now) / DAY_MS;
    if (ahead >= 0 && ahead <= days) return { code, name: rules[code].name, ...next };
  }
  return null;
}
