// Trip recording that loses no fix: every fix goes to IndexedDB first, and a
// sync loop sends batches to the server with client-generated ids, so a retry
// never duplicates and a dropped connection only delays the upload. A fix leaves the
// phone only when the server stored it or refused it for good (see settle.js).
import { useCallback, useEffect, useRef, useState } from "react";
import { settleBatch } from "./settle.js";
import { forgetMe, ownerOf, tagTrip, whoAmI } from "./account.js";
import { reportRoad } from "./road.js";

const TRIP_KEY = "kei-drive.trip"; // the trip being recorded (survives reloads)
const FINISH_KEY = "kei-drive.finish-queue"; // stopped trips whose finish call is still owed
const CREATE_KEY = "kei-drive.create-queue"; // started trips the server has not confirmed yet
const DB_NAME = "kei-drive";
const STORE = "fixes";
const BATCH = 500;
const MIN_BATCH = 25; // after a 413, batches shrink down to this
const HOLD_MS = 20_000; // a fix the server did not accept is sent again after this
const SYNC_EVERY_MS = 3000;
const PAUSE_AFTER_MS = 120_000; // stopped this long: auto-pause
const RESUME_MPS = 1.5;

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
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 401) throw new SignedOutError();
  if (!response.ok && response.status >= 500) throw new Error(`server ${response.status}`);
  return response;
}

