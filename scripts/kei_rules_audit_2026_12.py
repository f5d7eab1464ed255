"""Data for ``build_kei_rules.py``: the schema v3 fields and the findings of the December
2026 audit (``../shared/reference/kei_rules_audit_2026-12.md``), each with its sources.

Quotes marked "re-read 2026-12-02" were re-read by this project in stored public copies
(no live web); the others are the audit's quotes, not re-read here. Nothing here raises a
confidence without a quoted primary source.
"""

from __future__ import annotations

CHECK_DATE = "2026-12-02"
RE_READ = "re-read 2026-12-02 in a stored copy"


def src(url, title, date=None, quote=None, primary=False):
    return {"url": url, "title": title, "date": date, "quote": quote, "primary": primary}


def item(code, text, source=None):
    return {"code": code, "text": text, "source": source}


S = {
    "CO_DMV": src(
        "https://dmv.colorado.gov/registration",
        "Colorado DMV: Registration — Kei Vehicles",
        f"undated (cites HB 25-1281); {RE_READ}",
        "Until this date, Kei vehicles are not permitted to be titled or registered for on "
        "highway use or be driven on any Colorado roadways.",
        True,
    ),
    "CO_DMV_2028": src(
        "https://dmv.colorado.gov/registration",
        "Colorado DMV: Registration — Kei Vehicles",
        f"undated (cites HB 25-1281); {RE_READ}",
        "House Bill 25-1281 will allow Kei vehicles to be titled and registered for Colorado "
        "roadways of 55 mph or less, effective January 1, 2028.",
        True,
    ),
    "OH_ORC": src(
        "https://codes.ohio.gov/ohio-revised-code/section-4519.401/6-30-2025",
        "Ohio Revised Code 4519.401 Operation of a mini-truck (version effective 2025-06-30, "
        "HB 54 of the 136th GA)",
        f"2025-06-30; {RE_READ}",
        "Except as provided in this section and section 4511.215 of the Revised Code, no "
        "person shall operate a mini-truck within this state.",
        True,
    ),
    "OH_ORC_2017": src(
        "https://casetext.com/statute/ohio-revised-code/title-45-motor-vehicles-aeronautics-"
        "watercraft/chapter-4519-special-vehicles/section-4519401-operation-of-a-mini-truck",
        "Ohio Revised Code 4519.401 (SB 114, eff. 2017-01-01; casetext copy)",
        f"current to 2024-08-15; {RE_READ}",
        "Except as provided in this section and section 4511.215 of the Revised Code, no "
        "person shall operate a mini-truck within this state.",
        True,
    ),
    "KY_KRS": src(
        "https://codes.findlaw.com/ky/title-xvi-motor-vehicles/ky-rev-st-sect-189-517/",
        "KRS 189.517 Mini-truck (FindLaw copy)",
        f"current as of 2025-01-01; {RE_READ}",
        "Except as provided in subsection (5) of this section, a person shall not operate a "
        "mini-truck upon any public highway or roadway or upon the right-of-way of any public "
        "highway or roadway.",
        True,
    ),
    "KY_186077": src(
        "https://self-law.org/code/ky/186-077",
        "KRS 186.077 Street-legal special purpose vehicles (2025 SB 63; self-law copy)",
        f"in force 2025-06-27; {RE_READ}",
        '"Special purpose vehicle" means an all-terrain vehicle, utility terrain vehicle, '
        "minitruck, pneumatic-tired military vehicle, or full-size special purpose-built "
        "vehicle",
        True,
    ),
    "KY_KACO": src(
        "https://www.kaco.org/articles/special-purpose-vehicles-will-soon-be-street-legal-in-"
        "parts-of-kentucky/",
        "KACo: Special purpose vehicles will soon be street legal in parts of Kentucky",
        "2025-07 (per the audit; not re-read)",
        "SLSPVs cannot use interstates, parkways or certain federal highways",
    ),
    "MN_SF2207": src(
        "https://app.legiplex.com/mn/legislature/2025/2025-r/bills/sf2207/draft-2143688?id=2143688",
        "2025 SF 2207 as introduced, quoting Minn. Stat. 2024 § 169.045",
        "2025-02-17 (per the audit; not re-read)",
        "on designated roadways … by permit only",
    ),
    "AL_MEMO": src(
        "https://atmos360orlando.com/what-happens-to-your-vanity-licence-if-youlicence-gets-"
        "upgraded-6369",
        "Alabama Dept. of Revenue, Motor Vehicle Division, Memorandum 2012-8 'Mini-Trucks and "
        "Low Speed Vehicles' (copy of the memo on an unrelated site)",
        f"2012-04-19; {RE_READ}",
        "an installed speed governor to prevent the truck from attaining a speed of more than "
        "25 miles per hour",
        True,
    ),
    "GA_BULLETIN": src(
        "https://studylib.net/doc/27258144/policy-bulletin-mvd---2023-05---japanese-kei-"
        "vehicles-and...",
        "Georgia Dept. of Revenue, Motor Vehicle Division, Policy Bulletin MVD-2023-05 "
        "'Japanese Kei Vehicles and Minitrucks' (studylib copy)",
        f"2023; {RE_READ}",
        "Kei Vehicles are barred from titling and registration.",
        True,
    ),
    "NY_DMV": src(
        "https://dmv.ny.gov/registration/motorized-devices-cannot-be-registered-new-york",
        "NY DMV: Motorized devices that cannot be registered in New York (the stored copy "
        "read is an older version without the kei entry)",
        f"undated; {RE_READ}",
        "You cannot register or operate any of the motorized devices from the list below on "
        "any street, highway, parking lot, sidewalk or other area in New York State that "
        "allows public motor vehicle traffic. You may be arrested if you do.",
        True,
    ),
    "NY_NJ1015": src(
        "https://nj1015.com/ixp/11/p/banned-vehicles-new-york/",
        "nj1015.com: These 6 vehicles are banned from roads in New York State (quotes the "
        "DMV page and lists KEI-class vehicles)",
        f"2025-01-18; {RE_READ}",
        "5. KEI-Class Vehicles",
    ),
    "WI_341266": src(
        "https://docs.legis.wisconsin.gov/document/statutes/2011/341.267(7)",
        "Wis. Stat. § 341.266(2)(a), special interest vehicles (2011 statutes; the current "
        "text was not read)",
        f"2011; {RE_READ}",
        "owns, has registered in this state, and uses for regular transportation at least one "
        "vehicle that has regular registration plates",
        True,
    ),
    "RI_PL": src(
        "http://webserver.rilegislature.gov/PublicLaws/law24/law24414.htm",
        "Rhode Island P.L. 2024, ch. 414 (2024-H 8013 Sub A), enacted 2024-06-28",
        f"2024-06-28; {RE_READ}",
        "31-1-3. Types of vehicles. [Effective July 1, 2024.]",
        True,
    ),
    "RI_SUMMARY": src(
        "https://fastdemocracy.com/bill-summary/?billsummary_id=RIB00029895&billsummary_"
        "session=2024&billsummary_state=ri",
        "FastDemocracy summary of 2024 RI S 2693 (companion of H 8013)",
        f"2024; {RE_READ}",
        "allows them to cross highways with speed limits between 35 mph and 45 mph under "
        "controlled intersections",
    ),
    "FL_316": src(
        "https://sowal.com/forum/threads/lowering-the-speed-limit-on-30a.43847/page-5",
        "Fla. Stat. 316.2122 (2009 statute text as quoted on a sowal.com forum thread; the "
        "current edition was not re-read)",
        f"2009 statutes; {RE_READ}",
        "A low-speed vehicle or mini truck may be operated only on streets where the posted "
        "speed limit is 35 miles per hour or less.",
        True,
    ),
    "IN_IC": src(
        "https://courtgpt.ai/laws/indiana/title-9/article-21/chapter-8/section-9-21-8-46",
        "Indiana Code 9-21-8-46 (P.L.180-2015; courtgpt copy)",
        f"P.L.180-2015; {RE_READ}",
        "A person may not drive or operate: ... (3) a mini-truck; upon any part of an "
        "interstate highway.",
        True,
    ),
    "LA_RS": src(
        "https://self-law.org/code/la/title-32/32-733",
        "La. R.S. 32:299.2 Off-road vehicles; mini-trucks (self-law copy; Act 563 of 2010)",
        f"Act 563 of 2010; {RE_READ}",
        "A mini-truck may be operated upon a highway of this state where the posted speed "
        "limit is fifty-five miles per hour or less except an interstate or controlled access "
        "highway or a multi-lane divided highway which has partial or no control of access.",
        True,
    ),
    "ME_2092": src(
        "http://www.mainelegislature.org/legis/statutes/29-A/title29-Asec2092.html",
        "29-A M.R.S. § 2092 Operation of off-road vehicles (mainelegislature.org)",
        f"undated; {RE_READ}",
        "an off-road vehicle may not be operated on a public way or parking area.",
        True,
    ),
    "PA_ALTOONA": src(
        "https://www.altoonamirror.com/",
        "Altoona Mirror (2025-04) on Pennsylvania mini trucks (article URL not recorded by "
        "the audit; front page given)",
        "2025-04 (per the audit; not re-read)",
        "These trucks can only be registered for off-road use, as farm vehicles or as antique "
        "vehicles.",
    ),
    "TX_SB1816": src(
        "https://capitol.texas.gov/tlodocs/89R/billtext/html/SB01816I.htm",
        "Texas SB 1816 (89th Leg.) as introduced",
        "2025 (per the audit: 'If enacted, SB 1816 would take effect on September 1, 2025', "
        "Motor1 copy 2025-03; enrolled text and signing not seen)",
    ),
    "UT_4127": src(
        "https://casetext.com/statute/utah-code/title-41-motor-vehicles/chapter-27-novel-"
        "vehicle-registration/part-2-registration-process/section-41-27-201-effective-112025-"
        "novel-vehicle-registration",
        "Utah Code § 41-27-201 Novel vehicle registration (Laws 2024 ch. 459, eff. "
        "2025-01-01; casetext copy)",
        f"eff. 2025-01-01; {RE_READ}",
        "a novel vehicle that is not a watercraft is subject to the provisions applicable to "
        "an off-highway vehicle under Chapter 22, Off-Highway Vehicles",
        True,
    ),
    "UT_4127_2026": src(
        "https://self-law.org/code/ut/title-41/chapter-27/10",
        "Utah Code § 41-27-101 (self-law copy marked 'Effective 1/1/2025, Superseded "
        "10/1/2026'; the amended text was not found)",
        f"superseded 2026-10-01; {RE_READ}",
        "Superseded 10/1/2026",
        True,
    ),
    "IL_AUTOPIAN": src(
        "https://www.theautopian.com/illinois-finally-explains-its-imported-car-ban-and-it-"
        "doesnt-make-any-sense",
        "The Autopian: Illinois finally explains its imported car ban",
        "2025-04/05",
    ),
    "CA_IMPORT": src(
        "https://importavehicle.com/",
        "importavehicle.com (California compliance shop blog, 2025-03-20; article URL not "
        "recorded by the audit)",
        "2025-03-20 (per the audit; not re-read)",
        "1968–74 must meet USEPA requirements of 11/15/1972; 1975+ need a CARB 'Certificate of "
        "Conformance'",
    ),
    "AR_POLICYRISK": src(
        "https://policyrisk.com/states/arkansas/statutes/27-14-726",
        "Ark. Code Ann. § 27-14-726 (definition; policyrisk copy)",
        "as amended 2019 (per the audit; not re-read)",
        "FMVSS 205 glazing and FMVSS 111 mirrors in effect on January 1, 2019",
    ),
}

