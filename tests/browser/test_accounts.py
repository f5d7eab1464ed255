"""Accounts in Chromium on a phone viewport, against the app served with sign-in on
(not ``--single-user``): sign in with one hand, record, lose the session, keep recording,
sign in again, the fixes arrive in the same account; a second user sees nothing of it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kei_drive import auth_cache
from kei_drive.db import accounts as acc
from kei_drive.db import ensure_migrated, get_engine, session
from kei_drive.db import queries as q
from tests.browser.app_server import AppServer
from tests.browser.conftest import START, feed, north_of, stop_trip

PASSWORDS = {
    "alice": "alice's long password",
    "bob": "bob's long password",
    "carol": "carol's long password",  # the Settings test changes hers
    "dave": "dave's long password",
}


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory):
    server = AppServer(
        tmp_path_factory.mktemp("accounts-home"), log_name="accounts.log", single_user=False
    )
    server.start()
    ensure_migrated(server.database_url)
    with session(server.database_url) as s:
        for name, password in PASSWORDS.items():
            acc.create_account(s, name, password)
    yield server
    server.stop()


def new_phone(browser, server: AppServer):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
        base_url=server.url,
    )
    return context.new_page()


def sign_in(page, name: str, next_path: str = "/", password: str | None = None) -> None:
    page.goto(f"/signin?next={next_path}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password or PASSWORDS[name])
    page.click("#signin-submit")
    page.wait_for_url(lambda url: "/signin" not in url)  # back on next_path (maybe with "/")
    assert next_path.rstrip("/") in page.url


def pending(page) -> int:
    return int(page.get_attribute("#trip-status", "data-pending") or 0)


def positions(count: int, offset: int = 0, mps: float = 13.41):
    return [north_of(START, mps * (offset + i)) for i in range(count)]


def record(page, fixes) -> str:
    # enabled once a GPS fix is in: a watch that started after the emulated position was
    # set gets none until the position changes again, so send it until one arrives
    for _ in range(60):
        if page.locator("#trip-start:not([disabled])").count():
            break
        feed(page, [START])
    page.click("#trip-start")
    page.wait_for_selector("#trip-stop")
    uuid = page.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
    feed(page, fixes)
    return uuid


def stop_and_drain(page) -> None:
    stop_trip(page)
    drain(page)


def drain(page) -> None:
    """Wait until the phone's queue (fixes and owed finish calls) is empty."""
    page.wait_for_function(
        "document.querySelector('#trip-status').dataset.pending === '0' && "
        "(JSON.parse(localStorage.getItem('kei-drive.finish-queue')) || []).length === 0",
        timeout=30_000,
    )


def trip_id(server: AppServer, uuid: str) -> int:
    with get_engine(server.database_url).connect() as conn:
        query = sa.text("SELECT id FROM trips WHERE uuid = :uuid")
        return conn.execute(query, {"uuid": uuid}).scalar_one()


def owner_and_points(server: AppServer, uuid: str) -> tuple[str, int]:
    with get_engine(server.database_url).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT u.username, t.point_count FROM trips t JOIN users u ON u.id = t.user_id "
                "WHERE t.uuid = :uuid"
            ),
            {"uuid": uuid},
        ).one()
    return row[0], row[1]


