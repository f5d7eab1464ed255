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
from kei_drive.core.rules_schema import (  # noqa: E402
    OVERRIDABLE,
    RULES_SCHEMA,
    SCHEMA_VERSION,
)

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

# Second review pass (2026-11-26): sources read for WI, MN, OH (see CHANGES / CHECKED).
WI_SOURCES_ADDED = [  # official bill analysis first: it names the advice's source
    "http://docs.legis.wisconsin.gov/document/proposaltext/2013/REG/AB157,5,20",
    "https://docslib.org/doc/9887939/2013-wisconsin-act-103-motor-vehicle-registration-historic-military-vehicles-and-kei-class-vehicles",
]
WI_SOURCE_DATE = "2013 Wisconsin Act 103 (statute); c.2024 (owner reports)"
WI_CITATION = (
    "Wis. Stat. § 341.10 (grounds for refusing registration) as amended by 2013 Wisconsin "
    "Act 103 (2013 SB 110; Kei class vehicles); § 341.266 (special interest / collector "
    "registration); § 341.268"
)
WI_CONDITIONS_PREFIX = (
    "Statutory basis (2013 Wisconsin Act 103, per the Legislative Council act memo and the "
    "2013 bill analysis): the Department of Transportation must refuse registration of a "
    "'Kei class vehicle', but the refusal does not apply to registration in the special "
    "collector-vehicle category. "
)
MN_SOURCES_ADDED = [
    "https://app.legiplex.com/mn/legislature/2025/2025-r/bills/sf2207/draft-2143688?id=2143688",
]
MN_SUNSET_OLD = (
    "The 2009 law had a 2012 sunset clause; whether it was made permanent was not verified."
)
MN_SUNSET_NEW = (
    "The 2009 law had a 2012 sunset clause, but Minn. Stat. 2024 § 169.045 subd. 1 (as "
    "quoted in 2025 SF 2207) still lets a county, city or town authorize mini trucks on "
    "designated roadways by ordinance, by permit only. SF 2207 (2025, introduced) would "
    "allow operation by ordinance without a permit; its outcome was not checked."
)
MN_SOURCE_DATE = "2009 (law); Minn. Stat. 2024 § 169.045 as quoted in 2025 SF 2207"
OH_SOURCES_ADDED = [
    "https://codes.ohio.gov/ohio-revised-code/section-4519.401/6-30-2025",
    "http://codes.ohio.gov/oac/4501-30",
]
OH_SOURCE_DATE = (
    "statute current as of 2024-08; official text re-read 2026-11-26 (version effective "
    "2025-06-30, HB 54 of the 136th GA)"
)

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
    {
        "state": "WI",
        "field": "citation, conditions, sources, source_date, confidence",
        "from": "Wis. Stat. § 341.266 / § 341.268 (special interest / collector plates); DMV "
        "policy; confidence low",
        "to": WI_CITATION + "; statutory basis added to conditions; confidence medium",
        "reason": "Checked 2026-11-26. The 'DMV policy' is statute: the Wisconsin Legislative "
        "Council memo on 2013 Wisconsin Act 103 (2013 SB 110) lists 'Kei class vehicles' among "
        "the Act's registration changes, and the 2013 bill analysis (AB 157, the same "
        "proposal) says DOT must refuse registration of a Kei class vehicle, except in the "
        "special collector-vehicle category. Status (restricted), cap (none) and interstate "
        "(false) unchanged. Confidence medium, not high: the current text of § 341.10 itself "
        "was not read.",
        "sources": WI_SOURCES_ADDED,
    },
    {
        "state": "MN",
        "field": "conditions, source_date, sources",
        "from": MN_SUNSET_OLD,
        "to": MN_SUNSET_NEW,
        "reason": "Checked 2026-11-26. The 2025 bill SF 2207 (introduced 2025-02-17) quotes "
        "'Minnesota Statutes 2024, section 169.045' with mini trucks still in subdivision 1 "
        "(local ordinance, designated roadways, permit only), so the 2009 mini-truck "
        "authorization did not lapse. Status restricted/medium unchanged.",
        "sources": MN_SOURCES_ADDED,
    },
    {
        "state": "OH",
        "field": "source_date, sources",
        "from": "statute current as of 2024-08 (casetext copy)",
        "to": OH_SOURCE_DATE + "; official code pages added",
        "reason": "Checked 2026-11-26 on the official Ohio code site: ORC 4519.401 still bars "
        "mini-truck operation except farm-to-field use by CAUV farm owners, dealer property "
        "and local permission under 4511.215; the 2025-06-30 version (HB 54) only renumbers "
        "the penalty reference. OAC 4501-30 (eff. 2017-01-01) sets the local-inspection "
        "equipment list for mini trucks operated on public streets. Status, 35 mph cap and "
        "interstate rule unchanged (4511.215 itself was not re-read).",
        "sources": OH_SOURCES_ADDED,
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
    {
        "state": "PA",
        "result": "partly confirmed (2026-11-26): the official PennDOT Mini Trucks FAQ defines a "
        "mini truck as a Kei Jidosha vehicle (660 cc or less, 130 in or less long, 78 in or "
        "less high, 60 in or less wide) and states NHTSA does not endorse their highway use. "
        "The answer to 'How can I register my Mini Truck' was not in the readable part of the "
        "page, so the grandfathering and antique-plate conditions were not re-confirmed. "
        "Status restricted/medium kept.",
        "sources": ["https://pa.gov/en/agencies/dmv/faqs/motor-vehicle-faqs/mini-trucks-faqs.html"],
    },
    {
        "state": "TX",
        "result": "partly confirmed (2026-11-26): SB 1816 as introduced (official Texas "
        "Legislature text) adds a title section for 'miniature vehicles' (Japanese-built car, "
        "truck, van or bus, engine 1,200 cc or less, 60 in or less wide) that applies only to "
        "vehicles 25 or more years old at import, or 25+ and previously titled in the US. The "
        "enrolled text and its operation sections were not found, so legal/medium and "
        "interstate null are kept.",
        "sources": ["https://capitol.texas.gov/tlodocs/89R/billtext/html/SB01816I.htm"],
    },
    {
        "state": "OR",
        "result": "unchanged (2026-11-26): the 2026 reintroduction is reported (KTVZ, "
        "2026-01-20); no enacted 2026 kei law was found. Status banned/medium kept.",
        "sources": [
            "https://ktvz.com/news/bend/2026/01/20/state-senator-broadman-of-bend-colleagues-to-try-again-on-bill-to-allow-small-kei-trucks-on-oregon-highways"
        ],
    },
]

