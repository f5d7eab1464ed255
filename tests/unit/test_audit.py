"""The pure route audit with hand-made geometry and edges and the real rule book."""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pytest

from kei_drive.core.audit import (
    UNREACHABLE_GAP_M,
    RoadEdge,
    audit_route,
)
from kei_drive.core.local_permits import LocalPermit
from kei_drive.core.rules import load_rules
from kei_drive.core.units import mph_to_kmh

ON = date(2026, 6, 1)


@pytest.fixture(scope="module")
def rules():
    return load_rules(overrides_path=os.devnull + ".none")


def line(lat0, lon0, dlat, dlon, n):
    return [(lat0 + dlat * k, lon0 + dlon * k) for k in range(n)]


def mph(v):
    return mph_to_kmh(v)


# Ohio (Kei cap 35 mph, interstates forbidden), around Columbus: 11 points, ~1.1 km apart.
OHIO = line(40.00, -83.00, 0.01, 0.0, 11)


def test_motorway_edges_merge_into_one_stretch_with_names(rules):
    edges = [
        RoadEdge(0, 2, "residential", None, 35, ("Elm St",)),
        RoadEdge(2, 4, "motorway", mph(65), 105, ("I 71", "North Fwy")),
        RoadEdge(4, 6, "motorway", mph(65), 105, ("I 71",)),
        RoadEdge(6, 10, "residential", None, 35, ("Oak St",)),
    ]
    report = audit_route(OHIO, edges, rules, on=ON)
    hw = [w for w in report.warnings if w.kind == "highway"]
    assert len(hw) == 1
    assert hw[0].road == "I 71" and hw[0].state == "OH"
    assert hw[0].from_m == pytest.approx(2 * 1111.95, rel=0.01)
    assert hw[0].to_m - hw[0].from_m == pytest.approx(4 * 1111.95, rel=0.01)
    assert "OH explicitly forbids Kei vehicles on interstates" in hw[0].message
    # The 65 mph limit is also over Ohio's 35 mph cap.
    cap = [w for w in report.warnings if w.kind == "speed_cap"]
    assert len(cap) == 1 and "35 mph Kei cap" in cap[0].message


def test_speed_cap_uses_the_state_cap_and_tolerates_kmh_rounding(rules):
    # 35 mph stored as 56 km/h must not count as above a 35 mph cap; 45 mph must.
    edges = [
        RoadEdge(0, 5, "primary", 56.0, 56, ("Main St",)),
        RoadEdge(5, 10, "primary", 72.0, 72, ("US 23",)),
    ]
    report = audit_route(OHIO, edges, rules, on=ON)
    cap = [w for w in report.warnings if w.kind == "speed_cap"]
    assert [w.road for w in cap] == ["US 23"]
    assert "posted 45 mph" in cap[0].message


def test_unknown_limits_only_where_they_matter(rules):
    edges = [
        RoadEdge(0, 3, "residential", None, 35, ("Elm St",)),  # local: assumed <= 35
        RoadEdge(3, 6, "tertiary", None, 50, ("County Rd 5",)),  # reported
        RoadEdge(6, 8, "secondary", None, 50, ("SR 3",)),  # reported, merged with the above
    ]  # points 8..10 have no edge: no map data -> reported
    report = audit_route(OHIO, edges, rules, on=ON)
    unknown = [w for w in report.warnings if w.kind == "unknown_speed_limit"]
    assert len(unknown) == 2
    assert unknown[0].road == "County Rd 5, SR 3"
    assert unknown[0].from_m == pytest.approx(3 * 1111.95, rel=0.01)
    assert unknown[1].road is None and "Road type and speed limit unknown" in unknown[1].message
    assert unknown[0].message.startswith("Speed limit unknown on County Rd 5, SR 3")


def test_no_unknown_or_cap_warnings_in_a_state_without_cap(rules):
    pa = line(40.5, -77.5, 0.01, 0.0, 5)
    assert rules.rule_for("PA", on=ON).max_road_speed_mph is None
    edges = [RoadEdge(0, 4, "secondary", mph(55), 90, ("PA 45",))]
    report = audit_route(pa, edges, rules, on=ON)
    assert {w.kind for w in report.warnings} == {"restricted_state"}


