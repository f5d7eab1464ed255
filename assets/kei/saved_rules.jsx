// The States page without its server: offline (or on a signal that never brings the page's
// data) it showed its frame and "0 of 51". The phone keeps a copy of the rules (saved by
// loadRules, on the Drive screen or here): shown in their place, with its date.
import { useEffect, useState } from "react";

import { RULES_KEY, RULES_SAVED_KEY, loadRules } from "./states.js";

const WAIT_FOR_SERVER_MS = 8000; // a weak signal: the page's own data may still come
const REFRESH_AFTER_MS = 24 * 3600 * 1000;

function readSaved() {
  try {
    const rules = JSON.parse(localStorage.getItem(RULES_KEY) ?? "null");
    return Array.isArray(rules) ? { rules, savedAt: localStorage.getItem(RULES_SAVED_KEY) } : null;
  } catch {
    return null;
  }
}

function savedOn(iso) {
  const when = iso ? new Date(iso) : null;
  return when && !Number.isNaN(when.getTime())
    ? when.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" })
    : "an earlier visit";
}

function firstAccess(rule) {
  return rule.access_text ? rule.access_text.split(" · ")[0] : "";
}

export function SavedRules({ loaded }) {
  const [offline, setOffline] = useState(false); // read after hydration: no mismatch
  const [waitedLong, setWaitedLong] = useState(false);
  const [saved, setSaved] = useState(null);

  useEffect(() => {
    const update = () => setOffline(navigator.onLine === false);
    update();
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    const timer = setTimeout(() => setWaitedLong(true), WAIT_FOR_SERVER_MS);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
      clearTimeout(timer);
    };
  }, []);

  useEffect(() => {
    const copy = readSaved();
    setSaved(copy);
    const age = copy?.savedAt ? Date.now() - new Date(copy.savedAt).getTime() : Infinity;
    if (navigator.onLine !== false && !(age < REFRESH_AFTER_MS)) {
      loadRules().then(() => setSaved(readSaved()), () => {}); // kept for a later offline visit
    }
  }, []);

  if (loaded || !(offline || waitedLong)) return null;
  if (!saved) {
    return (
      <p id="saved-rules" className="kd-note" role="status">
        No copy of the rules on this phone yet: open this page or the Drive screen once with a
        connection, and it keeps one.
      </p>
    );
  }
  const rules = [...saved.rules].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return (
    <section id="saved-rules" className="kd-saved-rules" aria-label="Saved rules">
      <p className="kd-note" role="status">
        This phone's copy of the rules, saved {savedOn(saved.savedAt)}: the page's own needs a
        connection. Advice with sources, never legal clearance.
      </p>
      <div className="kd-table-wrap">
        <table className="kd-table">
          <thead>
            <tr>
              <th className="kd-col-state">State</th>
              <th>Status</th>
              <th>Roads</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((rule) => (
              <tr key={rule.state} data-state={rule.state} className="kd-state-row">
                <td className="kd-col-state">
                  <span className="kd-state-name">{rule.name}</span>{" "}
                  <span className="kd-state-code">{rule.state}</span>
                </td>
                <td data-status={rule.status}>
                  <span className={`kd-swatch kd-swatch-${rule.status}`} /> {rule.status}
                </td>
                <td>
                  {firstAccess(rule) || rule.advice || ""}
                  {rule.sources?.[0] ? (
                    <>
                      {" "}
                      <a href={rule.sources[0]} target="_blank" rel="noreferrer">
                        source
                      </a>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
