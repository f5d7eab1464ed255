// A Leaflet map of GeoJSON layers over the bundled state boundaries. Underneath: the offline
// Kei basemap (vector tiles from /tiles, drawn by protomaps-leaflet with the Kei style) when
// one is installed, else online OpenStreetMap raster tiles. The state outlines come from the
// app itself, so the map is useful offline even with neither.
import { useEffect, useRef, useState } from "react";
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { leafletLayer } from "protomaps-leaflet";
import { THEMES, labelRules, paintRules, resolveTheme } from "./basemap_style.js";
import { CAP_EVENT, THEME_KEY } from "./basemap_palette.js";
import { indexStates, locate } from "./geo.js";
import { STATE_LINES_URL, loadRules } from "./states.js";
import { fetchJson, untilLoaded } from "./retry.js";
import {
  CORRIDOR_ZOOMS,
  MAX_AREA_TILES,
  TILE_URL,
  areaTiles,
  corridorTiles,
  dataZooms,
  estimateBytes,
  formatBytes,
  linesOf,
  loadBasemapInfo,
  prefetchTiles,
  withinData,
} from "./basemap.js";

const OSM_COPYRIGHT = '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>';
// Raster tiles are OpenStreetMap's own map images; the basemap is OSM data drawn here.
const RASTER_ATTRIBUTION = `© ${OSM_COPYRIGHT} contributors (ODbL)`;
const BASEMAP_ATTRIBUTION = `Map data © ${OSM_COPYRIGHT} contributors (ODbL) · offline Kei basemap`;
const STATES_ATTRIBUTION = "State lines: US Census TIGER/Line 2024";
const STATUS_FILL = { legal: "#22c55e", restricted: "#f5a623", banned: "#ef4444", unclear: "#71717a" };
// Status fills fade from zoom 7 to 10 so that the roads of the map underneath stay readable.
const fillFade = (zoom) => Math.min(1, Math.max(0.25, 1 - ((zoom ?? 0) - 7) * 0.25));
const VIEW_KEY = "kei-map-view:"; // + mapId: where the driver left the map (reopens there offline)

let statesPromise = null;
function loadStates() {
  statesPromise ??= untilLoaded(() => fetchJson(STATE_LINES_URL));
  return statesPromise;
}

let capLookupPromise = null;
/** (lat, lon) -> {state, capMph} of the state there (capMph null: no Kei speed cap known). */
function loadCapLookup() {
  capLookupPromise ??= Promise.all([loadStates(), untilLoaded(loadRules)]).then(([geojson, rules]) => {
    const states = indexStates(geojson);
    const caps = Object.fromEntries((rules || []).map((r) => [r.state, r.max_road_speed_mph ?? null]));
    return (lat, lon) => {
      const here = locate(states, lat, lon);
      return here?.code ? { state: here.code, capMph: caps[here.code] ?? null } : null;
    };
  });
  return capLookupPromise;
}

/**
 * The Kei speed cap the basemap marks faster roads against: the speedCapMph prop when a page
 * gives one, else the cap of the state at the map's centre (none: only motorways and trunks
 * are marked). Announced to the legend with a CAP_EVENT.
 */
function useSpeedCap(map, fixedCap) {
  const [cap, setCap] = useState({ state: null, capMph: fixedCap ?? null });
  useEffect(() => {
    if (fixedCap != null) {
      setCap({ state: null, capMph: fixedCap });
      return undefined;
    }
    const m = map.current;
    if (!m) return undefined;
    let cancelled = false;
    const update = () =>
      loadCapLookup().then((lookup) => {
        if (cancelled) return;
        const c = m.getCenter();
        const found = lookup(c.lat, c.lng) ?? { state: null, capMph: null };
        setCap((old) => (old.state === found.state && old.capMph === found.capMph ? old : found));
      });
    update();
    m.on("moveend", update);
    return () => {
      cancelled = true;
      m.off("moveend", update);
    };
  }, [map, fixedCap]);
  useEffect(() => {
    window.dispatchEvent(new CustomEvent(CAP_EVENT, { detail: cap }));
  }, [cap]);
  return cap;
}

// protomaps-leaflet extends the global Leaflet (window.L) when a layer is made.
if (typeof window !== "undefined") window.L ??= L;

