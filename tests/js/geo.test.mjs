// Unit tests of the browser's state classification and crossing warnings (assets/kei/geo.js),
// run by tests/unit/test_geo_js.py, which serves the real rules of 2026-12-02 in KEI_RULES_JSON
// (the same payload as /api/v1/rules): the order used here is the core's, not a JS copy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  badgeText,
  compareSeverity,
  enteredHeadline,
  enteredWarning,
  indexStates,
  locate,
  nearHeadline,
  nearWarning,
  stricter,
  upcomingChange,
  visitorText,
} from "../../assets/kei/geo.js";

const states = indexStates(JSON.parse(readFileSync("assets/data/us_states_light.geojson", "utf8")));
const served = process.env.KEI_RULES_JSON ? JSON.parse(readFileSync(process.env.KEI_RULES_JSON, "utf8")) : null;
const rules = served ? Object.fromEntries(served.map((r) => [r.state, r])) : null;
const needRules = { skip: served ? false : "run through pytest (tests/unit/test_geo_js.py)" };

test("points are classified into their state", () => {
  assert.equal(locate(states, 39.9612, -82.9988).code, "OH"); // Columbus
  assert.equal(locate(states, 38.2527, -85.7585).code, "KY"); // Louisville
  assert.equal(locate(states, 43.0481, -76.1474).code, "NY"); // Syracuse
  assert.equal(locate(states, 30.0, -40.0), null); // the Atlantic
  const border = locate(states, 40.0, -84.81); // Ohio, about 1 km east of Indiana
  assert.equal(border.code, "OH");
  assert.deepEqual(border.nearby, ["IN"]);
});

test("severity lists compare element by element", () => {
  assert.equal(compareSeverity([2, 0, -1000, 0], [1, 2, -35, 1]), 1);
  assert.equal(compareSeverity([1, 2, -35, 1], [1, 2, -35, 1]), 0);
  assert.equal(compareSeverity([1, 0, -55, 1], [1, 0, -35, 1]), -1); // higher cap: less strict
  assert.equal(stricter({ severity: [3, 5, -1000, 1] }, null), true);
  assert.equal(stricter({ status: "banned" }, { severity: [0, 0, -1000, 0] }), false); // no order: never guess
});

test("the served order is the core's: unclear above restricted, local-only above unclear", needRules, () => {
  const { VA, OH, NY, IN, TX } = rules;
  assert.equal(stricter(VA, IN), true); // unclear > restricted (the live bug had it the other way)
  assert.equal(stricter(IN, VA), false);
  assert.equal(stricter(OH, VA), true); // only in opt-in towns > unverified
  assert.equal(stricter(OH, IN), true);
  assert.equal(stricter(NY, OH), true); // no public roads > local only
  assert.equal(stricter(TX, IN), false);
});

test("crossing warnings: entering a stricter state warns, the reverse does not", needRules, () => {
  const intoOhio = enteredWarning("IN", "OH", rules);
  assert.match(intoOhio, /^Entered Ohio\. Ohio: only in towns that allow it by ordinance/);
  assert.equal(enteredWarning("OH", "IN", rules), null);
  assert.equal(enteredWarning("OH", "OH", rules), null);
  assert.match(enteredWarning("PA", "NY", rules), /Entered New York.*out-of-state plates/);
});

test("near the line, only the stricter neighbours are named", needRules, () => {
  const inIndiana = { code: "IN", name: "Indiana", nearby: ["OH", "MI"] };
  const text = nearWarning(inIndiana, rules);
  assert.match(text, /^Near Ohio: Ohio: only in towns/);
  assert.doesNotMatch(text, /Michigan/);
  assert.equal(nearWarning({ code: "OH", name: "Ohio", nearby: ["IN"] }, rules), null);
  const inVirginia = { code: "VA", name: "Virginia", nearby: ["KY", "NC"] };
  assert.match(nearWarning(inVirginia, rules), /^Near Kentucky: /); // NC (legal) not named
});

test("badge words: access mode and visitor rule", needRules, () => {
  assert.equal(badgeText("OH", rules.OH), "OH · restricted · Only in towns that allow it by ordinance");
  assert.equal(badgeText("NY", rules.NY), "NY · banned · No public roads");
  assert.match(visitorText(rules.NY), /^Not even on out-of-state plates: .*arrested/);
  assert.equal(visitorText(rules.TX), "registration only — transit unverified");
});

test("an upcoming change within 90 days of the current or home state", needRules, () => {
  assert.equal(upcomingChange(["TX", "CO"], rules, "2026-12-02"), null); // CO is 2028: too far
  const soon = upcomingChange(["TX", "CO"], rules, "2027-11-01");
  assert.equal(soon.code, "CO");
  assert.equal(soon.on, "2028-01-01");
  assert.equal(upcomingChange([null, "CO"], rules, "2028-01-02"), null); // already past
});

test("the warnings' headlines: the state and its rule in the badge's words", needRules, () => {
  assert.equal(
    nearHeadline({ code: "PA", name: "Pennsylvania", nearby: ["NY"] }, rules),
    "Near New York: banned · No public roads",
  );
  assert.equal(nearHeadline({ code: "OH", name: "Ohio", nearby: ["IN"] }, rules), null);
  assert.equal(enteredHeadline("PA", "NY", rules), "Entered New York: banned · No public roads");
  assert.equal(enteredHeadline("OH", "IN", rules), null);
});