VISITORS_UNKNOWN = {
    "rule": "unknown",
    "text": "Registration rules only: whether a Kei registered in another state may be driven "
    "through is unverified.",
    "source": None,
}

# Road access of each 'restricted' period (legal -> statewide, banned -> none and
# unclear -> null are the defaults). Reasons are in CHANGES. TN and OK become 'unclear'.
RESTRICTED_ACCESS = {
    "AL": "statewide",
    "CO": "statewide",  # from 2028-01-01: roads posted 55 mph or less
    "AR": "statewide",
    "FL": "statewide",
    "IN": "statewide",
    "KS": "designated_roads",
    "KY": "designated_roads",
    "LA": "statewide",
    "MN": "permit_only",
    "OH": "local_opt_in",
    "PA": "statewide",
    "WI": "statewide",
    "WV": "statewide",
}

REQUIREMENTS = {
    "AL": [
        item(
            "speed_governor_25mph",
            "a speed governor that keeps the truck at 25 mph or less (the 'mini-truck' of "
            "§ 40-12-240); whether an unmodified Kei can be plated otherwise is unverified",
            S["AL_MEMO"]["url"],
        )
    ],
    "AR": [
        item(
            "fmvss_glazing",
            "FMVSS 205 glazing and FMVSS 111 mirrors (the statute's mini-truck definition)",
            S["AR_POLICYRISK"]["url"],
        )
    ],
    "OH": [
        item(
            "inspection",
            "police inspection under the local ordinance",
            "http://codes.ohio.gov/oac/4501-30",
        )
    ],
    "WI": [
        item(
            "second_regular_vehicle",
            "the owner must also own, register and use for regular transportation a vehicle "
            "with regular plates",
            S["WI_341266"]["url"],
        )
    ],
}
KY_SB63_REQUIREMENTS = [
    item(
        "inspection",
        "sheriff inspection (SB 63 street-legal special purpose vehicle route)",
        S["KY_186077"]["url"],
    ),
    item(
        "roll_bar",
        "roll bar or roll cage (SB 63 route)",
        "https://www.kaco.org/articles/special-purpose-vehicles-will-soon-be-street-legal-in-"
        "parts-of-kentucky/",
    ),
    item(
        "fmvss_seat_belts",
        "FMVSS seat belts (SB 63 route)",
        "https://www.kaco.org/articles/special-purpose-vehicles-will-soon-be-street-legal-in-"
        "parts-of-kentucky/",
    ),
]

