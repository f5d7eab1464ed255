// The legend of the Kei basemap style: each road kind drawn as a short line with the very
// colours and patterns of the map (both from basemap_style.js).
import { useEffect, useState } from "react";
import { CAP_EVENT, LEGEND, THEME_KEY, THEMES, resolveTheme } from "./basemap_palette.js";
import { loadBasemapInfo } from "./basemap.js";

function Swatch({ entry, colors }) {
  return (
    <svg width="56" height="16" viewBox="0 0 56 16" aria-hidden="true">
      <line x1="4" y1="8" x2="52" y2="8" stroke={colors[entry.casing]} strokeWidth="12" strokeLinecap="round" />
      <line x1="4" y1="8" x2="52" y2="8" stroke={colors[entry.fill]} strokeWidth="8" strokeLinecap="round" />
      {entry.pattern && (
        <line x1="4" y1="8" x2="52" y2="8" stroke={colors[entry.pattern]} strokeWidth="4" strokeDasharray={entry.dash} />
      )}
    </svg>
  );
}

function capText(cap) {
  if (!cap) return "";
  if (cap.capMph != null) return ` (over ${cap.capMph} mph${cap.state ? ` in ${cap.state}` : ""})`;
  return cap.state ? ` (${cap.state} sets no Kei speed cap)` : "";
}

/**
 * Props: mapTheme "day" | "night" | "auto". Follows the map's day/night button and its cap;
 * shows nothing when no offline basemap is installed (the maps then draw raster tiles).
 */
export function KeiMapLegend({ mapTheme = "auto" }) {
  const [, redraw] = useState(0);
  const [cap, setCap] = useState(null);
  const [installed, setInstalled] = useState(false);
  useEffect(() => {
    let cancelled = false;
    loadBasemapInfo().then((info) => !cancelled && setInstalled(Boolean(info)));
    return () => {
      cancelled = true;
    };
  }, []);
  useEffect(() => {
    const follow = () => redraw((n) => n + 1); // the map's day/night button was pressed
    const capChanged = (event) => setCap(event.detail);
    window.addEventListener(THEME_KEY, follow);
    window.addEventListener(CAP_EVENT, capChanged);
    return () => {
      window.removeEventListener(THEME_KEY, follow);
      window.removeEventListener(CAP_EVENT, capChanged);
    };
  }, []);
  const theme = resolveTheme(mapTheme);
  const colors = THEMES[theme];
  if (!installed) return null;
  return (
    <ul className="kd-map-legend" id="kei-map-legend" data-theme={theme}>
      {LEGEND.map((entry) => (
        <li key={entry.kind} data-kind={entry.kind}>
          <span className="kd-map-legend-swatch" style={{ background: colors.background }}>
            <Swatch entry={entry} colors={colors} />
          </span>
          <span>
            {entry.kind === "over_cap" ? entry.label + capText(cap) : entry.label}
          </span>
        </li>
      ))}
    </ul>
  );
}
