// The active guidance, kept on the phone (localStorage "kei-drive.guidance", see the shared
// contract in docs): {version, request, route, announcements, saved_at}. Tiny on purpose: the
// Drive screen imports it to decide whether to load the guidance panel at all.
import { useEffect, useState } from "react";

export const GUIDANCE_KEY = "kei-drive.guidance";
const CHANGED = "kei-drive.guidance-changed"; // same-tab notice (the storage event is cross-tab)

export function loadGuidance() {
  try {
    const saved = JSON.parse(localStorage.getItem(GUIDANCE_KEY) || "null");
    return saved && Array.isArray(saved.route?.geometry) ? saved : null;
  } catch {
    return null;
  }
}

export function saveGuidance(answer) {
  const guidance = {
    version: answer.version ?? 1,
    request: answer.request ?? null,
    route: answer.route,
    announcements: answer.announcements ?? null,
    saved_at: Date.now(),
  };
  localStorage.setItem(GUIDANCE_KEY, JSON.stringify(guidance));
  window.dispatchEvent(new Event(CHANGED));
  return guidance;
}

export function clearGuidance() {
  localStorage.removeItem(GUIDANCE_KEY);
  window.dispatchEvent(new Event(CHANGED));
}

/** read() now and again whenever the stored guidance changes (this tab or another). */
function useStored(read) {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const update = () => setValue(read());
    window.addEventListener(CHANGED, update);
    window.addEventListener("storage", update);
    return () => {
      window.removeEventListener(CHANGED, update);
      window.removeEventListener("storage", update);
    };
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  return value;
}

/** Whether the Drive screen is in guidance mode: a stored route, or "/?guide=1". */
export function useGuidanceMode() {
  return useStored(() => Boolean(loadGuidance()) || new URLSearchParams(window.location.search).get("guide") === "1");
}

/** The stored guidance (null: none), following changes such as a re-route. */
export function useStoredGuidance() {
  return useStored(loadGuidance);
}
