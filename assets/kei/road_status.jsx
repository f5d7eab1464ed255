// The road the truck is on (issue #13 point 4): #road-now, #posted-limit and #road-alert.
// The answers come from the recorder's batches (road.js); a missing or stale answer is
// "road unknown", never a guess.
import { useEffect, useRef, useState } from "react";

import { currentRoad, latestRoad, roadAlert, roadText, subscribeRoad } from "./road.js";
import { speak, vibrate } from "./sound.js";
import { MPS_PER_MPH } from "./speed.js";

// Styles: kei.css (loaded with the page, so nothing is restyled when this code arrives).

function useRoad() {
  const [entry, setEntry] = useState(latestRoad);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const stop = subscribeRoad((next) => {
      setEntry(next);
      setNow(Date.now());
    });
    const timer = setInterval(() => setNow(Date.now()), 1000); // an answer goes stale
    return () => {
      stop();
      clearInterval(timer);
    };
  }, []);
  return currentRoad(entry, now);
}

// The banner, with a voice line and a vibration each time a new alert starts.
export function RoadAlert({ sound = true }) {
  const road = useRoad();
  const alert = roadAlert(road);
  const key = alert ? `${alert.kind}:${road.name}` : null;
  const said = useRef(null);
  useEffect(() => {
    if (key && key !== said.current) {
      if (sound) speak(alert.speech);
      vibrate();
    }
    said.current = key;
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!alert) return null;
  return (
    <div id="road-alert" className={`kd-road-alert kd-road-alert-${alert.kind}`} role="alert" data-kind={alert.kind}>
      {alert.text}
    </div>
  );
}

// A US speed-limit sign with the posted limit. Its room is kept while the road or its limit
// is unknown (invisible, not removed: the digits beside it never move when it comes).
// Over the posted limit (the speed shown, rounded, above it): an amber ring that pulses and
// an "OVER" plate under the sign, and the label says so; not the Kei cap's red band.
export function PostedLimit({ speedMps = null }) {
  const road = useRoad();
  const limit = road.status === "matched" ? road.posted_limit_mph ?? null : null;
  const mph = speedMps === null || speedMps === undefined ? null : Math.round(speedMps / MPS_PER_MPH);
  const over = limit !== null && mph !== null && mph > limit;
  let label = "Speed limit unknown";
  if (limit !== null) label = over ? `Speed limit ${limit} mph: you are over the posted limit` : `Speed limit ${limit} mph`;
  return (
    <div
      id="posted-limit"
      className={`kd-limit-sign${limit === null ? " kd-limit-none" : ""}${over ? " kd-limit-over" : ""}`}
      aria-hidden={limit === null ? "true" : undefined}
      role="img"
      data-limit={limit ?? ""}
      data-over={over ? "true" : "false"}
      aria-label={label}
      title={limit === null ? undefined : label}
    >
      <span className="kd-limit-words">SPEED LIMIT</span>
      <span className="kd-limit-number">{limit ?? ""}</span>
      {over && <span className="kd-limit-plate">OVER</span>}
    </div>
  );
}

// The road's name and class, or "road unknown" (the reason in data-reason and the title).
export function RoadNow() {
  const road = useRoad();
  const matched = road.status === "matched";
  return (
    <div
      id="road-now"
      className={`kd-road-now${matched ? "" : " kd-road-unknown"}`}
      data-status={road.status}
      data-reason={matched ? "" : road.reason ?? ""}
      data-class={matched ? road.class : ""}
      title={matched ? "" : road.detail ?? ""}
    >
      {roadText(road)}
    </div>
  );
}
