"""The Garage page: add, validate, edit and delete vehicles; import eligibility countdown."""

from __future__ import annotations

import re
import uuid

from kei_drive.db import ensure_migrated, session
from kei_drive.db import queries as q


def card(page, nickname: str):
    return page.locator(f"article.kd-vehicle[data-nickname='{nickname}']")


def open_form(page):
    page.goto("/garage")
    page.wait_for_selector("#vehicle-list[data-loaded='yes']", state="attached")
    if page.locator("#vehicle-form").count() == 0:
        page.click("#vehicle-add")
    page.wait_for_selector("#vehicle-form #vehicle-nickname")


def fill_vehicle(page, **values: str) -> None:
    for field, value in values.items():
        if field == "home":
            page.select_option("#vehicle-home", value)
        else:
            page.fill(f"#vehicle-{field}", value)


def test_add_2003_vehicle_counts_down_to_2028_05(phone, artifacts_dir):
    name = f"Hijet {uuid.uuid4().hex[:6]}"
    open_form(phone)
    # bad input first: a clear message, nothing saved
    fill_vehicle(phone, nickname=name, year="1850", month="2003-05")
    phone.click("#vehicle-save")
    error = phone.wait_for_selector("#vehicle-form-error")
    assert "Model year must be between 1950" in error.inner_text()
    phone.screenshot(path=str(artifacts_dir / "garage-form-error-390x844.png"), full_page=True)
    fill_vehicle(phone, year="2012")
    phone.click("#vehicle-save")
    phone.wait_for_selector("#vehicle-form-error >> text=does not match model year 2012")
    fill_vehicle(phone, year="2003", cap="fast")
    phone.click("#vehicle-save")
    phone.wait_for_selector("#vehicle-form-error >> text=Speed cap must be a number")
    assert card(phone, name).count() == 0

    fill_vehicle(phone, make="Daihatsu", model="Hijet", cap="40", home="FL")
    phone.click("#vehicle-save")
    vehicle = card(phone, name)
    vehicle.wait_for()
    text = vehicle.inner_text()
    assert "2003 Daihatsu Hijet" in text
    assert "Import-eligible from 2028-05" in text
    assert re.search(r"in 1 years? \d+ months?", text), text
    assert re.search(r"\d{3} days", text), text
    assert vehicle.locator(".kd-elig-no").count() == 1
    assert vehicle.locator("[data-status='restricted']").count() == 1  # Florida
    assert "40 mph" in text
    assert phone.locator("#vehicle-form").count() == 0
    phone.screenshot(path=str(artifacts_dir / "garage-390x844.png"), full_page=True)
    assert phone.errors == []


def test_1991_is_eligible_then_edit_and_delete(phone, app_server, artifacts_dir):
    name = f"Sambar {uuid.uuid4().hex[:6]}"
    open_form(phone)
    fill_vehicle(phone, nickname=name, make="Subaru", model="Sambar", year="1991", month="1991-03")
    phone.click("#vehicle-save")
    vehicle = card(phone, name)
    vehicle.wait_for()
    assert "1991 Subaru Sambar" in vehicle.inner_text()
    assert vehicle.locator(".kd-elig-yes").count() == 1
    assert "since 2016-03" in vehicle.inner_text()
    assert "45 mph" in vehicle.inner_text()  # the default personal cap

    # edit: the form opens pre-filled; change the nickname, cap and home state
    vehicle.locator(".kd-edit").click()
    phone.wait_for_selector("#form-title >> text=Edit vehicle")
    assert phone.input_value("#vehicle-nickname") == name
    assert phone.input_value("#vehicle-month") == "1991-03"
    fill_vehicle(phone, nickname=name + " II", cap="38", home="GA")
    phone.click("#vehicle-save")
    edited = card(phone, name + " II")
    edited.wait_for()
    assert card(phone, name).count() == 0
    assert "38 mph" in edited.inner_text()
    assert edited.locator("[data-status='banned']").count() == 1  # Georgia
    with session(app_server.database_url) as s:
        stored = {v.nickname: v for v in q.list_vehicles(s)}
    assert stored[name + " II"].speed_cap_mph == 38
    assert stored[name + " II"].home_state == "GA"

    # delete asks first
    edited.locator(".kd-delete").click()
    edited.locator(".kd-confirm-delete").wait_for()
    phone.screenshot(path=str(artifacts_dir / "garage-delete-390x844.png"))
    edited.locator(".kd-confirm-delete").click()
    phone.wait_for_selector("#garage-flash >> text=Deleted")
    assert card(phone, name + " II").count() == 0
    with session(app_server.database_url) as s:
        assert name + " II" not in {v.nickname for v in q.list_vehicles(s)}
    assert phone.errors == []


def test_seeded_vehicle_desktop(browser, app_server, artifacts_dir):
    ensure_migrated(app_server.database_url)
    name = f"Carry {uuid.uuid4().hex[:6]}"
    with session(app_server.database_url) as s:
        q.create_vehicle(s, name, make="Suzuki", model="Carry", model_year=1999, home_state="CO")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_server.url)
    page = context.new_page()
    try:
        page.goto("/garage")
        vehicle = card(page, name)
        vehicle.wait_for()
        # no month: estimated from the model year (December)
        assert "2024-12" in vehicle.inner_text()
        assert "Estimated from the model year" in vehicle.inner_text()
        page.screenshot(path=str(artifacts_dir / "garage-1280x800.png"), full_page=True)
    finally:
        context.close()
