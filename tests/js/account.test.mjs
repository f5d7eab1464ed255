// Which account the phone's queued recordings belong to (assets/kei/account.js).
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
  get length() {
    return store.size;
  },
  key: (i) => [...store.keys()][i] ?? null,
};
let answer = null; // what the fake server says to GET /api/v1/me
let calls = 0;
globalThis.fetch = async () => {
  calls += 1;
  if (answer === "offline") throw new TypeError("Failed to fetch");
  if (answer === null) return { ok: false, status: 401, json: async () => ({}) };
  return { ok: true, status: 200, json: async () => ({ username: answer }) };
};

const { whoAmI, tagTrip, ownerOf, forgetMe } = await import("../../assets/kei/account.js");

beforeEach(() => {
  store.clear();
  forgetMe();
  calls = 0;
});

test("the server names the signed-in account; 401 is signed out; offline is unknown", async () => {
  answer = "alice";
  assert.equal(await whoAmI(), "alice");
  assert.equal(localStorage.getItem("kei-drive.me"), "alice");
  assert.equal(await whoAmI(), "alice");
  assert.equal(calls, 1); // asked once a minute at most
  answer = null;
  assert.equal(await whoAmI(true), null);
  answer = "offline";
  assert.equal(await whoAmI(true), undefined);
});

test("a trip belongs to the account that was signed in when it started", async () => {
  answer = "alice";
  await whoAmI();
  tagTrip("trip-1");
  answer = "bob";
  assert.equal(await whoAmI(true), "bob");
  assert.equal(ownerOf("trip-1", "bob"), "alice"); // never re-tagged by whoever signs in
  assert.equal(ownerOf("trip-2", "bob"), "bob"); // untagged: the first account to send it
  assert.equal(ownerOf("trip-2", "alice"), "bob");
});

test("a phone that never saw an account leaves new trips untagged", () => {
  tagTrip("trip-3");
  assert.equal(localStorage.getItem("kei-drive.trip-owners"), null);
});

test("another account signing in on this phone forgets the previous one's data, not its queue", async () => {
  answer = "alice";
  await whoAmI();
  tagTrip("trip-1");
  const kept = {
    "kei-drive.trip": "{}",
    "kei-drive.create-queue": "[]",
    "kei-drive.finish-queue": "[]",
    "kei-drive.settings": "{}",
  };
  const private_ = {
    "kei-drive.vehicles": '[{"id": 1, "nickname": "Alice\'s Sambar"}]',
    "kei-drive.rules": '{"GA": {"overridden": true}}',
    "kei-drive.guidance": '{"version": 1}',
    "kei-map-view:trip-map": '{"lat": 39.3}',
  };
  for (const [k, v] of Object.entries({ ...kept, ...private_ })) localStorage.setItem(k, v);
  answer = "alice";
  await whoAmI(true); // the same account again: nothing forgotten
  assert.equal(localStorage.getItem("kei-drive.vehicles"), private_["kei-drive.vehicles"]);
  answer = "bob";
  assert.equal(await whoAmI(true), "bob");
  for (const key of Object.keys(private_)) assert.equal(localStorage.getItem(key), null, key);
  for (const [k, v] of Object.entries(kept)) assert.equal(localStorage.getItem(k), v, k);
  assert.equal(ownerOf("trip-1", "bob"), "alice"); // the queued trip still waits for Alice
});
