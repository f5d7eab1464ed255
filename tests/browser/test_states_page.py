"""The States page: coloured map, searchable table, date switch, detail and overrides."""

from __future__ import annotations

from kei_drive.core.rules import document_without_override
from kei_drive.db import accounts as acc
from kei_drive.db import overrides as ov
from kei_drive.db import session

STATUS_FILLS = {"#22c55e", "#f5a623", "#ef4444", "#71717a"}


def open_states(page, query: str = ""):
    page.goto("/states" + query)
    page.wait_for_selector("#states-table tbody tr[data-state='WY']")
    page.wait_for_selector("#states-map path.leaflet-interactive")
    return page


def owners_overrides(app_server) -> dict:
    """The overrides the (single-user) owner has in the database: each account's own."""
    with session(app_server.database_url) as s:
        return ov.load_document(s, acc.first_owner(s).id)["overrides"]


def row(page, code: str):
    return page.locator(f"#states-table tbody tr[data-state='{code}']")


def test_map_is_coloured_and_search_filters_the_table(phone, artifacts_dir):
    open_states(phone)
    # the map colours states by status (wait for the styled layer)
    phone.wait_for_function(
        "document.querySelectorAll('#states-map path[fill=\"#ef4444\"]').length > 0"
    )
    fills = phone.eval_on_selector_all(
        "#states-map path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"
    )
    fills = [f for f in fills if f != "none"]  # the invisible line the view is fitted to
    assert len(fills) >= 51
    assert {"#22c55e", "#f5a623", "#ef4444", "#71717a"} <= set(fills)
    assert set(fills) <= STATUS_FILLS
    assert phone.locator("#states-table tbody tr").count() == 51
    legend = phone.inner_text("#states-legend")
    for status in ("legal", "restricted", "banned", "unclear"):
        assert status in legend
    phone.screenshot(path=str(artifacts_dir / "states-390x844.png"))

    phone.fill("#states-search", "flor")
    phone.wait_for_function("document.querySelectorAll('#states-table tbody tr').length === 1")
    assert row(phone, "FL").count() == 1
    assert "≤ 35 mph" in row(phone, "FL").inner_text()

    phone.fill("#states-search", "banned")
    # the table still shows Florida until the new search's answer arrives: wait for it
    phone.wait_for_function(
        "[...document.querySelectorAll('#states-table tbody tr [data-status]')]"
        ".some((e) => e.dataset.status === 'banned')"
    )
    statuses = phone.eval_on_selector_all(
        "#states-table tbody tr [data-status]", "els => els.map(e => e.dataset.status)"
    )
    assert statuses and set(statuses) == {"banned"}
    assert row(phone, "NY").count() == 1
    phone.fill("#states-search", "")
    phone.wait_for_function("document.querySelectorAll('#states-table tbody tr').length === 51")
    assert phone.errors == []


AMBER = "document.querySelectorAll('#states-map path[fill=\"#f5a623\"]').length"


def test_colorado_switches_on_2028_01_01(phone):
    open_states(phone)
    phone.fill("#rules-date", "2027-12-31")
    phone.wait_for_selector("tr[data-state='CO'] [data-status='banned']")
    phone.wait_for_function(f"{AMBER} > 0")
    amber_before = phone.evaluate(AMBER)
    phone.fill("#rules-date", "2028-01-01")
    phone.wait_for_selector("tr[data-state='CO'] [data-status='restricted']")
    assert "≤ 55 mph" in row(phone, "CO").inner_text()
    # the map follows the date too: one more restricted (amber) state
    phone.wait_for_function(f"{AMBER} === {amber_before + 1}")
    phone.click("text=Today")
    phone.wait_for_selector("tr[data-state='CO'] [data-status='banned']")


def test_detail_deep_link_shows_sources_and_upcoming_change(phone, artifacts_dir):
    open_states(phone, "?state=CO")
    detail = phone.locator("#state-detail")
    detail.wait_for()
    assert detail.get_attribute("data-state") == "CO"
    assert "Colorado" in phone.inner_text("#state-detail-name")
    links = phone.locator("#state-sources a")
    assert links.count() >= 2
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert all(h.startswith("http") for h in hrefs)
    assert "https://dmv.colorado.gov/registration" in hrefs
    assert phone.inner_text("#detail-confidence") == "high"
    assert "2028-01-01" in phone.inner_text("#detail-next-change")
    assert "Even on out-of-state plates: The DMV says Kei may not be driven" in phone.inner_text(
        "#state-advice"
    )
    detail.scroll_into_view_if_needed()
    phone.evaluate("document.getElementById('state-detail').scrollIntoView()")
    phone.screenshot(path=str(artifacts_dir / "states-detail-390x844.png"))
    phone.evaluate("document.getElementById('state-sources').scrollIntoView()")
    phone.screenshot(path=str(artifacts_dir / "states-detail-sources-390x844.png"))

    # clicking a table row switches the detail
    row(phone, "FL").click()
    phone.wait_for_selector("#state-detail[data-state='FL']")
    assert "35" in phone.inner_text("#detail-speed")
    # the address follows the detail, a moment later (it flaked when read at once)
    phone.wait_for_function("location.search === '?state=FL'")

    # tapping a state on the map opens its detail too (the middle of the map is Kansas-ish)
    phone.locator("#states-map").scroll_into_view_if_needed()
    box = phone.locator("#states-map").bounding_box()
    phone.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45)
    phone.wait_for_function(
        "(d => d && d.dataset.state !== 'FL')(document.getElementById('state-detail'))"
    )
    code = phone.get_attribute("#state-detail", "data-state")
    assert len(code) == 2
    phone.wait_for_function(f"location.search === '?state={code}'")
    assert phone.errors == []


