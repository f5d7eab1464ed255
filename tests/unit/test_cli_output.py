"""The CLI's JSON writer: valid JSON, indented, a long list one item a line (fast path and
general path give the same text)."""

from __future__ import annotations

import io
import json

from kei_drive.cli import _output


def written(data: object) -> str:
    out = io.StringIO()
    _output._write(out, data, 0)
    return out.getvalue()


def test_long_lists_are_valid_json_one_item_a_line_across_batches():
    n = _output.BATCH + 5  # crosses a batch boundary
    data = {
        "geometry": [[39.1 + k * 1e-6, -76.6] for k in range(n)],
        "tuples": [(1, 2.5)] * _output.LONG_LIST,
        "numbers": [k * 0.5 for k in range(_output.LONG_LIST)],
        "nested": {"shape": [[1, 2, 3]] * _output.LONG_LIST},
    }
    text = written(data)
    assert json.loads(text) == json.loads(json.dumps(data))
    lines = text.splitlines()
    assert lines[1] == '  "geometry": ['
    assert lines[2] == "    [39.1, -76.6],"
    assert lines[1 + n] == f"    [{39.1 + (n - 1) * 1e-6}, -76.6]"
    assert lines[2 + n] == "  ],"
    assert "      [1, 2, 3]," in lines  # a long list two levels down keeps its indent
    assert "    0.5," in lines


def test_items_the_fast_path_cannot_split_take_the_general_path():
    # strings could hold "], [", booleans and nested lists are not plain numbers
    tricky = [["a], [b", 1]] * _output.LONG_LIST + [[True, 1], [[1], [2]], [float("nan"), 2]]
    text = written({"items": tricky})
    lines = text.splitlines()
    assert lines[2] == '    ["a], [b", 1],'
    assert lines[-5:-2] == ["    [true, 1],", "    [[1], [2]],", "    [NaN, 2]"]
    assert json.loads(text)["items"][0] == ["a], [b", 1]


def test_a_trip_line_says_its_start_is_utc_and_shows_the_duration_the_web_list_shows():
    """The CLI list printed a June 30 evening (PDT) drive as "2017-07-01 02:34" with no
    zone, and its moving time unlabelled beside the web list's elapsed duration."""
    from kei_drive.cli.trips import _line

    trip = {
        "id": 3,
        "started_at": "2017-07-01T02:34:11Z",
        "stats": {"distance_m": 5_000.0, "elapsed_s": 1_699.0, "moving_s": 540.0},
        "name": "Errands",
    }
    line = _line(trip)
    assert "2017-07-01 02:34 UTC" in line
    assert "28 min 19 s" in line and " 9 min" not in line
