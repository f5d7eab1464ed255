// The Kei style for the offline basemap (protomaps-leaflet paint and label rules over the
// OpenMapTiles-schema tiles that `kei-drive tiles build` makes). What a Kei may not use is
// loud, everything else is calm:
//   motorway + ramps  "not for Kei": vermillion with a black casing and light stripes
//                     (the stripes carry the meaning without colour, for colour-blind eyes
//                     and in glare);
//   trunk             amber with a black casing (Kei routing avoids trunks);
//   over the cap      amber with black dots: a road whose maxspeed is above the state's cap;
//   other roads       white (day) / grey (night).
// Colours and road kinds: basemap_palette.js. No glyph files: labels are canvas text.
import {
  CenteredTextSymbolizer,
  LineLabelSymbolizer,
  LineSymbolizer,
  PolygonSymbolizer,
} from "protomaps-leaflet";
import { DEFAULT_CAP_MPH, THEMES, roadKind, roadWidth } from "./basemap_palette.js";

export { DEFAULT_CAP_MPH, LEGEND, THEMES, resolveTheme, roadKind } from "./basemap_palette.js";

// A dashed line. With per-feature widths protomaps-leaflet strokes dashes with dashColor and
// dashWidth (not color/width), so both pairs are set.
const dashed = ({ color, width, dash }) =>
  new LineSymbolizer({ color, width, dash, dashColor: color, dashWidth: width });

const isKind = (capMph, ...kinds) => (_z, f) => kinds.includes(roadKind(f.props, capMph));
const byClass = (extra = 0, scale = 1) => (z, f) => roadWidth(z, f.props.class) * scale + extra;

function areaRules(c) {
  const cls = (...names) => (_z, f) => names.includes(f.props.class);
  return [
    { dataLayer: "landcover", symbolizer: new PolygonSymbolizer({ fill: c.green, opacity: 0.8 }),
      filter: cls("wood", "grass", "wetland") },
    { dataLayer: "landcover", symbolizer: new PolygonSymbolizer({ fill: c.farm, opacity: 0.8 }),
      filter: cls("farmland") },
    { dataLayer: "landuse", symbolizer: new PolygonSymbolizer({ fill: c.urban, opacity: 0.7 }) },
    { dataLayer: "park", symbolizer: new PolygonSymbolizer({ fill: c.green, opacity: 0.8 }) },
    { dataLayer: "water", symbolizer: new PolygonSymbolizer({ fill: c.water }) },
    { dataLayer: "waterway", symbolizer: new LineSymbolizer({ color: c.water, width: 1.5 }) },
    { dataLayer: "building", minzoom: 14, symbolizer: new PolygonSymbolizer({ fill: c.building }) },
    { dataLayer: "boundary", filter: (_z, f) => Number(f.props.admin_level) <= 4,
      symbolizer: dashed({ color: c.boundary, width: 1.2, dash: [5, 3] }) },
    { dataLayer: "transportation", minzoom: 12, filter: (_z, f) => f.props.class === "rail",
      symbolizer: dashed({ color: c.rail, width: 1, dash: [3, 3] }) },
  ];
}

function roadRules(c, capMph) {
  const layer = "transportation";
  const calm = isKind(capMph, "road");
  const overCap = isKind(capMph, "over_cap");
  const trunk = isKind(capMph, "trunk");
  const motorway = isKind(capMph, "motorway");
  const line = (opts) => new LineSymbolizer({ lineCap: "round", lineJoin: "round", ...opts });
  return [
    // casings under fills, calm roads first so the loud ones end on top
    { dataLayer: layer, filter: calm, symbolizer: line({ color: c.roadCasing, width: byClass(1.5) }) },
    { dataLayer: layer, filter: overCap, symbolizer: line({ color: c.fastCasing, width: byClass(2) }) },
    { dataLayer: layer, filter: trunk, symbolizer: line({ color: c.fastCasing, width: byClass(2.5) }) },
    { dataLayer: layer, filter: motorway,
      symbolizer: line({ color: c.notForKeiCasing, width: byClass(3) }) },
    { dataLayer: layer, filter: calm, symbolizer: line({ color: c.road, width: byClass() }) },
    { dataLayer: layer, filter: overCap, symbolizer: line({ color: c.fast, width: byClass(1) }) },
    { dataLayer: layer, filter: trunk, symbolizer: line({ color: c.fast, width: byClass(1) }) },
    { dataLayer: layer, filter: motorway, symbolizer: line({ color: c.notForKei, width: byClass(1.5) }) },
    // the patterns that say it without colour
    { dataLayer: layer, filter: overCap,
      symbolizer: dashed({ color: c.fastDots, width: byClass(0, 0.45), dash: [2, 4] }) },
    { dataLayer: layer, filter: motorway,
      symbolizer: dashed({ color: c.notForKeiStripe, width: byClass(0, 0.5), dash: [6, 6] }) },
  ];
}

/** Paint rules for a theme ("day" | "night") and the Kei speed cap (mph) roads are judged by. */
export function paintRules(theme = "day", capMph = DEFAULT_CAP_MPH) {
  const c = THEMES[theme] ?? THEMES.day;
  return [...areaRules(c), ...roadRules(c, capMph)];
}

const PLACE_SIZE = { city: 16, town: 14, village: 13, suburb: 12, hamlet: 11, neighbourhood: 11 };

export function labelRules(theme = "day") {
  const c = THEMES[theme] ?? THEMES.day;
  return [
    {
      dataLayer: "place",
      filter: (_z, f) => f.props.class in PLACE_SIZE,
      symbolizer: new CenteredTextSymbolizer({
        labelProps: ["name"],
        fill: c.label,
        stroke: c.halo,
        width: 3,
        fontFamily: "system-ui, sans-serif",
        fontWeight: 700,
        fontSize: (_z, f) => PLACE_SIZE[f?.props.class] ?? 12,
      }),
    },
    {
      dataLayer: "transportation_name",
      minzoom: 12,
      symbolizer: new LineLabelSymbolizer({
        labelProps: (z) => (z >= 14 ? ["name", "ref"] : ["ref", "name"]),
        fill: c.label,
        stroke: c.halo,
        width: 3,
        fontFamily: "system-ui, sans-serif",
        fontWeight: 600,
        fontSize: 12,
      }),
    },
    {
      dataLayer: "water_name",
      symbolizer: new CenteredTextSymbolizer({
        labelProps: ["name"], fill: c.water, stroke: c.halo, width: 2,
        fontFamily: "system-ui, sans-serif", fontStyle: "italic", fontSize: 12,
      }),
    },
  ];
}
