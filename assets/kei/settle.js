// What the phone may forget after sending a batch of fixes: the one decision that keeps
// a fix the server has not stored from being lost. No dependencies (tested with node).
//
// settleBatch(status, reply, ids) -> { remove, hold, stop }
//   remove: ids the phone deletes: stored (accepted or duplicate), or rejected for a
//           reason retrying cannot change (bad coordinates, bad id, ...).
//   hold:   [{ id, reason }] kept and shown as "not accepted", sent again later: a
//           rejection the server marks retryable (e.g. a clock far off), or a whole
//           batch refused (400, 413, 404, ...), which says nothing about the fixes.
//   stop:   the server cannot take anything now (network error, 5xx, 503 busy or
//           read-only): keep everything as it is and stop this round.
// `status` is 0 for a network error; `reply` the parsed JSON body or null.

export function settleBatch(status, reply, ids) {
  if (status === 0 || status >= 500) {
    return { remove: [], hold: [], stop: true, reason: serverReason(status, reply) };
  }
  if (status === 200 && reply && Array.isArray(reply.rejected)) {
    const retryable = new Map();
    for (const item of reply.rejected) {
      if (item && item.retryable && item.id != null) retryable.set(String(item.id), item.reason);
    }
    return {
      remove: ids.filter((id) => !retryable.has(id)),
      hold: ids.filter((id) => retryable.has(id)).map((id) => ({ id, reason: retryable.get(id) })),
      stop: false,
    };
  }
  // A refused or unreadable answer for the whole batch: nothing in it is known stored.
  const reason = serverReason(status, reply);
  return { remove: [], hold: ids.map((id) => ({ id, reason })), stop: false };
}

function serverReason(status, reply) {
  if (status === 0) return "no connection";
  const said = reply && typeof reply.error === "string" ? `: ${reply.error}` : "";
  return `server answered ${status}${said}`;
}
