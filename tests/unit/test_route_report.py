"""Plan page presenter: route colouring by warning stretch, typed rows and texts."""

from __future__ import annotations

import pytest

from kei_drive.core.rules import load_rules
from kei_drive.presenters.format import distance_text, duration_text, short_distance
from kei_drive.presenters.route import (
    KIND_COLORS,
    OK_COLOR,
    SourceLink,
    map_layers,
    present,
    route_features,
    segment_colors,
    source_links,
    warning_rows,
)

# A straight line north: 11 points about 111 m apart (1.1 km in all).
LINE = [(40.0 + 0.001 * i, -77.0) for i in range(11)]
SEG_M = 111.19


def warning(kind, a, b, **extra):
    return {"kind": kind, "from_m": a, "to_m": b, "message": f"{kind} here", **extra}


def test_segments_take_the_colour_of_the_warning_covering_them():
    colors = segment_colors(LINE, [warning("highway", 2 * SEG_M, 5 * SEG_M)])
    assert colors[:2] == [OK_COLOR] * 2
    assert colors[2:5] == [KIND_COLORS["highway"]] * 3
    assert colors[5:] == [OK_COLOR] * 5


def test_highway_wins_over_unknown_limit_where_they_overlap():
    colors = segment_colors(
        LINE,
        [warning("unknown_speed_limit", 0, 10 * SEG_M), warning("highway", 4 * SEG_M, 6 * SEG_M)],
    )
    assert colors[0] == KIND_COLORS["unknown_speed_limit"]
    assert colors[4] == colors[5] == KIND_COLORS["highway"]
    assert colors[9] == KIND_COLORS["unknown_speed_limit"]


def test_restricted_state_does_not_colour_the_line():
    assert set(segment_colors(LINE, [warning("restricted_state", 0, 10 * SEG_M)])) == {OK_COLOR}


def test_features_are_runs_that_share_their_boundary_vertex():
    feats = route_features(LINE, [warning("speed_cap", 3 * SEG_M, 6 * SEG_M)])
    assert [f["properties"]["color"] for f in feats] == [
        OK_COLOR,
        KIND_COLORS["speed_cap"],
        OK_COLOR,
    ]
    coords = [f["geometry"]["coordinates"] for f in feats]
    assert coords[0][-1] == coords[1][0] and coords[1][-1] == coords[2][0]
    assert coords[0][0] == [-77.0, 40.0]  # GeoJSON is lon, lat
    assert sum(len(c) for c in coords) == len(LINE) + 2


def test_map_layers_have_route_and_end_markers():
    layers = map_layers(LINE, [], "Start: A", "Destination: B")
    assert [layer["id"] for layer in layers] == ["route", "ends"]
    assert layers[0]["property"] == "color"
    ends = layers[1]["geojson"]["features"]
    assert [f["properties"]["label"] for f in ends] == ["Start: A", "Destination: B"]
    assert ends[1]["geometry"]["coordinates"] == [-77.0, LINE[-1][0]]
    assert map_layers(LINE[:1], []) == []


def test_texts():
    assert distance_text(4340) == "2.7 mi (4.3 km)"
    assert distance_text(150) == "0.1 mi (150 m)"
    assert short_distance(100) == "328 ft"
    assert duration_text(20) == "under 1 min"
    assert duration_text(3900) == "1 h 05 min"
    assert source_links(["https://www.dmv.example.gov/x"]) == [
        SourceLink(url="https://www.dmv.example.gov/x", label="dmv.example.gov")
    ]


def test_warning_rows_most_serious_first_with_rule_sources():
    rules = load_rules(overrides_path="/nonexistent/overrides.json")
    rows = warning_rows(
        [
            warning("restricted_state", 0, 500, state="PA", message="PA x. Source: https://a.b/c"),
            warning("highway", 100, 300, state="PA", road="I 99"),
        ],
        rules,
    )
    assert [r.kind for r in rows] == ["highway", "restricted_state"]
    assert rows[0].road == "I 99" and rows[0].where == "km 0.1–0.3 (mi 0.1–0.2)"
    # PA does not forbid interstates in its rule: no rule source for the motorway warning.
    assert rows[0].sources == []
    assert rows[1].sources and rows[1].confidence in ("high", "medium", "low")
    assert rows[1].message == "PA x."  # the URL is a link, not text