/** The basemap to draw: {kind: "loading" | "vector" | "raster" | "none", info}. */
function useBasemap(tileUrl) {
  const [basemap, setBasemap] = useState({ kind: "loading", info: null });
  useEffect(() => {
    let cancelled = false;
    loadBasemapInfo().then((info) => {
      if (cancelled) return;
      if (info) setBasemap({ kind: "vector", info });
      else setBasemap({ kind: tileUrl ? "raster" : "none", info: null });
    });
    return () => {
      cancelled = true;
    };
  }, [tileUrl]);
  return basemap;
}

function savedView(mapId) {
  try {
    const v = JSON.parse(localStorage.getItem(VIEW_KEY + mapId) || "null");
    return v && Number.isFinite(v.lat) && Number.isFinite(v.lng) && Number.isFinite(v.zoom) ? v : null;
  } catch {
    return null;
  }
}

/** The "offline map" line: progress of a corridor or area download, then what is stored. */
function useOfflineDownload(basemap) {
  const [status, setStatus] = useState("");
  const running = useRef(null);
  const start = (keys, what) => {
    const info = basemap.info;
    const wanted = withinData(keys, info);
    const estimate = formatBytes(estimateBytes(wanted, info));
    if (!wanted.length) {
      setStatus(`Offline map: ${what} is outside the installed basemap.`);
      return;
    }
    const key = `${what}:${wanted.length}:${wanted[0]}:${wanted[wanted.length - 1]}`;
    if (running.current === key) return;
    running.current = key;
    setStatus(`Offline map for ${what}: ${wanted.length} tiles, about ${estimate}…`);
    prefetchTiles(wanted, (p) => {
      if (p.error) {
        setStatus(`Offline map for ${what}: ${p.error}.`);
      } else if (p.finished) {
        const failed = p.failed ? ` (${p.failed} failed: offline?)` : "";
        setStatus(`Offline map for ${what}: ${p.done - p.failed} of ${p.total} tiles stored, ${formatBytes(p.bytes)}${failed}.`);
      } else {
        setStatus(`Offline map for ${what}: ${p.done}/${p.total} tiles (${formatBytes(p.bytes)} of about ${estimate})…`);
      }
    }).finally(() => {
      if (running.current === key) running.current = null;
    });
  };
  return { status, setStatus, start };
}

/**
 * Props:
 *  layers: [{id, geojson, color?, weight?, property?: name of a feature property holding a colour}]
 *  stateStatus: {CODE: "legal"|"restricted"|"banned"|"unclear"} colours states (States page)
 *  onStateClick(code): called when a state is tapped
 *  fitKey: when given, the view re-fits to the layers only when this changes (so a live
 *          track that grows does not undo the driver's pan and zoom)
 *  fitBounds: [[south, west], [north, east]] to show when there are no layers
 *  stateFillOpacity: how strongly stateStatus colours the states (default 0.55)
 *  tileUrl: raster tiles template used when no offline basemap is installed ("" for none)
 *  speedCapMph: the Kei cap roads are judged by (roads with a higher maxspeed are marked);
 *               default: the cap of the state at the map's centre
 *  mapTheme: "day" | "night" | "auto" (by the clock) for the offline basemap
 *  prefetchRoute: store the basemap along the layers' lines (2 km, display zooms 10-16)
 *  offlineButton: show "Download this area" (stores the basemap of the current view)
 *  follow: {lat, lon}: keep the view on this moving position (marked with a dot); the driver's
 *          zoom is kept after the first
 *  height: CSS height; mapId: id of the map element
 */
