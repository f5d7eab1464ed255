"""Build ``kei_drive/data/kei_rules.json`` from the researched rules (version 2).

Input: the shared research file ``kei_state_rules.json`` version 2 (2026-11-26; one entry
per state, with optional ``effective_from`` and ``future``). Output: the package format
(``schema: kei-drive/kei-rules``, version 1): per state a list of rule *periods*, oldest
first, each with ``effective_from`` and ``last_reviewed``; plus ``provenance``, the
``changes`` made here (each with its reason and sources) and the ``checked`` spot-checks
that confirmed an entry without changing it.

Run from the project root::

    .venv/bin/python scripts/build_kei_rules.py [--source PATH]

The result is validated with the same loader the app uses before it is written.
Corrections are data in this script (``CHANGES``), never silent edits of the output.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kei_drive.core.rules import load_rules  # noqa: E402
from kei_drive.core.rules_schema import RULES_SCHEMA, SCHEMA_VERSION  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "kei_state_rules.json"
OUT = ROOT / "kei_drive" / "data" / "kei_rules.json"
RESEARCH_DATE = "2026-11-26"  # version 2 compiled, and the date of the checks below
REVIEW_DATE = "2026-11-26"

# Short curated clauses for the one-line advice of high-stakes states (checked below).
SUMMARIES = {
    "NY": "DMV refuses Kei registration",
    "GA": "Department of Revenue refuses Kei registration and has revoked titles since 2023",
    "ME": "Kei count as 'off-road vehicles' and cannot be registered for road use since 2021",
    "IL": "Secretary of State revokes Kei plates and brands titles (since 2025)",
    "RI": "new Kei registrations refused since 2024; all Kei only on roads posted 35 mph or less",
    "FL": "Kei (mini trucks) only on streets posted 35 mph or less; crossing faster roads at "
    "intersections allowed",
    "LA": "Kei (mini trucks) only on highways posted 55 mph or less; no interstates, "
    "controlled-access or multi-lane divided highways",
}

CO_NOW_SUMMARY = (
    "DMV will not title or register Kei, or allow them on any road, until 2028-01-01 "
    "(HB25-1281 takes effect 2027-07-01; registration opens 2028-01-01)"
)
CO_FUTURE_SUMMARY = (
    "Kei may be titled and registered from 2028-01-01 (HB25-1281, law in effect since "
    "2027-07-01); roads posted 55 mph or less only, no limited-access highways"
)

ME_SOURCES_ADDED = [
    "https://fastdemocracy.com/bill-summary/?billsummary_state=me&billsummary_id=MEB00009990&billsummary_session=130",
    "http://delicaforum.com/index.php?threads/maine-canceling-delica-registration.3907/page-8",
]

# Every change made to version 2, with its reason and sources (kept in the output).
CHANGES = [
    {
        "state": "CO",
        "field": "periods",
        "from": "one entry (banned) with a 'future' list",
        "to": "two periods: banned (no start date) and restricted from 2028-01-01",
        "reason": "The package format models enacted changes as dated periods. The Colorado "
        "DMV page (re-read 2026-11-26) says Kei may be titled and registered 'effective "
        "January 1, 2028' and not before; the bill record says the act takes effect "
        "2027-07-01 and applies to applications and offenses from 2028-01-01. The switch is "
        "dated 2028-01-01 and both dates are kept in the wording.",
        "sources": [
            "https://dmv.colorado.gov/registration",
            "https://www.billtrack50.com/billdetail/1840475",
        ],
    },
    {
        "state": "ME",
        "field": "citation",
        "from": "29-A M.R.S. § 354 (as amended 2021-06-15); 29-A M.R.S. § 101(32-A)",
        "to": "29-A M.R.S. § 354; § 101(47-A) 'off-road vehicle' as amended by P.L. 2021, "
        "c. 216 (LD 1433, approved 2021-06-15); § 2092",
        "reason": "§ 101(32-A) is the low-speed-vehicle definition; the definition that makes "
        "non-FMVSS vehicles 'off-road vehicles' is § 101(47-A), amended by P.L. 2021 c. 216. "
        "The Maine State Police reply quoted on the Delica forum cites § 354 (no highway "
        "registration) and § 2092 (no operation of off-road vehicles on a public way).",
        "sources": ME_SOURCES_ADDED,
    },
    {
        "state": "ME",
        "field": "conditions",
        "from": "(v2 text)",
        "to": "(v2 text) + note on § 2092",
        "reason": "Added: the State Police read § 2092 as barring 'off-road vehicles' from public "
        "ways, which may reach Kei registered elsewhere (not confirmed). Status unchanged.",
        "sources": ME_SOURCES_ADDED[1:],
    },
    {
        "state": "NY",
        "field": "sources",
        "from": "WorldPopulationReview listed first",
        "to": "owner report and press listed first, aggregator last",
        "reason": "The first source names the advice's source; WPR is an aggregator the methods "
        "note says is out of date in places. Same sources, new order.",
        "sources": [],
    },
]

# Spot-checks (2026-11-26, stored public copies) that confirmed an entry as it was.
CHECKED = [
    {
        "state": "FL",
        "result": "confirmed: Fla. Stat. 316.2122(1) (2009 text) allows mini trucks only on "
        "streets posted 35 mph or less, crossing faster roads at intersections allowed.",
        "sources": ["https://sowal.com/forum/threads/lowering-the-speed-limit-on-30a.43847/page-5"],
    },
    {
        "state": "LA",
        "result": "confirmed: La. R.S. 32:299.2(A): highways posted 55 mph or less, except "
        "interstates, controlled-access and multi-lane divided highways.",
        "sources": ["https://self-law.org/code/la/title-32/32-733"],
    },
    {
        "state": "CO",
        "result": "confirmed: DMV registration page and bill record (see changes).",
        "sources": [
            "https://dmv.colorado.gov/registration",
            "https://www.billtrack50.com/billdetail/1840475",
        ],
    },
    {
        "state": "GA",
        "result": "confirmed: May 2023 MVD letter, titles and plates revoked; HB 308 vetoed.",
        "sources": [
            "https://www.theautopian.com/georgias-governor-vetoes-the-imported-car-kei-legalization-and-the-reason-is-really-weird"
        ],
    },
    {
        "state": "ME",
        "result": "confirmed banned: P.L. 2021 c. 216 amends the off-road-vehicle definition; "
        "State Police letter on recalled registrations (citation corrected, see changes).",
        "sources": ME_SOURCES_ADDED,
    },
    {
        "state": "NY",
        "result": "partly confirmed: only an owner report of the DMV keeping a Kei title was "
        "found; no DMV statement. Status banned/medium kept.",
        "sources": ["https://www.savethekei.com/post/the-new-york-state-dmv-stole-my-title"],
    },
]

PERIOD_KEYS = (
    "status",
    "max_road_speed_mph",
    "interstate_forbidden",
    "conditions",
    "citation",
    "sources",
    "source_date",
    "confidence",
)


def period_from(entry: dict, effective_from: str | None) -> dict:
    period = {k: copy.deepcopy(entry[k]) for k in PERIOD_KEYS}
    period["effective_from"] = effective_from
    period["last_reviewed"] = REVIEW_DATE
    if entry["state"] in SUMMARIES:
        period["summary"] = SUMMARIES[entry["state"]]
    return period


def colorado(entry: dict) -> list[dict]:
    now_text, _, future_text = entry["conditions"].partition("ENACTED, NOT YET IN FORCE:")
    if not future_text:
        raise SystemExit("CO conditions no longer hold the 'ENACTED, NOT YET IN FORCE:' part")
    (future,) = entry["future"]
    now = period_from(entry, entry.get("effective_from"))
    now["conditions"] = (
        now_text.strip() + " HB25-1281 (signed 2025-05-09) takes effect 2027-07-01, but the DMV "
        "titles and registers Kei only from 2028-01-01; this app switches to the new rule on "
        "2028-01-01."
    )
    now["summary"] = CO_NOW_SUMMARY
    later = period_from(entry, future["effective_from"])
    for key in ("status", "max_road_speed_mph", "interstate_forbidden", "citation"):
        later[key] = future[key]
    later["conditions"] = (
        "From 2028-01-01 (HB25-1281, signed 2025-05-09, act effective 2027-07-01, applying to "
        "applications and offenses from 2028-01-01): " + future_text.strip()
    )
    later["summary"] = CO_FUTURE_SUMMARY
    return [now, later]


def convert(entries: list[dict]) -> dict:
    states = {}
    for entry in sorted(entries, key=lambda e: e["state"]):
        code = entry["state"]
        if code == "CO":
            periods = colorado(entry)
        else:
            if entry.get("future"):
                raise SystemExit(f"{code}: unexpected 'future' entry; extend this script")
            periods = [period_from(entry, entry.get("effective_from"))]
        states[code] = {"name": entry["name"], "periods": periods}

    me = states["ME"]["periods"][0]
    me["citation"] = CHANGES[1]["to"]
    me["conditions"] += (
        " The Maine State Police read 29-A M.R.S. § 2092 as barring 'off-road vehicles' from "
        "public ways, which may also reach Kei registered in another state (not confirmed)."
    )
    me["sources"] += [s for s in ME_SOURCES_ADDED if s not in me["sources"]]

    ny = states["NY"]["periods"][0]
    ny["sources"] = [s for s in ny["sources"] if "worldpopulationreview" not in s] + [
        s for s in ny["sources"] if "worldpopulationreview" in s
    ]
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    entries = json.loads(args.source.read_text(encoding="utf-8"))
    if len(entries) != 51:
        raise SystemExit(f"expected 51 jurisdictions, got {len(entries)}")
    doc = {
        "schema": RULES_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "data_version": f"{RESEARCH_DATE}.1",
        "disclaimer": "Advice with sources, not legal advice and never legal clearance. Many "
        "entries are low-confidence; check the current statute or the DMV before relying on "
        "them. Whether a Kei registered in one state may pass through a 'banned' state is "
        "legally unsettled.",
        "provenance": {
            "derived_from": f"Kei Drive research file kei_state_rules.json version 2 "
            f"({RESEARCH_DATE}); methods note in kei_state_rules.md",
            "script": "scripts/build_kei_rules.py",
            "status_meaning": {
                "legal": "registrable and usable with at most ordinary rules",
                "restricted": "registrable, but road use limited (road type, posted speed, "
                "permit, farm or collector use)",
                "banned": "the state refuses registration for road use (or revokes it)",
                "unclear": "no statute or agency source found, or sources conflict",
            },
            "max_road_speed_mph": "highest posted limit of a road a Kei may use; null if the "
            "law sets none or it could not be verified",
            "interstate_forbidden": "true = interstates / limited-access highways off-limits; "
            "null = unknown",
            "confidence": "high = statute or agency text read and corroborated; medium = bill "
            "text, summaries or reputable press; low = aggregators, dealer blogs or inference",
        },
        "changes": CHANGES,
        "checked": CHECKED,
        "states": convert(entries),
    }
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    book = load_rules(tmp, overrides_path=tmp.with_suffix(".none"))  # validate before use
    tmp.replace(args.out)
    print(f"wrote {args.out.relative_to(ROOT)}: {len(book.states())} jurisdictions")


if __name__ == "__main__":
    main()