def test_override_is_marked_and_removing_it_restores(phone, app_server, artifacts_dir):
    try:
        open_states(phone, "?state=GA")
        phone.wait_for_selector("#state-detail[data-state='GA']")
        assert row(phone, "GA").get_attribute("data-overridden") == ""
        phone.click("#override-open")
        phone.select_option("#override-status", "restricted")
        phone.fill("#override-speed", "fast")
        phone.fill("#override-note", "DMV letter of 2026-10-02")
        phone.click("#override-save")
        error = phone.wait_for_selector("#override-error")
        assert "whole number of mph" in error.inner_text()
        error.scroll_into_view_if_needed()
        phone.screenshot(path=str(artifacts_dir / "states-override-error-390x844.png"))
        assert "GA" not in owners_overrides(app_server)

        phone.fill("#override-speed", "45")
        phone.fill("#override-note", "")
        phone.click("#override-save")
        phone.wait_for_selector("#override-error >> text=the note is required")

        phone.fill("#override-note", "DMV letter of 2026-10-02")
        phone.select_option("#override-interstate", "forbidden")
        phone.click("#override-save")
        phone.wait_for_selector("#detail-override")
        assert phone.get_attribute("#state-detail [data-status]", "data-status") == "restricted"
        assert "≤ 45 mph" in phone.inner_text("#detail-speed")
        assert "DMV letter of 2026-10-02" in phone.inner_text("#state-detail")
        assert row(phone, "GA").get_attribute("data-overridden") == "yes"
        assert "Your override" in row(phone, "GA").inner_text()
        phone.fill("#states-search", "override")
        phone.wait_for_function("document.querySelectorAll('#states-table tbody tr').length === 1")
        assert row(phone, "GA").count() == 1
        saved = owners_overrides(app_server)["GA"]
        assert saved["fields"] == {
            "status": "restricted",
            "max_road_speed_mph": 45,
            "interstate_forbidden": True,
            "summary": None,
        }
        advice = phone.inner_text("#state-advice")
        assert "registrable with limits (roads posted 45 mph or less only" in advice
        phone.evaluate("document.getElementById('state-detail').scrollIntoView()")
        phone.screenshot(path=str(artifacts_dir / "states-override-390x844.png"))

        # the override survives a reload and is still marked
        open_states(phone, "?state=GA")
        phone.wait_for_selector("#detail-override")
        phone.click("#override-remove")
        phone.wait_for_selector("tr[data-state='GA'][data-overridden=''] [data-status='banned']")
        assert phone.locator("#detail-override").count() == 0
        assert "GA" not in owners_overrides(app_server)
        assert not (app_server.home / "rule_overrides.json").exists()  # no shared file
        assert phone.errors == []
    finally:
        with session(app_server.database_url) as s:
            owner = acc.first_owner(s).id
            document, _ = document_without_override(ov.load_document(s, owner), "GA")
            ov.save_document(s, owner, document)


def test_desktop_layout(browser, app_server, artifacts_dir):
    width, height = 1280, 800
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=app_server.url
    )
    page = context.new_page()
    try:
        open_states(page, "?state=LA")
        page.wait_for_selector("#state-detail[data-state='LA']")
        page.screenshot(path=str(artifacts_dir / f"states-{width}x{height}.png"), full_page=True)
        # no horizontal page scroll on desktop: the table fits
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()


def test_access_in_plain_words_and_what_changed(phone, artifacts_dir):
    open_states(phone, "?state=OH")
    phone.fill("#rules-date", "2026-12-02")
    access = phone.wait_for_selector("#detail-access[data-access='local_opt_in']")
    assert (
        "Only in towns that allow it by ordinance · roads 35 mph or less · no interstates · "
        "police inspection" in access.inner_text()
    )
    visitors = phone.inner_text("#detail-visitors")
    assert "out-of-state plates" in visitors and "4519.401" in visitors
    assert phone.get_attribute("#detail-visitors", "data-visitors") == "may_not_operate"
    assert phone.inner_text("#detail-checked") == "2026-12-02"
    # What changed: the last two years and upcoming, Colorado's 2028-01-01 among them.
    co = phone.wait_for_selector("#what-changed li[data-state='CO'][data-on='2028-01-01']")
    assert "Colorado" in co.inner_text() and "(upcoming)" in co.inner_text()
    ohio = phone.locator("#what-changed li[data-state='OH'][data-on='2025-06-30']")
    assert ohio.count() == 1 and "(upcoming)" not in ohio.inner_text()
    assert phone.locator("#what-changed li[data-on='2024-07-01']").count() == 0  # RI: > 2 years
    phone.locator("#what-changed").scroll_into_view_if_needed()
    phone.screenshot(path=str(artifacts_dir / "states-what-changed-390x844.png"))
    # Pennsylvania: the farm-plate route in words.
    row(phone, "PA").click()
    phone.wait_for_selector("#state-detail[data-state='PA']")
    assert "farm vehicle plate" in phone.inner_text("#detail-routes")
