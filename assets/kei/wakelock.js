// Keep the screen on while the Drive screen is open (Screen Wake Lock API).
// The browser drops the lock whenever the page is hidden, so it is asked for
// again each time the page becomes visible.
import { useEffect, useState } from "react";

export function useWakeLock(enabled) {
  const [note, setNote] = useState(null);
  useEffect(() => {
    if (!enabled) return undefined;
    if (!("wakeLock" in navigator)) {
      setNote("This browser cannot keep the screen on: set auto-lock to Never while driving.");
      return undefined;
    }
    let sentinel = null;
    let cancelled = false;
    const acquire = async () => {
      if (document.visibilityState !== "visible" || cancelled) return;
      try {
        sentinel = await navigator.wakeLock.request("screen");
        setNote(null);
        sentinel.addEventListener("release", () => {
          if (!cancelled && document.visibilityState === "visible") setNote("The screen may turn off by itself: set auto-lock to Never while driving.");
        });
      } catch {
        // e.g. battery saver on: the browser will not keep the screen on.
        setNote("The screen may turn off by itself (the browser would not keep it on): set auto-lock to Never while driving.");
      }
    };
    acquire();
    document.addEventListener("visibilitychange", acquire);
    return () => {
      cancelled = true;
      document.removeEventListener("visibilitychange", acquire);
      sentinel?.release().catch(() => {});
    };
  }, [enabled]);
  return { note };
}
