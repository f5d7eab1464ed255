// The Drive screen: live speed in mph and km/h from the phone's GPS, computed
// here in the browser so that it keeps working when the server is out of reach.
import { useCallback, useEffect, useRef, useState } from "react";

import { SpeedAlert, SpeedEstimator, formatSpeed, MPS_PER_MPH, METERS_PER_MILE } from "./speed.js";
import { useWakeLock } from "./wakelock.js";
import { badgeText, visitorText } from "./geo.js";
import { useStateRule } from "./states.js";
import { useTripRecorder } from "./recorder.js";
import { beep, vibrate } from "./sound.js";
import { PostedLimit, RoadAlert, RoadNow } from "./road_status.jsx";

const SETTINGS_KEY = "kei-drive.settings";
// capMph mirrors DEFAULT_TOP_SPEED_MPH in kei_drive/core/vehicles.py (the one home of "45").
const DEFAULT_SETTINGS = { bigUnit: "mph", capMph: 45, sound: true, mirror: false, vehicleId: null };
const VEHICLES_KEY = "kei-drive.vehicles";

// The garage, kept on the phone so the picker works offline.
function useVehicles() {
  const [vehicles, setVehicles] = useState([]);
  useEffect(() => {
    try {
      setVehicles(JSON.parse(localStorage.getItem(VEHICLES_KEY) || "[]"));
    } catch {
      setVehicles([]);
    }
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
  waiting: "Waiting for GPS…",
  ok: "GPS",
  weak: "GPS weak",
  lost: "GPS lost",
  denied: "Location blocked",
  unavailable: "No GPS",
  insecure: "Needs HTTPS",
};

function formatElapsed(ms) {
  if (!ms || ms < 0) return "0:00";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

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

export function DriveScreen() {
  const [settings, setSettings] = useState(DEFAULT_SETTINGS);
  const estimator = useRef(new SpeedEstimator());
  const alert = useRef(new SpeedAlert());
  const [snap, setSnap] = useState({ status: "waiting", speedMps: null, accuracyM: null, odometerM: 0 });
  const [error, setError] = useState(null);
  const [position, setPosition] = useState(null);
  const [driveStart, setDriveStart] = useState(null);
  const [now, setNow] = useState(Date.now());
  const wake = useWakeLock(true);
  const vehicles = useVehicles();
  const homeState = vehicles.find((v) => v.id === settings.vehicleId)?.home_state ?? null;
  const place = useStateRule(position, homeState);
  const recorder = useTripRecorder();
  const recorderRef = useRef(recorder);
  recorderRef.current = recorder;

  useEffect(() => setSettings(loadSettings()), []);
  const update = useCallback((patch) => {
    setSettings((old) => {
      const next = { ...old, ...patch };
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
      return next;
    });
  }, []);

  // Position stream.
  useEffect(() => {
    if (!window.isSecureContext || !navigator.geolocation) {
      setError(window.isSecureContext ? "unavailable" : "insecure");
      return undefined;
    }
    const id = navigator.geolocation.watchPosition(
      (pos) => {
        const c = pos.coords;
        const fix = {
          lat: c.latitude,
          lon: c.longitude,
          accuracy: c.accuracy,
          speed: c.speed ?? undefined,
          heading: c.heading ?? undefined,
          altitude: c.altitude ?? undefined,
          timestamp: pos.timestamp || Date.now(),
        };
        const result = estimator.current.addFix(fix);
        setError(null);
        if (result.accepted) {
          setPosition({ lat: fix.lat, lon: fix.lon });
          setDriveStart((start) => start ?? fix.timestamp);
          recorderRef.current.addFix(fix, estimator.current.speedMps);
        }
        setSnap(estimator.current.snapshot(Date.now()));
      },
      (err) => setError(err.code === 1 ? "denied" : "unavailable"),
      { enableHighAccuracy: true, maximumAge: 0, timeout: 15000 },
    );
    return () => navigator.geolocation.clearWatch(id);
  }, []);

  // Re-read the estimator twice a second so a silent GPS turns into "--".
  useEffect(() => {
    const timer = setInterval(() => {
      const t = Date.now();
      setNow(t);
      setSnap(estimator.current.snapshot(t));
    }, 500);
    return () => clearInterval(timer);
  }, []);

  const stateCapMph = place.rule?.max_road_speed_mph ?? null;
  const capMph = stateCapMph !== null ? Math.min(settings.capMph, stateCapMph) : settings.capMph;
  const [over, setOver] = useState(false);
  useEffect(() => {
    const result = alert.current.update(snap.speedMps, capMph * MPS_PER_MPH);
    setOver(result.over);
    if (result.crossed && settings.sound) {
      beep();
      vibrate();
    }
  }, [snap.speedMps, capMph, settings.sound]);

  const status = error ?? snap.status;
  const big = settings.bigUnit;
  const small = big === "mph" ? "kmh" : "mph";
  const label = { mph: "mph", kmh: "km/h" };
  const reading = { mph: formatSpeed(snap.speedMps, "mph"), kmh: formatSpeed(snap.speedMps, "kmh") };
  const resetDrive = () => {
    estimator.current.reset();
    setDriveStart(null);
    setSnap(estimator.current.snapshot(Date.now()));
  };

  return (
    <div className={`kd-drive${over ? " kd-over" : ""}${settings.mirror ? " kd-mirror" : ""}`}>
      <div className="kd-top">
        <span id="gps-status" data-status={status} className={`kd-pill kd-gps-${status}`}>
          {STATUS_TEXT[status] ?? status}
          {snap.accuracyM !== null && status !== "lost" && !error ? ` ±${Math.round(snap.accuracyM)} m` : ""}
        </span>
        <span id="state-badge" className={`kd-pill kd-state-${place.rule?.status ?? "none"}`} data-state={place.code ?? ""}>
          {place.code ? badgeText(place.code, place.rule) : place.message}
        </span>
      </div>
      {place.warning && (
        <div id="state-warning" className="kd-warning" role="alert">
          {place.warning}
        </div>
      )}
      <div className="kd-speed">
        <RoadAlert sound={settings.sound} />
        <div className="kd-big">
          <span id={`speed-${big}`} className="kd-big-number">
            {reading[big]}
          </span>
          <span className="kd-big-unit">{label[big]}</span>
          <PostedLimit />
        </div>
        <div className="kd-small">
          <span id={`speed-${small}`}>{reading[small]}</span> {label[small]}
        </div>
        <div className="kd-cap" id="speed-cap" data-cap-mph={capMph}>
          {over ? "Above " : "Alert above "}
          {capMph} mph / {Math.round(capMph * 1.609344)} km/h
          {stateCapMph !== null && stateCapMph < settings.capMph ? ` (${place.code} limit)` : ""}
        </div>
        <RoadNow />
      </div>
      <div className="kd-stats">
        <div>
          <div className="kd-stat" id="odometer">
            {(snap.odometerM / METERS_PER_MILE).toFixed(1)} mi · {(snap.odometerM / 1000).toFixed(1)} km
          </div>
          <div className="kd-stat-label">this drive</div>
        </div>
        <div>
          <div className="kd-stat" id="elapsed">
            {formatElapsed(driveStart ? now - driveStart : 0)}
          </div>
          <div className="kd-stat-label">elapsed</div>
        </div>
      </div>
      <div className="kd-trip">
        {vehicles.length > 0 && (
          <label className="kd-note kd-vehicle-pick">
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
        {recorder.active ? (
          <button id="trip-stop" className="kd-btn kd-btn-stop" onClick={recorder.stop}>
            Stop trip
          </button>
        ) : (
          <button
            id="trip-start"
            className="kd-btn kd-btn-start"
            onClick={() => {
              resetDrive();
              recorder.start(settings.vehicleId);
            }}
          >
            Start trip
          </button>
        )}
        <span id="trip-status" className="kd-note" data-pending={recorder.pending}
          data-not-accepted={recorder.notAccepted} data-state={recorder.state}>
          {recorder.label}
        </span>
        {recorder.active && (
          <span className="kd-note">
            Keep Kei Drive on screen: browsers stop GPS while it is hidden or the phone is locked, and the
            trip then shows a gap.
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
        <button id="sound-toggle" className="kd-btn" onClick={() => update({ sound: !settings.sound })}>
          {settings.sound ? "Beep on" : "Beep off"}
        </button>
        <button
          id="mirror-toggle"
          className="kd-btn"
          title="Mirror the screen for a windshield reflection: lay the phone flat on the dash, its top towards you"
          aria-pressed={settings.mirror}
          onClick={() => update({ mirror: !settings.mirror })}
        >
          HUD
        </button>
        <button id="drive-reset" className="kd-btn" onClick={resetDrive} disabled={recorder.active}>
          Reset
        </button>
      </div>
      <div className="kd-notes">
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
        {error === "insecure" && (
          <div className="kd-note">Open Kei Drive over HTTPS (kei-drive serve --https) to use GPS.</div>
        )}
        {error === "denied" && <div className="kd-note">Allow location access for this site to see your speed.</div>}
        <InstallHint />
        <div className="kd-foot">
          {place.attribution} · Kei rules are advice with sources, not legal clearance.
        </div>
      </div>
    </div>
  );
}
