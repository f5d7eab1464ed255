// Small network helpers shared by the recorder, the account check and guidance.

/**
 * An AbortSignal that aborts after `ms`. AbortSignal.timeout is missing before Safari 16
 * (iPhone 6s, 7 and the first SE stop at iOS 15): there it threw, every request failed, and
 * uploads and re-routes never went out.
 */
export function timeoutSignal(ms) {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}
