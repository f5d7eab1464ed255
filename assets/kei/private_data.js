// What the phone keeps of one account's own data for offline use, and forgetting it
// (accounts, issue #9): after signing out, or when another account signs in on this
// phone, nothing of the previous account's garage, rules (its overrides), guidance or
// map position is shown, online or offline.
// The recording queue is never forgotten here: each queued trip is tagged with its account
// (account.js) and is sent once that account signs in again.

const PRIVATE_KEYS = [
  "kei-drive.vehicles", // the garage (drive.jsx)
  "kei-drive.rules", // the rules with the account's own overrides (states.js)
  "kei-drive.rules.saved", // when they were saved
  "kei-drive.guidance", // the route being driven (issue #13)
];
const PRIVATE_PREFIXES = ["kei-map-view:"]; // where the account last looked at a map

const isApi = (url) => new URL(url).pathname.startsWith("/api/");

/** Forget the previous account's data; resolves once the caches are clean too. */
export async function forgetPrivateData() {
  for (const key of PRIVATE_KEYS) localStorage.removeItem(key);
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const key = localStorage.key(i);
    if (key && PRIVATE_PREFIXES.some((p) => key.startsWith(p))) localStorage.removeItem(key);
  }
  if (!globalThis.caches) return;
  // API answers an older service worker may have stored (this one never stores them);
  // the basemap cache holds only map tiles and is skipped (it can be large).
  for (const name of await caches.keys()) {
    if (name.includes("basemap")) continue;
    const cache = await caches.open(name);
    const requests = await cache.keys();
    await Promise.all(requests.filter((r) => isApi(r.url)).map((r) => cache.delete(r)));
  }
}
