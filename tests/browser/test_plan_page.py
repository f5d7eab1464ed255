"""The Plan page in headless Chromium: plan on synthetic tiles, export, check GPX files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kei_drive.core.gpx import TrackPoint, read_gpx_points, to_gpx
from tests.support.osm_synth import PLACES, write_network
from tests.support.trips_pages import drop_file_js, long_log_gpx


@pytest.fixture(scope="module")
def plan_server(app_server, tmp_path_factory):
    """The app server with synthetic PA/NY tiles in its KEI_DRIVE_HOME/tiles (the default
    tiles dir; the router is made per request, so tiles built now are found)."""
    from kei_drive.routing.tiles import build_tiles, has_tiles

    tiles = app_server.home / "tiles"
    if not has_tiles(tiles):
        pbf = write_network(tmp_path_factory.mktemp("plan-osm") / "synth.osm.pbf")
        build_tiles(pbf, tiles)
    return app_server


def latlon(name: str) -> str:
    lat, lon = PLACES[name]
    return f"{lat},{lon}"


def open_plan(page):
    page.goto("/plan")
    page.wait_for_selector("#plan-origin")
    page.wait_for_function("document.querySelector('#plan-date')?.value !== ''")
    return page


def plan(page, origin: str, destination: str) -> None:
    page.fill("#plan-origin", origin)
    page.fill("#plan-destination", destination)
    page.click("#plan-submit")
    page.wait_for_selector("#plan-verdict, #plan-error", timeout=30_000)


def upload(page, name: str, data: bytes) -> None:
    page.set_input_files(
        "#gpx-check input[type=file]",
        files=[{"name": name, "mimeType": "application/gpx+xml", "buffer": data}],
    )


def test_plan_between_two_points_draws_the_route_and_exports_gpx(
    plan_server, phone, browser, artifacts_dir
):
    page = open_plan(phone)
    plan(page, latlon("grid_se"), latlon("grid_ne"))
    assert page.locator("#plan-error").count() == 0
    # The Kei route keeps to the grid (about 4.3 km): no highway, a PA "restricted" note.
    assert "mi" in page.inner_text("#plan-distance") and "km" in page.inner_text("#plan-distance")
    assert "2.7 mi" in page.inner_text("#plan-distance")
    assert page.locator("#plan-warnings [data-kind=highway]").count() == 0
    assert page.locator("#plan-warnings [data-kind=restricted_state]").count() == 1
    assert "pa.gov" in page.inner_text("#plan-warnings")  # rule source shown
    assert page.locator("#plan-states [data-state=PA]").count() == 1
    assert "Avenue I" in page.inner_text("#plan-turns")
    # Leaflet drew the route (a path in the overlay pane) and the two end markers.
    page.wait_for_function(
        "document.querySelectorAll('#plan-map .leaflet-overlay-pane path').length >= 3"
    )
    page.screenshot(path=str(artifacts_dir / "plan-390x844.png"), full_page=False)
    page.screenshot(path=str(artifacts_dir / "plan-390x844-full.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#plan-export-gpx")
    assert download.value.suggested_filename.endswith(".gpx")
    points = read_gpx_points(download.value.path())
    assert len(points) >= 2
    assert points[0] == pytest.approx(PLACES["grid_se"], abs=0.002)
    assert points[-1] == pytest.approx(PLACES["grid_ne"], abs=0.002)
    assert page.errors == []

    # The same route on a desktop screen.
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=plan_server.url)
    try:
        wide = open_plan(desk.new_page())
        plan(wide, latlon("grid_se"), latlon("grid_ne"))
        wide.wait_for_function(
            "document.querySelectorAll('#plan-map .leaflet-overlay-pane path').length >= 3"
        )
        wide.wait_for_timeout(500)
        wide.screenshot(path=str(artifacts_dir / "plan-1280x800.png"))
    finally:
        desk.close()


def test_gpx_on_the_motorway_gets_a_highway_warning(plan_server, phone, artifacts_dir):
    page = open_plan(phone)
    track = [TrackPoint(lat=41.945 + 0.001 * i, lon=-77.0, time=None) for i in range(46)]
    upload(page, "motorway.gpx", to_gpx(track, name="I 99 run").encode())
    page.wait_for_selector("#plan-verdict", timeout=30_000)
    assert "motorway.gpx" in page.inner_text("#plan-result-title")
    assert "Not Kei-legal" in page.inner_text("#plan-verdict")
    highway = page.locator("#plan-warnings [data-kind=highway]")
    assert highway.count() == 1
    assert "I 99" in highway.inner_text() and "Motorway" in highway.inner_text()
    page.wait_for_function(
        "document.querySelectorAll('#plan-map .leaflet-overlay-pane path').length >= 1"
    )
    # The motorway stretch is drawn red.
    assert page.locator("#plan-map path[stroke='#ef4444']").count() >= 1
    page.screenshot(path=str(artifacts_dir / "plan-gpx-check-390x844.png"), full_page=True)
    assert page.errors == []


def test_bad_inputs_give_clear_errors_and_keep_the_form(plan_server, phone, artifacts_dir):
    page = open_plan(phone)
    # "My location" fills the origin with the browser's position (Baltimore in this browser).
    page.click("#plan-my-location")
    page.wait_for_function("document.querySelector('#plan-origin').value.startsWith('39.2904')")
    assert "Your location" in page.inner_text("#plan-side")
    upload(page, "garbage.gpx", b"this is not a GPX file")
    page.wait_for_selector("#plan-error", timeout=15_000)
    error = page.inner_text("#plan-error")
    assert "garbage.gpx" in error and "not a GPX file" in error
    # A one-point GPX cannot be a route.
    one = to_gpx([TrackPoint(lat=41.95, lon=-77.01, time=None)]).encode()
    upload(page, "one-point.gpx", one)
    page.wait_for_function(
        "document.querySelector('#plan-error')?.innerText.includes('one-point.gpx')"
    )
    assert "at least two" in page.inner_text("#plan-error")
    # Coordinates out of range: a field error, nothing typed is lost.
    page.fill("#plan-origin", latlon("grid_se"))
    page.fill("#plan-destination", "95,10")
    page.click("#plan-submit")
    page.wait_for_selector(".kp-field-error")
    assert "out of range" in page.inner_text(".kp-field-error")
    assert page.input_value("#plan-destination") == "95,10"
    # Two places of that name in New York: the page asks which (offline gazetteer, GeoNames
    # credited); the one picked is outside the routing tiles, which the page says plainly.
    page.fill("#plan-origin", "Bolivar, NY")
    page.fill("#plan-destination", latlon("grid_ne"))
    page.click("#plan-submit")
    page.wait_for_selector("#origin-candidates")
    choices = page.locator("#origin-candidates button")
    assert choices.count() == 2
    assert "GeoNames" in page.inner_text("#origin-candidates")
    assert "42.0667" in choices.nth(1).inner_text()
    page.screenshot(path=str(artifacts_dir / "plan-candidates-390x844.png"), full_page=True)
    choices.nth(1).click()
    page.wait_for_selector("#plan-error", timeout=30_000)
    assert "No route found" in page.inner_text("#plan-error")
    assert page.locator("#origin-candidates").count() == 0
    assert page.input_value("#plan-origin") == "Bolivar, NY"
    assert "GeoNames" in page.inner_text("#plan-side")
    page.screenshot(path=str(artifacts_dir / "plan-errors-390x844.png"), full_page=True)
    assert page.errors == []


GUIDANCE = "JSON.parse(localStorage.getItem('kei-drive.guidance') || 'null')"


def test_drive_this_route_stores_the_route_shown_and_opens_guidance(plan_server, phone):
    """Issue #13 point 1: "Drive this route" stores the planned route (contract v1) on the
    phone and opens the Drive screen in guidance mode."""
    page = open_plan(phone)
    plan(page, latlon("grid_se"), latlon("grid_ne"))
    assert page.locator("#plan-error").count() == 0
    shown_distance = page.inner_text("#plan-distance")
    page.click("#drive-route")
    page.wait_for_url("**/?guide=1", timeout=30_000)
    assert page.url == plan_server.url.rstrip("/") + "/?guide=1"
    stored = page.evaluate(GUIDANCE)
    assert stored["version"] == 1 and stored["saved_at"] > 0
    assert stored["request"]["from"] == list(PLACES["grid_se"])
    assert stored["request"]["to"] == list(PLACES["grid_ne"])
    assert stored["request"]["options"]["avoid_trunks"] is True
    route = stored["route"]
    assert route["geometry"][0] == pytest.approx(PLACES["grid_se"], abs=0.002)
    assert route["geometry"][-1] == pytest.approx(PLACES["grid_ne"], abs=0.002)
    assert "Avenue I" in {n for m in route["maneuvers"] for n in m["street_names"]}
    miles = round(route["distance_m"] / 1609.344, 1)
    assert f"{miles} mi" in shown_distance  # the route the driver saw
    assert stored["announcements"][0]["text"] == "Pennsylvania: Kei vehicles are restricted"


def test_drive_this_route_on_an_audited_gpx_route(plan_server, phone):
    page = open_plan(phone)
    track = [TrackPoint(lat=41.9505 + 0.0005 * i, lon=-77.0105, time=None) for i in range(78)]
    upload(page, "avenue-i.gpx", to_gpx(track, name="Avenue I north").encode())
    page.wait_for_selector("#plan-verdict", timeout=30_000)
    page.click("#drive-route")
    page.wait_for_url("**/?guide=1", timeout=30_000)
    stored = page.evaluate(GUIDANCE)
    assert stored["request"]["name"] == "avenue-i.gpx"
    assert len(stored["request"]["track"]) == 78
    assert stored["route"]["geometry"][0] == pytest.approx((track[0].lat, track[0].lon), abs=0.001)
    assert stored["route"]["maneuvers"], stored["route"]["notes"]


def test_a_failed_new_search_clears_the_old_verdict(plan_server, phone):
    """Issue #13 point 9: the old green verdict stayed beside a failed new search."""
    page = open_plan(phone)
    plan(page, latlon("grid_se"), latlon("grid_ne"))
    assert "Kei-legal" in page.inner_text("#plan-verdict")
    page.fill("#plan-destination", "95,10")  # out of range: the new search fails
    page.click("#plan-submit")
    page.wait_for_selector(".kp-field-error")
    page.wait_for_selector("#plan-verdict", state="detached", timeout=10_000)
    assert page.locator("#plan-results").count() == 0
    assert page.locator("#drive-route").count() == 0
    assert page.errors == []