def test_sign_in_record_expire_sign_in_again_then_another_user_sees_nothing(
    browser, accounts_server, artifacts_dir
):
    server = accounts_server
    phone = new_phone(browser, server)
    phone.goto("/signin")
    box = phone.locator("#signin-submit").bounding_box()
    assert box["height"] >= 48 and box["y"] > 844 / 2  # big, in the thumb's half
    phone.screenshot(path=str(artifacts_dir / "accounts-signin-phone.png"))

    sign_in(phone, "alice")
    first = record(phone, positions(6))
    stop_and_drain(phone)
    assert owner_and_points(server, first) == ("alice", 6)

    # The session ends (expired or revoked) while the phone is recording.
    with session(server.database_url) as s:
        s.execute(sa.delete(acc.UserSession))
    # ended outside the server (expiry, the CLI): the server notices within the auth cache's
    # lifetime (kei_drive/auth_cache.py)
    phone.wait_for_timeout(auth_cache.TTL_S * 1000 + 500)
    second = record(phone, positions(8, offset=10))
    phone.wait_for_function(
        "document.querySelector('#trip-status')?.textContent.includes('sign in')", timeout=15_000
    )
    assert pending(phone) >= 6, phone.inner_text("#trip-status")
    with get_engine(server.database_url).connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM trips WHERE uuid = :u"), {"u": second})
        assert stored.scalar_one() == 0  # nothing reached the server while signed out
    phone.screenshot(path=str(artifacts_dir / "accounts-signed-out-queue.png"))

    sign_in(phone, "alice")  # back to the Drive screen; the queue goes out
    stop_and_drain(phone)
    assert owner_and_points(server, second) == ("alice", 8)

    # Sign out from Settings: the API and the settings page now need sign-in again.
    phone.goto("/settings")
    assert "alice" in phone.inner_text("#settings-user")
    phone.click("nav form button")
    phone.wait_for_url("**/signin?signed_out=1")
    assert phone.request.get("/api/v1/trips").status == 401
    phone.goto("/settings")
    phone.wait_for_url("**/signin?next=/settings")
    for page_path in ("/trips", f"/trips/{trip_id(server, first)}", "/garage", "/plan"):
        phone.goto(page_path)  # signed out: every private page leads to the sign-in form
        phone.wait_for_url("**/signin?next=**", timeout=20_000)

    other = new_phone(browser, server)
    sign_in(other, "bob", "/trips")
    other.wait_for_selector("#trips-empty")  # Bob's history is empty
    assert other.locator("#trip-list a").count() == 0
    assert other.inner_text("#nav-account") == "bob"
    other.goto(f"/trips/{trip_id(server, first)}")  # Alice's trip: like a missing one
    other.wait_for_selector("text=No trip with id")
    listing = other.request.get("/api/v1/trips").json()
    assert listing["total"] == 0 and listing["trips"] == []
    assert other.request.get(f"/api/v1/trips/{first}").status == 404
    with session(server.database_url) as s:
        alice = acc.find_user(s, "alice")
        assert q.list_trips(s, user_id=alice.id).total == 2
    other.context.close()
    phone.context.close()


def test_a_queue_recorded_by_one_account_is_not_sent_by_another(browser, accounts_server):
    server = accounts_server
    phone = new_phone(browser, server)
    sign_in(phone, "alice")
    # the trip API is unreachable while Alice records (a dead spot): all of it stays queued
    phone.route("**/api/v1/trips/**", lambda route: route.abort())
    uuid = record(phone, positions(5, offset=40))
    stop_trip(phone)
    phone.unroute("**/api/v1/trips/**")
    phone.context.clear_cookies()  # Alice's session is gone from this phone
    # The phone's first questions "who is signed in?" get no answer (a weak signal): a
    # queue of unknown ownership is not sent (it went to Bob's account)
    unanswered = []

    def me_route(route):
        unanswered.append(1)
        if len(unanswered) <= 3:
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.route("**/api/v1/me", me_route)
    sign_in(phone, "bob")
    phone.wait_for_function(
        "document.querySelector('#trip-status')?.textContent.includes('recorded as alice')",
        timeout=30_000,
    )
    assert len(unanswered) > 3
    phone.unroute("**/api/v1/me")
    assert pending(phone) == 5
    with get_engine(server.database_url).connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM trips WHERE uuid = :u"), {"u": uuid})
        assert count.scalar_one() == 0  # never sent to Bob's account
    phone.context.clear_cookies()
    sign_in(phone, "alice")
    phone.wait_for_selector("#trip-status")
    drain(phone)
    assert owner_and_points(server, uuid) == ("alice", 5)
    phone.context.close()


def sessions_of(server: AppServer, name: str) -> int:
    with session(server.database_url) as s:
        return len(acc.list_sessions(s, acc.find_user(s, name).id))


