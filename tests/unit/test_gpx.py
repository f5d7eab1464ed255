"""GPX reading/writing: real files, round trips and clear errors for bad input."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from kei_drive.core.gpx import (
    ALL_FIELDS,
    POSITIONS_ONLY,
    GpxError,
    TrackPoint,
    read_gpx,
    read_gpx_columns,
    read_gpx_latlon,
    read_gpx_points,
    read_gpx_tracks,
    to_geojson,
    to_gpx,
)
from tests.conftest import GPX_FIXTURES as FIXTURES
from tests.conftest import needs_fixtures

T0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)


def _gpx(body: str, version: str = "1.1") -> str:
    return (
        f'<?xml version="1.0"?><gpx version="{version}" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/1/{version[-1]}">{body}</gpx>'
    )


def _pts(n: int = 3, **kw) -> list[TrackPoint]:
    return [TrackPoint(40.0 + i * 1e-3, -105.0, T0 + timedelta(seconds=i), **kw) for i in range(n)]


@needs_fixtures
def test_reads_real_files_segments_and_extras():
    i55 = read_gpx(FIXTURES / "il_i55_chenoa_pontiac_vpl.gpx")
    assert [len(s) for s in i55] == [500]
    first = i55[0][0]
    assert first.time == datetime(2009, 7, 6, 21, 14, 11, tzinfo=UTC)
    assert first.speed_mps == pytest.approx(29.25318)
    assert first.course == pytest.approx(359.000214)
    assert first.elevation == 225.0
    assert first.accuracy_m == pytest.approx(0.875 * 5)  # from hdop

    boulder = read_gpx(FIXTURES / "co_boulder_mixed_walk_drive.gpx")
    assert len(boulder) == 45 and sum(map(len, boulder)) == 1549
    tracks = read_gpx_tracks(FIXTURES / "co_boulder_mixed_walk_drive.gpx")
    assert len(tracks) == 3 and tracks[0][0] == "First Track"
    # accepts every source kind
    text = (FIXTURES / "ca_los_altos_hills_virb.gpx").read_text()
    for source in (text, text.encode(), io.StringIO(text), io.BytesIO(text.encode())):
        assert len(read_gpx_points(source)) == 145
    assert len(read_gpx_points(str(FIXTURES / "ca_los_altos_hills_virb.gpx"))) == 145


def test_routes_and_untimed_points_and_naive_times():
    doc = _gpx(
        '<trk><trkseg><trkpt lat="1" lon="2"><time>2024-01-01T00:00:00</time></trkpt>'
        '<trkpt lat="1.1" lon="2"/></trkseg><trkseg/></trk>'
        '<rte><rtept lat="3" lon="4"/><rtept lat="3.5" lon="4.5"/></rte>'
    )
    segments = read_gpx(doc)
    assert [len(s) for s in segments] == [2, 2]
    assert segments[0][0].time == datetime(2024, 1, 1, tzinfo=UTC)
    assert segments[0][1].time is None
    assert read_gpx_points(doc) == [(1.0, 2.0), (1.1, 2.0), (3.0, 4.0), (3.5, 4.5)]


def test_gpx11_garmin_extension_speed():
    doc = _gpx(
        '<trk><trkseg><trkpt lat="1" lon="2"><extensions>'
        '<gpxtpx:TrackPointExtension xmlns:gpxtpx="http://www.garmin.com/xmlschemas/'
        'TrackPointExtension/v2"><gpxtpx:speed>12.5</gpxtpx:speed></gpxtpx:TrackPointExtension>'
        "</extensions></trkpt></trkseg></trk>"
    )
    assert read_gpx(doc)[0][0].speed_mps == 12.5


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "empty document"),
        ("this is not xml", "malformed XML"),
        ("<gpx><trk>", "malformed XML"),
        ("<html><body/></html>", "root element is <html>"),
        (_gpx(""), "no track or route points"),
        (_gpx("<trk><trkseg/></trk>"), "no track or route points"),
        (_gpx('<trk><trkseg><trkpt lat="nan" lon="1"/></trkseg></trk>'), "no valid coord"),
        (_gpx('<trk><trkseg><trkpt lat="95" lon="1"/></trkseg></trk>'), "out of range"),
        (_gpx('<trk><trkseg><trkpt lat="1" lon="-181"/></trkseg></trk>'), "out of range"),
        (_gpx('<trk><trkseg><trkpt lat="abc" lon="1"/></trkseg></trk>'), "'abc', not a number"),
        (_gpx('<trk><trkseg><trkpt lon="1"/></trkseg></trk>'), "no valid track.*has no lat"),
        (b"\xff\xfe\x00\x01", "malformed XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "malformed XML"),
        (Path("/nonexistent/track.gpx"), "cannot read GPX file"),
    ],
)
def test_bad_input_raises_clear_gpx_error(source, message):
    with pytest.raises(GpxError, match=message):
        read_gpx(source)
    assert issubclass(GpxError, ValueError)


def _fix(lat: str, lon: str = "-105.0", time: str | None = None) -> str:
    body = f"<time>{time}</time>" if time is not None else ""
    return f'<trkpt lat="{lat}" lon="{lon}">{body}</trkpt>'


BAD_FIXES = [  # (a bad fix as a logger may write it, the reason given for it)
    (_fix("nan", time="2024-05-04T15:00:01Z"), "has no valid coordinates (lat=nan"),
    (_fix("", time="2024-05-04T15:00:01Z"), "has lat='', not a number"),
    (_fix("40.0001", "-181", "2024-05-04T15:00:01Z"), "is out of range"),
    (_fix("40.0001", time="yesterday"), "has a bad time 'yesterday'"),
    ('<trkpt lon="-105"><time>2024-05-04T15:00:01Z</time></trkpt>', "has no lat"),
]


@pytest.mark.parametrize(("bad", "why"), BAD_FIXES)
@pytest.mark.parametrize("comment", ["", "<!-- the general scan -->"])
def test_one_bad_fix_is_left_out_and_said_not_the_whole_file(bad, why, comment):
    """Issue 11: one point never sinks a trip. A logger's NaN, empty or out-of-range
    coordinate or unreadable time used to refuse the whole file."""
    good = [_fix(f"{40 + k * 1e-3:.4f}", time=f"2024-05-04T15:00:{k:02d}Z") for k in (0, 2, 3)]
    doc = _gpx(f"<trk><trkseg>{comment}{good[0]}{bad}{good[1]}{bad}{good[2]}</trkseg></trk>")
    notes: list[str] = []
    (track,) = read_gpx_columns(doc, notes_out=notes)
    (seg,) = track.segments
    assert seg.lat.tolist() == [40.0, 40.002, 40.003]
    assert seg.t.tolist() == [T0.timestamp(), T0.timestamp() + 2, T0.timestamp() + 3]
    (note,) = notes
    assert note.startswith("2 points of the file were left out; the first: point #2 of track 1 ")
    assert why in note, note
    assert read_gpx_columns(doc)[0].segments[0].lat.tolist() == seg.lat.tolist()  # no notes


@pytest.mark.parametrize("comment", ["", "<!-- the general scan -->"])
def test_a_log_whose_every_time_is_garbled_is_read_untimed_and_said(comment):
    """No time can be read: the positions are kept, untimed (the file was refused, exit 2,
    "no valid track or route points"). Among readable times a garbled one's fix is left
    out: kept untimed, it turned off the repairs of the log's stamps (a 2 Hz logger's whole
    seconds: 47 mph for 43, 44 s over a 45 mph cap; review)."""
    bad = [_fix("40.0010", time="yesterday"), _fix("40.0030", time="1714834803")]
    doc = _gpx(f"<trk><trkseg>{comment}{bad[0]}{_fix('nan', time='x')}{bad[1]}</trkseg></trk>")
    notes: list[str] = []
    (seg,) = read_gpx_columns(doc, notes_out=notes)[0].segments
    assert seg.lat.tolist() == [40.001, 40.003] and np.isnan(seg.t).all()
    assert notes == [
        "1 point of the file was left out: point #2 of track 1 segment 1 has no valid "
        "coordinates (lat=nan, lon=-105.0).",
        "2 points' times could not be read, so they are read as untimed; the first: point "
        "#1 of track 1 segment 1 has 'yesterday'.",
    ]  # the NaN fix, its time garbled too, is left out, not counted untimed


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2024-5-4T9:03:07Z", "2024-05-04T09:03:07Z"),  # a home-made logger's printf
        ("2024-5-4 9:03:07.5", "2024-05-04T09:03:07.5Z"),
        ("2024-05-04T9:03:07-4:00", "2024-05-04T13:03:07Z"),
        ("2024-05-04T24:00:00Z", "2024-05-05T00:00:00Z"),  # XML Schema's end of a day
        ("2024-5-4T24:00+5:30", "2024-05-04T18:30:00Z"),
    ],
)
def test_times_loggers_write_beside_iso_8601_are_read(written, meant):
    """Each was an unreadable time: a log written so lost every fix ("no valid point")."""
    doc = _gpx(f"<trk><trkseg>{_fix('40', time=written)}{_fix('40.1', time=meant)}</trkseg></trk>")
    notes: list[str] = []
    (seg,) = read_gpx_columns(doc, notes_out=notes)[0].segments
    assert seg.t[0] == seg.t[1] and not notes


@pytest.mark.parametrize(
    "written",
    [
        "2024-05-04T24:00:01Z",
        "2024-05-04T15:00:61Z",
        "2024-13-04T15:00:00Z",
        "2016-12-31T23:59:60Z",  # a leap second: epoch seconds have no room for it
    ],
)
def test_impossible_times_stay_unreadable(written):
    (seg,) = read_gpx_columns(_gpx(f"<trk><trkseg>{_fix('40', time=written)}</trkseg></trk>"))[
        0
    ].segments
    assert np.isnan(seg.t[0])


def test_points_left_out_keep_the_numbers_of_the_file():
    """The first bad point is named by its place in the file, however many came before."""
    bad = _fix("nan")
    doc = _gpx(
        f"<trk><trkseg>{_fix('1')}{_fix('2')}</trkseg><trkseg>{_fix('1')}{bad}"
        f"{_fix('1.1')}</trkseg></trk><trk><trkseg>{bad}</trkseg></trk>"
    )
    notes: list[str] = []
    tracks = read_gpx_columns(doc, notes_out=notes)
    assert [t.point_count for t in tracks] == [4]  # the second track had only a bad fix
    assert notes == [
        "2 points of the file were left out; the first: point #2 of track 1 segment 2 has no "
        "valid coordinates (lat=nan, lon=-105.0)."
    ]


def test_gpx_round_trip_keeps_every_field():
    points = [
        TrackPoint(
            40.01, -105.2, T0, elevation=1600.5, speed_mps=12.25, course=90.0, accuracy_m=7.5
        ),
        TrackPoint(40.02, -105.21, T0 + timedelta(seconds=5)),
        TrackPoint(40.03, -105.22, None, elevation=1601.0),
    ]
    text = to_gpx([points, points[:2]], name="Saturday <farm> run")
    assert "Saturday &lt;farm&gt; run" in text
    back = read_gpx(text)
    assert [len(s) for s in back] == [3, 2]
    assert back[0] == points
    assert read_gpx_tracks(text)[0][0] == "Saturday <farm> run"


@needs_fixtures
def test_gpx_round_trip_real_file():
    original = read_gpx(FIXTURES / "il_i55_chenoa_pontiac_vpl.gpx")
    back = read_gpx(to_gpx(original))
    assert len(back[0]) == 500
    for a, b in zip(original[0], back[0], strict=True):
        assert (a.lat, a.lon, a.time, a.elevation) == (b.lat, b.lon, b.time, b.elevation)
        assert b.speed_mps == pytest.approx(a.speed_mps, abs=1e-3)


def test_geojson_line_and_multiline():
    one = to_geojson(_pts(3, elevation=10.0, speed_mps=2.0), name="x", properties={"k": 1})
    json.dumps(one)  # serialisable
    feature = one["features"][0]
    assert one["type"] == "FeatureCollection"
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"][1] == [-105.0, 40.001, 10.0]
    assert feature["properties"]["name"] == "x" and feature["properties"]["k"] == 1
    cp = feature["properties"]["coordinateProperties"]
    assert cp["times"][0] == "2024-05-04T15:00:00Z" and cp["speeds_mps"] == [2.0, 2.0, 2.0]

    multi = to_geojson([_pts(2), _pts(3)])
    geometry = multi["features"][0]["geometry"]
    assert geometry["type"] == "MultiLineString"
    assert [len(c) for c in geometry["coordinates"]] == [2, 3]
    assert geometry["coordinates"][0][0] == [-105.0, 40.0]  # no elevation -> 2D


def _doc_with_encoding(encoding: str | None, name: str = "Café à Zürich") -> str:
    declaration = f' encoding="{encoding}"' if encoding else ""
    return (
        f'<?xml version="1.0"{declaration}?>'
        '<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>{name}</name><trkseg>"
        '<trkpt lat="47.37" lon="8.54"><time>2024-05-04T15:00:00Z</time></trkpt>'
        '<trkpt lat="47.38" lon="8.54"><time>2024-05-04T15:01:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    )


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-16LE", "ISO-8859-1", "windows-1252"])
def test_honours_the_xml_encoding_declaration(encoding, tmp_path):
    data = _doc_with_encoding(encoding).encode(encoding.lower().replace("utf-16le", "utf-16"))
    path = tmp_path / "track.gpx"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        tracks = read_gpx_tracks(source)
        assert tracks[0][0] == "Café à Zürich"
        assert [p.lat for p in tracks[0][1][0]] == [47.37, 47.38]


# Declared encodings that cannot be used: one line naming the encoding, never a traceback
# (expat asks Python's codecs for any encoding it does not know; those raised LookupError
# or ValueError straight through). No guessing at code pages: "ANSI" is refused too.
ENCODING_ERRORS = {
    "unknown_encoding.gpx": (
        _doc_with_encoding("klingon-8").encode(),
        "the encoding 'klingon-8' named in its XML declaration is not a known encoding; "
        "re-save the file as UTF-8",
    ),
    "ansi_encoding.gpx": (
        _doc_with_encoding("ANSI").encode("cp1252"),
        "the encoding 'ANSI' named in its XML declaration is not a known encoding",
    ),
    "multibyte_encoding.gpx": (
        _doc_with_encoding("Shift_JIS", "東京").encode("shift_jis"),
        "the encoding 'Shift_JIS' named in its XML declaration is not supported",
    ),
    "not_a_text_encoding.gpx": (
        _doc_with_encoding("rot13").encode(),
        "the encoding 'rot13' named in its XML declaration is not a known encoding",
    ),
    "codec_that_fails.gpx": (
        _doc_with_encoding("idna").encode(),
        "the encoding 'idna' named in its XML declaration is not supported",
    ),
}


@pytest.mark.parametrize("fields", [ALL_FIELDS, POSITIONS_ONLY], ids=["all", "positions"])
@pytest.mark.parametrize("name", sorted(ENCODING_ERRORS))
def test_unusable_declared_encoding_is_a_clear_gpx_error(name, fields, tmp_path):
    data, message = ENCODING_ERRORS[name]
    path = tmp_path / name
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        with pytest.raises(GpxError, match=f"^not a GPX file: {message}") as caught:
            read_gpx_columns(source, fields)
        assert "\n" not in str(caught.value)
    with pytest.raises(GpxError, match=message):
        read_gpx_latlon(path, fields)


@pytest.mark.parametrize("declared", [None, "UTF-8"])
def test_latin1_bytes_in_a_utf8_document_name_the_encoding(declared, tmp_path):
    """A Windows tool writing "Café" in Latin-1 without saying so: refused (no guessing at
    code pages), but the message says the bytes are not UTF-8, not just "invalid token"."""
    data = _doc_with_encoding(declared).encode("latin-1")
    for source in (data, io.BytesIO(data)):
        with pytest.raises(GpxError, match="its bytes are not UTF-8 .line 1, column") as caught:
            read_gpx_columns(source)
        assert "Latin-1" in str(caught.value) and "\n" not in str(caught.value)


def _cut_off(doc: str, after: str) -> bytes:
    return doc[: doc.index(after) + len(after)].encode()


CUT_OFF_DOC = _gpx(
    "<trk><name>Farm run</name><trkseg>"
    + "".join(
        f'<trkpt lat="40.{i:04d}" lon="-105.0"><ele>1600</ele>'
        f"<time>2024-05-04T15:00:{i:02d}Z</time></trkpt>"
        for i in range(6)
    )
    + "</trkseg></trk>"
)


@pytest.mark.parametrize(
    ("after", "points"),
    [
        ("</trkpt>", 1),  # between two points
        ('<trkpt lat="40.0003" lo', 3),  # inside a tag
        ("<time>2024-05-04T15:00:04", 4),  # inside a point's fields: that point is left out
        ("</trkseg>", 6),
        ("</trk>", 6),
    ],
)
def test_a_file_cut_off_keeps_the_points_before_the_cut(after, points, tmp_path):
    """A logger or phone that died while writing: the closing tags never came. The whole
    points before the cut are read, with a note; nothing after the last whole point."""
    data = _cut_off(CUT_OFF_DOC, after)
    path = tmp_path / "cut.gpx"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        notes: list[str] = []
        (track,) = read_gpx_columns(source, notes_out=notes)
        assert track.name == "Farm run"
        assert track.segments[0].lat.tolist() == [40.0 + i / 10_000 for i in range(points)]
        assert notes and "stops before its end" in notes[0]
    with pytest.raises(GpxError, match="malformed XML"):  # nothing whole before the cut
        read_gpx_columns(_cut_off(CUT_OFF_DOC, '<trkpt lat="40.0000"'))


@pytest.mark.parametrize("codec", ["utf-16-be", "utf-16-le"])
@pytest.mark.parametrize("declared", ["UTF-16", None])
def test_utf16_without_bom_is_read_as_expat_reads_it(codec, declared, tmp_path):
    """No BOM: expat reads UTF-16 from the NUL in the first two bytes (a document starts
    with ASCII "<"), and the points are decoded the same way (no UnicodeDecodeError)."""
    data = _doc_with_encoding(declared).encode(codec)
    assert not data.startswith((b"\xfe\xff", b"\xff\xfe"))
    path = tmp_path / "track.gpx"
    path.write_bytes(data)
    for source in (lambda: data, lambda: path, lambda: io.BytesIO(data)):
        (track,) = read_gpx_columns(source())
        assert track.name == "Café à Zürich"
        assert track.segments[0].t.tolist() == [1714834800.0, 1714834860.0]
        assert read_gpx_points(source()) == [(47.37, 8.54), (47.38, 8.54)]


ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]><gpx><trk><name>&j;</name></trk></gpx>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    '<gpx><trk><name>&e;</name><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/>'
    "</trkseg></trk></gpx>"
)
MALFORMED = {
    "entity_bomb.gpx": (ENTITY_BOMB, "entity declarations are not allowed"),
    "external_entity.gpx": (EXTERNAL_ENTITY, "entity declarations are not allowed"),
    "mismatched_tag.gpx": (
        '<gpx><trk><trkseg><trkpt lat="1" lon="2"></trkseg></trk></gpx>',
        "malformed XML \\(mismatched tag",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_xml_is_refused_with_its_reason(name):
    text, message = MALFORMED[name]
    with pytest.raises(GpxError, match=message):
        read_gpx(text)
    with pytest.raises(GpxError, match=message):
        read_gpx(text.encode())


def test_big_file_is_read_in_chunks_into_columns(tmp_path):
    from kei_drive.core import gpx as gpx_mod

    n = 30_000  # several READ_CHUNKs
    body = "".join(
        f'<trkpt lat="{40 + i * 1e-5:.6f}" lon="-105"><ele>{i % 7}</ele>'
        f"<time>2024-05-04T15:{(i // 60) % 60:02d}:{i % 60:02d}Z</time><hdop>1.2</hdop></trkpt>"
        for i in range(n)
    )
    path = tmp_path / "big.gpx"
    path.write_text(_gpx(f"<trk><trkseg>{body}</trkseg></trk>"))
    assert path.stat().st_size > 2 * gpx_mod.READ_CHUNK
    (track,) = gpx_mod.read_gpx_columns(path)
    (segment,) = track.segments
    assert len(segment) == n
    assert segment.lat[-1] == pytest.approx(40 + (n - 1) * 1e-5)
    assert segment.elevation[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    assert segment.accuracy[0] == pytest.approx(1.2 * 5)
    assert segment.t[1] - segment.t[0] == 1.0


def test_irregular_but_valid_gpx_is_read_point_by_point():
    doc = (
        "<?xml version='1.0'?><gpx version='1.1' creator='t' xmlns:g='urn:x'>"
        "<metadata><name>Not a track</name><time>2020-01-01T00:00:00Z</time></metadata>"
        "<wpt lat='9' lon='9'><time>2019-01-01T00:00:00Z</time></wpt>"
        "<trk><name>Caf&#233; &amp; <![CDATA[<b>road</b>]]></name><trkseg>"
        "<!-- <trkpt lat='50' lon='50'></trkpt> -->"
        "<trkpt lon='8.54' lat='47.37'><time>2024-05-04T17:00:00+02:00</time></trkpt>"
        '<trkpt lat="47.38" lon="8.54"><name>x</name><ele> 410.5 </ele></trkpt>'
        "<trkpt lat='47.39' lon='8.54'><extensions><g:speed>3.5</g:speed></extensions>"
        "<time>2024-05-04T15:00:10.5Z</time><speed>9</speed></trkpt>"
        "<trkpt lat='47.40' lon='8.54'/>"
        "</trkseg></trk></gpx>"
    )
    (track,) = read_gpx_columns(doc)
    assert track.name == "Café & <b>road</b>"
    (seg,) = track.segments
    assert seg.lat.tolist() == [47.37, 47.38, 47.39, 47.40]
    t0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC).timestamp()
    assert seg.t[0] == t0 and np.isnan(seg.t[1]) and seg.t[2] == t0 + 10.5
    assert np.isnan(seg.elevation[0]) and seg.elevation[1] == 410.5
    assert seg.speed[2] == 3.5 and np.isnan(seg.speed[:2]).all()


def _columns(tracks) -> list:
    return [
        (
            t.name,
            t.kind,
            [
                [
                    np.nan_to_num(getattr(s, k), nan=-999.0).tolist()  # NaN != NaN in a list
                    for k in ("lat", "lon", "t", "elevation", "speed", "course", "accuracy")
                ]
                for s in t.segments
            ],
        )
        for t in tracks
    ]


def test_fast_scan_reads_what_the_general_scan_reads(tmp_path, monkeypatch):
    """The vectorised token scan (big files) and the regex scan it falls back to agree on
    tracks, names, segments, routes, self-closing points, missing and extension fields."""
    from kei_drive.core import gpx as gpx_mod

    def point(i: int) -> str:
        if i % 97 == 0:
            return f'<trkpt lat="{40 + i * 1e-5:.6f}" lon="-105.1"/>'
        ext = (
            f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>{i % 13}.5</gpxtpx:speed>"
            "</gpxtpx:TrackPointExtension></extensions>"
            if i % 5 == 0
            else ""
        )
        time = (
            "" if i % 31 == 0 else f"<time>2024-05-04T15:{(i // 60) % 60:02d}:{i % 60:02d}Z</time>"
        )
        return (
            f'<trkpt lon="-105.{i % 1000:03d}" lat="{40 + i * 1e-5:.6f}">\n  <ele>{i % 7}</ele>'
            f"{time}<name>pt {i}</name>{ext}</trkpt>\n"
        )

    segs = "".join(
        f"<trkseg>{''.join(point(i) for i in range(k * 9000, (k + 1) * 9000))}</trkseg><trkseg/>"
        for k in range(3)
    )
    route = "".join(
        f'<rtept lat="41.{i:04d}" lon="-104.5"><time>2024-05-05T10:00:{i % 60:02d}Z</time></rtept>'
        for i in range(2000)
    )
    path = tmp_path / "mixed.gpx"
    path.write_text(
        _gpx(
            f"<trk><name>First &amp; long</name>{segs}</trk><trk><name>Empty</name></trk>"
            f"<rte><name>A route</name>{route}</rte>"
        ).replace("<gpx ", '<gpx xmlns:gpxtpx="urn:gpxtpx" ', 1)
    )
    assert path.stat().st_size > 3 * gpx_mod.READ_CHUNK
    calls = []
    real_scan = gpx_mod.gpx_scan.scan
    monkeypatch.setattr(
        gpx_mod.gpx_scan, "scan", lambda *a: calls.append(real_scan(*a)) or calls[-1]
    )
    fast = gpx_mod.read_gpx_columns(path)
    assert sum(c is not None for c in calls) > 3  # the fast path read most chunks
    monkeypatch.setattr(gpx_mod.gpx_scan, "scan", lambda *a: None)
    general = gpx_mod.read_gpx_columns(path)
    assert _columns(fast) == _columns(general)
    assert [t.name for t in fast] == ["First & long", "A route"]
    assert [len(s) for s in fast[0].segments] == [9000, 9000, 9000]
    assert fast[0].segments[0].speed[5] == 5.5 and np.isnan(fast[0].segments[0].t[31])


def test_vectorised_numbers_and_times_equal_pythons():
    """The column converters give the very doubles ``float()`` and the general time reader
    give, and refuse (for the caller to read one by one) anything but the plain forms."""
    from kei_drive.core import gpx_scan
    from kei_drive.core.gpx import _times

    rng = np.random.default_rng(5)
    numbers = [
        f"{x:.{k}f}"
        for x, k in zip(rng.uniform(-181, 181, 3000), rng.integers(0, 12, 3000), strict=True)
    ]
    numbers += ["0", "-0", "5.", ".5", "-0.000001", "99999999999999.9", "007.50"]
    odd = [
        "",
        "-",
        "+3",
        "1e5",
        " 4",
        "4 ",
        "1.2.3",
        "nan",
        "inf",
        "0x1",
        "1234567890123456",
        "--1",
    ]
    times = [
        f"2024-0{m}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
        for m, d, h, mi, s in zip(
            rng.integers(1, 10, 500),
            rng.integers(1, 29, 500),
            rng.integers(0, 24, 500),
            rng.integers(0, 60, 500),
            rng.integers(0, 60, 500),
            strict=True,
        )
    ]
    times = [t + z for t, z in zip(times, ["Z", "", ".5Z", ".123456Z", ".25"] * 100, strict=True)]
    times += ["2024-02-29T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
    bad_times = [
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00+02:00",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00.1234567Z",
        "0000-01-01T00:00:00Z",
        "2024-1-01T00:00:00Z",
    ]

    def spans(values: list[str]):
        head = b"<" + b"x" * 40 + b">"  # (a value in the first 17 bytes is read the slow way)
        data = head + b"<".join(v.encode() for v in values) + b"<"
        ends = np.cumsum([len(v) + 1 for v in values]) + len(head) - 1
        return gpx_scan.padded(data), ends - np.array([len(v) for v in values]), ends

    buf, a, b = spans(numbers + odd)
    value, ok = gpx_scan.decimals(buf, a, b)
    assert ok[: len(numbers)].all() and not ok[len(numbers) :].any()
    assert value[: len(numbers)].tolist() == [float(v) for v in numbers]
    assert str(value[numbers.index("-0")]) == "-0.0"

    buf, a, b = spans(times + bad_times)
    value, ok = gpx_scan.iso_times(buf, a, b)
    assert ok[: len(times)].all() and not ok[len(times) :].any()
    expected = _times(times, None, np.arange(len(times)))  # the general reader
    assert value[: len(times)].tolist() == expected.tolist()


def test_positions_only_reads_no_other_column():
    doc = _gpx(
        '<trk><trkseg><trkpt lat="1" lon="2"><ele>5</ele><time>2024-01-01T00:00:00Z</time>'
        "<hdop>1</hdop></trkpt></trkseg></trk>"
    )
    (track,) = read_gpx_columns(doc, ())
    (seg,) = track.segments
    assert (seg.lat[0], seg.lon[0]) == (1.0, 2.0)
    assert all(np.isnan(getattr(seg, k)).all() for k in ("t", "elevation", "accuracy"))
    (seg,) = read_gpx_columns(doc, ("t",))[0].segments
    assert seg.t[0] == datetime(2024, 1, 1, tzinfo=UTC).timestamp() and np.isnan(seg.elevation[0])


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_unusual_markup_reads_as_the_general_scan_does(chunk, monkeypatch):
    """Prefixed elements, ">" inside an attribute value, blanks around "=", a commented-out
    point cut by a chunk boundary: the same points with or without the vectorised scan."""
    from kei_drive.core import gpx as gpx_mod

    monkeypatch.setattr(gpx_mod, "READ_CHUNK", chunk)
    doc = (
        "<?xml version='1.0'?><g:gpx xmlns:g='http://www.topografix.com/GPX/1/1' "
        "xmlns:x='urn:x'><g:trk><g:name>Prefixed &lt;one&gt;</g:name><g:trkseg>"
        + "".join(
            f'<g:trkpt lat="40.{i:04d}" lon="-105.{i:04d}"><g:ele>{i}</g:ele>'
            f"<g:time>2024-05-04T15:00:{i % 60:02d}Z</g:time><g:extensions><x:speed>{i}.5"
            "</x:speed></g:extensions></g:trkpt>"
            for i in range(40)
        )
        + '<g:trkpt note="a>b" lat="41" lon="-104"/><g:trkpt lat = "41.5" lon="-104"/>'
        + "<!-- <g:trkpt lat='50' lon='50'/> --></g:trkseg></g:trk></g:gpx>"
    )
    fast = read_gpx_columns(io.BytesIO(doc.encode()))
    monkeypatch.setattr(gpx_mod.gpx_scan, "scan", lambda *a: None)
    general = read_gpx_columns(io.BytesIO(doc.encode()))
    assert _columns(fast) == _columns(general)
    (seg,) = fast[0].segments
    assert fast[0].name == "Prefixed <one>"
    assert len(seg) == 42 and seg.lat[-2:].tolist() == [41.0, 41.5]
    assert seg.speed[3] == 3.5 and seg.elevation[39] == 39.0


def test_a_point_missing_a_coordinate_is_named_not_shifted():
    doc = _gpx(
        '<trk><trkseg><trkpt lat="1" lon="2"/><trkpt x="1" lat="3"/><trkpt lat="4" lon="5"/>'
        "</trkseg></trk>"
    )
    notes: list[str] = []
    (track,) = read_gpx_columns(doc, notes_out=notes)
    assert track.segments[0].lat.tolist() == [1.0, 4.0]
    assert notes == ["1 point of the file was left out: point #2 of track 1 segment 1 has no lon."]


def test_timed_waypoints_beside_a_track_are_not_points_of_it(tmp_path):
    """A waypoint with a time and elevation after the track, or waypoints only, read as no
    track point: the track is read (and only waypoints: "no track", not a crash)."""
    track = (
        "<trk><trkseg>"
        "<trkpt lat='40.0' lon='-88.7'><ele>200</ele><time>2024-05-04T15:00:00Z</time></trkpt>"
        "<trkpt lat='40.01' lon='-88.7'><ele>201</ele><time>2024-05-04T15:01:00Z</time></trkpt>"
        "</trkseg></trk>"
    )
    fuel = "<wpt lat='40.7' lon='-88.7'><ele>210</ele><time>2020-01-01T00:00:00Z</time></wpt>"
    path = tmp_path / "trk_then_wpt.gpx"
    path.write_text(_gpx(track + fuel))
    (read,) = read_gpx_columns(path)
    (seg,) = read.segments
    assert seg.lat.tolist() == [40.0, 40.01] and seg.elevation.tolist() == [200, 201]
    path.write_text(_gpx(fuel * 3))
    with pytest.raises(GpxError, match="no track"):
        read_gpx_columns(path)


def test_many_segments_keep_each_value_in_its_own_segment():
    """Values are converted once for a whole piece of the file, then cut by segment: an odd
    value (read the slow way) and a bad one stay with their own segment's points."""
    doc = _gpx(
        "<trk>"
        "<trkseg><trkpt lat='40.0' lon='-88.0'><ele>1</ele>"
        "<time>2024-05-04T15:00:00Z</time></trkpt></trkseg>"
        "<trkseg><trkpt lat='4.01e1' lon='-88.0'><ele>2</ele>"
        "<time>2024-05-04T17:00:05+02:00</time></trkpt>"
        "<trkpt lat='x' lon='-88.0'><time>2024-05-04T15:00:06Z</time></trkpt></trkseg>"
        "<trkseg><trkpt lat='40.02' lon='-88.0'><time>2024-05-04T15:00:10Z</time></trkpt>"
        "<trkpt lat='40.03' lon='-88.0'><ele>4</ele></trkpt></trkseg>"
        "</trk>"
    )
    notes: list[str] = []
    (track,) = read_gpx_columns(doc, notes_out=notes)
    first, second, third = track.segments
    t0 = datetime(2024, 5, 4, 15, 0, tzinfo=UTC).timestamp()
    assert first.lat.tolist() == [40.0] and first.elevation.tolist() == [1.0]
    assert second.lat.tolist() == [40.1] and second.t.tolist() == [t0 + 5]
    assert second.elevation.tolist() == [2.0]
    assert third.lat.tolist() == [40.02, 40.03] and third.t[0] == t0 + 10
    assert np.isnan(third.t[1]) and np.isnan(third.elevation[0]) and third.elevation[1] == 4.0
    assert any("#2 of track 1 segment 2" in note and "'x'" in note for note in notes)


