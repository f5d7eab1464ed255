"""A small synthetic OSM road network across the Pennsylvania / New York border.

The PA/NY line runs along 42.0°N here (around lon -77.0), so the geography module
classifies the ends of each road; every point a test routes to is >= 1 km from the line.

Layout (lat, lon):
- PA residential grid, rows 41.950..41.990 x cols -77.050..-77.010 (0.005° steps), untagged.
- Motorway "I 99" (Keystone Expressway) along lon -77.000, 41.940..41.995, maxspeed 65 mph,
  joined to the grid's SE/NE corners by motorway links: faster than the grid for a car.
- Trunk "US 15" along lon -77.060 from 41.940 into New York (42.040), maxspeed 55 mph.
- Primary "PA 287" along lat 41.940 from -77.120 to -77.000, maxspeed 45 mph (south spine).
- Secondary "Mill Road" (no maxspeed) from the grid north into a small NY residential grid.
- "Border Loop Road": A=(41.990,-77.100) -> north into NY -> B=(41.990,-77.080); the only
  alternative between A and B stays in PA but is twice as long (via the south spine).
- "Center Street": grid row 41.970 is a secondary tagged 50 mph (parallel streets are local).
- "Fast Lane" (secondary, maxspeed 60 mph) from the spine at -77.020 south to 41.925.
- "Bridge Street" (residential) continues grid row 41.960 east over the motorway on a bridge
  (no junction with it) to "East Street" (residential, lon -76.990, 41.950..41.970,
  maxspeed 25 mph: the tagged local street).
- An island of four residential streets around (41.930,-77.150), ~2.5 km from anything:
  too small for Valhalla's minimum reachability, so a route "to" it ends elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

# Named places tests route between (lat, lon).
PLACES = {
    "grid_sw": (41.9505, -77.0495),
    "grid_se": (41.9505, -77.0105),
    "grid_ne": (41.9895, -77.0105),
    "grid_mid": (41.9700, -77.0300),
    "center_w": (41.9700, -77.0490),
    "center_e": (41.9700, -77.0110),
    "loop_a": (41.9895, -77.1000),
    "loop_b": (41.9895, -77.0800),
    "ny_grid": (42.0250, -77.0300),
    "fast_lane_south": (41.9260, -77.0200),
    "island": (41.9300, -77.1500),
    "east_street": (41.9650, -76.9900),
}

GRID_LATS = [round(41.950 + 0.005 * i, 3) for i in range(9)]
GRID_LONS = [round(-77.050 + 0.005 * i, 3) for i in range(9)]
NY_LATS = [42.020, 42.025, 42.030]
NY_LONS = [-77.040, -77.035, -77.030, -77.025, -77.020]


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[tuple[float, float], int] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, lat: float, lon: float) -> int:
        key = (round(lat, 6), round(lon, 6))
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes) + 1
        return self.nodes[key]

    def way(self, points: list[tuple[float, float]], **tags: str) -> None:
        self.ways.append(([self.node(lat, lon) for lat, lon in points], tags))


def _network() -> _Builder:
    b = _Builder()
    # PA residential grid (no maxspeed tags: the "unknown but local" case).
    for i, lat in enumerate(GRID_LATS):
        if i == 4:  # Center Street: a secondary tagged 50 mph through the grid
            b.way(
                [(lat, lon) for lon in GRID_LONS],
                highway="secondary",
                name="Center Street",
                maxspeed="50 mph",
            )
            continue
        b.way([(lat, lon) for lon in GRID_LONS], highway="residential", name=f"{i + 1} Street")
    for j, lon in enumerate(GRID_LONS):
        b.way(
            [(lat, lon) for lat in GRID_LATS],
            highway="residential",
            name=f"Avenue {'ABCDEFGHI'[j]}",
        )
    # Motorway with links at the grid's south-east and north-east corners.
    mway = [(41.940, -77.000), (41.950, -77.000), (41.970, -77.000), (41.990, -77.000)]
    b.way(
        mway + [(41.995, -77.000)],
        highway="motorway",
        ref="I 99",
        name="Keystone Expressway",
        maxspeed="65 mph",
        oneway="no",
        lanes="2",
    )
    b.way([(41.950, -77.010), (41.950, -77.000)], highway="motorway_link", oneway="no")
    b.way([(41.990, -77.010), (41.990, -77.000)], highway="motorway_link", oneway="no")
    # South spine (primary, tagged 45 mph) with the trunk, the loop and the motorway on it.
    spine_lons = [-77.120, -77.100, -77.080, -77.060, -77.050, -77.020, -77.000]
    b.way(
        [(41.940, lon) for lon in spine_lons],
        highway="primary",
        ref="PA 287",
        name="Tioga Pike",
        maxspeed="45 mph",
    )
    b.way([(41.940, -77.050), (41.950, -77.050)], highway="residential", name="Avenue A")
    # Trunk north into New York, joined to the grid's west side.
    b.way(
        [
            (41.940, -77.060),
            (41.950, -77.060),
            (41.990, -77.060),
            (42.010, -77.060),
            (42.040, -77.060),
        ],
        highway="trunk",
        ref="US 15",
        name="Tioga Highway",
        maxspeed="55 mph",
    )
    b.way([(41.950, -77.060), (41.950, -77.050)], highway="residential", name="1 Street")
    b.way([(41.990, -77.060), (41.990, -77.050)], highway="residential", name="9 Street")
    # Mill Road (secondary, untagged) from the grid into a small NY grid.
    b.way(
        [(41.990, -77.030), (42.010, -77.030), (42.020, -77.030)],
        highway="secondary",
        name="Mill Road",
    )
    for lat in NY_LATS:
        b.way([(lat, lon) for lon in NY_LONS], highway="residential", name=f"NY {lat} St")
    for lon in NY_LONS:
        b.way([(lat, lon) for lat in NY_LATS], highway="residential", name=f"NY {lon} Ave")
    # Border loop: A and B are 1.7 km apart; the short way dips into New York.
    b.way(
        [(41.940, -77.100), (41.965, -77.100), (41.990, -77.100)],
        highway="residential",
        name="West Hollow Road",
    )
    b.way(
        [(41.940, -77.080), (41.965, -77.080), (41.990, -77.080)],
        highway="residential",
        name="East Hollow Road",
    )
    b.way(
        [(41.990, -77.100), (42.012, -77.100), (42.012, -77.080), (41.990, -77.080)],
        highway="residential",
        name="Border Loop Road",
    )
    # A fast secondary (60 mph, above most Kei caps) south of the spine.
    b.way(
        [(41.940, -77.020), (41.925, -77.020)],
        highway="secondary",
        name="Fast Lane",
        maxspeed="60 mph",
    )
    # A residential street over the motorway on a bridge (no junction), to East Street.
    b.way([(41.960, -77.010), (41.960, -77.0025)], highway="residential", name="Bridge Street")
    b.way(
        [(41.960, -77.0025), (41.960, -76.9975)],
        highway="residential",
        name="Bridge Street",
        bridge="yes",
        layer="1",
    )
    b.way([(41.960, -76.9975), (41.960, -76.990)], highway="residential", name="Bridge Street")
    b.way(
        [(41.950, -76.990), (41.960, -76.990), (41.970, -76.990)],
        highway="residential",
        name="East Street",
        maxspeed="25 mph",
    )
    # The unreachable island.
    sq = [(41.929, -77.151), (41.929, -77.149), (41.931, -77.149), (41.931, -77.151)]
    b.way(sq + [sq[0]], highway="residential", name="Island Loop")
    return b


# Shifts (dlat, dlon) that move the network elsewhere, keeping its layout: the PA/NY line
# (42.0 N) lands on the Tennessee/Kentucky line (36.502 N near 88.6 W; the loop then dips
# from Tennessee into Kentucky), or the whole network lands inside Ohio (west of Columbus).
SHIFT_TN_KY = (-5.498, -11.5)
SHIFT_OHIO = (-1.88, -6.0)


def place(name: str, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    lat, lon = PLACES[name]
    return (round(lat + shift[0], 6), round(lon + shift[1], 6))


def write_network(path: Path, shift: tuple[float, float] = (0.0, 0.0)) -> Path:
    """Write the synthetic network (moved by ``shift``) as an .osm.pbf file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    b = _network()
    ts = "2024-01-01T00:00:00Z"
    writer = osmium.SimpleWriter(str(path))
    try:
        for (lat, lon), nid in sorted(b.nodes.items(), key=lambda kv: kv[1]):
            loc = (lon + shift[1], lat + shift[0])
            writer.add_node(Node(id=nid, location=loc, version=1, timestamp=ts))
        for wid, (refs, tags) in enumerate(b.ways, start=1):
            writer.add_way(Way(id=wid, nodes=refs, tags=tags, version=1, timestamp=ts))
    finally:
        writer.close()
    return path


def synth_tiles(tmp_path_factory, shift: tuple[float, float] = (0.0, 0.0)) -> Path:
    """Tiles for the synthetic network, built once per test session and shift."""
    from kei_drive.routing.tiles import build_tiles, has_tiles

    tag = "" if shift == (0.0, 0.0) else f"_{shift[0]:+.3f}_{shift[1]:+.3f}"
    root = tmp_path_factory.getbasetemp() / f"kei_synth_tiles{tag}"
    if not has_tiles(root) or not (root / "valhalla.json").exists():
        pbf = write_network(tmp_path_factory.getbasetemp() / f"kei_synth{tag}.osm.pbf", shift)
        build_tiles(pbf, root)
    return root


def shared_fixture(name: str) -> Path:
    """A file under /work/shared/fixtures (next to the project), used in place."""
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / name
