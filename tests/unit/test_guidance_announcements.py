"""How the Drive screen words a route's warnings, before and while on each stretch."""

from kei_drive.presenters.guidance import announcements


def test_each_stretch_says_where_it_ends_and_what_it_is_while_on_it():
    said = announcements(
        [
            {"kind": "speed_cap", "from_m": 900.0, "to_m": 1400.0, "limit_mph": 55, "cap_mph": 45},
            {"kind": "banned_state", "from_m": 300.0, "to_m": 800.0, "state": "NY"},
            {"kind": "highway", "from_m": 2000.0, "to_m": 2450.5, "road": "I 83, Jones Falls"},
        ]
    )
    assert [(a["at_m"], a["to_m"]) for a in said] == [
        (300.0, 800.0),
        (900.0, 1400.0),
        (2000.0, 2450.5),
    ]
    assert [(a["subject"], a["subject_on"]) for a in said] == [
        ("New York line", "New York"),
        ("Road ahead", "This road"),
        ("I 83", "I 83"),
    ]
    assert said[1]["detail"] == "posted 55 mph, above the 45 mph Kei cap"
