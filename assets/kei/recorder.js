// Trip recording that loses no fix and never stops silently.
//
// One recorder for the whole app (a module: it outlives Reflex's client-side page
// changes). While a trip is active it listens to the phone's position (position.js) on
// every page; every fix goes to IndexedDB first, and a sync loop sends batches to the
// server with client-generated ids, so a retry never duplicates and a dropped connection
// only delays the upload. A fix leaves the phone only when the server stored it or
// refused it for good (see settle.js). A full page load (a reload, a server page and back)
// picks the trip up again from localStorage; leaving the app while recording asks first.
import { useSyncExternalStore } from "react";
import { timeoutSignal } from "./net.js";
import { settleBatch } from "./settle.js";
import { forgetMe, ownerOf, tagTrip, whoAmI } from "./account.js";
import { subscribe as watchPosition } from "./position.js";
import { ParkedWatch, SpeedEstimator, isValidFix } from "./speed.js";
import { reportRoad } from "./road.js";

const TRIP_KEY = "kei-drive.trip"; // the trip being recorded (survives reloads)
const TALLY_KEY = "kei-drive.trip-tally"; // its distance and top speed so far, for the summary
const FINISH_KEY = "kei-drive.finish-queue"; // stopped trips whose finish call is still owed
const CREATE_KEY = "kei-drive.create-queue"; // started trips the server has not confirmed yet
const DB_NAME = "kei-drive";
const STORE = "fixes";
const BATCH = 500;
const MIN_BATCH = 25; // after a 413, batches shrink down to this
const HOLD_MS = 20_000; // a fix the server did not accept is sent again after this
const SYNC_EVERY_MS = 3000;
// A stalled connection (weak signal) can hold a request open for minutes, and the sync loop
// runs one round at a time: a request with no answer by then is given up and sent again.
const BATCH_TIMEOUT_MS = 45_000;
const CALL_TIMEOUT_MS = 20_000;
const STORAGE_NOTE = "this phone's storage refused fixes: they are kept in memory until it takes them; free some space";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: "id" });
      store.createIndex("trip", "trip");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function run(db, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result instanceof IDBRequest ? result.result : result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("the phone's storage refused the write")); // quota
  });
}

const readJson = (key, fallback) => {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
};

// Send one batch; the answer's status (0 without a connection) and JSON body.
async function sendBatch(uuid, points) {
  try {
    const response = await fetch(`/api/v1/trips/${uuid}/points`, {
      method: "POST",
      signal: timeoutSignal(BATCH_TIMEOUT_MS),
      headers: { "Content-Type": "application/json" },
      // sent_at: the server judges "in the future" against this phone's clock;
      // want_road: the answer says which road the latest fixes are on (road.js).
      body: JSON.stringify({ points, sent_at: Date.now(), want_road: true }),
    });
    const reply = await response.json().catch(() => null);
    return { status: response.status, reply };
  } catch {
    return { status: 0, reply: null };
  }
}

// A stored fix as the API wants it (without the phone's own bookkeeping).
const wireFix = ({ trip: _t, notAccepted: _n, heldUntil: _h, ...fix }) => fix;

// Signed out or session expired (401): nothing is settled, every fix, trip creation and
// finish stays queued on the phone and goes out on a later sync, after signing in again.
class SignedOutError extends Error {}
const SIGNED_OUT_NOTE = "signed out: sign in to send the waiting fixes";

async function post(url, body, method = "POST") {
  const response = await fetch(url, {
    method,
    signal: timeoutSignal(CALL_TIMEOUT_MS),
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 401) throw new SignedOutError();
  if (!response.ok && response.status >= 500) throw new Error(`server ${response.status}`);
  return response;
}

// Statuses that say "not now" rather than "never": the call stays queued.
const TRY_AGAIN = new Set([408, 425, 429]);

/**
 * The server's answer to a trip creation or finish: {reply} when it took it, {refused} when
 * it never will (the trip deleted, a bad request): the call is dropped and said; anything
 * else (a proxy's 408, a 429, a Wi-Fi sign-in page answering HTML) throws, and the call stays
 * queued for the next round. Dropping those lost a finish for good: the trip stayed
 * "recording" on the server.
 */
async function confirmed(response, what) {
  const reply = await response.json().catch(() => null);
  if (response.ok && reply && typeof reply === "object") return { reply };
  if (!response.ok && !TRY_AGAIN.has(response.status)) return { refused: `${what} (${response.status})` };
  const why = response.ok
    ? "the answer was not the server's (a Wi-Fi sign-in page?)"
    : response.status === 429
      ? "the server is busy (429)"
      : `the server answered ${response.status}`;
  throw Object.assign(new Error(`${what}: not confirmed yet, ${why}; trying again`), { answered: true });
}

// The driver's clock, so the server names the trip in local time ("2026-12-02 08:15 EST").
function localZone(atMs) {
  let timeZone = null;
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? null;
  } catch {
    timeZone = null;
  }
  return { time_zone: timeZone, utc_offset_min: -new Date(atMs).getTimezoneOffset() };
}