def test_a_gpx_the_check_cannot_cover_is_not_called_kei_legal(plan_server, phone):
    """A drive outside the installed map data: no warning can be found there, and the verdict
    says so instead of a green "Kei-legal"."""
    page = open_plan(phone)
    start = datetime(2024, 5, 4, 15, 0, tzinfo=UTC)
    track = [
        TrackPoint(lat=39.29 + 0.0001 * i, lon=-76.61, time=start + timedelta(seconds=i))
        for i in range(120)
    ]
    upload(page, "elsewhere.gpx", to_gpx(track, name="Elsewhere").encode())
    page.wait_for_selector("#plan-verdict", timeout=30_000)
    verdict = page.locator("#plan-verdict")
    assert "cannot be told" in verdict.inner_text()
    assert verdict.inner_text().startswith("?")
    assert "kp-unknown" in (verdict.get_attribute("class") or "")
    assert "outside the installed map data" in page.inner_text("#plan-results")
    assert page.errors == []


def test_a_file_dropped_during_a_check_is_said_not_read_and_keeps_the_app(plan_server, phone):
    """The route check's drop zone was disabled while checking: a file dropped on it then
    was not taken by the page, and the browser opened it in place of the app. Now the page
    takes the drop (Reflex's upload helper ignores it while the check's upload runs), says
    a file dropped meanwhile is not read, and the running check goes on."""
    page = open_plan(phone)
    upload(page, "long.gpx", long_log_gpx(150_000))
    page.wait_for_selector("#plan-busy")
    assert page.evaluate(drop_file_js("#gpx", "second.gpx")) is True
    note = page.wait_for_selector("#plan-busy-note").inner_text()
    assert "not read: drop it again" in note, note
    page.wait_for_selector("#plan-result-title, #plan-error", timeout=120_000)
    shown = page.inner_text("#plan-result-title, #plan-error")
    assert "second.gpx" not in shown
    assert page.locator("#plan-busy-note").count() == 0
