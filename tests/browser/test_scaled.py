"""The "more users" configuration: PostgreSQL, Redis for Reflex's state, several workers.

Only configuration changes: the same app, started with DATABASE_URL, REDIS_URL and
GRANIAN_WORKERS. ``scripts/test.sh`` starts throwaway PostgreSQL and Redis servers on
127.0.0.1; without them this test is skipped (fails under CI=true).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
import redis

from kei_drive.db import queries as q
from kei_drive.db import session
from tests.browser.app_server import AppServer
from tests.browser.conftest import GPS_CLOCK_SCRIPT, START, feed, north_of
from tests.conftest import require_env


@pytest.fixture(scope="module")
def scaled_server(tmp_path_factory):
    redis_url = require_env("KEI_DRIVE_TEST_REDIS_URL", "redis")
    postgres_url = require_env("KEI_DRIVE_TEST_POSTGRES_URL", "postgresql")
    redis.Redis.from_url(redis_url).flushdb()
    env = {"REDIS_URL": redis_url, "DATABASE_URL": postgres_url, "GRANIAN_WORKERS": "2"}
    server = AppServer(
        tmp_path_factory.mktemp("scaled-home"), log_name="server-scaled.log", env=env
    )
    server.start()
    yield server
    server.stop()


def backend_workers(server: AppServer) -> int:
    """Backend worker processes the app server spawned below this server's process (the
    app runs in a process group of its own, so walk the parent links)."""
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,ppid=,args="], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(None, 2) for line in listing.strip().splitlines()]
    children: dict[str, list[tuple[str, str]]] = {}
    for pid, ppid, *args in rows:
        children.setdefault(ppid, []).append((pid, args[0] if args else ""))
    workers, pending = 0, [str(server.process.pid)]
    while pending:
        for pid, args in children.get(pending.pop(), []):
            # granian's workers are spawned (multiprocessing's spawn_main), not forked copies
            workers += "spawn_main" in args
            pending.append(pid)
    return workers


def wait_for_workers(server: AppServer, expected: int, timeout_s: float = 30) -> int:
    """The app answers before every worker is up: poll until ``expected`` are running."""
    deadline = time.monotonic() + timeout_s
    while (found := backend_workers(server)) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def test_several_workers_share_state_in_redis_and_data_in_postgres(browser, scaled_server):
    context = browser.new_context(
        base_url=scaled_server.url,
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
    )
    context.add_init_script(GPS_CLOCK_SCRIPT)  # fixes stamped as measured, as on a phone
    page = context.new_page()
    assert wait_for_workers(scaled_server, 2) == 2
    try:
        # A stateful page: the add-vehicle form is Reflex state handled by the workers.
        nickname = f"Carry {uuid.uuid4().hex[:6]}"
        page.goto("/garage")
        page.wait_for_selector("#vehicle-list[data-loaded='yes']", state="attached")
        if page.locator("#vehicle-form").count() == 0:
            page.click("#vehicle-add")
        page.fill("#vehicle-nickname", nickname)
        page.fill("#vehicle-year", "1995")
        page.fill("#vehicle-month", "1995-06")
        page.click("#vehicle-save")
        page.wait_for_selector(f"article.kd-vehicle[data-nickname='{nickname}']")

        keys = redis.Redis.from_url(os.environ["KEI_DRIVE_TEST_REDIS_URL"]).keys("*")
        assert keys, "Reflex kept no state in Redis"
        with session(scaled_server.database_url) as s:
            assert nickname in [v.nickname for v in q.list_vehicles(s)]

        # The recording API on the same workers writes to PostgreSQL.
        page.goto("/")
        page.click("#trip-start")
        # Four moving fixes, each away from the emulated start (an unchanged position may not
        # be delivered again); the parked fix at START may be recorded as well.
        feed(page, [north_of(START, 13.41 * i) for i in range(1, 5)])
        page.wait_for_function(
            "document.querySelector('#trip-status').dataset.pending === '0'", timeout=20_000
        )
        trip_uuid = page.evaluate("JSON.parse(localStorage.getItem('kei-drive.trip')).uuid")
        with session(scaled_server.database_url) as s:
            trip = q.get_trip(s, trip_uuid)
            assert q.count_points(s, trip.id) in (4, 5)
    finally:
        context.close()
    log = scaled_server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, scaled_server.tail()