// --- the one recorder ---------------------------------------------------------------

const isBrowser = typeof window !== "undefined" && typeof localStorage !== "undefined";
let snapshot = {
  trip: null,
  pending: 0,
  refused: { count: 0, reason: null },
  paused: false,
  online: true,
  lastError: null,
  storageError: null, // the phone refused to store fixes (kept in memory meanwhile)
  summary: null, // the last stopped trip: {uuid, startedAt, endedAt, distanceM, maxMps, tripId}
};
const listeners = new Set();
let db = null;
// Fixes of the trip that came while the store was still opening (a trip started on a freshly
// loaded page): kept here and written once it is open, never dropped.
let unstored = [];
let batchSize = BATCH;
const parked = new ParkedWatch(); // stopped 2 min within ~50 m: auto-pause
let syncing = false;
let estimator = new SpeedEstimator();
let unwatch = null;
let timer = null;

function set(patch) {
  snapshot = { ...snapshot, ...patch };
  listeners.forEach((listen) => listen());
}

async function refusedNow() {
  const held = (await run(db, "readonly", (s) => s.getAll())).filter((p) => p.notAccepted);
  return { count: held.length, reason: held.length ? held[held.length - 1].notAccepted : null };
}

// The queue's counts; with refusedToo the "not accepted" count as well, in the same update
// (never "0 waiting" beside a stale "2 not accepted"). Reading every fix is dearer than a
// count, so it is done only when a batch held fixes or sent held ones.
async function countPending(refusedToo = false) {
  if (!db) return;
  const waiting = unstored.length; // read first: they may be written while the count runs
  const pending = (await run(db, "readonly", (s) => s.count())) + waiting;
  set(refusedToo ? { pending, refused: await refusedNow() } : { pending });
}

async function countRefused() {
  set({ refused: await refusedNow() });
}

