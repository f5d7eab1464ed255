// The legend of the Kei basemap style: each road kind drawn as a short line with the very
// colours and patterns of the map (both from basemap_style.js).
import { useEffect, useState } from "react";
import { LEGEND, THEME_KEY, THEMES, resolveTheme } from "./basemap_palette.js";

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

/** Props: mapTheme "day" | "night" | "auto"; capMph shown in the "above the cap" line. */
export function KeiMapLegend({ mapTheme = "auto", capMph = null }) {
  const [, redraw] = useState(0);
  useEffect(() => {
    const follow = () => redraw((n) => n + 1); // the map's day/night button was pressed
    window.addEventListener(THEME_KEY, follow);
    return () => window.removeEventListener(THEME_KEY, follow);
  }, []);
  const theme = resolveTheme(mapTheme);
  const colors = THEMES[theme];
  return (
    <ul className="kd-map-legend" id="kei-map-legend" data-theme={theme}>
      {LEGEND.map((entry) => (
        <li key={entry.kind} data-kind={entry.kind}>
          <span className="kd-map-legend-swatch" style={{ background: colors.background }}>
            <Swatch entry={entry} colors={colors} />
          </span>
          <span>
            {entry.kind === "over_cap" && capMph ? `${entry.label} (${capMph} mph)` : entry.label}
          </span>
        </li>
      ))}
    </ul>
  );
}
