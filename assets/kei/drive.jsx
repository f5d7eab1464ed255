// The Drive screen: live speed in mph and km/h from the phone's GPS, computed
// here in the browser so that it keeps working when the server is out of reach.
import { Suspense, lazy, useCallback, useEffect, useRef, useState } from "react";

import { SpeedAlert, SpeedEstimator, formatSpeed, MPS_PER_MPH, METERS_PER_MILE } from "./speed.js";
import { useWakeLock } from "./wakelock.js";
import { badgeText, visitorText } from "./geo.js";
import { useStateRule } from "./states.js";
import { tripSoFar, useTripRecorder } from "./recorder.js";
import { gpsUnsupported, locationPermission, requestLocation, subscribe } from "./position.js";
import { BEEP_INTERVALS_S, DEFAULT_BEEP_EVERY_S, useOverCapAlert } from "./alerts.js";
import { FirstRunCard } from "./first_run.jsx";
import { TripControls, formatElapsed } from "./trip_controls.jsx";
import { PostedLimit, RoadAlert, RoadNow } from "./road_status.jsx";
import { useGuidanceMode } from "./guidance_store.js";

// Route guidance (issue #13) loads after the speed readout, and only in guidance mode.
const GuidancePanel = lazy(() => import("./guidance_panel.jsx"));
const GuidanceMap = lazy(() => import("./guidance_panel.jsx").then((m) => ({ default: m.GuidanceMap })));

const SETTINGS_KEY = "kei-drive.settings";
// capMph mirrors DEFAULT_TOP_SPEED_MPH in kei_drive/core/vehicles.py (the one home of "45").
const DEFAULT_SETTINGS = {
  bigUnit: "mph",
  capMph: 45,
  sound: true,
  voice: true,
  beepEverySec: DEFAULT_BEEP_EVERY_S, // while above the cap
  mirror: false, // HUD: only the digits, the unit and the alert band, mirrored
  vehicleId: null,
};
const VEHICLES_KEY = "kei-drive.vehicles";

