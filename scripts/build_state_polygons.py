"""Regenerate the bundled US state polygons from Census TIGER/Line 2024.

Source: the PyPI package ``these-united-states`` ships ``tl_2024_us_state`` (US Census
Bureau TIGER/Line 2024, full resolution, public domain) inside ``united_states/shapes.zip``.
This script reads that shapefile with pyshp, keeps the 50 states + DC, simplifies the
whole set as one *coverage* (shared borders stay shared: no gaps or overlaps between
neighbours) and writes:

- ``kei_drive/data/us_states.geojson``       ~100 m tolerance, used by ``kei_drive.core.geo``
- ``assets/data/us_states_light.geojson``    ~1 km tolerance, for drawing maps and
  classifying the position in the browser (offline)

Run from the project root::

    .venv/bin/python scripts/build_state_polygons.py [--check]

``--check`` prints figures without writing. Tolerances are in degrees of latitude
(1e-3 deg ~ 111 m); the GEOS coverage simplifier is Visvalingam-Whyatt based, so the
tolerance is the square root of the area of the triangles removed.
"""

from __future__ import annotations

import argparse
import json
import time
import zipfile
from importlib import resources
from pathlib import Path

import shapefile
import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
FULL_OUT = ROOT / "kei_drive" / "data" / "us_states.geojson"
LIGHT_OUT = ROOT / "assets" / "data" / "us_states_light.geojson"

# 50 states + DC; TIGER also has PR, VI, GU, AS, MP (territories: not in scope).
JURISDICTIONS = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY",
}  # fmt: skip

FULL_TOLERANCE_DEG = 0.001  # ~100 m
LIGHT_TOLERANCE_DEG = 0.01  # ~1 km
FULL_DECIMALS = 4  # ~10 m, well below the 100 m simplification
LIGHT_DECIMALS = 3  # ~100 m, far below the 1 km simplification


def read_tiger() -> tuple[list[str], list[str], list, str]:
    """(codes, names, shapely geometries, shapefile name) for the 51 jurisdictions."""
    package = resources.files("united_states")
    with package.joinpath("shapes.zip").open("rb") as fp, zipfile.ZipFile(fp) as zipper:
        stem = zipper.filelist[0].filename.rsplit(".", 1)[0]
        with (
            zipper.open(f"{stem}.dbf") as dbf,
            zipper.open(f"{stem}.shp") as shp,
            zipper.open(f"{stem}.shx") as shx,
            shapefile.Reader(dbf=dbf, shp=shp, shx=shx) as reader,
        ):
            rows = []
            for record in reader.iterShapeRecords():
                code = record.record["STUSPS"]
                if code in JURISDICTIONS:
                    geom = shapely.make_valid(shape(record.shape.__geo_interface__))
                    rows.append((code, record.record["NAME"], geom))
    rows.sort()
    missing = JURISDICTIONS - {r[0] for r in rows}
    if missing:
        raise SystemExit(f"TIGER file lacks {sorted(missing)}")
    codes, names, geoms = (list(t) for t in zip(*rows, strict=True))
    return codes, names, geoms, stem


def simplify(geoms: list, tolerance_deg: float, decimals: int) -> list:
    """Coverage-simplify, snap to the output grid, drop slivers, keep validity."""
    simplified = shapely.coverage_simplify(geoms, tolerance_deg, simplify_boundary=True)
    grid = 10.0**-decimals
    out = []
    for geom in simplified:
        geom = shapely.set_precision(geom, grid)
        geom = shapely.make_valid(geom)
        polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
        out.append(shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0])
    return out


def round_coords(obj, decimals: int):
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, list | tuple):
        return [round_coords(v, decimals) for v in obj]
    return obj


def feature_collection(codes, names, geoms, metadata: dict, decimals: int) -> dict:
    features = []
    for code, name, geom in zip(codes, names, geoms, strict=True):
        coords = round_coords(mapping(geom)["coordinates"], decimals)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": {"type": geom.geom_type, "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "metadata": metadata, "features": features}


def metadata(stem: str, tolerance_deg: float, decimals: int) -> dict:
    return {
        "source": f"US Census Bureau TIGER/Line Shapefiles 2024, {stem} (via the PyPI package "
        "these-united-states 1.2.0.24, united_states/shapes.zip)",
        "licence": "Public domain (US federal government work, 17 U.S.C. 105)",
        "vintage": 2024,
        "jurisdictions": "50 states + DC (territories excluded)",
        "includes_water": "TIGER state areas include inland and coastal water (Great Lakes, bays)",
        "simplification": f"shapely.coverage_simplify, tolerance {tolerance_deg} deg "
        f"(~{round(tolerance_deg * 111_195)} m), shared borders kept shared; "
        f"coordinates rounded to {decimals} decimals",
        "script": "scripts/build_state_polygons.py",
        "properties": {"code": "USPS code", "name": "state name"},
    }


def write(path: Path, data: dict) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print figures, write nothing")
    args = parser.parse_args()

    t0 = time.perf_counter()
    codes, names, geoms, stem = read_tiger()
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    print(
        f"read {len(codes)} jurisdictions, {vertices:,} vertices, {time.perf_counter() - t0:.1f} s"
    )

    for out, tol, decimals in (
        (FULL_OUT, FULL_TOLERANCE_DEG, FULL_DECIMALS),
        (LIGHT_OUT, LIGHT_TOLERANCE_DEG, LIGHT_DECIMALS),
    ):
        t0 = time.perf_counter()
        simplified = simplify(geoms, tol, decimals)
        vertices = int(shapely.get_num_coordinates(simplified).sum())
        invalid = [c for c, g in zip(codes, simplified, strict=True) if not g.is_valid]
        data = feature_collection(codes, names, simplified, metadata(stem, tol, decimals), decimals)
        size = len(json.dumps(data, separators=(",", ":")))
        took = time.perf_counter() - t0
        print(
            f"{out.relative_to(ROOT)}: tolerance {tol} deg, {vertices:,} vertices, "
            f"{size / 1024:,.0f} KB, invalid={invalid}, {took:.1f} s"
        )
        if not args.check:
            write(out, data)


if __name__ == "__main__":
    main()