export function useTripRecorder() {
  const [trip, setTrip] = useState(null);
  const [pending, setPending] = useState(0);
  const [refused, setRefused] = useState({ count: 0, reason: null });
  const batchSize = useRef(BATCH);
  const [paused, setPaused] = useState(false);
  const [online, setOnline] = useState(true);
  const [lastError, setLastError] = useState(null);
  const db = useRef(null);
  const stillSince = useRef(null);
  const syncing = useRef(false);

  const countPending = useCallback(async () => {
    if (!db.current) return;
    setPending(await run(db.current, "readonly", (s) => s.count()));
  }, []);

  const countRefused = useCallback(async () => {
    const held = (await run(db.current, "readonly", (s) => s.getAll())).filter((p) => p.notAccepted);
    setRefused({ count: held.length, reason: held.length ? held[held.length - 1].notAccepted : null });
  }, []);

  const sync = useCallback(async () => {
    if (!db.current || syncing.current) return;
    syncing.current = true;
    try {
      // Accounts: only the signed-in account's own recordings are sent (account.js).
      const me = await whoAmI();
      if (me === null) throw new SignedOutError();
      let othersWait = null;
      const mine = (uuid) => {
        const owner = me === undefined ? null : ownerOf(uuid, me);
        if (owner && owner !== me) othersWait = owner;
        return !owner || owner === me;
      };
      // Trips first (idempotent PUT; it also carries the vehicle), then their fixes.
      for (const owed of readJson(CREATE_KEY, [])) {
        if (!mine(owed.uuid)) continue;
        const body = { started_at: owed.startedAt, ...(owed.vehicleId ? { vehicle_id: owed.vehicleId } : {}) };
        const response = await post(`/api/v1/trips/${owed.uuid}`, body, "PUT");
        if (!response.ok) setLastError(`server refused the trip (${response.status})`);
        const rest = readJson(CREATE_KEY, []).filter((o) => o.uuid !== owed.uuid);
        localStorage.setItem(CREATE_KEY, JSON.stringify(rest));
      }
      // Send every trip's waiting fixes, oldest first, a batch at a time; each fix at
      // most once per round, and fixes not accepted only after HOLD_MS.
      const now = Date.now();
      const due = (await run(db.current, "readonly", (s) => s.getAll())).filter(
        (p) => !p.heldUntil || p.heldUntil <= now,
      );
      const byTrip = new Map();
      for (const p of due) {
        if (!byTrip.has(p.trip)) byTrip.set(p.trip, []);
        byTrip.get(p.trip).push(p);
      }
      let refusedBatch = null;
      for (const [uuid, fixes] of byTrip) {
        if (!mine(uuid)) continue;
        for (let i = 0; i < fixes.length; ) {
          const batch = fixes.slice(i, i + batchSize.current);
          const { status, reply } = await sendBatch(uuid, batch.map(wireFix));
          reportRoad(status, reply);
          if (status === 401) throw new SignedOutError();
          const { remove, hold, stop, reason } = settleBatch(status, reply, batch.map((p) => p.id));
          if (stop) throw Object.assign(new Error(reason), { fromServer: status !== 0 });
          const byId = new Map(batch.map((p) => [p.id, p]));
          const heldUntil = Date.now() + HOLD_MS;
          await run(db.current, "readwrite", (s) => {
            remove.forEach((id) => s.delete(id));
            hold.forEach(({ id, reason: why }) => s.put({ ...byId.get(id), notAccepted: why, heldUntil }));
          });
          await countPending();
          if (status === 413 && batchSize.current > MIN_BATCH) {
            batchSize.current = Math.max(MIN_BATCH, Math.floor(batchSize.current / 2));
            continue; // the same fixes again, in smaller batches (they are held; resend now)
          }
          if (status !== 200) refusedBatch = `server refused a batch (${status})`;
          i += batch.length;
        }
      }
      for (const owed of readJson(FINISH_KEY, [])) {
        if (!mine(owed.uuid)) continue;
        await post(`/api/v1/trips/${owed.uuid}/finish`, { ended_at: owed.endedAt });
        const rest = readJson(FINISH_KEY, []).filter((o) => o.uuid !== owed.uuid);
        localStorage.setItem(FINISH_KEY, JSON.stringify(rest));
      }
      await countRefused();
      setOnline(true);
      setLastError(othersWait ? `recorded as ${othersWait}: sign in as ${othersWait} to send` : refusedBatch);
    } catch (err) {
      if (err instanceof SignedOutError) {
        forgetMe();
        setLastError(SIGNED_OUT_NOTE);
      } else {
        setOnline(false);
        setLastError(err?.fromServer ? err.message : null);
        if (!err?.fromServer) reportRoad(0, null); // no connection: the road is unknown
      }
    } finally {
      syncing.current = false;
    }
  }, [countPending, countRefused]);

  useEffect(() => {
    setTrip(readJson(TRIP_KEY, null));
    let timer = null;
    openDb()
      .then((opened) => {
        db.current = opened;
        countPending();
        sync();
        timer = setInterval(sync, SYNC_EVERY_MS);
      })
      .catch(() => setLastError("this browser cannot store fixes offline"));
    window.addEventListener("online", sync);
    return () => {
      clearInterval(timer);
      window.removeEventListener("online", sync);
    };
  }, [sync, countPending]);

  const start = useCallback((vehicleId = null) => {
    const next = { uuid: crypto.randomUUID(), startedAt: Date.now(), vehicleId };
    tagTrip(next.uuid); // the account recording it (account.js)
    localStorage.setItem(TRIP_KEY, JSON.stringify(next));
    setTrip(next);
    setPaused(false);
    localStorage.setItem(CREATE_KEY, JSON.stringify([...readJson(CREATE_KEY, []), next]));
    sync();
  }, [sync]);

  const stop = useCallback(() => {
    const current = readJson(TRIP_KEY, null);
    if (current) {
      const owed = readJson(FINISH_KEY, []);
      owed.push({ uuid: current.uuid, endedAt: Date.now() });
      localStorage.setItem(FINISH_KEY, JSON.stringify(owed));
    }
    localStorage.removeItem(TRIP_KEY);
    setTrip(null);
    sync();
  }, [sync]);

  const addFix = useCallback(
    (fix, speedMps) => {
      const current = readJson(TRIP_KEY, null);
      if (!current || !db.current) return;
      // Auto-pause when parked for a while; resume on movement.
      const moving = (speedMps ?? 0) >= RESUME_MPS;
      if (moving) stillSince.current = null;
      else stillSince.current ??= fix.timestamp;
      const shouldPause = !moving && fix.timestamp - stillSince.current > PAUSE_AFTER_MS;
      setPaused(shouldPause);
      if (shouldPause) return;
      const point = {
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
      run(db.current, "readwrite", (s) => s.put(point)).then(countPending);
    },
    [countPending],
  );

  const active = Boolean(trip);
  let state = active ? (paused ? "paused" : "recording") : "idle";
  let label = active ? (paused ? "Paused (parked)" : "Recording") : "Not recording";
  if (pending > 0) label += ` · ${pending} fix${pending === 1 ? "" : "es"} waiting to send`;
  if (refused.count > 0) {
    label += ` · ${refused.count} not accepted yet, kept on this phone (${refused.reason})`;
  }
  if (!online) {
    state = active ? state : "offline";
    label += " · offline, kept on this phone";
  }
  if (lastError) label += ` · ${lastError}`;
  return { active, state, pending, notAccepted: refused.count, label, start, stop, addFix };
}