def test_states_in_order_with_banned_state_flagged(rules):
    # North from Pennsylvania into New York across 42.0 N.
    pts = line(41.95, -77.0, 0.01, 0.0, 11)
    edges = [RoadEdge(0, 10, "residential", None, 35, ("Main St",))]
    report = audit_route(pts, edges, rules, on=ON)
    assert [s.state for s in report.states] == ["PA", "NY"]
    assert report.states[1].status == "banned"
    assert report.states[0].to_m == pytest.approx(5560, abs=300)
    banned = [w for w in report.warnings if w.kind == "banned_state"]
    assert banned[0].state == "NY" and banned[0].from_m == report.states[1].from_m
    assert "Source: http" in banned[0].message
    assert not report.kei_legal


def test_duration_at_kei_speed():
    edges = [RoadEdge(0, 10, "primary", None, 100.0, ("US 23",))]
    report = audit_route(OHIO, edges, None, on=ON, top_speed_mph=45)
    assert report.duration_s == pytest.approx(report.distance_m / (mph(45) / 3.6), rel=1e-6)
    slow = audit_route(OHIO, edges, None, on=ON, top_speed_mph=200)
    assert slow.duration_s == pytest.approx(report.distance_m / (100 / 3.6), rel=1e-6)


def test_duration_keeps_to_the_states_kei_cap(rules):
    """Ohio lets a Kei on roads posted 35 mph or less: the time counted 45 mph on an
    untagged road there (an outside check: a Maryland route under a 35 mph cap averaged
    41.5 mph and read "Kei-legal"), and the label said only "≤ 45 mph"."""
    from kei_drive.presenters.route import kei_speeds_label

    edges = [RoadEdge(0, 10, "primary", None, 100.0, ("US 23",))]
    report = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45)
    assert report.duration_s == pytest.approx(report.distance_m / (mph(35) / 3.6), rel=1e-6)
    states = report.to_dict()["states"]
    assert kei_speeds_label(45, states) == "at Kei speeds (≤ 45 mph; 35 mph in OH)"
    assert kei_speeds_label(30, states) == "at Kei speeds (≤ 30 mph)"


def test_the_time_and_its_label_keep_to_a_drivers_permit_cap(rules):
    """A permit for part of Ohio with its own cap: the time used the permit's cap there
    while the label named only the state's 35 mph."""
    from kei_drive.presenters.route import kei_speeds_label

    edges = [RoadEdge(0, 10, "primary", None, 100.0, ("US 23",))]
    half = OHIO[5]  # a circle over the line's middle: about half of its 11 km

    def permit(cap: int | None) -> LocalPermit:
        return LocalPermit("town", "OH", "Town, OH", "test", cap, ON, tuple(half), 2_800.0)

    state_only = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45)
    faster = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45, permits=[permit(45)])
    slower = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45, permits=[permit(25)])
    same = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45, permits=[permit(None)])
    assert faster.duration_s < state_only.duration_s < slower.duration_s
    assert same.duration_s == pytest.approx(state_only.duration_s)
    label = kei_speeds_label
    assert label(45, faster.to_dict()["states"]) == (
        "at Kei speeds (≤ 45 mph; 35 mph in OH (45 mph under your permit))"
    )
    assert label(45, slower.to_dict()["states"]) == (
        "at Kei speeds (≤ 45 mph; 35 mph in OH (25 mph under your permit))"
    )
    assert label(45, same.to_dict()["states"]) == "at Kei speeds (≤ 45 mph; 35 mph in OH)"
    assert label(30, faster.to_dict()["states"]) == "at Kei speeds (≤ 30 mph)"
    no_state_cap = [{"state": "XX", "max_road_speed_mph": None, "permit_caps_mph": [25]}]
    assert label(45, no_state_cap) == "at Kei speeds (≤ 45 mph; 25 mph under your permit in XX)"
    # a state entered twice (OH, WV, OH), the permit in its second stretch; two permits
    twice = [
        {"state": "OH", "max_road_speed_mph": 35, "permit_caps_mph": []},
        {"state": "WV", "max_road_speed_mph": None, "permit_caps_mph": []},
        {"state": "OH", "max_road_speed_mph": 35, "permit_caps_mph": [25, 45]},
    ]
    assert label(45, twice) == (
        "at Kei speeds (≤ 45 mph; 35 mph in OH (25/45 mph under your permits))"
    )


