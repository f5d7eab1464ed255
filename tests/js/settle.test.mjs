// The phone's keep/delete decision after sending a batch (assets/kei/settle.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { settleBatch } from "../../assets/kei/settle.js";

const ids = ["a", "b", "c"];

test("a 200 deletes stored and finally rejected fixes, holds retryable ones", () => {
  const reply = {
    accepted: 1,
    duplicates: 0,
    rejected: [
      { id: "b", reason: "0,0 is not a real fix", retryable: false },
      { id: "c", reason: "time is in the future", retryable: true },
    ],
  };
  const out = settleBatch(200, reply, ids);
  assert.deepEqual(out.remove, ["a", "b"]);
  assert.deepEqual(out.hold, [{ id: "c", reason: "time is in the future" }]);
  assert.equal(out.stop, false);
});

test("a whole-batch 400 or 413 deletes nothing and says why", () => {
  for (const status of [400, 404, 413]) {
    const out = settleBatch(status, { error: "the body must be {\"points\": [...]}" }, ids);
    assert.deepEqual(out.remove, []);
    assert.deepEqual(out.hold.map((h) => h.id), ids);
    assert.match(out.hold[0].reason, new RegExp(`^server answered ${status}: the body must be`));
  }
});

test("no connection, 5xx and 503 stop the round and keep everything untouched", () => {
  for (const status of [0, 500, 503]) {
    const out = settleBatch(status, status === 503 ? { error: "the database is read-only" } : null, ids);
    assert.equal(out.stop, true);
    assert.deepEqual(out.remove, []);
    assert.deepEqual(out.hold, []);
  }
  assert.match(settleBatch(503, { error: "read-only" }, ids).reason, /503: read-only/);
});

test("a 200 without a readable body deletes nothing", () => {
  const out = settleBatch(200, null, ids);
  assert.deepEqual(out.remove, []);
  assert.equal(out.hold.length, 3);
});
