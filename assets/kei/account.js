// Which account the phone's queued recordings belong to (accounts, issue #9).
// The server says who is signed in (GET /api/v1/me: a name, no secret; the session
// cookie itself is HttpOnly). Each trip is tagged with that name when recording starts,
// and its trip creation, fixes and finish are sent only while that account is signed in,
// so a queue recorded by one person never lands in another person's history.

import { forgetPrivateData } from "./private_data.js";
import { timeoutSignal } from "./net.js";

const ME_KEY = "kei-drive.me"; // the last account seen signed in on this phone
const OWNERS_KEY = "kei-drive.trip-owners"; // { tripUuid: username }
const ASK_EVERY_MS = 60_000;

let asked = { at: 0, me: undefined };

const owners = () => {
  try {
    return JSON.parse(localStorage.getItem(OWNERS_KEY)) ?? {};
  } catch {
    return {};
  }
};

// The signed-in account: a name, null when signed out (401), undefined when unknown
// (offline or a server error). Asked at most once a minute unless `fresh`.
export async function whoAmI(fresh = false) {
  if (!fresh && asked.me !== undefined && Date.now() - asked.at < ASK_EVERY_MS) return asked.me;
  let me;
  try {
    const response = await fetch("/api/v1/me", {
      headers: { Accept: "application/json" },
      signal: timeoutSignal(15_000), // a stalled connection must not hold the sync loop
    });
    if (response.status === 401) me = null;
    else if (response.ok) me = (await response.json()).username ?? undefined;
  } catch {
    me = undefined;
  }
  asked = { at: Date.now(), me };
  if (me) {
    const previous = localStorage.getItem(ME_KEY);
    // another account on this phone: never show the previous one's garage, rules, guidance
    if (previous && previous !== me) await forgetPrivateData().catch(() => {});
    localStorage.setItem(ME_KEY, me);
  }
  return me;
}

// Tag a trip with its account (the last one seen signed in; untagged if none yet).
export function tagTrip(uuid, me = localStorage.getItem(ME_KEY)) {
  if (!me) return;
  const all = owners();
  all[uuid] ??= me;
  localStorage.setItem(OWNERS_KEY, JSON.stringify(all));
}

// The account a trip belongs to, tagging an untagged trip with `me` on first send.
export function ownerOf(uuid, me) {
  if (!owners()[uuid]) tagTrip(uuid, me);
  return owners()[uuid] ?? null;
}

// Forget the answer after a 401 (the next sync asks the server again).
export function forgetMe() {
  asked = { at: 0, me: undefined };
}
