"""The Drive screen's state badge, state speed cap and border warnings."""

from __future__ import annotations

from tests.browser.conftest import feed, north_of


def open_drive_at(phone, at: tuple[float, float]) -> None:
    """The Drive screen with the phone's GPS already at ``at``: from the fixture's Baltimore
    a jump of hundreds of km is held back as a glitch until three fixes agree, and a fix
    delivered across the test's clock tick could leave only two."""
    phone.context.set_geolocation({"latitude": at[0], "longitude": at[1], "accuracy": 8})
    phone.goto("/")


def test_florida_cap_lowers_the_alert_threshold(phone):
    tampa = (27.9506, -82.4572)
    open_drive_at(phone, tampa)
    feed(phone, [north_of(tampa, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='FL']")
    assert "restricted" in phone.inner_text("#state-badge")
    assert phone.get_attribute("#speed-cap", "data-cap-mph") == "35"
    assert "FL limit" in phone.inner_text("#speed-cap")


def test_warning_near_the_new_york_line(phone):
    # Pennsylvania, ~1 km south of the New York line near Sayre: New York refuses Kei vehicles.
    near_line = (41.9905, -76.52)
    open_drive_at(phone, near_line)
    feed(phone, [north_of(near_line, 5 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='PA']")
    warning = phone.wait_for_selector("#state-warning")
    assert "New York" in warning.inner_text()


def test_crossing_into_a_banned_state_warns(phone):
    start = (41.9975, -76.52)  # PA, ~300 m south of the line, heading north into NY at 25 m/s
    open_drive_at(phone, start)
    feed(phone, [north_of(start, 25 * i) for i in range(20)], interval_ms=1000)
    phone.wait_for_selector("#state-badge[data-state='NY']")
    assert "banned" in phone.inner_text("#state-badge")
    assert "New York" in phone.inner_text("#state-warning")


def test_outside_the_us_says_so(phone):
    open_drive_at(phone, (43.6532, -79.3832))  # Toronto
    feed(phone, [(43.6532, -79.3832 + 0.0001 * i) for i in range(3)])
    phone.wait_for_function(
        "document.querySelector('#state-badge').innerText.includes('Outside the US')"
    )


def test_badge_in_ohio_shows_access_mode_and_visitor_rule(phone):
    columbus = (39.9612, -82.9988)
    open_drive_at(phone, columbus)
    feed(phone, [north_of(columbus, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='OH']")
    assert "Only in towns that allow it by ordinance" in phone.inner_text("#state-badge")
    visitors = phone.wait_for_selector("#state-visitors[data-visitors='may_not_operate']")
    assert "out-of-state plates" in visitors.inner_text()
    assert "4519.401" in visitors.inner_text()


def test_badge_in_new_york_says_no_public_roads_even_for_visitors(phone):
    syracuse = (43.0481, -76.1474)
    open_drive_at(phone, syracuse)
    feed(phone, [north_of(syracuse, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='NY']")
    assert "No public roads" in phone.inner_text("#state-badge")
    visitors = phone.wait_for_selector("#state-visitors[data-visitors='may_not_operate']")
    assert "arrested" in visitors.inner_text()


def test_badge_in_texas_says_transit_unverified(phone):
    austin = (30.2672, -97.7431)
    open_drive_at(phone, austin)
    feed(phone, [north_of(austin, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='TX']")
    visitors = phone.wait_for_selector("#state-visitors[data-visitors='unknown']")
    assert visitors.inner_text() == "registration only — transit unverified"


def test_upcoming_change_within_90_days_shows_a_note(phone):
    # The phone's calendar on 2027-11-01: Colorado's new rule (2028-01-01) is 61 days away.
    phone.clock.set_system_time("2027-11-01T12:00:00Z")
    denver = (39.7392, -104.9903)
    open_drive_at(phone, denver)
    feed(phone, [north_of(denver, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='CO']")
    note = phone.wait_for_selector("#rule-change-note[data-state='CO']")
    assert note.inner_text().startswith("Colorado from 2028-01-01: HB25-1281")
    visitors = phone.inner_text("#state-visitors")
    assert "may not be driven on any Colorado roadway until 2028-01-01" in visitors


def test_no_change_note_when_nothing_is_due(phone):
    phone.clock.set_system_time("2026-12-02T12:00:00Z")  # 2028-01-01 is 395 days away
    denver = (39.7392, -104.9903)
    open_drive_at(phone, denver)
    feed(phone, [north_of(denver, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='CO']")
    phone.wait_for_selector("#state-visitors")
    assert phone.locator("#rule-change-note").count() == 0


def test_badge_comes_once_the_state_lines_load_after_failing(phone):
    """A weak signal fails a fetch now and then: the state lines are asked for again (the
    badge used to stay blank until a reload)."""
    refused = []

    def refuse_twice(route):
        if len(refused) < 2:
            refused.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    phone.context.route("**/data/us_states_light.geojson*", refuse_twice)
    austin = (30.2672, -97.7431)
    open_drive_at(phone, austin)
    feed(phone, [north_of(austin, 10 * i) for i in range(3)])
    phone.wait_for_selector("#state-badge[data-state='TX']", timeout=15_000)
    assert len(refused) == 2
