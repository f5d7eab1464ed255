// The nav's "● Recording" mark, on every page while a trip is being recorded. Loading
// it loads the app-wide recorder (recorder.js), so a full page load on any page of the
// app picks the trip up again.
import { Link } from "react-router";

import { useTripRecorder } from "./recorder.js";

export function RecordingIndicator() {
  const recorder = useTripRecorder();
  if (!recorder.active) return null;
  const paused = recorder.state === "paused";
  return (
    <Link
      id="recording-indicator"
      to="/"
      className={`kd-rec${paused ? " kd-rec-paused" : ""}`}
      data-state={recorder.state}
      data-pending={recorder.pending}
      title="A trip is being recorded: open the Drive screen to stop it"
    >
      <span className="kd-rec-dot" aria-hidden="true" />
      {paused ? "Paused" : "Rec"}
    </Link>
  );
}
