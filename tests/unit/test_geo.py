"""kei_drive.core.geo: state lookup, near-border flag, states along a line, shipped data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from kei_drive.core import geo
from kei_drive.core.distance import cumulative_m

ROOT = Path(__file__).resolve().parents[2]
PITTSBURGH = (40.4406, -79.9959)
COLUMBUS = (39.9612, -82.9988)
INDIANAPOLIS = (39.7684, -86.1581)


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (39.7392, -104.9903, "CO"),  # Denver
        (41.8781, -87.6298, "IL"),  # Chicago
        (32.7767, -96.7970, "TX"),  # Dallas
        (37.5407, -77.4360, "VA"),  # Richmond
        (61.2181, -149.9003, "AK"),  # Anchorage
        (21.3069, -157.8583, "HI"),  # Honolulu
        (25.7617, -80.1918, "FL"),  # Miami
        (44.9537, -93.0900, "MN"),  # St Paul
    ],
)
def test_points_deep_inside_states(lat, lon, code):
    hit = geo.state_at(lat, lon)
    assert hit is not None and hit.code == code
    assert hit.name == geo.state_names()[code]
    assert hit.near_border is False and hit.neighbours == ()


def test_washington_dc_virginia_across_the_potomac():
    lincoln = geo.state_at(38.8893, -77.0502)  # Lincoln Memorial, DC bank
    arlington = geo.state_at(38.8783, -77.0687)  # Arlington National Cemetery
    pentagon = geo.state_at(38.8719, -77.0563)
    assert (lincoln.code, arlington.code, pentagon.code) == ("DC", "VA", "VA")
    # The river itself belongs to DC (the line follows the Virginia shore).
    assert geo.state_at(38.8870, -77.0590).code == "DC"
    assert lincoln.near_border and "VA" in lincoln.neighbours
    assert arlington.near_border and "DC" in arlington.neighbours


def test_maryland_next_to_dc():
    silver_spring = geo.state_at(38.9907, -77.0261)
    assert silver_spring.code == "MD"
    assert silver_spring.near_border and "DC" in silver_spring.neighbours


def test_points_a_few_hundred_metres_from_a_state_line():
    # PA/OH line near 40.9 N runs along lon -80.519.
    assert geo.state_at(40.9, -80.515).code == "PA"  # ~340 m east
    assert geo.state_at(40.9, -80.525).code == "OH"  # ~470 m west
    # Kansas City: State Line Road (lon ~ -94.607)
    assert geo.state_at(39.0997, -94.615).code == "KS"
    assert geo.state_at(39.0997, -94.600).code == "MO"


def test_near_border_threshold_is_about_two_km():
    km_lon = 1 / (111.195 * math.cos(math.radians(40.9)))
    near = geo.state_at(40.9, -80.5193 + 1.2 * km_lon)
    far = geo.state_at(40.9, -80.5193 + 3.0 * km_lon)
    assert near.code == far.code == "PA"
    assert near.near_border and near.neighbours == ("OH",)
    assert not far.near_border


def test_coast_is_not_a_border_with_another_state():
    key_west = geo.state_at(24.5551, -81.7800)
    assert key_west.code == "FL" and not key_west.near_border


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (38.0, -70.0),  # Atlantic
        (26.0, -90.0),  # Gulf of Mexico
        (43.6532, -79.3832),  # Toronto
        (19.4326, -99.1332),  # Mexico City
        (49.2827, -123.1207),  # Vancouver
        (48.8566, 2.3522),  # Paris
    ],
)
def test_offshore_and_foreign_points_are_in_no_state(lat, lon):
    assert geo.state_at(lat, lon) is None


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(math.nan, -77.0), (38.0, math.nan), (math.inf, 0.0), (91.0, 0.0), (0.0, -181.0)],
)
def test_bad_coordinates_raise(lat, lon):
    with pytest.raises(ValueError, match="latitude"):
        geo.state_at(lat, lon)


def test_states_at_vectorised_matches_state_at():
    lats = [39.7392, 38.8893, 38.8783, 38.0, 43.6532]
    lons = [-104.9903, -77.0502, -77.0687, -70.0, -79.3832]
    codes = geo.states_at(lats, lons)
    assert codes.dtype == np.dtype("<U2")
    assert codes.tolist() == ["CO", "DC", "VA", "", ""]
    grid = geo.states_at(np.array([[40.44, 39.96]]), np.array([[-80.0, -83.0]]))
    assert grid.shape == (1, 2) and grid.tolist() == [["PA", "OH"]]
    assert geo.states_at([], []).shape == (0,)
    with pytest.raises(ValueError):
        geo.states_at([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        geo.states_at([np.nan], [1.0])


def test_states_at_agrees_with_state_at_on_random_points():
    rng = np.random.default_rng(7)
    lats, lons = rng.uniform(25, 49, 300), rng.uniform(-124, -67, 300)
    codes = geo.states_at(lats, lons)
    for lat, lon, code in zip(lats, lons, codes, strict=True):
        hit = geo.state_at(lat, lon)
        assert (hit.code if hit else "") == code


def test_states_along_pittsburgh_columbus_indianapolis():
    line = [PITTSBURGH, COLUMBUS, INDIANAPOLIS]
    spans = geo.states_along(line)
    # The straight Pittsburgh-Columbus line crosses West Virginia's northern panhandle.
    assert [s.state for s in spans] == ["PA", "WV", "OH", "IN"]
    total_m = cumulative_m(*np.array(line).T)[-1]
    assert spans[0].from_m == 0 and spans[-1].to_m == pytest.approx(total_m, rel=1e-3)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.to_m == pytest.approx(b.from_m) and a.exit == b.enter
    km = {s.state: s.km for s in spans}
    assert 35 < km["PA"] < 55  # Pittsburgh to the PA/WV line near Weirton
    assert 4 < km["WV"] < 12  # the panhandle is ~8 km wide there
    assert 330 < km["OH"] < 400
    assert 100 < km["IN"] < 130
    # Crossing points lie on the state lines: just either side is the two states.
    lat, lon = spans[2].exit  # OH -> IN, the line at lon ~ -84.81
    assert lon == pytest.approx(-84.81, abs=0.01)
    assert spans[0].enter == PITTSBURGH and spans[-1].exit == INDIANAPOLIS


def test_states_along_accepts_arrays_and_dense_tracks():
    lat = np.linspace(PITTSBURGH[0], INDIANAPOLIS[0], 5000)
    lon = np.linspace(PITTSBURGH[1], INDIANAPOLIS[1], 5000)
    spans = geo.states_along(np.c_[lat, lon])
    assert [s.state for s in spans] == ["PA", "WV", "OH", "IN"]
    assert sum(s.km for s in spans) == pytest.approx(cumulative_m(lat, lon)[-1] / 1000, rel=1e-6)


def test_states_along_skips_the_sea_and_abroad():
    # From the Atlantic into Delaware: the first stretch starts at the coast.
    spans = geo.states_along([(38.6, -74.5), (38.7, -75.5)])
    assert [s.state for s in spans] == ["DE"]
    assert spans[0].from_m > 10_000 and spans[0].enter[1] < -74.9
    assert geo.states_along([(43.65, -79.38), (45.5, -73.57)]) == []  # Toronto-Montreal
    assert geo.states_along([]) == []
    (single,) = geo.states_along([(39.7392, -104.9903)])
    assert single.state == "CO" and single.km == 0


def test_states_along_reentering_a_state_gives_a_new_stretch():
    # Detroit -> across Ontario -> Buffalo, then back to Detroit.
    line = [(42.3314, -83.0458), (42.8864, -78.8784), (42.3314, -83.0458)]
    names = [s.state for s in geo.states_along(line)]
    assert names[0] == "MI" and "NY" in names and names[-1] == "MI"


def test_states_along_max_gap_does_not_interpolate_glitches():
    denver, boston = (39.7392, -104.9903), (42.3601, -71.0589)
    line = [denver, (39.7400, -104.99), boston, (42.3605, -71.058)]
    followed = geo.states_along(line)
    assert len(followed) > 5  # a straight line across the Midwest
    gapped = geo.states_along(line, max_gap_m=50_000)
    assert [s.state for s in gapped] == ["CO", "MA"]
    assert gapped[0].exit == pytest.approx((39.7400, -104.99))
    assert gapped[1].enter == pytest.approx(boston)
    assert gapped[0].km < 1 and gapped[1].km < 1


def test_states_along_rejects_bad_input():
    with pytest.raises(ValueError):
        geo.states_along([(1.0, 2.0, 3.0)])
    with pytest.raises(ValueError):
        geo.states_along([(np.nan, 2.0), (1.0, 2.0)])


def test_state_span_to_dict():
    span = geo.states_along([PITTSBURGH, COLUMBUS])[0]
    d = span.to_dict()
    assert d["state"] == "PA" and d["km"] == round(span.km, 3)
    assert d["enter"] == [PITTSBURGH[0], PITTSBURGH[1]] and len(d["exit"]) == 2
    json.dumps(d)


def test_state_names_and_polygons():
    names = geo.state_names()
    assert len(names) == 51 and names["DC"] == "District of Columbia"
    assert list(names) == sorted(names)
    polys = geo.state_polygons()
    assert set(polys) == set(names)
    assert all(p.is_valid and not p.is_empty for p in polys.values())
    coarse = geo.state_polygons(tolerance_m=2000)
    assert shapely.get_num_coordinates(coarse["TX"]) < shapely.get_num_coordinates(polys["TX"])
    assert coarse["CO"].contains(shapely.Point(-104.99, 39.74))
    with pytest.raises(ValueError):
        geo.state_polygons(-1)


def test_shipped_geojson_metadata_and_light_file():
    data = json.loads(geo.DATA_PATH.read_text())
    meta = data["metadata"]
    assert meta["vintage"] == 2024 and "TIGER/Line" in meta["source"]
    assert "ublic domain" in meta["licence"] and meta["script"] == "scripts/build_state_polygons.py"
    assert len(data["features"]) == 51
    light = ROOT / "assets" / "data" / "us_states_light.geojson"
    assert light.stat().st_size < 400_000
    light_data = json.loads(light.read_text())
    assert {f["properties"]["code"] for f in light_data["features"]} == set(geo.state_names())
    assert all(set(f["properties"]) == {"code", "name"} for f in light_data["features"])
    assert "TIGER/Line 2024" in geo.GEO_ATTRIBUTION


def test_states_along_a_long_dense_log_matches_looking_up_every_fix(monkeypatch):
    """A GPS log (a fix every ~10 m) is looked up once per ~150 m and fully only between
    samples that disagree: the stretches are those of a lookup at every fix."""
    rng = np.random.default_rng(5)
    # Pittsburgh -> Columbus -> back east into WV and MD, jittered like GPS
    legs = [(40.44, -80.0), (39.96, -83.0), (39.64, -79.95), (39.65, -78.76), (39.72, -77.5)]
    parts = []
    for (a_lat, a_lon), (b_lat, b_lon) in zip(legs, legs[1:], strict=False):
        n = int(max(abs(b_lat - a_lat), abs(b_lon - a_lon)) / 0.0001)
        t = np.linspace(0, 1, n, endpoint=False)
        parts.append(np.column_stack((a_lat + (b_lat - a_lat) * t, a_lon + (b_lon - a_lon) * t)))
    track = np.concatenate(parts) + rng.normal(0, 3e-5, (sum(len(p) for p in parts), 2))
    assert len(track) > 50_000
    calls = []
    real = geo._state_indices
    monkeypatch.setattr(geo, "_state_indices", lambda la, lo: calls.append(la.size) or real(la, lo))
    sampled = geo.states_along(track)
    assert sum(calls) < len(track) / 5  # far fewer lookups than fixes
    monkeypatch.setattr(geo, "_SAMPLE_MIN_POINTS", 10**9)
    full = geo.states_along(track)
    assert [s.state for s in sampled] == [s.state for s in full]
    assert [s.state for s in full][:3] == ["PA", "WV", "OH"]
    for a, b in zip(sampled, full, strict=True):
        assert a.from_m == pytest.approx(b.from_m, abs=0.5)
        assert a.to_m == pytest.approx(b.to_m, abs=0.5)