def test_an_extension_element_prefixed_trk_is_no_track():
    """``<trk:foo>`` (prefix trk, another namespace) inside a point's extensions is not a
    ``<trk>``: every point is read."""
    points = "".join(
        f"<trkpt lat='40.{i:03d}' lon='-88.0'><time>2024-05-04T15:00:{i:02d}Z</time>"
        "<extensions><trk:foo xmlns:trk='urn:x'>1</trk:foo></extensions></trkpt>"
        for i in range(50)
    )
    notes: list[str] = []
    (track,) = read_gpx_columns(_gpx(f"<trk><trkseg>{points}</trkseg></trk>"), notes_out=notes)
    (seg,) = track.segments
    assert len(seg) == 50 and notes == []


@pytest.mark.parametrize("lead", ["", "\n", " \r\n\t"])
@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_named_not_called_malformed(codec, lead):
    """Expat cannot read UTF-32: the error names it (with a BOM or without one, and after
    blank space before the first tag, which XML allows without a declaration)."""
    data = (lead + _doc_with_encoding(None)).encode(codec)
    with pytest.raises(GpxError, match="its bytes are UTF-32"):
        read_gpx_columns(data)


def test_a_speed_no_vehicle_drives_in_any_unit_is_no_speed():
    doc = _gpx(
        "<trk><trkseg>"
        "<trkpt lat='40.0' lon='-88.0'><speed>1e308</speed></trkpt>"
        "<trkpt lat='40.001' lon='-88.0'><speed>12.5</speed></trkpt>"
        "<trkpt lat='40.002' lon='-88.0'><speed>1e400</speed></trkpt>"
        "</trkseg></trk>"
    )
    (track,) = read_gpx_columns(doc)
    speed = track.segments[0].speed
    assert np.isnan(speed[0]) and speed[1] == 12.5 and np.isnan(speed[2])