def test_settings_in_the_app_frame_password_sessions_and_tokens(
    browser, accounts_server, artifacts_dir
):
    """The nav shows who is signed in and signs out; Settings (reached from the nav) lists
    the devices and revokes another one, creates and revokes a token, changes the password."""
    server = accounts_server
    laptop = new_phone(browser, server)  # Carol's other device
    sign_in(laptop, "carol", "/trips")
    phone = new_phone(browser, server)
    sign_in(phone, "carol")
    phone.wait_for_selector("#nav-account")
    assert phone.inner_text("#nav-account") == "carol"
    assert phone.locator("#nav-signout").is_visible()
    phone.click("#nav-account")  # Settings, from the app's nav
    phone.wait_for_url("**/settings")
    nav = phone.inner_text("#settings-nav")
    assert all(label in nav for label in ("Drive", "Plan", "Trips", "States", "Garage"))
    assert "carol" in phone.inner_text("#settings-user")

    # Devices: two; sign the laptop out from the phone.
    assert sessions_of(server, "carol") == 2
    assert laptop.request.get("/api/v1/me").status == 200
    other = phone.locator("#sessions li", has_not_text="this device")
    assert other.count() == 1 and phone.locator("#sessions li").count() == 2
    other.locator("button").click()
    phone.wait_for_selector("text=That device was signed out.")
    assert phone.locator("#sessions li").count() == 1
    assert "this device" in phone.inner_text("#sessions")
    assert laptop.request.get("/api/v1/me").status == 401
    assert sessions_of(server, "carol") == 1

    # A token: created (shown once), works, revoked, stops working.
    phone.fill("#name", "Sambar phone")
    phone.select_option("#scope", "read")
    phone.click("#token-submit")
    token = phone.inner_text("#secret").strip()
    assert token.startswith("kdt_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert laptop.request.get("/api/v1/trips", headers=bearer).status == 200
    phone.click("text=Back to settings")
    row = phone.locator("#tokens li", has_text="Sambar phone")
    assert "read" in row.inner_text() and token not in phone.content()  # shown once only
    phone.screenshot(path=str(artifacts_dir / "accounts-settings-phone.png"), full_page=True)
    row.locator("button").click()
    phone.wait_for_selector("text=The token was revoked.")
    assert phone.locator("#tokens li", has_text="Sambar phone").count() == 0
    assert laptop.request.get("/api/v1/trips", headers=bearer).status == 401

    # The password: the two new ones must match; then changed; the old one stops working.
    new_password = "carol's new long password"
    phone.fill("#current", PASSWORDS["carol"])
    phone.fill("#new", new_password)
    phone.fill("#new2", new_password + "x")
    phone.click("#password-submit")
    phone.wait_for_selector("text=The two new passwords differ.")
    phone.fill("#current", PASSWORDS["carol"])
    phone.fill("#new", new_password)
    phone.fill("#new2", new_password)
    phone.click("#password-submit")
    phone.wait_for_selector("text=Password changed.")
    phone.goto("/")  # sign out from the app's nav
    phone.click("#nav-signout")
    phone.wait_for_url("**/signin?signed_out=1")
    assert phone.request.get("/api/v1/me").status == 401
    phone.fill("input[name=username]", "carol")
    phone.fill("input[name=password]", PASSWORDS["carol"])
    phone.click("#signin-submit")
    phone.wait_for_selector("text=Wrong user name or password")
    sign_in(phone, "carol", password=new_password)
    assert phone.request.get("/api/v1/me").json()["username"] == "carol"
    laptop.context.close()
    phone.context.close()


def test_after_sign_out_the_phone_shows_nothing_of_the_account_offline(
    browser, accounts_server, artifacts_dir
):
    """The service worker never stores /api answers, and signing out forgets the garage,
    rules and guidance the Drive screen kept for offline use: offline afterwards, the
    phone shows nothing of the previous account."""
    server = accounts_server
    with session(server.database_url) as s:
        q.create_vehicle(s, "Dave's Sambar", user_id=acc.find_user(s, "dave").id)
    phone = new_phone(browser, server)
    sign_in(phone, "dave")
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    daves = '#vehicle-select option:has-text("Dave\'s Sambar")'
    phone.wait_for_selector(daves, state="attached")
    phone.reload()  # the page hands the worker every URL it loaded, /api answers included
    phone.wait_for_selector(daves, state="attached")
    phone.wait_for_timeout(1500)
    api_cached = """async () => {
        const hits = [];
        for (const name of await caches.keys()) {
            for (const r of await (await caches.open(name)).keys()) {
                if (new URL(r.url).pathname.startsWith('/api/')) hits.push(r.url);
            }
        }
        return hits;
    }"""
    assert phone.evaluate(api_cached) == []
    assert "Dave" in phone.evaluate("localStorage.getItem('kei-drive.vehicles')")

    # as if a route were being driven (issue #13 keeps it there)
    phone.evaluate("localStorage.setItem('kei-drive.guidance', JSON.stringify({version: 1}))")
    phone.click("#nav-signout")
    phone.wait_for_url("**/signin?signed_out=1")
    phone.wait_for_selector("html[data-device-data='forgotten']", state="attached")
    for key in ("kei-drive.vehicles", "kei-drive.rules", "kei-drive.guidance"):
        assert phone.evaluate(f"localStorage.getItem('{key}')") is None, key
    phone.context.set_offline(True)
    try:
        phone.goto("/")  # the app shell, from the service worker
        phone.wait_for_selector("#speed-mph", timeout=15_000)
        phone.wait_for_timeout(1000)
        assert phone.locator("#vehicle-select").count() == 0
        assert "Dave" not in phone.content()
        answer = phone.evaluate(
            "fetch('/api/v1/vehicles').then(r => r.status).catch(() => 'unreachable')"
        )
        assert answer == "unreachable"  # never answered from a cache
        phone.screenshot(path=str(artifacts_dir / "accounts-offline-after-signout.png"))
    finally:
        phone.context.set_offline(False)
    phone.context.close()
