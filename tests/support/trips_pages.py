"""Synthetic GPX files for the trip pages' tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

M_PER_DEG_LAT = 111_195.0


def synthetic_gpx(east_m: float = 0.0, name: str | None = "Synthetic drive") -> bytes:
    """One track, two segments two hours apart (-> two trips). The first drives north
    from Baltimore: 20 s speeding up, 150 s at 20 m/s (45 mph), a 5 min recording gap,
    60 s more at 20 m/s, slowing down; the second is 2 min at 10 m/s. ``east_m`` moves the
    whole drive east, so a second import is a different file (imports are fingerprinted);
    ``name``: the track's (None: none, the app names the trips)."""
    start = datetime(2024, 5, 4, 14, 0, tzinfo=UTC)
    lat = 39.2904
    lon = -76.6122 + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))

    def fixes(t0: datetime, lat0: float, speeds: list[float], skip_after: int | None = None):
        out, pos, t = [], lat0, t0
        for i, v in enumerate(speeds):
            out.append((pos, lon + 0.0001 * math.sin(i / 30), t))
            pos += v / M_PER_DEG_LAT
            t += timedelta(seconds=1)
            if skip_after is not None and i == skip_after:
                t += timedelta(minutes=5)
                pos += 20.0 * 300 / M_PER_DEG_LAT
        return out

    ramp = [i for i in range(20)]
    first = fixes(start, lat, ramp + [20.0] * 210 + ramp[::-1], skip_after=170)
    second = fixes(start + timedelta(hours=2), first[-1][0] + 0.01, [10.0] * 120)

    def seg(points) -> str:
        rows = "".join(
            f'<trkpt lat="{a:.7f}" lon="{b:.7f}"><time>{t:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
            for a, b, t in points
        )
        return f"<trkseg>{rows}</trkseg>"

    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk>{f'<name>{name}</name>' if name else ''}{seg(first)}{seg(second)}</trk></gpx>"
    ).encode()


BROKEN_GPX = b'<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="39.1"'


def long_log_gpx(fixes: int) -> bytes:
    """A 1 Hz drive north at 12 m/s, long enough that importing it takes a while."""
    start = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
    rows = "".join(
        f'<trkpt lat="{38.5 + i * 12 / 111_195:.7f}" lon="{-77.9 + 0.00002 * (i % 7):.7f}">'
        f"<time>{start + timedelta(seconds=i):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for i in range(fixes)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{rows}</trkseg></trk></gpx>'
    ).encode()


def drop_file_js(selector: str, name: str) -> str:
    """A script dropping a small file named ``name`` on ``selector``, as a user's drag
    does; it returns whether the page took the drop (else the browser opens the file in
    place of the app)."""
    return f"""() => {{
      const zone = document.querySelector({selector!r});
      const files = new DataTransfer();
      files.items.add(new File(['<gpx/>'], {name!r}, {{type: 'application/gpx+xml'}}));
      const init = {{dataTransfer: files, bubbles: true, cancelable: true}};
      zone.dispatchEvent(new DragEvent('dragenter', init));
      zone.dispatchEvent(new DragEvent('dragover', init));
      const drop = new DragEvent('drop', init);
      zone.dispatchEvent(drop);
      return drop.defaultPrevented;
    }}"""
