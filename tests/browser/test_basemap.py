"""The offline Kei basemap in headless Chromium, on tiles built from the real Baltimore extract:
the Kei style's colours on the map, corridor prefetch into the service worker's basemap cache,
and a Plan page that still draws its map offline after a reload."""

from __future__ import annotations

import pytest

from kei_drive.cli import main
from tests.browser.app_server import AppServer
from tests.conftest import shared_fixture
from tests.support.basemap import i95_points, require_tilemaker, tile_of

BASEMAP_CACHE = "kei-drive-basemap-v1"
ORIGIN, DESTINATION = (39.2850, -76.6050), (39.2990, -76.5560)  # across Baltimore's grid
DAY = {
    "notForKei": (0xD5, 0x5E, 0x00),
    "road": (0xFF, 0xFF, 0xFF),
    "background": (0xF2, 0xEF, 0xE9),
}

# RGB of the basemap's own canvas (not the route overlay) in a (2r+1)^2 box around lat/lon.
SAMPLE_JS = """([mapId, lat, lon, r]) => {
  const el = document.getElementById(mapId);
  const p = el.keiMap.latLngToContainerPoint([lat, lon]);
  const box = el.getBoundingClientRect();
  const tiles = [...el.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')];
  const out = [];
  for (let dx = -r; dx <= r; dx++) for (let dy = -r; dy <= r; dy++) {
    const x = box.left + p.x + dx, y = box.top + p.y + dy;
    const c = tiles.find((t) => { const b = t.getBoundingClientRect();
      return x >= b.left && x < b.right && y >= b.top && y < b.bottom; });
    if (!c) continue;
    const b = c.getBoundingClientRect();
    const px = Math.floor((x - b.left) * c.width / b.width);
    const py = Math.floor((y - b.top) * c.height / b.height);
    const d = c.getContext('2d').getImageData(px, py, 1, 1).data;
    out.push([d[0], d[1], d[2]]);
  }
  return out;
}"""

# Pixel census of every basemap tile canvas: how many are not background, how many road fill.
CENSUS_JS = """([mapId, background, road]) => {
  const el = document.getElementById(mapId);
  let drawn = 0, roads = 0, total = 0;
  for (const c of el.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')) {
    if (!c.width) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 16) {
      total++;
      const near = (rgb) =>
        Math.abs(d[i] - rgb[0]) + Math.abs(d[i+1] - rgb[1]) + Math.abs(d[i+2] - rgb[2]) < 24;
      if (!near(background)) drawn++;
      if (near(road)) roads++;
    }
  }
  return {drawn, roads, total};
}"""


def _near(rgb, target, tolerance=40) -> bool:
    return sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) < tolerance


