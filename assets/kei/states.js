// The Drive screen's state badge: the state the phone is in, its Kei rule, and a
// warning near or across a line into a stricter state. Works offline once the
// polygons and rules have been loaded (the service worker caches both; the rules
// are also kept in localStorage).
import { useEffect, useRef, useState } from "react";

import { enteredHeadline, enteredWarning, indexStates, locate, nearHeadline, nearWarning, upcomingChange } from "./geo.js";
import { fetchJson, untilLoaded } from "./retry.js";

export const RULES_KEY = "kei-drive.rules";
export const RULES_SAVED_KEY = "kei-drive.rules.saved"; // when (ISO time) they were saved
export const STATE_LINES_URL = "/data/us_states_light.geojson";
const ATTRIBUTION = "State lines: US Census TIGER/Line";

function today() {
  return new Date().toISOString().slice(0, 10);
}

/** Today's Kei rules from the API (kept in localStorage for offline use); fails only when
 * neither the API nor a saved copy has them. */
export async function loadRules() {
  try {
    const rules = await fetchJson(`/api/v1/rules?on=${today()}`);
    localStorage.setItem(RULES_KEY, JSON.stringify(rules));
    localStorage.setItem(RULES_SAVED_KEY, new Date().toISOString());
    return rules;
  } catch (error) {
    const saved = localStorage.getItem(RULES_KEY);
    if (saved) return JSON.parse(saved);
    throw error;
  }
}

export function useStateRule(position, homeState = null) {
  const [states, setStates] = useState(null);
  const [rules, setRules] = useState({});
  const [loadError, setLoadError] = useState(null);
  const previous = useRef(null);
  const [entered, setEntered] = useState(null);

  // The state lines (100 KB gzipped, and parsing them takes a phone's CPU) load with the
  // first fix: the speed readout comes first, and without a fix there is no state to find.
  const hasPosition = Boolean(position);
  const requested = useRef(false);
  useEffect(() => {
    if (!hasPosition || requested.current) return;
    requested.current = true;
    const onFailure = () => setLoadError("State map not available offline yet");
    untilLoaded(() => fetchJson(STATE_LINES_URL), { onFailure }).then((geojson) => {
      setLoadError(null);
      setStates(indexStates(geojson));
    });
  }, [hasPosition]);
  // The rules, likewise, once there is a state to look up: here, or the vehicle's home state.
  const needRules = hasPosition || Boolean(homeState);
  const rulesRequested = useRef(false);
  useEffect(() => {
    if (!needRules || rulesRequested.current) return;
    rulesRequested.current = true;
    untilLoaded(loadRules).then((list) => setRules(Object.fromEntries(list.map((r) => [r.state, r]))));
  }, [needRules]);

  const here = states && position ? locate(states, position.lat, position.lon) : null;
  const rule = here?.code ? rules[here.code] ?? null : null;

  useEffect(() => {
    const code = here?.code ?? null;
    const text = enteredWarning(previous.current, code, rules);
    if (text) setEntered({ text, headline: enteredHeadline(previous.current, code, rules) });
    else if (code !== previous.current) setEntered(null);
    if (code) previous.current = code;
  }, [here?.code]); // eslint-disable-line react-hooks/exhaustive-deps

  // The warning in full, and its headline for a glance (drive.jsx shows both).
  const warning = entered?.text ?? nearWarning(here, rules);
  const warningHeadline = entered?.headline ?? nearHeadline(here, rules);
  const upcoming = upcomingChange([here?.code, homeState], rules, today());
  let message = "State: …";
  if (loadError) message = loadError;
  else if (states && position && !here?.code) message = "Outside the US";
  return {
    code: here?.code ?? null,
    name: here?.name ?? null,
    rule,
    warning,
    warningHeadline,
    upcoming,
    message,
    attribution: ATTRIBUTION,
  };
}