ROUTES = {
    "PA": [
        item(
            "farm_plate",
            "farm vehicle plate: use limited to farm-related trips (Altoona Mirror, 2025-04, "
            "per the audit)",
            S["PA_ALTOONA"]["url"],
        ),
        item(
            "antique_plate",
            "antique plate: exhibitions and occasional use, one day a week or less",
            "http://law.onecle.com/pennsylvania/title-75/1340.html",
        ),
    ],
    "WI": [
        item(
            "collector_plate",
            "collector / special interest registration (the Kei refusal does not apply to it)",
            S["WI_341266"]["url"],
        )
    ],
    "LA": [
        item(
            "off_road_decal",
            "registered as an off-road vehicle with an OMV decal",
            S["LA_RS"]["url"],
        )
    ],
    "AL": [
        item(
            "restricted_low_speed_tag",
            "tag marked 'restricted low speed use' (governed mini-trucks)",
            "http://alisondb.legislature.state.al.us/alison/codeofalabama/1975/32-6-59.htm",
        )
    ],
    "RI": [
        item(
            "grandfathered",
            "Kei registered before 2024-06-01 may renew (not transferable); roads 35 mph or "
            "less, crossing 35–45 mph roads at controlled intersections",
            S["RI_SUMMARY"]["url"],
        )
    ],
}
KY_SB63_ROUTE = item(
    "slspv",
    "street-legal special purpose vehicle (SB 63, KRS 186.077): only where the county or city "
    "has opted in by ordinance; 20 miles at most on centerline roads; no interstates or "
    "parkways",
    S["KY_186077"]["url"],
)
UT_NOVEL_ROUTE = item(
    "novel_vehicle",
    "novel vehicle registration (Utah Code ch. 41-27): a lead only — whether it fits a Kei "
    "was not settled",
    S["UT_4127"]["url"],
)