def test_a_state_continued_across_a_break_keeps_its_permits_caps(rules):
    """A GPX route cut at a gap, or the Drive screen's lead-in joined to a route: pieces'
    reports combined kept the first piece's state entry, and lost the second's permit cap."""
    from kei_drive.routing.planner import combine_reports

    permit = LocalPermit("town", "OH", "Town, OH", "test", 45, ON, tuple(OHIO[5]), 2_800.0)
    head, tail = OHIO[:3], OHIO[3:]
    first = audit_route(head, [RoadEdge(0, 2, "primary", None, 100.0, ())], rules, on=ON)
    second = audit_route(
        tail, [RoadEdge(0, 7, "primary", None, 100.0, ())], rules, on=ON, permits=[permit]
    )
    assert first.states[0].permit_caps_mph == [] and second.states[0].permit_caps_mph == [45]
    (ohio,) = combine_reports([first, second]).states
    assert ohio.permit_caps_mph == [45]


def test_duration_keeps_to_the_posted_limit_and_the_engines_turns(rules):
    """A Kei keeps to the posted limit where the engine assumes more (Hudson Street posted
    25 mph, assumed 65 km/h), and loses the engine's own time at turns and signals: a West
    Village route read 33 mph on average."""
    edges = [RoadEdge(0, 10, "secondary", mph(25), 65.0, ("Hudson St",))]
    report = audit_route(OHIO, edges, rules, on=ON, top_speed_mph=45)
    assert report.duration_s == pytest.approx(report.distance_m / (mph(25) / 3.6), rel=1e-6)
    running_s = report.distance_m / (65.0 / 3.6)  # the engine's time along its edges
    turns = audit_route(OHIO, edges, rules, on=ON, engine_time_s=running_s + 40.0)
    assert turns.duration_s == pytest.approx(report.duration_s + 40.0, rel=1e-6)
    faster = audit_route(OHIO, edges, rules, on=ON, engine_time_s=running_s - 5.0)
    assert faster.duration_s == pytest.approx(report.duration_s, rel=1e-6)  # never less
    # a truck slower than the engine's speed: the engine costed that top speed already, so
    # only its turns are added (once), not the slowdown again
    slow_running_s = report.distance_m / (mph(20) / 3.6)
    slow = audit_route(
        OHIO, edges, rules, on=ON, top_speed_mph=20, engine_time_s=slow_running_s + 40.0
    )
    assert slow.duration_s == pytest.approx(slow_running_s + 40.0, rel=1e-6)


def test_unreachable_end_is_reported(rules):
    far = (OHIO[-1][0] + 0.02, OHIO[-1][1])  # 2.2 km beyond the route's end
    near = (OHIO[-1][0] + 0.001, OHIO[-1][1])  # 111 m: an ordinary snap to the road
    report = audit_route(OHIO, [], rules, requested_start=OHIO[0], requested_end=far)
    w = [w for w in report.warnings if w.kind == "unreachable"]
    assert len(w) == 1 and "destination" in w[0].message and "1.4 mi" in w[0].message
    ok = audit_route(OHIO, [], rules, requested_end=near)
    assert not [w for w in ok.warnings if w.kind == "unreachable"]
    assert UNREACHABLE_GAP_M > 111


def test_to_dict_shape(rules):
    report = audit_route(OHIO, [RoadEdge(0, 10, "trunk", None, 90, ("US 33",))], rules, on=ON)
    data = report.to_dict()
    assert set(data) == {"distance_m", "duration_s", "geometry", "states", "warnings"}
    assert data["geometry"][0] == [40.0, -83.0]
    assert data["states"][0]["state"] == "OH" and data["states"][0]["max_road_speed_mph"] == 35
    assert {w["kind"] for w in data["warnings"]} >= {"highway", "unknown_speed_limit"}


def test_without_rules_states_are_unknown():
    report = audit_route(OHIO, [], None)
    assert report.states[0].status == "unknown"
    assert report.distance_m == pytest.approx(10 * 1111.95, rel=0.01)


