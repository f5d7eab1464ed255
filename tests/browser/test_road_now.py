"""The road the truck is on, on the Drive screen (issue #13 point 4): emulated positions on
the synthetic PA network (tests/support/osm_synth.py) with its tiles installed on the app
server; the recorder's batches bring back the road (kei_drive/services/road.py)."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import feed
from tests.support.osm_synth import write_network

# Stubs that record what the phone says and how it vibrates.
VOICE_AND_VIBRATION = """
(() => {
  window.__spoken = [];
  window.__vibrations = 0;
  const synth = window.speechSynthesis || {};
  synth.speak = (utterance) => window.__spoken.push(utterance.text);
  synth.cancel = () => {};
  if (!window.speechSynthesis) Object.defineProperty(window, "speechSynthesis", { value: synth });
  if (typeof window.SpeechSynthesisUtterance === "undefined") {
    window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  }
  navigator.vibrate = () => { window.__vibrations += 1; return true; };
})();
"""


def line(start: tuple[float, float], end: tuple[float, float], count: int) -> list:
    return [
        (
            start[0] + (end[0] - start[0]) * i / (count - 1),
            start[1] + (end[1] - start[1]) * i / (count - 1),
        )
        for i in range(count)
    ]


# One fix a second at ~15 m/s (0.00018° of longitude, 0.000135° of latitude at 42° N).
# East along 1 Street (untagged residential), then onto the unnamed motorway link that
# starts at -77.0100 and joins I 99 at -77.0000.
ALONG_1_STREET = line((41.9500, -77.0160), (41.9500, -77.01004), 34)
ON_RAMP = line((41.9500, -77.00986), (41.9500, -77.0062), 21)
ALONG_EAST_STREET = line((41.9510, -76.9900), (41.9686, -76.9900), 131)  # tagged 25 mph


@pytest.fixture(scope="module")
def road_server(app_server, tmp_path_factory):
    """The app server with the synthetic tiles in its KEI_DRIVE_HOME/tiles (as the Plan
    tests do: the same network, built once for both)."""
    from kei_drive.routing.tiles import build_tiles, has_tiles

    tiles = app_server.home / "tiles"
    if not has_tiles(tiles):
        build_tiles(write_network(tmp_path_factory.mktemp("road-osm") / "synth.osm.pbf"), tiles)
    return app_server


def start_trip_at(phone, position: tuple[float, float]) -> None:
    phone.context.add_init_script(VOICE_AND_VIBRATION)
    lat, lon = position
    phone.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 6})
    phone.goto("/")
    phone.click("#trip-start")
    phone.wait_for_selector("#trip-stop")


def road_now(phone) -> str:
    return phone.inner_text("#road-now").strip()


def watch_answers(phone) -> list:
    """The ``road`` of every batch answer the page receives (for failure messages)."""
    answers: list = []

    def keep(response) -> None:
        if response.url.endswith("/points") and response.request.method == "POST":
            try:
                answers.append(response.json().get("road"))
            except Exception as exc:  # noqa: BLE001  (a diagnostic only)
                answers.append(f"{response.status}: {exc}")

    phone.on("response", keep)
    return answers


def feed_until(phone, positions, condition: str, *, stop: bool = True) -> bool:
    """Feed fixes one a second until ``condition`` (JS) holds (or, ``stop=False``, all of
    them, so the drive goes on without a jump); True if it held."""
    held = False
    for position in positions:
        feed(phone, [position], accuracy=6)
        held = held or phone.evaluate(condition)
        if held and stop:
            return True
    return held or phone.evaluate(condition)


def test_onto_a_motorway_ramp_the_alert_shows_within_one_batch(road_server, phone, artifacts_dir):
    answers = watch_answers(phone)
    start_trip_at(phone, ALONG_1_STREET[0])
    assert road_now(phone) == "road unknown"  # no answer yet: never a guess
    # On 1 Street the batches (every 3 s) bring the road back; the first check also loads
    # the engine, which may take longer than a batch waits, so give it the whole street.
    named = "document.querySelector('#road-now')?.innerText.includes('1 Street')"
    assert feed_until(phone, ALONG_1_STREET, named, stop=False), answers
    assert road_now(phone) == "1 Street · residential"
    assert not phone.is_visible("#road-alert")
    assert not phone.is_visible("#posted-limit")  # the grid has no maxspeed: no sign

    # Onto the ramp: three fixes (one batch) and the next answer must carry the alert.
    feed(phone, ON_RAMP[:3], accuracy=6)
    fed_at = time.monotonic()
    try:
        phone.wait_for_selector("#road-alert", state="visible", timeout=8_000)
    except Exception:
        pytest.fail(f"no alert; answers: {answers}")
    took = time.monotonic() - fed_at
    assert took < 8.0
    assert "Motorway ramp" in phone.inner_text("#road-alert")
    assert road_now(phone) == "I 99 ramp · motorway ramp"
    assert phone.get_attribute("#road-now", "data-class") == "motorway_link"
    phone.screenshot(path=str(artifacts_dir / "drive-road-ramp-alert.png"))
    spoken = phone.evaluate("window.__spoken")
    assert spoken == ["Motorway ramp. Not for Kei. Turn off if you can."], spoken
    assert phone.evaluate("window.__vibrations") >= 1

    # The server out of reach: the next batch fails and the road is unknown at once.
    phone.context.set_offline(True)
    try:
        unknown = "document.querySelector('#road-now')?.innerText.trim() === 'road unknown'"
        assert feed_until(phone, ON_RAMP[3:], unknown), answers
        assert phone.get_attribute("#road-now", "data-reason") == "no_connection"
        assert not phone.is_visible("#road-alert")
        phone.screenshot(path=str(artifacts_dir / "drive-road-unknown-offline.png"))
    finally:
        phone.context.set_offline(False)
    phone.click("#trip-stop")
    assert not phone.errors, phone.errors


def test_a_residential_road_shows_its_posted_limit(road_server, phone, artifacts_dir):
    answers = watch_answers(phone)
    start_trip_at(phone, ALONG_EAST_STREET[0])
    named = "document.querySelector('#road-now')?.innerText.includes('East Street')"
    assert feed_until(phone, ALONG_EAST_STREET, named), answers
    assert road_now(phone) == "East Street · residential"
    assert phone.is_visible("#posted-limit")
    assert phone.get_attribute("#posted-limit", "data-limit") == "25"
    assert "25" in phone.inner_text("#posted-limit")
    assert "SPEED LIMIT" in phone.inner_text("#posted-limit").upper()
    assert not phone.is_visible("#road-alert")  # 25 mph, no cap in PA: nothing to warn of
    phone.screenshot(path=str(artifacts_dir / "drive-road-posted-limit.png"))
    assert phone.evaluate("window.__spoken") == []
    phone.click("#trip-stop")
    assert not phone.errors, phone.errors
