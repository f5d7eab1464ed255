"""CLI: kei-drive state-at / rules / states-along (JSON and human output)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kei_drive.cli import main
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / ".." / "shared" / "fixtures" / "gpx"
CLI = ROOT / ".venv" / "bin" / "kei-drive"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No user overrides or data from the real home leak into these tests."""
    monkeypatch.setenv("KEI_DRIVE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(tmp_path / "home" / "overrides.json"))


def run_json(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def gpx_file(tmp_path: Path, points) -> Path:
    pts = "".join(f'<trkpt lat="{lat}" lon="{lon}"></trkpt>' for lat, lon in points)
    path = tmp_path / "track.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{pts}</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    return path


def test_state_at_json(capsys):
    data = run_json(capsys, "state-at", "38.8783", "-77.0687", "--json")
    assert data["state"] == "VA" and data["name"] == "Virginia"
    assert data["near_border"] is True and data["neighbours"] == ["DC"]
    assert data["rule"]["status"] == "unclear" and "check with the DMV" in data["rule"]["advice"]


def test_state_at_deep_inside_and_the_colorado_date(capsys):
    before = run_json(capsys, "state-at", "39.7392", "-104.9903", "--on", "2027-12-31", "--json")
    after = run_json(capsys, "state-at", "39.7392", "-104.9903", "--on", "2028-01-01", "--json")
    assert before["state"] == "CO" and before["near_border"] is False
    assert before["rule"]["status"] == "banned"
    assert after["rule"]["status"] == "restricted" and after["rule"]["max_road_speed_mph"] == 55


def test_state_at_outside_the_us(capsys):
    data = run_json(capsys, "state-at", "43.6532", "-79.3832", "--json")
    assert data == {
        "state": None,
        "name": None,
        "near_border": False,
        "neighbours": [],
        "rule": None,
    }


@pytest.mark.parametrize(
    "argv",
    [["nan", "-77"], ["38", "inf"], ["91", "0"], ["0", "-181"]],
)
def test_state_at_bad_coordinates_exit_2(capsys, argv):
    assert main(["state-at", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "latitude" in captured.err


def test_state_at_not_a_number(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["state-at", "north", "-77"])
    assert exc.value.code == 2 and "not a number" in capsys.readouterr().err


def test_state_at_human_text(capsys):
    assert main(["state-at", "40.7128", "-74.0060"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("New York (NY) — within 2 km of NJ")
    assert "DMV refuses Kei registration" in out and "out-of-state plates" in out
    assert main(["state-at", "38.0", "-70.0"]) == 0
    assert "outside the 50 US states and DC" in capsys.readouterr().out


def test_rules_json_all_states(capsys):
    data = run_json(capsys, "rules", "--on", "2026-11-26", "--json")
    assert len(data) == 51
    required = {
        "state", "name", "status", "max_road_speed_mph", "interstate_forbidden", "conditions",
        "sources", "source_date", "confidence", "effective_from",
    }  # fmt: skip
    assert all(required <= set(row) for row in data)
    assert [r["state"] for r in data] == sorted(r["state"] for r in data)


def test_rules_one_state_on_dates(capsys):
    (before,) = run_json(capsys, "rules", "--state", "co", "--on", "2027-12-31", "--json")
    (after,) = run_json(capsys, "rules", "--state", "CO", "--on", "2028-01-01", "--json")
    assert before["status"] == "banned" and before["effective_from"] is None
    assert after["status"] == "restricted" and after["effective_from"] == "2028-01-01"


def test_rules_errors(capsys):
    assert main(["rules", "--state", "ZZ", "--json"]) == 2
    assert "unknown state" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["rules", "--on", "2028-13-01"])
    assert exc.value.code == 2


def test_rules_broken_shared_overrides_file_is_reported_and_kept(capsys, tmp_path, monkeypatch):
    """The pre-accounts shared file is imported into the account; a broken one is named
    (state and field), left where it is, and the account's rules still answer."""
    path = tmp_path / "broken.json"
    path.write_text('{"schema": "kei-drive/rule-overrides", "overrides": {"FL": {"note": "x"}}}')
    monkeypatch.setenv("KEI_DRIVE_RULE_OVERRIDES", str(path))
    assert main(["rules", "--json"]) == 0
    err = capsys.readouterr().err
    assert "NOT imported" in err and "FL" in err and "'date'" in err
    assert path.is_file()


def test_rules_human_text_marks_overrides(capsys, tmp_path):
    from kei_drive.core.rules import save_override

    save_override("TX", {"status": "restricted"}, "my letter")  # the pre-accounts shared file
    assert main(["rules", "--state", "TX"]) == 0  # imported into the (only) account first
    out, err = capsys.readouterr()
    assert out.startswith("TX  restricted") and "(your override)" in out
    assert "Imported 1 rule overrides" in err
    assert main(["rules", "--state", "TX"]) == 0  # now from the database, file renamed
    out, err = capsys.readouterr()
    assert "(your override)" in out and err == ""


def test_states_along_gpx(capsys, tmp_path):
    import numpy as np

    lat = np.r_[np.linspace(40.4406, 39.9612, 300), np.linspace(39.9612, 39.7684, 300)[1:]]
    lon = np.r_[np.linspace(-79.9959, -82.9988, 300), np.linspace(-82.9988, -86.1581, 300)[1:]]
    path = gpx_file(tmp_path, zip(lat.round(6), lon.round(6), strict=True))
    data = run_json(capsys, "states-along", str(path), "--json")
    assert [row["state"] for row in data] == ["PA", "WV", "OH", "IN"]
    assert all(len(row["enter"]) == 2 and len(row["exit"]) == 2 for row in data)
    assert 500 < sum(row["km"] for row in data) < 560
    assert data[0]["enter"] == [40.4406, -79.9959]
    assert {r["state"]: r["road_access"] for r in data}["OH"] == "local_opt_in"


def test_states_along_sparse_points_need_max_gap(capsys, tmp_path):
    path = gpx_file(tmp_path, [(40.4406, -79.9959), (39.9612, -82.9988), (39.7684, -86.1581)])
    # By default jumps over 50 km are gaps (recorded tracks); follow them for routes.
    gapped = run_json(capsys, "states-along", str(path), "--json")
    assert [row["state"] for row in gapped] == ["PA", "OH", "IN"]
    assert all(row["km"] == 0 for row in gapped)
    followed = run_json(capsys, "states-along", str(path), "--max-gap-km", "inf", "--json")
    assert [row["state"] for row in followed] == ["PA", "WV", "OH", "IN"]


def test_states_along_real_track(capsys):
    path = FIXTURES / "il_i55_chenoa_pontiac_vpl.gpx"
    if not path.exists():
        missing(f"shared fixture {path}", "fixtures")
    (row,) = run_json(capsys, "states-along", str(path), "--json")
    assert row["state"] == "IL" and 14 < row["km"] < 15.5
    assert main(["states-along", str(path)]) == 0
    assert capsys.readouterr().out.startswith("IL")


def test_states_along_glitch_is_a_gap(capsys):
    path = FIXTURES / "co_boulder_mixed_walk_drive.gpx"
    if not path.exists():
        missing(f"shared fixture {path}", "fixtures")
    data = run_json(capsys, "states-along", str(path), "--json")
    # One bogus point in Taiwan must not draw a line across the US, nor count its distance.
    assert {row["state"] for row in data} <= {"CO", "CT"}
    assert sum(row["km"] for row in data if row["state"] == "CO") < 100
    assert all(row["from_km"] < 100 for row in data)


def timed_gpx_file(tmp_path: Path, lat, lon, glitches=()) -> Path:
    """A 1 Hz log (lat, lon arrays), with fixes replaced by ``glitches`` {index: (lat, lon)}."""
    pts = []
    for k, (a, b) in enumerate(zip(lat, lon, strict=True)):
        a, b = glitches.get(k, (a, b))
        pts.append(
            f'<trkpt lat="{a:.6f}" lon="{b:.6f}"><time>2024-06-01T12:{k // 60 % 60:02d}:'
            f"{k % 60:02d}Z</time></trkpt>"
        )
    path = tmp_path / "log.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{"".join(pts)}</trkseg></trk></gpx>',
        encoding="utf-8",
    )
    return path


def test_states_along_a_log_drops_its_glitches_and_noise(capsys, tmp_path):
    """A 22 km drive from Maryland into Pennsylvania at 25 m/s with 15 m of noise and two
    fixes in Florida: MD then PA, no Florida, and the km of the drive, not of the noise."""
    import numpy as np

    from kei_drive.core.distance import haversine_m

    n = 900
    rng = np.random.default_rng(3)
    lat = np.linspace(39.62, 39.82, n) + rng.normal(0, 15, n) / 111_195
    lon = np.full(n, -76.70) + rng.normal(0, 15, n) / 85_600
    straight_km = haversine_m(39.62, -76.70, 39.82, -76.70) / 1000
    florida = {300: (25.77, -80.19), 600: (25.78, -80.20)}
    data = run_json(
        capsys, "states-along", str(timed_gpx_file(tmp_path, lat, lon, florida)), "--json"
    )
    assert [row["state"] for row in data] == ["MD", "PA"]
    assert sum(row["km"] for row in data) == pytest.approx(straight_km, rel=0.03)
    assert data[1]["from_km"] == pytest.approx(data[0]["km"], abs=0.5)


def test_states_along_an_untimed_log_drops_its_jitter(capsys, tmp_path):
    """A winding 2.6 km drive logged every ~9 m with 5 m of jitter and its times stripped:
    read as a log (thinned), not as a drawn route's vertices, which it was: +29 %. Now +8 %,
    what is left of 5 m of jitter at the 30 m spacing (smoothing aims at 5 m; a trip's
    statistics fit it to +0.1 %). The same line without jitter keeps its length."""
    import numpy as np

    from kei_drive.core.distance import cumulative_m

    s = np.arange(0.0, 2600.0, 9.0)  # metres along a road winding 60 m either side
    north, east = s / 111_195, 60.0 * np.sin(s / 150.0) / 85_600
    lat, lon = 39.30 + north, -76.60 + east
    true_km = float(cumulative_m(lat, lon)[-1]) / 1000
    rng = np.random.default_rng(5)
    noisy = list(
        zip(
            lat + rng.normal(0, 5, s.size) / 111_195,
            lon + rng.normal(0, 5, s.size) / 85_600,
            strict=True,
        )
    )
    for points, rel in ((noisy, 0.1), (list(zip(lat, lon, strict=True)), 0.005)):
        data = run_json(capsys, "states-along", str(gpx_file(tmp_path, points)), "--json")
        assert [row["state"] for row in data] == ["MD"]
        assert data[0]["km"] == pytest.approx(true_km, rel=rel)


def test_states_along_errors(capsys, tmp_path):
    assert main(["states-along", str(tmp_path / "absent.gpx")]) == 2
    assert "absent.gpx" in capsys.readouterr().err
    bad = tmp_path / "bad.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat='x'")
    assert main(["states-along", str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "bad.gpx" in captured.err


def test_console_script_subprocess(tmp_path):
    if not CLI.exists():
        pytest.skip("console script not installed (pip install -e . --no-deps)")
    env = {"KEI_DRIVE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [str(CLI), "state-at", "38.8893", "-77.0502", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["state"] == "DC" and data["near_border"] is True
    proc = subprocess.run(
        [str(CLI), "state-at", "nan", "0"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 2 and "error" in proc.stderr


ISSUE_FIELDS = (
    "status", "road_access", "max_road_speed_mph", "interstate", "visitors",
    "vehicle_requirements", "registration_routes", "effective_from", "confidence", "sources",
    "last_checked",
)  # fmt: skip


def test_rules_json_v3_fields(capsys):
    (oh,) = run_json(capsys, "rules", "--state", "OH", "--on", "2026-12-02", "--json")
    for key in ISSUE_FIELDS:
        assert key in oh, key
    assert oh["road_access"] == "local_opt_in" and oh["interstate"] == "forbidden"
    assert oh["vehicle_requirements"] == ["inspection"] and oh["effective_from"] == "2025-06-30"
    assert oh["visitors"]["rule"] == "may_not_operate" and oh["visitors"]["source"]
    src = oh["sources"][0]
    assert set(src) >= {"url", "title", "date", "quote"} and "no person shall" in src["quote"]
    (pa,) = run_json(capsys, "rules", "--state", "PA", "--on", "2026-12-02", "--json")
    assert "farm_plate" in [r["code"] for r in pa["registration_routes"]]
    (ky,) = run_json(capsys, "rules", "--state", "KY", "--on", "2025-06-26", "--json")
    assert ky["effective_from"] == "2013-06-25" and ky["vehicle_requirements"] == []


def test_state_at_json_rule_has_the_same_fields(capsys):
    data = run_json(capsys, "state-at", "40.7128", "-74.0060", "--on", "2026-12-02", "--json")
    rule = data["rule"]
    for key in ISSUE_FIELDS:
        assert key in rule, key
    assert rule["road_access"] == "none" and rule["visitors"]["rule"] == "may_not_operate"


def test_permit_cli_roundtrip(capsys, tmp_path):
    code = main(
        ["permit", "add", "--place", "Coldwater, OH", "--radius-km", "2", "--cap-mph", "35",
         "--note", "Village ordinance (my reading)", "--json"]
    )  # fmt: skip
    added = json.loads(capsys.readouterr().out)
    assert code == 0 and added["state"] == "OH" and added["radius_m"] == 2000
    listed = run_json(capsys, "permit", "list", "--json")
    assert [p["id"] for p in listed] == [added["id"]]
    assert main(["permit", "add", "--place", "Nowhereville, ZZ", "--note", "x"]) == 2
    assert "no place" in capsys.readouterr().err
    assert main(["permit", "remove", added["id"]]) == 0
    capsys.readouterr()
    assert run_json(capsys, "permit", "list", "--json") == []


def test_rules_by_severity_follows_the_core_order(capsys):
    rows = run_json(capsys, "rules", "--on", "2026-12-02", "--by-severity", "--json")
    severities = [r["severity"] for r in rows]
    assert severities == sorted(severities, reverse=True)
    assert rows[0]["status"] == "banned" and rows[-1]["status"] == "legal"
    codes = [r["state"] for r in rows]
    assert codes.index("OH") < codes.index("VA") < codes.index("IN")


def test_states_along_a_missing_file_says_so(capsys, tmp_path):
    """A path that is not there is a missing file, not malformed GPX text."""
    assert main(["states-along", str(tmp_path / "nowhere.gpx")]) == 2
    assert "no such file" in capsys.readouterr().err
    for command in ("states-along", "check-route"):  # a folder is there, and no file
        assert main([command, str(tmp_path)]) == 2
        assert "is a directory, not a GPX file" in capsys.readouterr().err
