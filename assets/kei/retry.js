// Load what the Drive screen cannot do without (the state lines, the Kei rules) until it
// arrives. A weak signal or a busy server fails a fetch now and then; a failure kept for good
// left the state badge blank until the driver reloaded the page.

export const RETRY_DELAYS_MS = [1000, 3000, 10_000, 30_000]; // then every 30 s

/**
 * A promise of ``load()``'s first success. After a failure ``onFailure(error, attempts)`` is
 * told and ``load`` runs again after the next delay, or at once when the phone comes back
 * online (``target``'s "online" event).
 */
export function untilLoaded(load, { delaysMs = RETRY_DELAYS_MS, onFailure = () => {}, target = globalThis } = {}) {
  return new Promise((resolve) => {
    let failures = 0;
    let timer = null;
    let running = false;
    const onOnline = () => {
      clearTimeout(timer);
      attempt();
    };
    function attempt() {
      if (running) return;
      running = true;
      Promise.resolve()
        .then(load)
        .then(
          (value) => {
            target.removeEventListener?.("online", onOnline);
            resolve(value);
          },
          (error) => {
            running = false;
            failures += 1;
            onFailure(error, failures);
            timer = setTimeout(attempt, delaysMs[Math.min(failures, delaysMs.length) - 1]);
          },
        );
    }
    target.addEventListener?.("online", onOnline);
    attempt();
  });
}

/** The JSON at ``url``; an HTTP error status is a failure. */
export async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}
