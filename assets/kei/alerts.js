// The over-cap alert: a beep as the truck goes above the cap, repeated every few
// seconds while it stays above (the Drive settings' interval), a vibration and one
// short spoken line. The band on screen is drive.jsx's.
import { useEffect, useRef } from "react";

import { beep, speak, vibrate } from "./sound.js";

export const BEEP_INTERVALS_S = [3, 5, 10, 15];
export const DEFAULT_BEEP_EVERY_S = 5;

export function overCapLine(capMph) {
  return `Slow down. Above ${capMph} miles per hour.`;
}

/** Runs the sounds while `over`; settings: {sound, voice, beepEverySec}. */
export function useOverCapAlert(over, capMph, settings) {
  const { sound, voice, beepEverySec } = settings;
  const capRef = useRef(capMph);
  capRef.current = capMph;
  useEffect(() => {
    if (!over) return undefined;
    if (sound) {
      beep();
      vibrate();
    }
    if (voice) speak(overCapLine(capRef.current));
    if (!sound) return undefined;
    const every = Math.max(1, Number(beepEverySec) || DEFAULT_BEEP_EVERY_S) * 1000;
    const timer = setInterval(beep, every);
    return () => clearInterval(timer);
  }, [over, sound, voice, beepEverySec]);
}
