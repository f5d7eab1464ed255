// Guidance on the Drive screen: the next maneuver and its countdown, the one after, what is
// left, the warning ahead, "off route" (with a new Kei route when the server answers), voice
// prompts and a small map following the truck. Loaded lazily by drive.jsx only in guidance
// mode; everything runs from the stored route, so it needs no network once started.
import { Suspense, lazy, useEffect, useMemo, useRef, useState } from "react";
import { timeoutSignal } from "./net.js";

import "./guidance.css";
import {
  ArrivalLatch,
  OffRouteMonitor,
  VoicePrompter,
  formatDistance,
  formatDuration,
  headBack,
  HEADING_MIN_MPS,
  heldAlong,
  instructionAhead,
  prepareRoute,
  progress,
  snapToRoute,
  travelHeading,
  warningLine,
} from "./guidance.js";
import { clearGuidance, saveGuidance, useStoredGuidance } from "./guidance_store.js";
import { speak } from "./sound.js";

// Leaflet is big: the map comes after the speed readout and the guidance text.
const KeiMap = lazy(() => import("./map.jsx").then((m) => ({ default: m.KeiMap })));

const ROUTE_API = "/api/v1/route";
const REROUTE_RETRY_MS = 30_000;
const REROUTE_TIMEOUT_MS = 15_000;

// Valhalla maneuver types -> an arrow a driver reads at a glance.
const ARROWS = {
  1: "↑", 2: "↱", 3: "↰", 4: "◉", 5: "◉", 6: "◉", 7: "↑", 8: "↑", 9: "↗", 10: "↱", 11: "↘",
  12: "↷", 13: "↶", 14: "↙", 15: "↰", 16: "↖", 17: "↑", 18: "↗", 19: "↖", 20: "↗", 21: "↖",
  22: "↑", 23: "↗", 24: "↖", 25: "↑", 26: "⟳", 27: "⟳", 37: "↗", 38: "↖",
};

const ahead = instructionAhead;

/** Ask the server for a new Kei route from here, the way the truck is going (same request
 * and options; without the heading it started behind the truck, a turn-round never said).
 * On a GPX route, how far along it the truck was picks the pass of a track that passes the
 * same place twice (out and back). */
async function reroute(request, fix, heading, alongM) {
  const here = { ...request, from: [fix.lat, fix.lon] };
  if (request.track && Number.isFinite(alongM)) here.along_m = Math.round(alongM);
  const response = await fetch(ROUTE_API, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(heading === null ? here : { ...here, heading: Math.round(heading) % 360 }),
    // a weak signal can hold a request open for minutes: the head-back line shows meanwhile
    signal: timeoutSignal(REROUTE_TIMEOUT_MS),
  });
  const type = response.headers.get("content-type") || "";
  if (!response.ok || !type.includes("json")) throw new Error(`route ${response.status}`);
  const answer = await response.json();
  // a route with no line would replace the one being followed by nothing to follow
  if (!(answer?.route?.geometry?.length >= 2)) throw new Error("no route line in the answer");
  return answer;
}

function usePreparedRoute() {
  const guidance = useStoredGuidance();
  const prepared = useMemo(() => {
    try {
      return guidance ? prepareRoute(guidance) : null;
    } catch {
      return null; // a stored route with no line: the panel says there is nothing to follow
    }
  }, [guidance]);
  return [guidance, prepared];
}

/** The route on a small map that follows the truck (drive.jsx places it below the speed). */
export function GuidanceMap({ fix }) {
  const [guidance, prepared] = usePreparedRoute();
  const layers = useMemo(
    () =>
      prepared
        ? [
            {
              id: "guidance-route",
              color: "#38bdf8",
              weight: 6,
              geojson: { type: "LineString", coordinates: prepared.points.map(([lat, lon]) => [lon, lat]) },
            },
          ]
        : [],
    [prepared],
  );
  if (!prepared) return null;
  const follow = fix ? { lat: fix.lat, lon: fix.lon } : null;
  return (
    <div id="guide-map-wrap" className="kd-guide-map">
      <Suspense fallback={<div className="kd-guide-map-placeholder" />}>
        <KeiMap layers={layers} fitKey={String(guidance.saved_at)} follow={follow} height="160px" mapId="guide-map" />
      </Suspense>
    </div>
  );
}