async function sync() {
  if (!db || syncing) return;
  syncing = true;
  try {
    // Accounts: only the signed-in account's own recordings are sent (account.js).
    const me = await whoAmI();
    if (me === null) throw new SignedOutError();
    // Not known (no answer, a server error): nothing is sent, or one failed question would
    // send another account's queued trip into the account signed in now
    if (me === undefined) throw new Error("who is signed in is not known yet");
    let othersWait = null;
    let refusedCall = null;
    const mine = (uuid) => {
      const owner = ownerOf(uuid, me);
      if (owner && owner !== me) othersWait = owner;
      return !owner || owner === me;
    };
    storeUnstored(); // a write the phone's storage refused is tried again
    // Trips first (idempotent PUT; it also carries the vehicle), then their fixes.
    for (const owed of readJson(CREATE_KEY, [])) {
      if (!mine(owed.uuid)) continue;
      const body = { started_at: owed.startedAt, ...(owed.vehicleId ? { vehicle_id: owed.vehicleId } : {}) };
      const response = await post(`/api/v1/trips/${owed.uuid}`, body, "PUT");
      // not confirmed: it stays queued and this round stops here (its fixes would create
      // the trip without its vehicle)
      const { refused } = await confirmed(response, "the server did not take the trip");
      refusedCall = refused ?? refusedCall;
      const rest = readJson(CREATE_KEY, []).filter((o) => o.uuid !== owed.uuid);
      localStorage.setItem(CREATE_KEY, JSON.stringify(rest));
    }
    // Send every trip's waiting fixes, oldest first, a batch at a time; each fix at
    // most once per round, and fixes not accepted only after HOLD_MS.
    const now = Date.now();
    const due = (await run(db, "readonly", (s) => s.getAll())).filter((p) => !p.heldUntil || p.heldUntil <= now);
    const byTrip = new Map();
    for (const p of due) {
      if (!byTrip.has(p.trip)) byTrip.set(p.trip, []);
      byTrip.get(p.trip).push(p);
    }
    let refusedBatch = null;
    for (const [uuid, fixes] of byTrip) {
      if (!mine(uuid)) continue;
      for (let i = 0; i < fixes.length; ) {
        const batch = fixes.slice(i, i + batchSize);
        const { status, reply } = await sendBatch(uuid, batch.map(wireFix));
        reportRoad(status, reply);
        if (status === 401) throw new SignedOutError();
        const { remove, hold, stop, reason } = settleBatch(status, reply, batch.map((p) => p.id));
        if (stop) throw Object.assign(new Error(reason), { fromServer: status !== 0 });
        const byId = new Map(batch.map((p) => [p.id, p]));
        const heldUntil = Date.now() + HOLD_MS;
        await run(db, "readwrite", (s) => {
          remove.forEach((id) => s.delete(id));
          hold.forEach(({ id, reason: why }) => s.put({ ...byId.get(id), notAccepted: why, heldUntil }));
        });
        await countPending(hold.length > 0 || batch.some((p) => p.notAccepted));
        if (status === 413 && batchSize > MIN_BATCH) {
          batchSize = Math.max(MIN_BATCH, Math.floor(batchSize / 2));
          continue; // the same fixes again, in smaller batches (they are held; resend now)
        }
        if (status !== 200) refusedBatch = `the server did not take a batch (${status})`;
        i += batch.length;
      }
    }
    await sendFromMemory(mine);
    for (const owed of readJson(FINISH_KEY, [])) {
      if (!mine(owed.uuid)) continue;
      const { uuid, endedAt, ...body } = owed; // endedAt: queued by an older version
      if (endedAt) body.ended_at = endedAt;
      const response = await post(`/api/v1/trips/${uuid}/finish`, body);
      const { reply, refused } = await confirmed(response, "the server did not end the trip");
      refusedCall = refused ?? refusedCall;
      const rest = readJson(FINISH_KEY, []).filter((o) => o.uuid !== uuid);
      localStorage.setItem(FINISH_KEY, JSON.stringify(rest));
      if (reply && snapshot.summary?.uuid === uuid) {
        const stats = reply.stats ?? {};
        set({
          summary: {
            ...snapshot.summary,
            tripId: reply.trip?.id ?? null,
            name: reply.trip?.name ?? null,
            distanceM: stats.distance_m ?? snapshot.summary.distanceM,
            maxMps: stats.max_speed_mps ?? snapshot.summary.maxMps,
            elapsedS: stats.elapsed_s ?? snapshot.summary.elapsedS,
          },
        });
      }
    }
    await countRefused();
    set({
      online: true,
      lastError: othersWait ? `recorded as ${othersWait}: sign in as ${othersWait} to send` : refusedCall ?? refusedBatch,
    });
  } catch (err) {
    if (err instanceof SignedOutError) {
      forgetMe();
      set({ lastError: SIGNED_OUT_NOTE });
    } else {
      // An answer (a 429, a Wi-Fi sign-in page) is not "offline": the label says what it was.
      set({ online: Boolean(err?.answered), lastError: err?.fromServer || err?.answered ? err.message : null });
      if (!err?.fromServer && !err?.answered) reportRoad(0, null); // no connection: the road is unknown
    }
  } finally {
    syncing = false;
  }
}

// While the phone's storage refuses fixes they are sent from memory, so a good signal still
// takes them (and a stopped trip's last fixes, which no later fix would retry, go out).
async function sendFromMemory(mine) {
  if (!snapshot.storageError || storing || unstored.length === 0) return;
  const byTrip = new Map();
  for (const p of unstored) if (mine(p.trip)) byTrip.set(p.trip, [...(byTrip.get(p.trip) ?? []), p]);
  for (const [uuid, fixes] of byTrip) {
    for (let i = 0; i < fixes.length; i += batchSize) {
      const batch = fixes.slice(i, i + batchSize);
      const { status, reply } = await sendBatch(uuid, batch.map(wireFix));
      if (status === 401) throw new SignedOutError();
      const { remove, stop, reason } = settleBatch(status, reply, batch.map((p) => p.id));
      if (stop) throw Object.assign(new Error(reason), { fromServer: status !== 0 });
      const sent = new Set(remove);
      unstored = unstored.filter((p) => !sent.has(p.id));
    }
  }
  if (unstored.length === 0) set({ storageError: null });
  await countPending();
}

