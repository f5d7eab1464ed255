// The phone's position, one watch for the whole app: the Drive screen and the trip
// recorder subscribe; the GPS runs while anyone listens. A module, so it outlives
// Reflex's client-side page changes (the recorder keeps listening on every page).
//
// Nothing here asks for location on its own: `watching` starts only after the driver
// tapped "Use my location" (requestLocation) or when the browser already allows it.

const GRANTED_KEY = "kei-drive.location-ok"; // the driver allowed location once (no Permissions API)

const listeners = new Set(); // ({fix} | {error}) => void
let watchId = null;

function toFix(pos) {
  const c = pos.coords;
  return {
    lat: c.latitude,
    lon: c.longitude,
    accuracy: c.accuracy,
    speed: c.speed ?? undefined,
    heading: c.heading ?? undefined,
    altitude: c.altitude ?? undefined,
    timestamp: pos.timestamp || Date.now(),
  };
}

/** Why there can be no GPS at all here: "insecure", "unavailable" or null. */
export function gpsUnsupported() {
  if (typeof window === "undefined") return "unavailable";
  if (!window.isSecureContext) return "insecure";
  return navigator.geolocation ? null : "unavailable";
}

function startWatch() {
  if (watchId !== null || gpsUnsupported()) return;
  watchId = navigator.geolocation.watchPosition(
    (pos) => {
      localStorage.setItem(GRANTED_KEY, "1");
      const fix = toFix(pos);
      listeners.forEach((listen) => listen({ fix }));
    },
    (err) => {
      const error = err.code === 1 ? "denied" : "unavailable";
      if (error === "denied") localStorage.removeItem(GRANTED_KEY);
      listeners.forEach((listen) => listen({ error }));
    },
    { enableHighAccuracy: true, maximumAge: 0, timeout: 15000 },
  );
}

function stopWatch() {
  if (watchId === null) return;
  navigator.geolocation.clearWatch(watchId);
  watchId = null;
}

/** Listen to fixes and errors; returns the unsubscribe function. */
export function subscribe(listen) {
  listeners.add(listen);
  startWatch();
  return () => {
    listeners.delete(listen);
    if (listeners.size === 0) stopWatch();
  };
}

/** "granted" | "prompt" | "denied": what the browser would do if asked now. */
export async function locationPermission() {
  const unsupported = gpsUnsupported();
  if (unsupported) return unsupported;
  try {
    const status = await navigator.permissions.query({ name: "geolocation" });
    return status.state;
  } catch {
    // Older Safari: no Permissions API for location; remember the driver's own yes.
    return localStorage.getItem(GRANTED_KEY) ? "granted" : "prompt";
  }
}

/** Ask for location (the browser's prompt, after a tap): resolves "granted" or an error. */
export function requestLocation() {
  const unsupported = gpsUnsupported();
  if (unsupported) return Promise.resolve(unsupported);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      () => {
        localStorage.setItem(GRANTED_KEY, "1");
        resolve("granted");
      },
      (err) => resolve(err.code === 1 ? "denied" : "unavailable"),
      { enableHighAccuracy: true, maximumAge: 60_000, timeout: 20_000 },
    );
  });
}