export function KeiMap({
  layers = [],
  stateStatus = null,
  onStateClick = null,
  fitBounds = null,
  fitKey = null,
  stateFillOpacity = 0.55,
  tileUrl = "",
  speedCapMph = null,
  mapTheme = "auto",
  prefetchRoute = false,
  offlineButton = false,
  follow = null,
  height = "420px",
  mapId = "kei-map",
}) {
  const holder = useRef(null);
  const map = useRef(null);
  const base = useRef(null);
  const overlay = useRef(null);
  const statesLayer = useRef(null);
  const fittedKey = useRef(undefined);
  const [tilesDown, setTilesDown] = useState(false);
  const basemap = useBasemap(tileUrl);
  const [themeChoice, setThemeChoice] = useState(mapTheme);
  const theme = resolveTheme(themeChoice);
  const toggleTheme = () => {
    const next = theme === "day" ? "night" : "day";
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      /* not remembered */
    }
    setThemeChoice(next);
    window.dispatchEvent(new Event(THEME_KEY)); // the legend follows
  };
  const offline = useOfflineDownload(basemap);
  const [mapReady, setMapReady] = useState(false);
  const cap = useSpeedCap(mapReady ? map : { current: null }, speedCapMph);

  useEffect(() => {
    const m = L.map(holder.current, { zoomControl: true, attributionControl: true }).setView([39.5, -98.35], 4);
    map.current = m;
    holder.current.keiMap = m; // for tests and debugging
    m.attributionControl.addAttribution(STATES_ATTRIBUTION);
    const view = fitBounds ? null : savedView(mapId);
    if (view) m.setView([view.lat, view.lng], view.zoom, { animate: false });
    m.on("moveend", () => {
      const c = m.getCenter();
      try {
        localStorage.setItem(VIEW_KEY + mapId, JSON.stringify({ lat: c.lat, lng: c.lng, zoom: m.getZoom() }));
      } catch {
        /* private mode: the view is simply not remembered */
      }
    });
    overlay.current = L.layerGroup().addTo(m);
    setMapReady(true);
    return () => m.remove();
  }, [mapId]); // eslint-disable-line react-hooks/exhaustive-deps

  // The base layer: the Kei vector basemap, or raster tiles as the fallback.
  useEffect(() => {
    const m = map.current;
    if (!m || basemap.kind === "loading" || basemap.kind === "none") return undefined;
    let layer;
    if (basemap.kind === "vector") {
      layer = leafletLayer({
        url: TILE_URL,
        maxDataZoom: basemap.info.maxzoom ?? 14,
        paintRules: paintRules(theme, cap.capMph),
        labelRules: labelRules(theme),
        backgroundColor: THEMES[theme].background,
        attribution: BASEMAP_ATTRIBUTION,
        maxZoom: 19,
      });
    } else {
      layer = L.tileLayer(tileUrl, { maxZoom: 19, attribution: RASTER_ATTRIBUTION });
      let failures = 0;
      layer.on("tileerror", () => {
        failures += 1;
        if (failures >= 3) setTilesDown(true);
      });
      layer.on("tileload", () => setTilesDown(false));
    }
    layer.addTo(m);
    layer.bringToBack();
    base.current = layer;
    return () => {
      layer.remove();
      base.current = null;
    };
  }, [basemap, theme, tileUrl]); // eslint-disable-line react-hooks/exhaustive-deps

  // A new cap (the map moved into another state) repaints the roads, without a new layer.
  useEffect(() => {
    const layer = base.current;
    if (!layer?.rerenderTiles) return;
    layer.paintRules = paintRules(theme, cap.capMph);
    layer.rerenderTiles();
  }, [cap.capMph]); // eslint-disable-line react-hooks/exhaustive-deps

  // The initial view: wait a frame so the map knows its real size (fitting earlier picks
  // a zoom for a 0-px map).
  useEffect(() => {
    if (!fitBounds || !map.current) return undefined;
    const timer = setTimeout(() => {
      map.current?.invalidateSize();
      map.current?.fitBounds(fitBounds, { animate: false });
    }, 50);
    return () => clearTimeout(timer);
  }, [JSON.stringify(fitBounds)]); // eslint-disable-line react-hooks/exhaustive-deps

  // State outlines, coloured by Kei status when given.
  useEffect(() => {
    let cancelled = false;
    loadStates().then((geojson) => {
      if (cancelled || !geojson || !map.current) return;
      statesLayer.current?.remove();
      statesLayer.current = L.geoJSON(geojson, {
        style: (f) => {
          const status = stateStatus?.[f.properties.code];
          return {
            color: "#9ca3af",
            weight: 1,
            fillColor: status ? STATUS_FILL[status] ?? "#71717a" : "#000",
            fillOpacity: status ? stateFillOpacity * fillFade(map.current?.getZoom()) : 0.02,
          };
        },
        onEachFeature: (f, layer) => {
          const status = stateStatus?.[f.properties.code];
          layer.bindTooltip(`${f.properties.name}${status ? ` · ${status}` : ""}`);
          if (onStateClick) layer.on("click", () => onStateClick(f.properties.code));
        },
      }).addTo(map.current);
      statesLayer.current.bringToBack();
    });
    return () => {
      cancelled = true;
    };
  }, [stateStatus, onStateClick, stateFillOpacity]);

  useEffect(() => {
    const m = map.current;
    if (!m) return undefined;
    const refade = () => statesLayer.current?.setStyle(statesLayer.current.options.style);
    m.on("zoomend", refade);
    return () => m.off("zoomend", refade);
  }, [mapReady]);

  // Route / track layers; fit the view to them.
  useEffect(() => {
    if (!overlay.current) return;
    overlay.current.clearLayers();
    let bounds = null;
    for (const layer of layers || []) {
      if (!layer?.geojson) continue;
      const drawn = L.geoJSON(layer.geojson, {
        style: (f) => ({
          color: (layer.property && f.properties?.[layer.property]) || layer.color || "#38bdf8",
          weight: layer.weight ?? 5,
          opacity: 0.95,
        }),
        pointToLayer: (f, latlng) =>
          L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: f.properties?.color || "#38bdf8", fillOpacity: 1 }),
        onEachFeature: (f, l) => f.properties?.label && l.bindTooltip(f.properties.label),
      }).addTo(overlay.current);
      const b = drawn.getBounds();
      if (b.isValid()) bounds = bounds ? bounds.extend(b) : b;
    }
    const refit = fitKey === null || fitKey !== fittedKey.current;
    if (bounds && refit) {
      map.current.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
      fittedKey.current = fitKey;
    }
  }, [layers, fitKey]);

  // Offline along the route: store the basemap tiles of a corridor around the layers' lines.
  useEffect(() => {
    if (!prefetchRoute || basemap.kind !== "vector") return;
    const lines = linesOf(layers);
    if (!lines.length) return;
    offline.start(corridorTiles(lines, { zooms: dataZooms(CORRIDOR_ZOOMS, basemap.info) }), "this route");
  }, [layers, prefetchRoute, basemap]); // eslint-disable-line react-hooks/exhaustive-deps

  // Follow a moving position (the Drive screen's truck).
  const followDot = useRef(null);
  useEffect(() => {
    const m = map.current;
    if (!m || !Number.isFinite(follow?.lat) || !Number.isFinite(follow?.lon)) return;
    const at = [follow.lat, follow.lon];
    if (!followDot.current) {
      followDot.current = L.circleMarker(at, { radius: 8, color: "#fff", weight: 3, fillColor: "#f5a623", fillOpacity: 1 }).addTo(m);
      m.setView(at, 16, { animate: false });
    } else {
      followDot.current.setLatLng(at);
      m.panTo(at, { animate: false });
    }
  }, [follow?.lat, follow?.lon, mapReady]); // eslint-disable-line react-hooks/exhaustive-deps

  const downloadArea = () => {
    const m = map.current;
    if (!m) return;
    const b = m.getBounds();
    const zooms = dataZooms([Math.floor(m.getZoom()), CORRIDOR_ZOOMS[1]], basemap.info);
    const keys = areaTiles({ south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast() }, zooms);
    if (keys.length > MAX_AREA_TILES) {
      offline.setStatus(`Offline map: this view needs ${keys.length} tiles (more than ${MAX_AREA_TILES}); zoom in and try again.`);
      return;
    }
    offline.start(keys, "this area");
  };

  return (
    <div className="kd-map-wrap" data-basemap={basemap.kind} data-theme={theme} data-cap={cap.capMph ?? ""}>
      <div id={mapId} ref={holder} style={{ height, width: "100%", borderRadius: "10px" }} />
      {tilesDown && <div className="kd-note">Map tiles unavailable (offline?): showing state lines only.</div>}
      {basemap.kind === "vector" && (
        <div className="kd-map-tools">
          {offlineButton && (
            <button type="button" id={`${mapId}-download`} className="kd-map-button" onClick={downloadArea}>
              Download this area
            </button>
          )}
          <button type="button" id={`${mapId}-theme`} className="kd-map-button" onClick={toggleTheme}>
            {theme === "day" ? "Night map" : "Day map"}
          </button>
        </div>
      )}
      {offline.status && (
        <div id={`${mapId}-offline`} className="kd-note kd-map-offline" role="status">
          {offline.status}
        </div>
      )}
    </div>
  );
}