function keep(point) {
  unstored.push(point);
  set({ pending: snapshot.pending + 1 });
  if (db) storeUnstored();
  else openStore().then(storeUnstored);
}

// Write the fixes not in the store yet. A write the phone refuses (storage full) keeps them
// in memory, says so, and is tried again with the next fix: it lost them silently while
// the screen said "kept on this phone".
let storing = false;
function storeUnstored() {
  if (!db || storing || unstored.length === 0) return;
  const points = unstored;
  unstored = [];
  storing = true;
  run(db, "readwrite", (s) => points.forEach((p) => s.put(p)))
    .then(
      () => snapshot.storageError && set({ storageError: null }),
      () => {
        unstored = [...points, ...unstored];
        set({ storageError: STORAGE_NOTE });
      },
    )
    .finally(() => {
      storing = false;
      countPending();
      if (!snapshot.storageError) storeUnstored(); // fixes that came while writing
    });
}

function storeFix(fix) {
  const current = readJson(TRIP_KEY, null);
  if (!current || !isValidFix(fix)) return;
  const result = estimator.addFix(fix);
  if (result.reason === "duplicate") return;
  // Auto-pause when parked for a while; resume on movement. Every fix is heard (with no
  // speed when the readout left it out): a drive whose fixes claim over 50 m never resumed.
  const shouldPause = parked.update(fix, result.accepted ? estimator.speedMps : null);
  if (shouldPause !== snapshot.paused) set({ paused: shouldPause });
  if (snapshot.paused) return;
  // Every fix is kept, also those the readout leaves out (a rough accuracy, a jump, a clock
  // gone back): the server judges the whole log (a phone claiming 35-60 m lost every other
  // fix here, and a clock stepping back all of them, while the screen said "Recording").
  if (result.accepted) updateTally(current);
  keep(pointOf(current, fix));
}

function updateTally(current) {
  const speedMps = estimator.speedMps;
  const tally = readJson(TALLY_KEY, null);
  const base = tally?.uuid === current.uuid ? tally : { uuid: current.uuid, distanceM: 0, maxMps: 0, odo: 0 };
  localStorage.setItem(
    TALLY_KEY,
    JSON.stringify({
      uuid: current.uuid,
      distanceM: base.distanceM + Math.max(0, estimator.odometerM - (base.odo ?? 0)),
      odo: estimator.odometerM,
      maxMps: Math.max(base.maxMps, speedMps ?? 0),
    }),
  );
}

function pointOf(current, fix) {
  return {
    id: `${current.uuid}:${fix.timestamp}`,
    trip: current.uuid,
    t: fix.timestamp,
    lat: fix.lat,
    lon: fix.lon,
    acc: fix.accuracy ?? null,
    speed: fix.speed ?? null,
    heading: fix.heading ?? null,
    alt: fix.altitude ?? null,
  };
}

// Leaving the app (closing the tab, a server page such as Settings) stops the GPS:
// the browser asks first. Pages of the app itself change without unloading.
function askBeforeLeaving(event) {
  event.preventDefault();
  event.returnValue = "Leaving Kei Drive stops trip recording until you come back.";
  return event.returnValue;
}

function listen(active) {
  if (active && !unwatch) {
    estimator = new SpeedEstimator(); // odometer from 0; the tally keeps the sum
    const tally = readJson(TALLY_KEY, null);
    if (tally) localStorage.setItem(TALLY_KEY, JSON.stringify({ ...tally, odo: 0 }));
    unwatch = watchPosition(({ fix }) => fix && storeFix(fix));
    window.addEventListener("beforeunload", askBeforeLeaving);
  } else if (!active && unwatch) {
    unwatch();
    unwatch = null;
    window.removeEventListener("beforeunload", askBeforeLeaving);
  }
}

let opening = null;
function openStore() {
  opening ??= openDb()
    .then((opened) => {
      db = opened;
      countPending();
      sync();
      timer ??= setInterval(sync, SYNC_EVERY_MS);
    })
    .catch(() => set({ lastError: "this browser cannot keep fixes offline" }));
  return opening;
}

// Once the page has loaded and is idle: the first seconds belong to the Drive screen.
function whenIdle(run, delayMs = 2000) {
  const idle = window.requestIdleCallback ?? ((callback) => setTimeout(callback, 0));
  const later = () => setTimeout(() => idle(run, { timeout: 3000 }), delayMs);
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later, { once: true });
}

