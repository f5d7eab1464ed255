"""Plan page presentation: route colouring by warning stretch, rows and texts."""

from __future__ import annotations

import pytest

from kei_drive.components.route_report import (
    KIND_COLORS,
    OK_COLOR,
    distance_text,
    duration_text,
    map_layers,
    present,
    route_features,
    segment_colors,
    short_distance,
    source_links,
    warning_rows,
)
from kei_drive.core.rules import load_rules

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
        {"url": "https://www.dmv.example.gov/x", "label": "dmv.example.gov"}
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
    assert [r["kind"] for r in rows] == ["highway", "restricted_state"]
    assert rows[0]["road"] == "I 99" and rows[0]["where"] == "km 0.1–0.3 (mi 0.1–0.2)"
    # PA does not forbid interstates in its rule: no rule source for the motorway warning.
    assert rows[0]["sources"] == []
    assert rows[1]["sources"] and rows[1]["confidence"] in ("high", "medium", "low")
    assert rows[1]["message"] == "PA x."  # the URL is a link, not text


@pytest.mark.parametrize(
    ("kinds", "legal", "verdict"),
    [
        ([], True, "Kei-legal as far as"),
        (["restricted_state"], True, "with conditions"),
        (["highway"], False, "Not Kei-legal: read"),
        (["unreachable"], False, "does not reach"),
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
    assert verdict in shown["verdict"]
    assert shown["duration"] == "2 min" and "40 mph" in shown["duration_label"]


def test_plan_warning_order_follows_the_core_severity_order():
    from kei_drive.components.route_report import SEVERITY
    from kei_drive.core.access import KIND_OF_LEVEL
    from kei_drive.core.rules_vocab import SEVERITY_ORDER

    kinds = [KIND_OF_LEVEL[level] for level in reversed(SEVERITY_ORDER) if KIND_OF_LEVEL[level]]
    assert [k for k in SEVERITY if k in kinds] == kinds