@pytest.mark.parametrize(
    ("kinds", "legal", "verdict"),
    [
        ([], True, "Kei-legal as far as"),
        (["restricted_state"], True, "with conditions"),
        (["highway"], False, "Not Kei-legal: read"),
        (["unreachable"], False, "Start unreachable"),  # from_m 0: the start
        (["restricted_state"], None, "cannot be told"),  # check-route: not all audited
    ],
)
def test_verdict(kinds, legal, verdict):
    result = {
        "distance_m": 1000,
        "duration_s": 120,
        "geometry": [list(p) for p in LINE],
        "warnings": [warning(k, 0, 100) for k in kinds],
        "legal": legal,
    }
    shown = present(result, top_speed_mph=40)
    assert verdict in shown.verdict
    assert shown.duration == "2 min" and "40 mph" in shown.duration_label
    marks = {True: ("✓ ", "kp-legal"), False: ("✗ ", "kp-illegal"), None: ("? ", "kp-unknown")}
    assert shown.verdict_mark == marks[legal][0]
    assert shown.verdict_class.endswith(marks[legal][1])
    assert shown.legal is (legal is True)


def test_plan_warning_order_follows_the_core_severity_order():
    from kei_drive.core.access import KIND_OF_LEVEL
    from kei_drive.core.rules_vocab import SEVERITY_ORDER
    from kei_drive.core.vocabulary import WARNING_DISPLAY_ORDER

    kinds = [KIND_OF_LEVEL[level] for level in reversed(SEVERITY_ORDER) if KIND_OF_LEVEL[level]]
    assert [k for k in WARNING_DISPLAY_ORDER if k in kinds] == kinds


ARRIVED = "You have arrived at your destination."


def test_a_route_short_of_its_destination_never_says_arrived():
    """Issue #13 point 9: the turn list ended "You have arrived" 1.4 mi short of the place
    asked for, under a verdict that spoke only of legality."""
    end = 10 * SEG_M
    result = {
        "distance_m": end,
        "geometry": [list(p) for p in LINE],
        "warnings": [warning("unreachable", end, end, gap_m=2253.0)],
        "maneuvers": [
            {"instruction": "Drive north on Main Street.", "distance_m": end, "type": 1},
            {"instruction": ARRIVED, "distance_m": 0, "type": 4},
        ],
        "legal": False,
    }
    shown = present(result)
    assert shown.verdict == (
        "Destination unreachable: the route ends 1.4 mi short of your destination"
    )
    assert [m.instruction for m in shown.maneuvers] == [
        "Drive north on Main Street.",
        "The route ends here, 1.4 mi short of your destination: no road route reaches it.",
    ]
    # A route that does reach keeps Valhalla's words.
    reached = present({**result, "warnings": []})
    assert reached.maneuvers[-1].instruction == ARRIVED
    assert not reached.verdict.startswith("Destination unreachable")


def test_a_states_label_is_the_word_of_its_rule():
    """Issue #13 point 9: a state's pill in "States crossed" says what its stretch warning
    says (Maryland "unclear" is "Rules unverified", never "Restricted state"), for every rule
    in the book, through the one severity order (core/rules_vocab.py)."""
    from kei_drive.core.access import classify
    from kei_drive.core.audit import StateReport
    from kei_drive.presenters.route import KIND_LABELS, SEVERITY_LABELS, state_rows

    rules = load_rules(overrides_path="/dev/null.none")
    checked = 0
    for rule in rules.all_rules(None):
        state = StateReport(rule.state, rule.state, 0, 1000, 1, rule.status,
                            road_access=rule.road_access)  # fmt: skip
        for book in (rules, None):  # with the rule book, and from the route report alone
            (row,) = state_rows([state.__dict__], book)
            kind = classify(rule)
            if kind:
                assert row.label == KIND_LABELS[kind], (rule.state, row.label, kind)
            else:
                assert row.label == SEVERITY_LABELS["legal"]
            checked += 1
    assert checked >= 2 * 51
    md = StateReport("MD", "Maryland", 0, 1000, 1, "unclear").__dict__
    (row,) = state_rows([md], rules)
    assert (row.status, row.label, row.severity) == ("unclear", "Rules unverified", "unclear")
    ohio = rules.rule_for("OH")
    (row,) = state_rows([StateReport("OH", "Ohio", 0, 1, 1, ohio.status).__dict__], rules)
    assert row.label == "Only where locally allowed" != "Restricted state"