/** voice / onVoice: the Drive screen's voice setting (shared with its spoken alerts). */
export default function GuidancePanel({ fix, speedMps, voice = true, onVoice = null }) {
  const [guidance, prepared] = usePreparedRoute();
  const voiceOn = Boolean(voice);
  const [state, setState] = useState(null); // {snap, p} of the latest fix
  const [off, setOff] = useState(null); // null | {status: "rerouting" | "head-back", back}
  const monitor = useRef(new OffRouteMonitor());
  const prompter = useRef(new VoicePrompter());
  const alongHint = useRef(null);
  const alongBefore = useRef(null); // the distance along one fix before the hint
  const arrival = useRef(new ArrivalLatch()); // holds until guidance ends or a new route comes
  const lastReroute = useRef(0);
  const recent = useRef([]); // the latest fixes: the truck's heading for a re-route
  const voiceRef = useRef(voiceOn);
  voiceRef.current = voiceOn;
  const say = (phrases) => voiceRef.current && phrases.forEach(speak);

  // A new route starts over: nothing said yet, nowhere along it yet.
  useEffect(() => {
    monitor.current.reset();
    prompter.current.reset();
    alongHint.current = null;
    alongBefore.current = null;
    arrival.current.reset();
    setState(null);
    setOff(null);
  }, [prepared]);

  useEffect(() => {
    if (!prepared || !fix) return;
    recent.current = [...recent.current.slice(-9), fix];
    const heading = travelHeading(recent.current);
    const way = (speedMps ?? 0) >= HEADING_MIN_MPS ? heading : null; // rough when slow
    const snapped = snapToRoute(prepared, fix.lat, fix.lon, alongHint.current, way);
    const held = heldAlong(prepared, snapped.alongM, alongHint.current, alongBefore.current);
    const snap = { ...snapped, alongM: held };
    const p = progress(prepared, snap, fix);
    if (arrival.current.update(snap.alongM, p.arrived, prepared.lengthM)) {
      // Driving on into a lot or past the end is not "off route": no new route after arrival
      const there = { ...p, arrived: true };
      setState({ snap, p: there });
      setOff(null);
      say(prompter.current.update(there, speedMps));
      return;
    }
    const decision = monitor.current.update({
      offsetM: snap.offsetM,
      accuracy: fix.accuracy,
      timestamp: fix.timestamp,
      lat: fix.lat,
      lon: fix.lon,
    });
    if (!decision.offRoute) [alongBefore.current, alongHint.current] = [alongHint.current, snap.alongM];
    setState({ snap, p });
    if (decision.offRoute) {
      const back = headBack(prepared, snap, fix);
      if (decision.changed) say(["Off route."]);
      const due = Date.now() - lastReroute.current > REROUTE_RETRY_MS;
      if (guidance.request && navigator.onLine !== false && due) {
        lastReroute.current = Date.now();
        setOff({ status: "rerouting", back });
        reroute(guidance.request, fix, heading, alongHint.current)
          .then((answer) => {
            say(["New route."]);
            saveGuidance(answer); // the stored guidance changes: a fresh start along it
          })
          .catch(() => setOff((o) => (o ? { status: "head-back", back: o.back } : o)));
      } else {
        setOff((o) => ({ status: o?.status === "rerouting" ? "rerouting" : "head-back", back }));
      }
      return;
    }
    if (decision.changed) setOff(null);
    say(prompter.current.update(p, speedMps));
  }, [fix?.timestamp, prepared]); // eslint-disable-line react-hooks/exhaustive-deps

  const end = () => {
    window.speechSynthesis?.cancel?.();
    const url = new URL(window.location.href);
    url.searchParams.delete("guide");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    clearGuidance(); // after the URL: guidance mode is "stored route or ?guide=1"
  };

  if (!prepared) {
    return (
      <section id="guidance" className="kd-guide-panel" data-state="none">
        <div className="kd-guide-text">No route to follow: plan one on the Plan page and tap “Drive this route”.</div>
        <button id="guide-end" type="button" className="kd-btn kd-guide-end" onClick={end}>
          Close
        </button>
      </section>
    );
  }

  const p = state?.p ?? progress(prepared, { alongM: 0, offsetM: 0 });
  const next = p.next;
  const arrived = p.arrived;
  const offText =
    off?.status === "rerouting"
      ? "Off route — finding a new Kei route…"
      : off
        ? `Off route — head back to ${off.back.street}, ${formatDistance(off.back.distanceM)} ${off.back.direction}`
        : null;
  const warning = warningLine(p);
  return (
    <section id="guidance" className="kd-guide-panel" data-state={arrived ? "arrived" : off ? "off-route" : "on-route"}>
      {/* Fixed-height rows (guidance.css): "off route" is laid over the next maneuver and a
          warning ahead over the lines under it, so nothing that comes and goes changes the
          panel's height, and the speed readout under it never moves. */}
      <div className="kd-guide-main">
        <div className="kd-guide-next">
          <span className="kd-guide-arrow" aria-hidden="true" data-type={arrived ? 4 : next?.type ?? ""}>
            {arrived ? ARROWS[4] : ARROWS[next?.type] ?? "↑"}
          </span>
          <div className="kd-guide-next-text">
            <div id="next-distance" className="kd-guide-distance">
              {arrived || !next ? "" : formatDistance(p.nextDistanceM)}
            </div>
            <div id="next-maneuver" className="kd-guide-instruction" data-index={arrived ? "arrived" : next?.index ?? ""}>
              {arrived ? "You have arrived" : ahead(next)}
            </div>
          </div>
        </div>
        {offText && (
          <div id="off-route" className="kd-guide-off" role="alert" data-status={off.status} title={offText}>
            {offText}
          </div>
        )}
      </div>
      <div className="kd-guide-lines">
        <div className="kd-guide-then-slot">
          {!arrived && p.after && (
            <div id="then-maneuver" className="kd-guide-then" title={`Then ${ahead(p.after)}`}>
              Then {ARROWS[p.after.type] ?? ""} {ahead(p.after)}
            </div>
          )}
        </div>
        <div id="remaining" className="kd-guide-remaining">
          {arrived
            ? "Destination reached"
            : `${formatDistance(p.remainingM)}${p.remainingS !== null ? ` · ${formatDuration(p.remainingS)}` : ""} to go`}
        </div>
        {warning && !arrived && (
          <div id="warning-ahead" className="kd-guide-warning" data-kind={warning.announcement.kind}
            title={warning.text}>
            {warning.text}
          </div>
        )}
      </div>
      <div className="kd-guide-controls">
        <button id="guide-voice" type="button" className="kd-btn" aria-pressed={voiceOn} onClick={() => {
            if (voiceOn) window.speechSynthesis?.cancel?.();
            onVoice?.();
          }}>
          {voiceOn ? "Voice on" : "Voice off"}
        </button>
        <button id="guide-end" type="button" className="kd-btn kd-guide-end" onClick={end}>
          End guidance
        </button>
      </div>
    </section>
  );
}