def test_character_references_in_numbers_are_read():
    doc = _gpx(
        "<trk><trkseg><trkpt lat='&#52;0.0' lon='-88.0'><ele>&#x31;00</ele></trkpt>"
        "<trkpt lat='40.001' lon='&#45;88.0'/></trkseg></trk>"
    )
    (track,) = read_gpx_columns(doc)
    seg = track.segments[0]
    assert seg.lat.tolist() == [40.0, 40.001] and seg.lon.tolist() == [-88.0, -88.0]
    assert seg.elevation[0] == 100.0


def test_times_in_every_form_rfc_3339_allows_are_read_without_a_warning():
    """A lower-case "z" (or "t") is RFC 3339: every point was refused ("bad time", exit 2,
    check-route too). A comma before the fraction was read, but numpy's warning about the
    zone reached the terminal as two more lines."""
    import warnings

    def read(stamps: list[str]) -> list[float]:
        points = "".join(
            f'<trkpt lat="39.{i:02d}" lon="-76.6"><time>{t}</time></trkpt>'
            for i, t in enumerate(stamps)
        )
        doc = f'<gpx version="1.1"><trk><trkseg>{points}</trkseg></trk></gpx>'
        return read_gpx_columns(doc)[0].segments[0].t.tolist()

    expected = read(["2024-05-04T12:00:00Z", "2024-05-04T12:00:01.500Z"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for stamps in (
            ["2024-05-04T12:00:00z", "2024-05-04T12:00:01.5z"],
            ["2024-05-04t12:00:00z", "2024-05-04t12:00:01.500Z"],
            ["2024-05-04T12:00:00,0Z", "2024-05-04T12:00:01,5Z"],
            ["2024-05-04T14:00:00+02:00", "2024-05-04T14:00:01.5+02:00"],
        ):
            assert read(stamps) == expected
