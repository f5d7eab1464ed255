// Dates in a trip's time zone or the viewer's own (the browser knows them; the server stores
// UTC and has no time-zone data), and a timer that asks the server for fresh data.
import { useEffect, useRef } from "react";

const DATE_TIME = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
};

function parse(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

// The format in `zone` (an IANA name: a trip's, where it was driven), else in the viewer's
// zone (no zone, or one this browser does not know).
function dateTimeFormat(zone) {
  if (zone) {
    try {
      return new Intl.DateTimeFormat(undefined, { ...DATE_TIME, timeZone: zone });
    } catch {
      // RangeError: an unknown zone
    }
  }
  return new Intl.DateTimeFormat(undefined, DATE_TIME);
}

/**
 * value: ISO 8601 UTC start ("2024-05-04T14:00:00Z"); end: optional ISO end (shown as a
 * range, "Sat, May 4, 2024, 8:00 – 8:09 AM MDT"); zone: optional IANA zone to show them in
 * (a trip's), else the viewer's; fallback: text when value is empty/bad; title: tooltip
 * (e.g. the UTC time). Renders <time datetime=... data-utc=... data-zone=...>.
 */
export function LocalTime({ value = "", end = "", zone = "", fallback = "Undated", title = "", className = "", id }) {
  const start = parse(value);
  if (!start) return <span className={className} id={id}>{fallback}</span>;
  const fmt = dateTimeFormat(zone);
  const stop = parse(end);
  let text = fmt.format(start);
  if (stop && stop > start && typeof fmt.formatRange === "function") text = fmt.formatRange(start, stop);
  return (
    <time
      dateTime={value}
      data-utc={value}
      data-utc-end={end || undefined}
      data-zone={zone || undefined}
      title={title || undefined}
      className={className}
      id={id}
    >
      {text}
    </time>
  );
}

/** Calls onTick every `interval` ms while the page is visible, and once when it becomes
 * visible again. Unmounting it (leaving the page, rx.cond turning false) stops it. */
export function Ticker({ interval = 10000, onTick = null }) {
  const callback = useRef(onTick);
  callback.current = onTick;
  useEffect(() => {
    const tick = () => {
      if (!document.hidden) callback.current?.();
    };
    const timer = setInterval(tick, Math.max(1000, interval));
    const onVisible = () => !document.hidden && tick();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [interval]);
  return null;
}