def test_empty_and_single_point_routes(rules):
    assert audit_route([], [], rules).distance_m == 0
    one = audit_route([(40.0, -83.0)], [], rules)
    assert one.distance_m == 0 and one.duration_s == 0


def test_ramps_are_classed_by_the_highway_they_join_and_named():
    from kei_drive.core.audit import highway_classes

    edges = [
        RoadEdge(0, 1, "residential", names=("Elm St",)),
        RoadEdge(1, 2, "tertiary", use="ramp"),  # Valhalla reclassifies links
        RoadEdge(2, 3, "motorway", names=("I 83",)),
        RoadEdge(3, 4, "secondary", use="ramp"),
        RoadEdge(4, 5, "trunk_link"),
        RoadEdge(5, 6, "trunk", names=("US 1",)),
        RoadEdge(6, 7, "primary", use="ramp"),
        RoadEdge(7, 8, "residential"),
        RoadEdge(8, 9, "primary", use="ramp"),  # between local roads: not highway
        RoadEdge(9, 10, "residential"),
    ]
    assert highway_classes(edges) == [
        "",
        "motorway",
        "motorway",
        "motorway",
        "trunk",
        "trunk",
        "trunk",
        "",
        "",
        "",
    ]
    geometry = [(41.95 + 0.002 * i, -77.0) for i in range(11)]
    report = audit_route(geometry, edges)
    highway = [w for w in report.warnings if w.kind == "highway"]
    assert [w.road for w in highway] == [
        "ramp to I 83, I 83, ramp to US 1",
        "ramp to US 1, US 1, ramp from US 1",
    ]


def test_a_trunk_posted_35_mph_or_less_is_a_towns_street_not_a_highway(rules):
    """A US route through a town, or a city street mapped trunk (President Street in
    Baltimore, posted 30 mph), is no "fast divided road": no highway warning, and the route
    stays Kei-legal; the same trunk posted 55 mph (or untagged) is one."""
    from kei_drive.core.audit import highway_classes

    def trunk(limit_kmh):
        return [
            RoadEdge(0, 5, "residential", names=("Elm St",)),
            RoadEdge(5, 10, "trunk", limit_kmh, 50.0, ("US 33",)),
        ]

    town = audit_route(OHIO, trunk(48.3), rules, on=ON)  # "30 mph"
    assert highway_classes(trunk(48.3)) == ["", ""]
    assert not [w for w in town.warnings if w.kind == "highway"]
    assert not [w for w in town.warnings if w.kind == "speed_cap"]
    for limit in (88.5, None):  # 55 mph, or no posted limit
        fast = audit_route(OHIO, trunk(limit), rules, on=ON)
        assert [w.road for w in fast.warnings if w.kind == "highway"] == ["US 33"]
        assert not fast.kei_legal


def test_segment_edges_at_once_match_edge_by_edge():
    """The vectorised segment -> edge table equals filling it edge by edge (later edges
    win on overlap, indices outside the geometry are clipped), for routes and odd input."""
    from kei_drive.core.audit import _segment_edges

    def by_loop(edges, n):
        out = np.full(n, -1, dtype=np.int64)
        for k, e in enumerate(edges):
            b, en = max(e.begin_index, 0), min(e.end_index, n)
            if en > b:
                out[b:en] = k
        return out

    rng = np.random.default_rng(0)
    for trial in range(500):
        n, m = int(rng.integers(0, 40)), int(rng.integers(0, 12))
        if trial % 2:  # a route: edges in order, sharing their ends
            cuts = np.sort(rng.integers(0, n + 3, m + 1))
            edges = [RoadEdge(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        else:
            edges = [
                RoadEdge(int(rng.integers(-2, n + 2)), int(rng.integers(-2, n + 3)))
                for _ in range(m)
            ]
        assert np.array_equal(_segment_edges(edges, n), by_loop(edges, n))


def test_shifted_edge_keeps_every_field():
    e = RoadEdge(3, 7, "motorway_link", 96.0, 80.0, ("I 95",), "ramp")
    moved = e.shifted(10)
    assert (moved.begin_index, moved.end_index) == (13, 17)
    assert moved == RoadEdge(13, 17, "motorway_link", 96.0, 80.0, ("I 95",), "ramp")
    assert (e.begin_index, e.end_index) == (3, 7)  # the original is unchanged
