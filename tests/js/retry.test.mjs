// Loading until it arrives (assets/kei/retry.js): the state lines and rules behind the badge.
import assert from "node:assert/strict";
import { test } from "node:test";

import { untilLoaded } from "../../assets/kei/retry.js";

function flakyLoad(failuresFirst) {
  const calls = [];
  const load = () => {
    calls.push(Date.now());
    if (calls.length <= failuresFirst) return Promise.reject(new Error(`try ${calls.length}`));
    return Promise.resolve({ loaded: calls.length });
  };
  return { load, calls };
}

test("failures are retried after each delay in turn, and told, until a load succeeds", async () => {
  const { load, calls } = flakyLoad(3);
  const told = [];
  const value = await untilLoaded(load, {
    delaysMs: [5, 20],
    onFailure: (error, attempts) => told.push([error.message, attempts]),
    target: new EventTarget(),
  });
  assert.deepEqual(value, { loaded: 4 });
  assert.deepEqual(told, [["try 1", 1], ["try 2", 2], ["try 3", 3]]);
  const pauses = calls.slice(1).map((t, i) => t - calls[i]);
  assert.ok(pauses[0] >= 4 && pauses[1] >= 19 && pauses[2] >= 19, pauses); // the last delay repeats
});

test("coming back online retries at once instead of waiting out the delay", async () => {
  const { load, calls } = flakyLoad(1);
  const target = new EventTarget();
  const loaded = untilLoaded(load, { delaysMs: [60_000], target });
  await new Promise((done) => setTimeout(done, 5));
  assert.equal(calls.length, 1);
  target.dispatchEvent(new Event("online"));
  assert.deepEqual(await loaded, { loaded: 2 });
});

test("a load that throws rather than rejects is a failure too", async () => {
  let calls = 0;
  const load = () => {
    calls += 1;
    if (calls === 1) throw new Error("no network");
    return "ok";
  };
  assert.equal(await untilLoaded(load, { delaysMs: [1], target: new EventTarget() }), "ok");
});