function init() {
  const trip = readJson(TRIP_KEY, null);
  set({ trip });
  listen(Boolean(trip));
  // A trip being recorded stores its fixes at once; without one, the fixes of earlier trips
  // still waiting on this phone are counted and sent when the page is idle.
  if (trip) openStore();
  else whenIdle(openStore);
  window.addEventListener("online", sync);
  // Another tab started or stopped a trip.
  window.addEventListener("storage", (event) => {
    if (event.key !== TRIP_KEY) return;
    const next = readJson(TRIP_KEY, null);
    set({ trip: next });
    listen(Boolean(next));
    if (next) openStore();
  });
}

if (isBrowser) init();

/** Start recording a new trip (with the picked vehicle's id, or null). */
export function start(vehicleId = null) {
  const next = { uuid: crypto.randomUUID(), startedAt: Date.now(), vehicleId };
  tagTrip(next.uuid); // the account recording it (account.js)
  localStorage.setItem(TRIP_KEY, JSON.stringify(next));
  localStorage.setItem(TALLY_KEY, JSON.stringify({ uuid: next.uuid, distanceM: 0, maxMps: 0, odo: 0 }));
  parked.reset();
  set({ trip: next, paused: false, summary: null });
  localStorage.setItem(CREATE_KEY, JSON.stringify([...readJson(CREATE_KEY, []), next]));
  listen(true);
  openStore().then(sync); // started before the idle-time opening: open the store now
}

/** Stop the trip: the finish call is queued; the summary shows at once, then the server's. */
export function stop() {
  const current = readJson(TRIP_KEY, null);
  const endedAt = Date.now();
  if (current) {
    const owed = readJson(FINISH_KEY, []);
    owed.push({ uuid: current.uuid, ended_at: endedAt, ...localZone(current.startedAt) });
    localStorage.setItem(FINISH_KEY, JSON.stringify(owed));
    const tally = readJson(TALLY_KEY, null);
    const mine = tally?.uuid === current.uuid ? tally : { distanceM: 0, maxMps: 0 };
    set({
      summary: {
        uuid: current.uuid,
        tripId: null,
        name: null,
        distanceM: mine.distanceM,
        maxMps: mine.maxMps,
        elapsedS: (endedAt - current.startedAt) / 1000,
      },
    });
  }
  localStorage.removeItem(TRIP_KEY);
  localStorage.removeItem(TALLY_KEY);
  set({ trip: null, paused: false });
  listen(false);
  sync();
}

export function dismissSummary() {
  set({ summary: null });
}

function describe(s) {
  const active = Boolean(s.trip);
  let state = active ? (s.paused ? "paused" : "recording") : "idle";
  let label = active ? (s.paused ? "Paused (parked)" : "Recording") : "Not recording";
  if (s.pending > 0) label += ` · ${s.pending} fix${s.pending === 1 ? "" : "es"} waiting to send`;
  if (s.refused.count > 0) {
    label += ` · ${s.refused.count} not accepted yet, kept on this phone (${s.refused.reason})`;
  }
  if (!s.online) {
    state = active ? state : "offline";
    label += " · offline, kept on this phone";
  }
  if (s.lastError) label += ` · ${s.lastError}`;
  if (s.storageError) label += ` · ${s.storageError}`;
  return {
    active,
    state,
    trip: s.trip,
    pending: s.pending,
    notAccepted: s.refused.count,
    label,
    summary: s.summary,
    start,
    stop,
    dismissSummary,
  };
}

let described = describe(snapshot);
let describedFrom = snapshot;
function current() {
  if (describedFrom !== snapshot) {
    described = describe(snapshot);
    describedFrom = snapshot;
  }
  return described;
}

function subscribeStore(listen) {
  listeners.add(listen);
  return () => listeners.delete(listen);
}

const idle = describe({ ...snapshot, trip: null });

/** The trip being recorded so far, across reloads: {startedAt (ms), distanceM}, or null. */
export function tripSoFar() {
  const trip = readJson(TRIP_KEY, null);
  const tally = readJson(TALLY_KEY, null);
  if (!trip || tally?.uuid !== trip.uuid) return null;
  return { startedAt: trip.startedAt, distanceM: tally.distanceM ?? 0 };
}

/** The recorder for a component: {active, state, pending, label, summary, start, stop, …}. */
export function useTripRecorder() {
  return useSyncExternalStore(subscribeStore, current, () => idle);
}
