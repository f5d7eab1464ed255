"""Malformed XML exits 2 with its one-line message, in a real process (never a crash, 139).

CPython 3.12.1 crashed at exit after ElementTree's iterparse met a parse error; the GPX
reader no longer uses it. These run the installed CLI in a subprocess to see the exit code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.unit.test_gpx import ENCODING_ERRORS, MALFORMED, _doc_with_encoding

COMMANDS = (["trips", "import"], ["states-along"], ["check-route"])


def _run(command: list[str], path, tmp_path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KEI_DRIVE_HOME": str(tmp_path / "home"),
        "KEI_DRIVE_TILES": str(tmp_path / "no-tiles"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "kei_drive.cli", *command, str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _assert_exit_2_with_one_line(result: subprocess.CompletedProcess[str], message: str):
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_gpx_exits_2_with_one_line(name, command, tmp_path):
    text, message = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text)
    _assert_exit_2_with_one_line(_run(command, path, tmp_path), message)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    "name", ["ansi_encoding.gpx", "multibyte_encoding.gpx", "unknown_encoding.gpx"]
)
def test_unusable_declared_encoding_exits_2_with_one_line(name, command, tmp_path):
    data, message = ENCODING_ERRORS[name]
    path = tmp_path / name
    path.write_bytes(data)
    _assert_exit_2_with_one_line(_run(command, path, tmp_path), message)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_utf16_without_bom_is_read_not_a_traceback(command, tmp_path):
    """UTF-16BE declared "UTF-16" with no BOM crashed with UnicodeDecodeError (exit 1)."""
    path = tmp_path / "no_bom.gpx"
    path.write_bytes(_doc_with_encoding("UTF-16").encode("utf-16-be"))
    result = _run(command, path, tmp_path)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    if command[0] == "trips":
        assert json.loads(result.stdout)["trips"][0]["name"] == "Café à Zürich"
    if command[0] == "check-route":
        assert json.loads(result.stdout)["geometry"] == [[47.37, 8.54], [47.38, 8.54]]


def _log_with_bad_fixes() -> str:
    """A 1 Hz drive north with a NaN fix and an unreadable time in it (a logger's glitches)."""
    T = "2024-05-04T15:00:"  # noqa: N806
    fixes = [
        f'<trkpt lat="{40 + k * 1e-4:.4f}" lon="-105"><time>{T}{k:02d}Z</time></trkpt>'
        for k in range(30)
    ]
    fixes[10] = '<trkpt lat="nan" lon="-105"><time>2024-05-04T15:00:10Z</time></trkpt>'
    fixes[20] = '<trkpt lat="40.002" lon="-105"><time>20 past 3</time></trkpt>'
    return (
        _doc_with_encoding(None).split("<trkseg>")[0]
        + f"<trkseg>{''.join(fixes)}</trkseg></trk></gpx>"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_bad_fixes_are_left_out_and_said_not_the_whole_file(command, tmp_path):
    """Issue 11: one point never sinks an audit or a trip; each command says what it left out."""
    path = tmp_path / "glitchy.gpx"
    path.write_text(_log_with_bad_fixes())
    result = _run(command, path, tmp_path)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    notes = [
        "2 points of the file were left out; the first: point #11 of track 1 segment 1 has no "
        "valid coordinates (lat=nan, lon=-105.0)."
    ]
    if command[0] == "trips":
        out = json.loads(result.stdout)
        assert out["notes"] == notes
        (trip,) = out["trips"]
        assert trip["point_count"] == 28 and 300 < trip["stats"]["distance_m"] < 330
    elif command[0] == "check-route":
        assert json.loads(result.stdout)["notes"][:1] == notes
    else:
        assert [row["state"] for row in json.loads(result.stdout)] == ["CO"]
        assert result.stderr.strip().splitlines() == [f"kei-drive: note: {n}" for n in notes]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_drive_with_its_planned_route_is_checked_as_the_drive(command, tmp_path):
    """A logger's file with the drive (<trk>) and the route it followed (<rte>) was read as
    one line: the drive, then a jump back to the start and the route again (an import made
    the planned route a second trip)."""
    at = "2024-05-04T15:00:"
    drive = "".join(
        f'<trkpt lat="{40 + k * 1e-4:.4f}" lon="-105"><time>{at}{k:02d}Z</time></trkpt>'
        for k in range(30)
    )
    route = "".join(f'<rtept lat="{40 + k * 1e-3:.3f}" lon="-105.01"/>' for k in range(4))
    path = tmp_path / "drive_and_plan.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{drive}</trkseg></trk><rte>{route}</rte></gpx>"
    )
    result = _run(command, path, tmp_path)
    assert result.returncode == 0, result.stderr
    if command[0] == "trips":
        out = json.loads(result.stdout)
        (trip,) = out["trips"]
        assert 300 < trip["stats"]["distance_m"] < 340 and trip["point_count"] == 30
        assert any("planned route (<rte>)" in n and "to import it" in n for n in out["notes"])
    elif command[0] == "check-route":
        out = json.loads(result.stdout)
        assert 300 < out["distance_m"] < 340  # the drive's 322 m, not the route's too
        assert any("planned route (<rte>)" in n for n in out["notes"])
    else:
        (row,) = json.loads(result.stdout)
        assert row["state"] == "CO" and row["km"] < 0.4
        assert "planned route (<rte>)" in result.stderr


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`kei-drive check-route LOG --json | head`: the pipe closes under the writer; the
    command ends quietly (141, as a shell reports SIGPIPE) instead of printing a
    BrokenPipeError traceback."""
    from kei_drive.core.gpx import to_gpx
    from tests.support.trips import straight_drive

    path = tmp_path / "long.gpx"
    path.write_text(to_gpx(straight_drive(200_000, 10.0).points))  # a geometry of ~7,000 points
    reader = subprocess.Popen(
        [sys.executable, "-m", "kei_drive.cli", "check-route", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "KEI_DRIVE_HOME": str(tmp_path / "home"),
            "KEI_DRIVE_TILES": str(tmp_path / "no-tiles"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        },
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == b"{"
    reader.stdout.close()  # the reader leaves after one line
    _out, err = reader.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err[-1000:]
    assert reader.returncode == 141
