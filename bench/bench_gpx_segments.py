"""Reading a GPX of many small segments (figures, not pass/fail).

    PYTHONPATH=. .venv/bin/pytest -q -s bench/bench_gpx_segments.py

A logger that opens a ``<trkseg>`` at each fix (or each short signal loss) writes files of
tens of thousands of segments. Their values were converted segment by segment, ~0.7 ms
each (an outside review: ``check-route`` 47 s on 40,000 one-fix segments, ``trips import``
38 s on 20,000); they are now converted once per piece of the file.

2026-12-06 (session 35), 2 cores: 10,000 one-fix segments 7.0 s -> 0.9 s to read;
40,000: ``check-route`` 47 s -> 8.7 s, ``states-along`` 2.8 s; ``trips import`` of 20,000
two-fix segments 38 s -> 8.8 s.
"""

from __future__ import annotations

import time
from pathlib import Path

from kei_drive.core.gpx import read_gpx_columns


def _many_segments(path: Path, segments: int, fixes: int) -> Path:
    with path.open("w") as out:
        out.write('<?xml version="1.0"?><gpx version="1.1" creator="bench"><trk>')
        for s in range(segments):
            out.write("<trkseg>")
            for f in range(fixes):
                i = s * fixes + f
                out.write(
                    f'<trkpt lat="{39.29 + i * 1e-5:.6f}" lon="-76.61"><ele>{i % 50}</ele>'
                    f"<time>2024-05-06T{12 + i // 3600 % 12:02d}:{i // 60 % 60:02d}:"
                    f"{i % 60:02d}Z</time></trkpt>"
                )
            out.write("</trkseg>")
        out.write("</trk></gpx>")
    return path


def test_bench_many_segments(tmp_path):
    print()
    for segments, fixes in ((10_000, 1), (40_000, 1), (20_000, 5)):
        path = _many_segments(tmp_path / f"s{segments}x{fixes}.gpx", segments, fixes)
        start = time.perf_counter()
        (track,) = read_gpx_columns(path)
        seconds = time.perf_counter() - start
        assert len(track.segments) == segments
        print(f"{segments:,} segments of {fixes} fix(es): read in {seconds:.2f} s")
