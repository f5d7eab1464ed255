"""Build ``kei_drive/data/kei_rules.json`` from the researched rules (version 2).

Input: the shared research file ``kei_state_rules.json`` version 2 (2026-11-26; one entry
per state, with optional ``effective_from`` and ``future``). Output: the package format
(``schema: kei-drive/kei-rules``, version 3): per state a list of rule *periods*, oldest
first, each with ``road_access``, ``visitors``, ``vehicle_requirements``,
``registration_routes``, source records with quotes, ``effective_from``/``effective_to``
and ``last_checked``; plus ``provenance``, the ``changes`` made here (each with its reason
and sources), the ``checked`` spot-checks that confirmed an entry without changing it, and
``rechecked`` (what this project re-read itself for the 2026-12 audit, and what it could
not). The v3 fields and the audit's findings are data in ``kei_rules_audit_2026_12.py``.

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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import kei_rules_audit_2026_12 as audit  # noqa: E402

from kei_drive.core.rules import load_rules  # noqa: E402
from kei_drive.core.rules_schema import (  # noqa: E402
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

# The rule fields a version-2 research entry carries (the v3 fields are added below).
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
    period["last_checked"] = REVIEW_DATE
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
    return apply_v3(states)


# --- schema v3 and the 2026-12 audit ----------------------------------------------------

AUDITED = set(
    [
        "CO",
        "TX",
        "FL",
        "LA",
        "RI",
        "KY",
        "IN",
        "ME",
        "GA",
        "NY",
        "PA",
        "OR",
        "WA",
        "MA",
        "MI",
        "IL",
        "WI",
        "MN",
        "OH",
        "WV",
        "NE",
        "CA",
        "AL",
        "AR",
        "NC",
        "TN",
        "OK",
        "SD",
        "UT",
        "VA",
        "VT",
        "HI",
    ]
)
A = audit.S  # source records by key

# Every change of the v3 step, with its reason and sources (kept in the output).
CHANGES_V3 = [
    {
        "state": "*",
        "field": "schema",
        "from": "schema version 1",
        "to": "schema version 3: road_access, crossing_up_to_mph, vehicle_requirements, "
        "registration_routes, visitors, source records, effective_to, change, last_checked",
        "reason": "The 2026-12 audit found the machine fields too permissive where the law "
        "allows Kei only by local ordinance, permit or designation; v1 could not say so. "
        "Defaults: legal -> statewide, banned -> none, unclear -> null (unverified); every "
        "restricted state is set by hand (below). Visitors default to 'unknown'.",
        "sources": [],
    },
    {
        "state": "OH",
        "field": "road_access, visitors, requirements, periods",
        "from": "restricted / 35 mph / interstates forbidden (read as every road <= 35 mph)",
        "to": "local_opt_in (35 mph, police inspection); visitors may_not_operate; split at "
        "2025-06-30 (HB 54)",
        "reason": "Audit error #1: ORC 4519.401(A) bars operating a mini-truck anywhere in Ohio "
        "except as 4511.215 allows (local opt-in ordinances: streets <= 35 mph, police "
        "inspection). Re-read 2026-12-02 in the official code (version effective 2025-06-30) "
        "and a casetext copy of the 2017 version. The audit cites WOWO (2025-07-25) for "
        "towns now being allowed to be stricter or to ban; that report was not re-read.",
        "sources": [A["OH_ORC"]["url"], A["OH_ORC_2017"]["url"]],
    },
    {
        "state": "KY",
        "field": "road_access, visitors, periods, registration_routes, requirements",
        "from": "restricted / no cap / interstates forbidden, one period from 2013-06-25",
        "to": "designated_roads; visitors may_not_operate; new period from 2025-06-27 with "
        "the SB 63 opt-in route (inspection, roll bar, FMVSS seat belts, 20 miles)",
        "reason": "Audit error #2: KRS 189.517(2) 'a person shall not operate a mini-truck "
        "upon any public highway' except crossings, farm or road work on two-lane roads and "
        "designated roads (re-read 2026-12-02, FindLaw and self-law copies). SB 63 / KRS "
        "186.077 names minitrucks among special purpose vehicles (re-read, self-law copy); "
        "the opt-in, 20-mile and no-parkway details are from KACo/KLC via the audit.",
        "sources": [A["KY_KRS"]["url"], A["KY_186077"]["url"], A["KY_KACO"]["url"]],
    },
    {
        "state": "MN",
        "field": "road_access",
        "from": "restricted / no cap (read as every non-interstate road)",
        "to": "permit_only (designated roadways by local ordinance, by permit only)",
        "reason": "Audit error #3 (Minn. Stat. 2024 § 169.045 as quoted in 2025 SF 2207). Not "
        "re-read here; the research text already said the same.",
        "sources": [A["MN_SF2207"]["url"]],
    },
    {
        "state": "AL",
        "field": "vehicle_requirements, registration_routes, conditions, summary",
        "from": "restricted, no cap; '25 mph' called ambiguous",
        "to": "restricted, statewide but only for a mini-truck with a 25 mph speed governor "
        "(requirement speed_governor_25mph); unmodified Kei unverified",
        "reason": "Audit error #4: ADOR Memo 2012-8 defines the § 40-12-240 mini-truck with "
        "'an installed speed governor to prevent the truck from attaining a speed of more "
        "than 25 miles per hour' (re-read 2026-12-02 in a copy of the memo). Confidence "
        "stays medium: the copy is not on an agency site.",
        "sources": [A["AL_MEMO"]["url"]],
    },
    {
        "state": "NY",
        "field": "visitors, sources, summary",
        "from": "banned; transit 'legally unsettled'; no DMV statement",
        "to": "visitors may_not_operate with the DMV's own wording",
        "reason": "Audit error #5: the DMV page 'Motorized devices that cannot be registered "
        "in New York' says 'You cannot register or operate ... You may be arrested if you "
        "do' (re-read 2026-12-02; the stored copy is an older version without the kei "
        "entry); nj1015.com (2025-01-18, re-read) lists 'KEI-Class Vehicles' on it. "
        "Confidence stays medium: the kei entry was seen only through news copies.",
        "sources": [A["NY_DMV"]["url"], A["NY_NJ1015"]["url"]],
    },
    {
        "state": "CO",
        "field": "visitors",
        "from": "transit 'legally unsettled'",
        "to": "may_not_operate until 2028-01-01; unknown from 2028-01-01",
        "reason": "Audit error #5: the DMV says Kei may not 'be driven on any Colorado "
        "roadways' until 2028-01-01 (re-read 2026-12-02).",
        "sources": [A["CO_DMV"]["url"]],
    },
    {
        "state": "TX",
        "field": "effective_from, periods",
        "from": "legal, no start date",
        "to": "legal from 2025-09-01; before it 'unclear' (earlier rule not researched)",
        "reason": "Audit: SB 1816 as introduced takes effect 2025-09-01 (Motor1 copy, per the "
        "audit). The enrolled text and the signing were not seen, here or by the audit; "
        "confidence stays medium.",
        "sources": [A["TX_SB1816"]["url"]],
    },
    {
        "state": "RI",
        "field": "effective_from, crossing_up_to_mph, registration_routes, road_access",
        "from": "banned / 35 mph, no start date",
        "to": "from 2024-07-01: banned (road_access none for new Kei), grandfathered route "
        "(roads <= 35 mph, crossing up to 45 mph); before it 'unclear' (not researched)",
        "reason": "P.L. 2024 ch. 414 is headed '[Effective July 1, 2024.]' (re-read "
        "2026-12-02 on the legislature's site); crossing rule per the FastDemocracy summary "
        "(re-read).",
        "sources": [A["RI_PL"]["url"], A["RI_SUMMARY"]["url"]],
    },
    {
        "state": "IL",
        "field": "effective_from, periods",
        "from": "banned, no start date",
        "to": "banned from 2025-03-01 (revocations began 'in March 2025'; the exact day is "
        "unknown); before it 'unclear' (not researched)",
        "reason": "Audit (Autopian, 2025). Not re-read here.",
        "sources": [A["IL_AUTOPIAN"]["url"]],
    },
    {
        "state": "UT",
        "field": "periods, registration_routes",
        "from": "unclear, one period",
        "to": "unclear, with dated periods from 2025-01-01 (novel-vehicle chapter 41-27 in "
        "force, a lead only) and 2026-10-01 (chapter amended; amended text not found)",
        "reason": "Audit: Laws 2024 ch. 459. § 41-27-201 re-read 2026-12-02 (casetext copy): a "
        "novel vehicle is 'subject to the provisions applicable to an off-highway vehicle'. "
        "A self-law copy marks § 41-27-101 'Superseded 10/1/2026'. Status stays unclear.",
        "sources": [A["UT_4127"]["url"], A["UT_4127_2026"]["url"]],
    },
    {
        "state": "TN",
        "field": "status, road_access, interstate_forbidden",
        "from": "restricted / interstates forbidden / low",
        "to": "unclear / null / null / low",
        "reason": "Audit: only weak sources; the medium-speed-vehicle class (FMVSS 500) does "
        "not fit an unmodified Kei. No primary source settles it.",
        "sources": [],
    },
    {
        "state": "OK",
        "field": "status, road_access",
        "from": "restricted / low",
        "to": "unclear / null / low",
        "reason": "Audit: nothing found supports 'restricted'; the OTC page shows a titled "
        "mini-truck class with no road limits stated. Not re-read here, so 'unclear' rather "
        "than 'legal'.",
        "sources": ["http://www.tax.ok.gov/unconventional.html"],
    },
    {
        "state": "SD",
        "field": "status, road_access, interstate_forbidden",
        "from": "legal / low",
        "to": "unclear / null / null / low",
        "reason": "Audit: 'legal' rests on aggregators only; SD helped write the 2021 AAMVA "
        "off-road best practices (Jalopnik, 2021).",
        "sources": [],
    },
    {
        "state": "GA",
        "field": "confidence, sources",
        "from": "banned / medium",
        "to": "banned / high",
        "reason": "Policy Bulletin MVD-2023-05 itself: 'Kei Vehicles are barred from titling "
        "and registration.' (re-read 2026-12-02 in the studylib copy).",
        "sources": [A["GA_BULLETIN"]["url"]],
    },
    {
        "state": "PA",
        "field": "registration_routes",
        "from": "antique plates only",
        "to": "farm_plate (farm-related trips) and antique_plate",
        "reason": "Audit: Altoona Mirror (2025-04): 'only be registered for off-road use, as "
        "farm vehicles or as antique vehicles'. Not re-read here (the article URL is not "
        "recorded); grandfathering not re-confirmed.",
        "sources": [A["PA_ALTOONA"]["url"]],
    },
    {
        "state": "WI",
        "field": "vehicle_requirements, registration_routes",
        "from": "collector plates, no requirement",
        "to": "second_regular_vehicle requirement; collector_plate route",
        "reason": "§ 341.266(2)(a): the owner 'owns, has registered in this state, and uses "
        "for regular transportation at least one vehicle that has regular registration "
        "plates' (re-read 2026-12-02 in the 2011 statutes; current text not read).",
        "sources": [A["WI_341266"]["url"]],
    },
    {
        "state": "CA",
        "field": "conditions",
        "from": audit.CA_OLD,
        "to": audit.CA_NEW,
        "reason": "Audit (importavehicle.com, 2025-03-20): only pre-1968 direct imports avoid "
        "the conformance requirement. Not re-read here.",
        "sources": [A["CA_IMPORT"]["url"]],
    },
    {
        "state": "AR",
        "field": "vehicle_requirements",
        "from": "glazing and mirrors only in the conditions text",
        "to": "fmvss_glazing requirement; the 55 mph cap stays IIHS-only (noted)",
        "reason": "Audit: § 27-14-726(a) requires FMVSS 205 glazing and FMVSS 111 mirrors; an "
        "unmodified Kei may not meet the definition. Not re-read here.",
        "sources": [A["AR_POLICYRISK"]["url"]],
    },
    {
        "state": "KS",
        "field": "road_access",
        "from": "restricted / no cap (read as every non-interstate road)",
        "to": "designated_roads",
        "reason": "Not in the audit. The research text says Kansas micro utility trucks may "
        "not use interstate, federal or state highways except to cross, leaving county, "
        "township and city roads; v3 has no 'local roads only' mode, so the router flags "
        "every Kansas stretch instead of approving state highways.",
        "sources": [],
    },
    {
        "state": "FL IN LA ME",
        "field": "sources",
        "from": "URLs only",
        "to": "the statute quoted (primary source with quote, required for 'high')",
        "reason": "Re-read 2026-12-02 in stored copies: Fla. Stat. 316.2122 (2009 text on a "
        "forum thread), IC 9-21-8-46, La. R.S. 32:299.2, 29-A M.R.S. § 2092. Confidence "
        "unchanged (high).",
        "sources": [A["FL_316"]["url"], A["IN_IC"]["url"], A["LA_RS"]["url"]],
    },
]

RECHECKED = {
    "how": "No live web. Stored public copies of pages were searched and read on 2026-12-02 "
    "(a page archive available to this project); quotes in 'sources' marked 're-read "
    "2026-12-02' were read there. Others are the audit's quotes.",
    "re_read": [
        "OH: ORC 4519.401, official code page (version effective 2025-06-30) and casetext "
        "(2017 version)",
        "KY: KRS 189.517 (FindLaw, self-law); KRS 186.077 (self-law)",
        "CO: DMV registration page (both sentences)",
        "NY: DMV 'Motorized devices' page (older stored version, no kei entry); nj1015.com "
        "2025-01-18 listing KEI-class vehicles",
        "GA: Policy Bulletin MVD-2023-05 (studylib copy)",
        "AL: ADOR Memo 2012-8 (copy on an unrelated site)",
        "WI: § 341.266(2)(a) (2011 statutes on docs.legis.wisconsin.gov)",
        "RI: P.L. 2024 ch. 414 (webserver.rilegislature.gov); FastDemocracy summary",
        "UT: § 41-27-201 (casetext), § 41-27-101 (self-law, 'Superseded 10/1/2026')",
        "FL 316.2122 (2009 text on a forum), IN IC 9-21-8-46, LA R.S. 32:299.2, ME § 2092",
    ],
    "not_re_read": [
        "TX SB 1816 enrolled text and signing (effective date 2025-09-01 from the introduced "
        "bill, per the audit)",
        "IL: the start of revocations (about March 2025, press only)",
        "MN § 169.045 current text (only as quoted in SF 2207, per the audit)",
        "KY SB 63 details (opt-in, roll bar, seat belts, 20 miles, no parkways) beyond the "
        "§ 186.077 definition: KACo/KLC via the audit",
        "OH: WOWO 2025-07-25 report that towns may be stricter or ban; ORC 4511.215 itself",
        "PA: Altoona Mirror article (farm plate); grandfathering",
        "CA: importavehicle.com pre-1968 note",
        "AR: § 27-14-726 definition and the 55 mph operating rule (IIHS only)",
        "OK OTC page; TN clerk guidance; SD DOR",
        "OR HB 4063 (2026) outcome; Utah's amended 41-27 text; VA SB 320; VT; HI HB 480",
        "No primary source found for CT, NJ, MD, DE, DC, NV, NM, MT, SC, MO, MS, ID, WY, AK, "
        "IA (post-2007), AZ, ND, NH or KS: these stay as they were",
    ],
}


def _record(url: str) -> dict:
    for rec in A.values():
        if rec["url"] == url:
            return copy.deepcopy(rec)
    host = url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")
    return {"url": url, "title": host, "date": None, "quote": None, "primary": False}


def _v3_fields(code: str, period: dict) -> dict:
    """Give a v2-shaped period the v3 fields (defaults and the tables in ``audit``)."""
    status = period["status"]
    default = {"legal": "statewide", "banned": "none", "unclear": None}
    period["road_access"] = (
        audit.RESTRICTED_ACCESS.get(code) if status == "restricted" else default[status]
    )
    period["crossing_up_to_mph"] = None
    period["vehicle_requirements"] = copy.deepcopy(audit.REQUIREMENTS.get(code, []))
    period["registration_routes"] = copy.deepcopy(audit.ROUTES.get(code, []))
    period["visitors"] = copy.deepcopy(audit.VISITORS.get(code, audit.VISITORS_UNKNOWN))
    urls = list(period["sources"])
    added = [A[k]["url"] for k in audit.SOURCES_ADDED.get(code, [])]
    if code in ("PA", "WI", "CA", "AR", "TX", "FL", "IN", "LA"):  # official source stays first
        order = urls + [u for u in added if u not in urls]
    else:
        order = added + [u for u in urls if u not in added]
    period["sources"] = [_record(u) for u in dict.fromkeys(order)]
    if code in AUDITED:
        period["last_checked"] = audit.CHECK_DATE
    return period


def _earlier(period: dict, until: str) -> dict:
    """An 'unclear' period before a dated change whose earlier rule was not researched."""
    out = copy.deepcopy(period)
    out.update(
        status="unclear",
        road_access=None,
        max_road_speed_mph=None,
        interstate_forbidden=None,
        crossing_up_to_mph=None,
        vehicle_requirements=[],
        registration_routes=[],
        visitors=copy.deepcopy(audit.VISITORS_UNKNOWN),
        confidence="low",
        effective_from=None,
        conditions=audit.EARLIER_NOT_RESEARCHED + f" (This period ends {until}.)",
    )
    out.pop("summary", None)
    out.pop("change", None)
    return out


def _dated(period: dict, start: str, change: str) -> dict:
    out = copy.deepcopy(period)
    out["effective_from"] = start
    out["change"] = change
    return out


def apply_v3(states: dict) -> dict:
    """Schema v3 fields for every period, then the audit's period splits and fixes."""
    for code, entry in states.items():
        entry["periods"] = [_v3_fields(code, p) for p in entry["periods"]]
    p = {code: entry["periods"] for code, entry in states.items()}

    co_now, co_2028 = p["CO"]
    co_2028["visitors"] = copy.deepcopy(audit.VISITORS_UNKNOWN)
    co_2028["sources"] = [copy.deepcopy(A["CO_DMV_2028"])] + co_2028["sources"][1:]
    co_2028["change"] = (
        "HB25-1281: Kei may be titled and registered for roads posted 55 mph or less, no "
        "limited-access highways (act effective 2027-07-01; DMV registration from 2028-01-01)"
    )

    (oh,) = p["OH"]
    oh_2017 = copy.deepcopy(oh)
    oh_2017["sources"] = [copy.deepcopy(A["OH_ORC_2017"])] + [
        s for s in oh["sources"] if s["url"] not in (A["OH_ORC"]["url"], A["OH_ORC_2017"]["url"])
    ]
    oh_2017["change"] = (
        "SB 114: mini-trucks may not be operated in Ohio except farm use between fields, "
        "dealer property and towns that allow them by ordinance (ORC 4511.215)"
    )
    oh_2025 = _dated(
        oh,
        "2025-06-30",
        "HB 54 amended ORC 4519.401 (penalty reference); per a 2025-07-25 news report (via "
        "the 2026-12 audit, not re-read) towns may now set stricter rules or ban Kei",
    )
    p["OH"][:] = [oh_2017, oh_2025]

    (ky,) = p["KY"]
    ky["change"] = "KRS 189.517: mini-trucks off public highways except crossings, farm or road "
    ky["change"] += "work on two-lane roads and designated roads"
    ky_2025 = _dated(
        ky,
        "2025-06-27",
        "SB 63 (KRS 186.077): counties and cities may opt in to street-legal special purpose "
        "vehicles, minitrucks included (sheriff inspection, roll bar, FMVSS seat belts, 20 "
        "miles at most on centerline roads, no interstates or parkways)",
    )
    ky_2025["registration_routes"] = [copy.deepcopy(audit.KY_SB63_ROUTE)]
    ky_2025["vehicle_requirements"] = copy.deepcopy(audit.KY_SB63_REQUIREMENTS)
    ky_2025["sources"] = ky["sources"] + [copy.deepcopy(A["KY_186077"])]
    p["KY"].append(ky_2025)

    (tx,) = p["TX"]
    p["TX"][:] = [
        _earlier(tx, "2025-08-31"),
        _dated(
            tx,
            "2025-09-01",
            "SB 1816: 'miniature vehicles' (Kei) titled and registered as motor vehicles "
            "(effective date from the bill as introduced; enrolled text not seen)",
        ),
    ]
    (ri,) = p["RI"]
    ri["crossing_up_to_mph"] = 45
    p["RI"][:] = [
        _earlier(ri, "2024-06-30"),
        _dated(
            ri,
            "2024-07-01",
            "P.L. 2024 ch. 414: new Kei registrations refused; Kei registered before "
            "2024-06-01 may renew; all Kei only on roads posted 35 mph or less",
        ),
    ]
    (il,) = p["IL"]
    p["IL"][:] = [
        _earlier(il, "2025-02-28"),
        _dated(
            il,
            "2025-03-01",
            "About March 2025 (exact day unknown): the Secretary of State began revoking Kei "
            "plates and branding titles 'Not Eligible For Registration'",
        ),
    ]
    (ut,) = p["UT"]
    ut_2025 = _dated(
        ut,
        "2025-01-01",
        "Utah Code ch. 41-27 'Novel vehicle registration' in force: a possible route for a "
        "Kei (registered as an off-highway vehicle); not settled",
    )
    ut_2025["registration_routes"] = [copy.deepcopy(audit.UT_NOVEL_ROUTE)]
    ut_2026 = _dated(
        ut_2025,
        "2026-10-01",
        "Ch. 41-27 amended from 2026-10-01; the amended text was not found",
    )
    ut_2026["sources"] = [copy.deepcopy(A["UT_4127_2026"])] + ut_2025["sources"]
    ut["sources"] = [s for s in ut["sources"] if not s["url"].startswith(A["UT_4127"]["url"])]
    p["UT"][:] = [ut, ut_2025, ut_2026]

    for code, interstate in (("TN", None), ("OK", None), ("SD", None)):
        (period,) = p[code]
        period.update(
            status="unclear", road_access=None, interstate_forbidden=interstate, confidence="low"
        )
    p["GA"][0]["confidence"] = "high"

    (al,) = p["AL"]
    al["conditions"] = al["conditions"].replace(
        "IIHS (2019) lists a '25 mph' speed restriction; it is unclear whether that limits the "
        "vehicle or the road.",
        "The Department of Revenue (Memo 2012-8) defines this mini-truck as having an "
        "installed speed governor that keeps it at 25 mph or less and a nonconforming VIN, so "
        "the '25 mph' is a vehicle governor, not a road cap. Whether Alabama registers an "
        "ungoverned 25-year Kei as an ordinary truck is unverified.",
    )
    al["summary"] = (
        "only a mini-truck with a 25 mph speed governor gets the 'restricted low speed use' "
        "tag; an unmodified Kei is unverified"
    )
    p["NY"][0]["summary"] = (
        "DMV refuses Kei registration and says they may not be operated on any street or highway"
    )
    (ca,) = p["CA"]
    if audit.CA_OLD not in ca["conditions"]:
        raise SystemExit("CA conditions no longer hold the pre-1976 sentence; update this script")
    ca["conditions"] = ca["conditions"].replace(audit.CA_OLD, audit.CA_NEW)
    (ar,) = p["AR"]
    ar["conditions"] += (
        " The 55 mph cap rests on the IIHS summary only; an unmodified Kei may not meet the "
        "FMVSS-glazing definition."
    )
    for periods in p.values():
        for i, period in enumerate(periods[:-1]):  # last day in force: the day before the next
            nxt = date.fromisoformat(periods[i + 1]["effective_from"])
            period["effective_to"] = (nxt - timedelta(days=1)).isoformat()
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
        "data_version": f"{audit.CHECK_DATE}.3",
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
            "road_access": "statewide = all public roads (subject to the cap and interstate "
            "rule); designated_roads = only roads a state or local authority designates; "
            "local_opt_in = only inside jurisdictions with an enabling ordinance; permit_only; "
            "farm_use_only; none = no public roads; null = unverified",
            "crossing_up_to_mph": "may cross roads posted up to this at intersections; null = "
            "no crossing rule recorded",
            "visitors": "may_operate | may_not_operate | unknown: whether a Kei registered in "
            "another state may be driven through, with its source",
            "effective_to": "last day a period is in force (the day before the next period)",
            "sources": "records {url, title, date, quote, primary}; primary = statute or "
            "agency text (possibly via a copy, named in the title)",
            "confidence": "high = statute or agency text read and quoted (a primary source "
            "with a quote); medium = bill text, summaries or reputable press; low = "
            "aggregators, dealer blogs or inference",
        },
        "changes": CHANGES + CHANGES_V3,
        "checked": CHECKED,
        "rechecked": RECHECKED,
        "states": convert(entries),
    }
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    book = load_rules(tmp, overrides_path=tmp.with_suffix(".none"))  # validate before use
    tmp.replace(args.out)
    print(f"wrote {args.out.relative_to(ROOT)}: {len(book.states())} jurisdictions")


if __name__ == "__main__":
    main()
