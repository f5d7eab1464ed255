// A Leaflet map of GeoJSON layers over the bundled state boundaries. The state
// outlines come from the app itself, so the map is useful offline; OpenStreetMap
// raster tiles are drawn underneath when they can be reached.
import { useEffect, useRef, useState } from "react";
import L from "leaflet";
import "leaflet/dist/leaflet.css";

const OSM_ATTRIBUTION = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)';
const STATES_ATTRIBUTION = "State lines: US Census TIGER/Line 2024";
const STATUS_FILL = { legal: "#22c55e", restricted: "#f5a623", banned: "#ef4444", unclear: "#71717a" };

let statesPromise = null;
function loadStates() {
  statesPromise ??= fetch("/data/us_states_light.geojson").then((r) => (r.ok ? r.json() : null)).catch(() => null);
  return statesPromise;
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
 *  tileUrl: raster tiles template ("" for none); height: CSS height
 */
export function KeiMap({
  layers = [],
  stateStatus = null,
  onStateClick = null,
  fitBounds = null,
  fitKey = null,
  stateFillOpacity = 0.55,
  tileUrl = "",
  height = "420px",
  mapId = "kei-map",
}) {
  const holder = useRef(null);
  const map = useRef(null);
  const overlay = useRef(null);
  const statesLayer = useRef(null);
  const fittedKey = useRef(undefined);
  const [tilesDown, setTilesDown] = useState(false);

  useEffect(() => {
    const m = L.map(holder.current, { zoomControl: true, attributionControl: true }).setView([39.5, -98.35], 4);
    map.current = m;
    m.attributionControl.addAttribution(STATES_ATTRIBUTION);
    if (tileUrl) {
      const tiles = L.tileLayer(tileUrl, { maxZoom: 19, attribution: OSM_ATTRIBUTION });
      let failures = 0;
      tiles.on("tileerror", () => {
        failures += 1;
        if (failures >= 3) setTilesDown(true);
      });
      tiles.on("tileload", () => setTilesDown(false));
      tiles.addTo(m);
    }
    overlay.current = L.layerGroup().addTo(m);
    return () => m.remove();
  }, [tileUrl]);

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
            fillOpacity: status ? stateFillOpacity : 0.02,
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

  return (
    <div className="kd-map-wrap">
      <div id={mapId} ref={holder} style={{ height, width: "100%", borderRadius: "10px" }} />
      {tilesDown && <div className="kd-note">Map tiles unavailable (offline?): showing state lines only.</div>}
    </div>
  );
}
