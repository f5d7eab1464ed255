// Start / stop a trip: "Stop trip" asks first, then shows the trip's summary with a
// link to it. Start is disabled, with the reason, while there is no GPS.
import { useState } from "react";
import { Link } from "react-router";

import { METERS_PER_MILE, MPS_PER_MPH } from "./speed.js";

export function formatElapsed(ms) {
  if (!ms || ms < 0) return "0:00";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function TripSummary({ summary, onClose }) {
  const miles = (summary.distanceM ?? 0) / METERS_PER_MILE;
  const maxMph = (summary.maxMps ?? 0) / MPS_PER_MPH;
  return (
    <section id="trip-summary" className="kd-summary" data-trip-id={summary.tripId ?? ""}>
      <h2 className="kd-first-title">Trip saved{summary.name ? `: ${summary.name}` : ""}</h2>
      <dl className="kd-summary-grid">
        <div>
          <dt>Distance</dt>
          <dd id="summary-distance">
            {miles.toFixed(1)} mi · {((summary.distanceM ?? 0) / 1000).toFixed(1)} km
          </dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd id="summary-time">{formatElapsed((summary.elapsedS ?? 0) * 1000)}</dd>
        </div>
        <div>
          <dt>Top speed</dt>
          <dd id="summary-max">
            {Math.round(maxMph)} mph · {Math.round(maxMph * 1.609344)} km/h
          </dd>
        </div>
      </dl>
      <div className="kd-row">
        {summary.tripId ? (
          <Link id="trip-summary-link" className="kd-btn kd-link-btn" to={`/trips/${summary.tripId}`}>
            Open the trip
          </Link>
        ) : (
          <span className="kd-status">Sent to your trips when the phone is back online.</span>
        )}
        <button id="trip-summary-close" className="kd-btn" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}

/** recorder: useTripRecorder(); noGpsReason: why a trip cannot start now, or null. */
export function TripControls({ recorder, noGpsReason, onStart }) {
  const [confirming, setConfirming] = useState(false);
  if (recorder.active && confirming) {
    return (
      <div id="stop-confirm" className="kd-confirm" role="alertdialog" aria-label="Stop the trip?">
        <span className="kd-status">Stop recording this trip?</span>
        <button
          id="trip-stop-confirm"
          className="kd-btn kd-btn-stop"
          onClick={() => {
            setConfirming(false);
            recorder.stop();
          }}
        >
          Stop trip
        </button>
        <button id="trip-stop-cancel" className="kd-btn" onClick={() => setConfirming(false)}>
          Keep recording
        </button>
      </div>
    );
  }
  if (recorder.active) {
    return (
      <button id="trip-stop" className="kd-btn kd-btn-stop" onClick={() => setConfirming(true)}>
        Stop trip
      </button>
    );
  }
  return (
    <>
      {recorder.summary && <TripSummary summary={recorder.summary} onClose={recorder.dismissSummary} />}
      <button id="trip-start" className="kd-btn kd-btn-start" disabled={Boolean(noGpsReason)} onClick={onStart}>
        Start trip
      </button>
      {/* The reason's place is kept when it goes (the first fix): the rows below stay put. */}
      <span className="kd-trip-reason">
        {noGpsReason && (
          <span id="trip-start-reason" className="kd-status">
            {noGpsReason}
          </span>
        )}
      </span>
    </>
  );
}