VISITORS = {
    "NY": {
        "rule": "may_not_operate",
        "text": "The DMV says the listed devices, which include KEI-class vehicles (per 2025 "
        "news copies of the page), may not be operated on any street or highway; you may be "
        "arrested.",
        "source": S["NY_DMV"]["url"],
    },
    "CO": {
        "rule": "may_not_operate",
        "text": "The DMV says Kei may not be driven on any Colorado roadway until 2028-01-01.",
        "source": S["CO_DMV"]["url"],
    },
    "OH": {
        "rule": "may_not_operate",
        "text": "ORC 4519.401: no person shall operate a mini-truck in Ohio except inside a "
        "town that allows it by ordinance (and farm-field or dealer use).",
        "source": S["OH_ORC"]["url"],
    },
    "KY": {
        "rule": "may_not_operate",
        "text": "KRS 189.517: no person shall operate a mini-truck on a public highway except "
        "crossings, farm or road work on two-lane roads and designated roads.",
        "source": S["KY_KRS"]["url"],
    },
}

SOURCES_ADDED = {  # put first: the first source names the advice's source
    "CO": ["CO_DMV"],
    "OH": ["OH_ORC"],
    "KY": ["KY_KRS"],
    "MN": ["MN_SF2207"],
    "AL": ["AL_MEMO"],
    "GA": ["GA_BULLETIN"],
    "NY": ["NY_DMV", "NY_NJ1015"],
    "WI": ["WI_341266"],
    "RI": ["RI_PL", "RI_SUMMARY"],
    "FL": ["FL_316"],
    "IN": ["IN_IC"],
    "LA": ["LA_RS"],
    "ME": ["ME_2092"],
    "PA": ["PA_ALTOONA"],
    "TX": ["TX_SB1816"],
    "UT": ["UT_4127"],
    "AR": ["AR_POLICYRISK"],
    "CA": ["CA_IMPORT"],
}

CA_OLD = "Pre-1976 vehicles are smog-exempt and may differ (not verified)."
CA_NEW = (
    "Per a California compliance shop (2025-03-20, via the 2026-12 audit): only 1967 and older "
    "direct imports need no emissions modification; 1968-74 vehicles must meet the USEPA "
    "requirements of 1972-11-15 and 1975 and later need a CARB Certificate of Conformance. "
    "This is a cost barrier, not a statutory Kei ban."
)

EARLIER_NOT_RESEARCHED = (
    "The rule before this date was not researched; check with the DMV for trips before it."
)