// The garage, kept on the phone so the picker works offline.
function savedVehicles() {
  try {
    const list = JSON.parse(localStorage.getItem(VEHICLES_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function useVehicles() {
  // The saved garage in the first render already: the picker does not pop in after it.
  const [vehicles, setVehicles] = useState(savedVehicles);
  useEffect(() => {
    fetch("/api/v1/vehicles")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((list) => {
        localStorage.setItem(VEHICLES_KEY, JSON.stringify(list));
        setVehicles(list);
      })
      .catch(() => {});
  }, []);
  return vehicles;
}

function loadSettings() {
  try {
    return { ...DEFAULT_SETTINGS, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

const STATUS_TEXT = {
  ask: "Location off",
  waiting: "Waiting for GPS…",
  ok: "GPS",
  weak: "GPS weak",
  lost: "GPS lost",
  denied: "Location blocked",
  unavailable: "No GPS",
  insecure: "Not a secure page",
};

// Why "Start trip" is disabled, in the driver's words (null: it is enabled). Not for "GPS
// lost" after a first fix (a tunnel, a garage): the trip records again when fixes return.
const NO_GPS_REASON = {
  ask: "Allow location first to record a trip.",
  waiting: "Waiting for the first GPS fix…",
  denied: "Location is blocked: allow it to record a trip.",
  unavailable: "This phone gives no GPS position right now.",
  insecure: "The phone shares its location only with a secure (https://) page.",
};

const NOTES = {
  insecure:
    "This page was opened without a secure (https://) address, so the phone will not share its " +
    "location. Open the https:// address of your Kei Drive instead.",
  unavailable: "The phone gives no position right now. Check that location is on in the phone's settings.",
};

// iOS has no install prompt: tell Safari users how to add the app to the Home Screen.
function InstallHint() {
  const [show, setShow] = useState(false);
  useEffect(() => {
    const ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
    const standalone = navigator.standalone || window.matchMedia("(display-mode: standalone)").matches;
    setShow(ios && !standalone && !localStorage.getItem("kei-drive.hint-dismissed"));
  }, []);
  if (!show) return null;
  return (
    <div id="ios-install-hint" className="kd-hint">
      Install Kei Drive: tap Share, then “Add to Home Screen”.{" "}
      <button
        className="kd-btn"
        onClick={() => {
          localStorage.setItem("kei-drive.hint-dismissed", "1");
          setShow(false);
        }}
      >
        OK
      </button>
    </div>
  );
}

// The permission last seen: the page's first-paint shell asks the browser for it before the
// app's code arrives (kei_drive/components/drive_shell.py), so the first render knows it.
let knownPermission = typeof window === "undefined" ? null : window.__keiLocationPermission ?? null;

// Location permission: "granted" starts the GPS at once; "prompt" and "denied" show the
// first-run card (the browser's prompt comes only after the driver's tap).
function useLocationAccess() {
  const [permission, setKnown] = useState(() => gpsUnsupported() ?? knownPermission); // null: not known yet
  const setPermission = useCallback((value) => {
    if (value !== "insecure" && value !== "unavailable") knownPermission = value;
    setKnown(value);
  }, []);
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    let status = null;
    const unsupported = gpsUnsupported();
    if (unsupported) {
      setPermission(unsupported);
      return undefined;
    }
    locationPermission().then(setPermission);
    // Allowed in the browser's settings meanwhile: go on without another tap.
    navigator.permissions
      ?.query({ name: "geolocation" })
      .then((s) => {
        status = s;
        s.onchange = () => setPermission(s.state);
      })
      .catch(() => {});
    return () => {
      if (status) status.onchange = null;
    };
  }, []);
  const ask = useCallback(() => {
    setAsking(true);
    requestLocation().then((answer) => {
      setAsking(false);
      setPermission(answer === "denied" ? "denied" : "granted");
    });
  }, []);
  // Whether the first-run card shows. While the answer is not known yet, as the shell shows
  // it: on a phone that never gave a position (no card coming and going: no layout shift).
  const located = typeof document !== "undefined" && document.documentElement.dataset.keiLocation === "ok";
  const card = permission === null ? (located ? null : "prompt") : permission === "granted" ? null : permission;
  return { permission, ask, asking, card };
}

/** The page the service worker sent here because it was not kept offline ("/?offline=/garage"),
 * as the nav names it, until the browser says it is online again; read after hydration (the
 * prerendered page has no address), then taken out of the address (a reload online, or a
 * bookmark of it, must not say it again). */
function useOfflinePage() {
  const [page, setPage] = useState(null);
  useEffect(() => {
    const url = new URL(window.location.href);
    const path = url.searchParams.get("offline");
    if (!path) return undefined;
    url.searchParams.delete("offline");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    const name = path.replace(/^\/+/, "").split("/")[0];
    setPage(name ? name.charAt(0).toUpperCase() + name.slice(1) : "That page");
    const back = () => setPage(null);
    window.addEventListener("online", back);
    return () => window.removeEventListener("online", back);
  }, []);
  return page;
}

function DriveSettings({ settings, update }) {
  return (
    <details id="drive-settings" className="kd-settings">
      <summary className="kd-btn kd-settings-summary">Alert settings</summary>
      <div className="kd-controls">
        <button id="sound-toggle" className="kd-btn" aria-pressed={settings.sound} onClick={() => update({ sound: !settings.sound })}>
          {settings.sound ? "Beep on" : "Beep off"}
        </button>
        <label className="kd-status kd-inline">
          Beep every{" "}
          <select
            id="beep-interval"
            className="kd-btn"
            value={settings.beepEverySec}
            onChange={(e) => update({ beepEverySec: Number(e.target.value) })}
          >
            {BEEP_INTERVALS_S.map((s) => (
              <option key={s} value={s}>
                {s} s
              </option>
            ))}
          </select>
        </label>
        <button id="voice-toggle" className="kd-btn" aria-pressed={settings.voice} onClick={() => update({ voice: !settings.voice })}>
          {settings.voice ? "Voice on" : "Voice off"}
        </button>
      </div>
    </details>
  );
}

export function DriveScreen() {
  const [settings, setSettings] = useState(loadSettings); // saved ones in the first render
  const estimator = useRef(new SpeedEstimator());
  const alert = useRef(new SpeedAlert());
  const [snap, setSnap] = useState({ status: "waiting", speedMps: null, accuracyM: null, odometerM: 0 });
  const [error, setError] = useState(null);
  const [position, setPosition] = useState(null);
  const [lastFix, setLastFix] = useState(null);
  const guiding = useGuidanceMode();
  const [driveStart, setDriveStart] = useState(null);
  const [now, setNow] = useState(Date.now());
  const offlinePage = useOfflinePage();
  const wake = useWakeLock(true);
  const vehicles = useVehicles();
  const homeState = vehicles.find((v) => v.id === settings.vehicleId)?.home_state ?? null;
  const place = useStateRule(position, homeState);
  const recorder = useTripRecorder();
  const access = useLocationAccess();
  const granted = access.permission === "granted";

  const update = useCallback((patch) => {
    setSettings((old) => {
      const next = { ...old, ...patch };
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
      return next;
    });
  }, []);

  // Position stream (position.js; the recorder listens to the same one on every page).
  useEffect(() => {
    if (!granted) return undefined;
    return subscribe(({ fix, error: why }) => {
      if (why) {
        setError(why);
        return;
      }
      const result = estimator.current.addFix(fix);
      setError(null);
      if (result.accepted) {
        setPosition({ lat: fix.lat, lon: fix.lon });
        setLastFix(fix);
        setDriveStart((start) => start ?? fix.timestamp);
      }
      setSnap(estimator.current.snapshot(Date.now()));
    });
  }, [granted]);

  // Re-read the estimator twice a second so a silent GPS turns into "--". Only a change
  // re-renders: a screen waiting for GPS costs the phone nothing (docs/performance.md).
  const timing = useRef(false);
  timing.current = driveStart !== null || recorder.active;
  useEffect(() => {
    const timer = setInterval(() => {
      const t = Date.now();
      if (timing.current) setNow(t); // the elapsed time runs during a drive only
      const next = estimator.current.snapshot(t);
      setSnap((old) => (Object.keys(next).every((k) => old[k] === next[k]) ? old : next));
    }, 500);
    return () => clearInterval(timer);
  }, []);

  const stateCapMph = place.rule?.max_road_speed_mph ?? null;
  const capMph = stateCapMph !== null ? Math.min(settings.capMph, stateCapMph) : settings.capMph;
  const [over, setOver] = useState(false);
  useEffect(() => {
    setOver(alert.current.update(snap.speedMps, capMph * MPS_PER_MPH).over);
  }, [snap.speedMps, capMph]);
  useOverCapAlert(over, capMph, settings);

  let status = error ?? snap.status;
  if (access.permission && !granted) status = access.permission === "prompt" ? "ask" : access.permission;
  const noGpsReason = NO_GPS_REASON[status] ?? null;
  const big = settings.bigUnit;
  const small = big === "mph" ? "kmh" : "mph";
  const label = { mph: "mph", kmh: "km/h" };
  const reading = { mph: formatSpeed(snap.speedMps, "mph"), kmh: formatSpeed(snap.speedMps, "kmh") };
  // The state badge's text: one line on the screen (kei.css), whole in its title and in #state-rule.
  const badge = place.code ? badgeText(place.code, place.rule) : place.message;
  // The trip meter from zero (a new trip, or the reset button); speed and GPS status go on.
  const resetDrive = () => {
    estimator.current.restartOdometer();
    setDriveStart(null);
    setSnap(estimator.current.snapshot(Date.now()));
  };
  // While recording, "this drive" is the trip so far: its distance and time go on after a
  // reload (the screen's own count began again at 0 mid-trip).
  const soFar = recorder.active ? tripSoFar() : null;
  const driveM = soFar ? Math.max(soFar.distanceM, snap.odometerM) : snap.odometerM;
  const since = soFar?.startedAt ?? driveStart;
  const capBand = over && (
    <div id="over-cap-band" className="kd-band" role="alert">
      Slow down · above {capMph} mph
    </div>
  );
  const roadAlert = <RoadAlert sound={settings.voice} />;

  if (settings.mirror) {
    // HUD: lay the phone flat under the windshield; only the digits, the unit and the band,
    // mirrored. A tap anywhere leaves it.
    return (
      <div
        id="hud"
        className={`kd-hud${over ? " kd-over" : ""}`}
        role="button"
        tabIndex={0}
        aria-label="Leave HUD mode"
        onClick={() => update({ mirror: false })}
        onKeyDown={(e) => (e.key === "Enter" || e.key === " " || e.key === "Escape") && update({ mirror: false })}
      >
        {/* The alerts hang above and below the digits (kei.css): they never move them. */}
        <div className="kd-hud-mirror">
          <div className="kd-hud-alert kd-hud-alert-above">{capBand}</div>
          <div className="kd-big">
            <span id={`speed-${big}`} className="kd-big-number">
              {reading[big]}
            </span>
            <span className="kd-big-unit">{label[big]}</span>
          </div>
          <div className="kd-hud-alert kd-hud-alert-below">{roadAlert}</div>
        </div>
      </div>
    );
  }

  return (
    <div className={`kd-drive${over ? " kd-over" : ""}`}>
      <div className="kd-top">
        <span id="gps-status" data-status={status} className={`kd-pill kd-gps-${status}`}>
          {STATUS_TEXT[status] ?? status}
          {snap.accuracyM !== null && status === "ok" ? ` ±${Math.round(snap.accuracyM)} m` : ""}
        </span>
        <span id="state-badge" className={`kd-pill kd-state-badge kd-state-${place.rule?.status ?? "none"}`}
          data-state={place.code ?? ""} title={badge}>
          {badge}
        </span>
      </div>
      {access.card && !gpsUnsupported() && (
        <FirstRunCard permission={access.card} onAsk={access.ask} asking={access.asking} />
      )}
      {/* Guidance (next maneuver, road status) mounts here: kept on the first screen in landscape. */}
      <div id="guide-slot" className="kd-guide">
        {guiding && (
          <Suspense fallback={<div className="kd-guide-loading" />}>
            <GuidancePanel
              fix={lastFix}
              speedMps={snap.speedMps}
              voice={settings.voice}
              onVoice={() => update({ voice: !settings.voice })}
            />
          </Suspense>
        )}
      </div>
      {/* The readout. Alerts that come and go while driving (the over-cap band, the road
          alert, a state line ahead) are laid over the lines under the digits, never above
          them: the digits stay where the driver's eyes left them, and nothing below moves
          (kei.css: .kd-alert-area). */}
      <div className="kd-speed">
        <div className="kd-big">
          <span id={`speed-${big}`} className="kd-big-number">
            {reading[big]}
          </span>
          <span className="kd-big-unit">{label[big]}</span>
          <PostedLimit speedMps={snap.speedMps} />
        </div>
        <div className="kd-speed-more">
          <div className="kd-small">
            <span id={`speed-${small}`} className="kd-small-number">{reading[small]}</span> {label[small]}
          </div>
          <div className="kd-cap" id="speed-cap" data-cap-mph={capMph}>
            {over ? "Above " : "Alert above "}
            {capMph} mph / {Math.round(capMph * 1.609344)} km/h
            {stateCapMph !== null && stateCapMph < settings.capMph ? ` (${place.code} limit)` : ""}
          </div>
          <RoadNow />
          <div className="kd-stats">
            <div>
              <div className="kd-stat" id="odometer">
                {(driveM / METERS_PER_MILE).toFixed(1)} mi · {(driveM / 1000).toFixed(1)} km
              </div>
              <div className="kd-stat-label">this drive</div>
            </div>
            <div>
              <div className="kd-stat" id="elapsed">
                {formatElapsed(since ? now - since : 0)}
              </div>
              <div className="kd-stat-label">elapsed</div>
            </div>
          </div>
          {/* Longest-lasting first: a state line ahead (minutes), the road (while on it), the
              speed (seconds). What comes and goes most often is last and moves nothing. */}
          <div className="kd-alert-area">
            {place.warning && (
              <div id="state-warning" className="kd-warning" role="alert" title={place.warning}>
                {place.warningHeadline ?? place.warning}
              </div>
            )}
            {roadAlert}
            {capBand}
          </div>
        </div>
      </div>
      {guiding && (
        <Suspense fallback={null}>
          <GuidanceMap fix={lastFix} />
        </Suspense>
      )}
      <div className="kd-trip">
        {vehicles.length > 0 && (
          <label className="kd-status kd-vehicle-pick">
            Vehicle{" "}
            <select
              id="vehicle-select"
              className="kd-btn"
              value={settings.vehicleId ?? ""}
              disabled={recorder.active}
              onChange={(e) => {
                const id = e.target.value ? Number(e.target.value) : null;
                const vehicle = vehicles.find((v) => v.id === id);
                update({ vehicleId: id, ...(vehicle?.speed_cap_mph ? { capMph: Math.round(vehicle.speed_cap_mph) } : {}) });
              }}
            >
              <option value="">None</option>
              {vehicles.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.nickname}
                  {v.speed_cap_mph ? ` · ${Math.round(v.speed_cap_mph)} mph` : ""}
                </option>
              ))}
            </select>
          </label>
        )}
        <TripControls
          recorder={recorder}
          noGpsReason={noGpsReason}
          onStart={() => {
            resetDrive();
            recorder.start(settings.vehicleId);
          }}
        />
        <span id="trip-status" className="kd-status" data-pending={recorder.pending}
          data-not-accepted={recorder.notAccepted} data-state={recorder.state}>
          {recorder.label}
        </span>
        {recorder.active && (
          <span className="kd-note">
            Recording goes on while you use the other pages of Kei Drive. Keep Kei Drive on screen: browsers
            stop GPS while it is hidden or the phone is locked, and the trip then shows a gap.
          </span>
        )}
      </div>
      <div className="kd-controls">
        <button id="unit-toggle" className="kd-btn" onClick={() => update({ bigUnit: small })}>
          Big: {label[big]}
        </button>
        <button className="kd-btn" aria-label="Lower alert" onClick={() => update({ capMph: Math.max(5, settings.capMph - 5) })}>
          −5
        </button>
        <button className="kd-btn" aria-label="Raise alert" onClick={() => update({ capMph: Math.min(80, settings.capMph + 5) })}>
          +5
        </button>
        <button
          id="mirror-toggle"
          className="kd-btn"
          title="Mirror the speed for a windshield reflection: lay the phone flat on the dash, its top towards you"
          aria-pressed={settings.mirror}
          onClick={() => update({ mirror: !settings.mirror })}
        >
          HUD
        </button>
        <button id="drive-reset" className="kd-btn" onClick={resetDrive} disabled={recorder.active}>
          Reset
        </button>
      </div>
      <DriveSettings settings={settings} update={update} />
      <div className="kd-notes">
        {place.code && place.rule && (
          <div id="state-rule" className="kd-note">
            {place.name ? `${place.name}: ` : ""}
            {badge}
          </div>
        )}
        {place.code && place.rule && (
          <div id="state-visitors" className="kd-note" data-visitors={place.rule.visitors?.rule ?? ""}>
            {visitorText(place.rule)}
          </div>
        )}
        {place.upcoming && (
          <div id="rule-change-note" className="kd-note" data-state={place.upcoming.code}>
            {`${place.upcoming.name} from ${place.upcoming.on}: ${place.upcoming.text}`}
          </div>
        )}
        {wake.note && (
          <div id="wake-note" className="kd-note">
            {wake.note}
          </div>
        )}
        {NOTES[status] && <div id="gps-note" className="kd-note">{NOTES[status]}</div>}
        {offlinePage && (
          <div id="offline-page-note" className="kd-note" role="status">
            {`${offlinePage} needs a connection: this phone has not kept it yet. Recording goes on here.`}
          </div>
        )}
        <InstallHint />
        <div className="kd-foot">
          {place.attribution} · Kei rules are advice with sources, not legal clearance.
        </div>
        {/* The state warning in full (its headline is on the readout); last: nothing moves under it. */}
        {place.warning && (
          <div id="state-warning-text" className="kd-note">
            {place.warning}
          </div>
        )}
      </div>
    </div>
  );
}