# The rule fields a source period carries (the summary line is written separately).
PERIOD_KEYS = tuple(k for k in OVERRIDABLE if k != "summary")


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

    wi = states["WI"]["periods"][0]
    if " DMV wording was not seen." not in wi["conditions"]:
        raise SystemExit("WI conditions changed upstream; update this script")
    wi["citation"] = WI_CITATION
    wi["conditions"] = WI_CONDITIONS_PREFIX + wi["conditions"].replace(
        " DMV wording was not seen.", " DMV wording was not seen; the refusal itself is statute."
    )
    wi["confidence"] = "medium"
    wi["source_date"] = WI_SOURCE_DATE
    wi["sources"] = WI_SOURCES_ADDED + [s for s in wi["sources"] if s not in WI_SOURCES_ADDED]

    mn = states["MN"]["periods"][0]
    if MN_SUNSET_OLD not in mn["conditions"]:
        raise SystemExit("MN conditions no longer hold the sunset sentence; update this script")
    mn["conditions"] = mn["conditions"].replace(MN_SUNSET_OLD, MN_SUNSET_NEW)
    mn["source_date"] = MN_SOURCE_DATE
    mn["sources"] += [s for s in MN_SOURCES_ADDED if s not in mn["sources"]]

    oh = states["OH"]["periods"][0]
    oh["source_date"] = OH_SOURCE_DATE
    oh["sources"] = OH_SOURCES_ADDED + [s for s in oh["sources"] if s not in OH_SOURCES_ADDED]
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
