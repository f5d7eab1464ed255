// assets/kei/net.js: a request timeout that works where AbortSignal.timeout is missing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { timeoutSignal } from "../../assets/kei/net.js";

test("a timeout signal aborts after its time, with or without AbortSignal.timeout", async () => {
  const native = AbortSignal.timeout;
  for (const missing of [false, true]) {
    if (missing) delete AbortSignal.timeout; // Safari before 16 (iOS 15 phones)
    try {
      const signal = timeoutSignal(20);
      assert.equal(signal.aborted, false);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(signal.aborted, true, `missing=${missing}`);
    } finally {
      AbortSignal.timeout = native;
    }
  }
});