@pytest.fixture(scope="module")
def basemap_server(tmp_path_factory):
    require_tilemaker()
    home = tmp_path_factory.mktemp("basemap-home")
    pbf = shared_fixture("osm", "baltimore.osm.pbf")
    assert main(["tiles", "build", str(pbf), "--out", str(home / "tiles")]) == 0
    server = AppServer(home, log_name="basemap-server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, basemap_server):
    context = browser.new_context(
        viewport={"width": 480, "height": 900},
        device_scale_factor=1,
        base_url=basemap_server.url,
        service_workers="allow",
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.add_init_script("localStorage.setItem('kei-map-theme', 'day')")
    yield page
    context.close()


def open_map(page, path: str, map_id: str):
    page.goto(path)
    page.wait_for_selector(f".kd-map-wrap[data-basemap=vector] #{map_id}", timeout=30_000)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)


def open_plan(page):
    open_map(page, "/plan", "plan-map")


def set_view(page, map_id: str, lat: float, lon: float, zoom: int) -> None:
    page.evaluate(
        "([id, lat, lon, z]) => document.getElementById(id).keiMap"
        ".setView([lat, lon], z, {animate: false})",
        [map_id, lat, lon, zoom],
    )


def wait_tiles_drawn(page, map_id="plan-map"):
    page.wait_for_function(
        f"document.querySelectorAll('#{map_id} canvas.leaflet-tile-loaded').length > 0",
        timeout=20_000,
    )
    page.wait_for_timeout(1500)  # protomaps-leaflet paints after a short per-tile delay


def test_style_marks_motorway_apart_from_residential_roads(page, artifacts_dir):
    open_map(page, "/states", "states-map")
    lat, lon = i95_points(40)[20]  # a node in the middle of I-95's stretch in the extract
    set_view(page, "states-map", lat, lon, 16)
    wait_tiles_drawn(page, "states-map")
    page.screenshot(path=str(artifacts_dir / "basemap-i95-z16.png"))
    motorway = page.evaluate(SAMPLE_JS, ["states-map", lat, lon, 3])
    assert motorway, "no basemap canvas under I-95"
    assert any(_near(p, DAY["notForKei"]) for p in motorway), motorway

    # Residential streets well away from any motorway: white, no "not for Kei" colour.
    res_lat, res_lon = 39.2905, -76.5900  # the grid north of Canton
    set_view(page, "states-map", res_lat, res_lon, 16)
    wait_tiles_drawn(page, "states-map")
    census = page.evaluate(CENSUS_JS, ["states-map", DAY["background"], DAY["road"]])
    assert census["roads"] > 100, census  # calm white streets drawn
    view = page.evaluate(SAMPLE_JS, ["states-map", res_lat, res_lon, 60])
    assert view and not any(_near(p, DAY["notForKei"]) for p in view)
    page.screenshot(path=str(artifacts_dir / "basemap-residential-z16.png"))
    assert page.errors == []


def test_route_corridor_is_stored_and_the_map_draws_offline(page, artifacts_dir):
    open_plan(page)
    page.fill("#plan-origin", f"{ORIGIN[0]},{ORIGIN[1]}")
    page.fill("#plan-destination", f"{DESTINATION[0]},{DESTINATION[1]}")
    page.click("#plan-submit")
    page.wait_for_selector("#plan-verdict", timeout=30_000)
    status = page.locator("#plan-map-offline")
    status.wait_for(timeout=20_000)
    page.wait_for_function(
        "document.getElementById('plan-map-offline')?.innerText.includes('stored')",
        timeout=60_000,
    )
    assert "about" in status.inner_text() or "stored" in status.inner_text()
    stored = set(
        page.evaluate(
            f"caches.open('{BASEMAP_CACHE}').then((c) => c.keys())"
            ".then((ks) => ks.map((r) => new URL(r.url).pathname))"
        )
    )
    # Both ends of the route and a point 1.5 km off its start are in the corridor, z9-z14.
    for lat, lon in (ORIGIN, DESTINATION, (ORIGIN[0] + 1.5 / 111.32, ORIGIN[1])):
        for z in (9, 12, 14):
            x, y = tile_of(lat, lon, z)
            assert f"/tiles/{z}/{x}/{y}.pbf" in stored, (z, lat, lon)
    assert "/tiles/basemap.json" in stored
    # The app shell's cache holds no tiles.
    shell = page.evaluate(
        "caches.keys().then((names) => Promise.all(names.filter((n) => n !== "
        f"'{BASEMAP_CACHE}').map((n) => caches.open(n).then((c) => c.keys()))))"
        ".then((lists) => lists.flat().map((r) => new URL(r.url).pathname))"
    )
    assert not [u for u in shell if u.startswith("/tiles/")]

    # Offline: reload the page; the map comes back where it was and draws from the cache.
    succeeded_from_network = []
    page.on(
        "response",
        lambda r: r.ok and not r.from_service_worker and succeeded_from_network.append(r.url),
    )
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector(".kd-map-wrap[data-basemap=vector]", timeout=30_000)
    wait_tiles_drawn(page)
    census = page.evaluate(CENSUS_JS, ["plan-map", DAY["background"], DAY["road"]])
    page.screenshot(path=str(artifacts_dir / "basemap-plan-offline.png"))
    assert census["drawn"] > census["total"] * 0.05, census  # not a blank field
    assert census["roads"] > 100, census  # streets drawn from the cached tiles
    assert succeeded_from_network == []
    page.context.set_offline(False)


def test_download_this_area_button_stores_the_view(page):
    open_plan(page)
    set_view(page, "plan-map", ORIGIN[0], ORIGIN[1], 15)
    page.click("#plan-map-download")
    page.wait_for_function(
        "document.getElementById('plan-map-offline')?.innerText.includes('stored')",
        timeout=60_000,
    )
    x, y = tile_of(ORIGIN[0], ORIGIN[1], 14)
    has = page.evaluate(
        f"caches.open('{BASEMAP_CACHE}').then((c) => c.match('/tiles/14/{x}/{y}.pbf'))"
        ".then((r) => !!r)"
    )
    assert has


# Ask the service worker (as the map does) and wait for its answer of the given type.
ASK_WORKER_JS = """([message, answer]) => new Promise((resolve) => {
  const listen = (event) => {
    if (event.data?.type !== answer || (message.id && event.data.id !== message.id)) return;
    if (answer === 'basemap-progress' && !event.data.finished) return;
    navigator.serviceWorker.removeEventListener('message', listen);
    resolve(event.data);
  };
  navigator.serviceWorker.addEventListener('message', listen);
  navigator.serviceWorker.controller.postMessage(message);
})"""


def test_basemap_cache_is_capped_and_drops_least_recently_used(page, basemap_server):
    from kei_drive.basemap.reader import open_basemap

    basemap = open_basemap(basemap_server.home / "tiles" / "basemap.mbtiles")
    rows = basemap._db.execute(
        "SELECT tile_column, tile_row FROM tiles WHERE zoom_level = 14 ORDER BY 1, 2"
    ).fetchall()
    urls = [f"/tiles/14/{x}/{(1 << 14) - 1 - row}.pbf" for x, row in rows]
    assert len(urls) >= 12
    open_map(page, "/states", "states-map")
    cap = 40_000
    page.evaluate(ASK_WORKER_JS, [{"type": "basemap-cap", "bytes": cap}, "basemap-cap-set"])
    report = page.evaluate(
        ASK_WORKER_JS, [{"type": "basemap-prefetch", "id": "t1", "urls": urls}, "basemap-progress"]
    )
    assert report["done"] == len(urls) and report["failed"] == 0
    index = page.evaluate(
        f"caches.open('{BASEMAP_CACHE}').then((c) => c.match('/tiles/__kei_index.json'))"
        ".then((r) => r.json())"
    )
    kept = set(index["entries"])
    assert 1 <= len(kept) < len(urls)
    assert sum(bytes_ for bytes_, _used in index["entries"].values()) <= cap
    stored = set(
        page.evaluate(
            f"caches.open('{BASEMAP_CACHE}').then((c) => c.keys())"
            ".then((ks) => ks.map((r) => new URL(r.url).pathname))"
        )
    )
    assert {u for u in stored if u.endswith(".pbf")} == kept  # index and cache agree
    # The first tiles fetched went first; what is left was fetched last.
    assert not kept & set(urls[: len(urls) // 2])
    page.evaluate(ASK_WORKER_JS, [{"type": "basemap-cap", "bytes": None}, "basemap-cap-set"])
