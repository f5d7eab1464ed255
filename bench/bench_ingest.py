"""Load benchmark: 100 background loggers posting to the ingest endpoints on loopback.

    .venv/bin/pytest bench/bench_ingest.py --benchmark-only -s

The API runs in a real server (granian, one worker, a temp SQLite file) on 127.0.0.1. Each
simulated device drives at 15 m/s, one fix per second of its own clock (starting 6 h ago),
and posts the way its app does: OwnTracks one message per request, Overland batches of
``OVERLAND_BATCH`` fixes, GPSLogger one fix per GET.

Two phases of ``KEI_DRIVE_BENCH_INGEST_S`` seconds each (default 60): *paced*, every device
posting every ``KEI_DRIVE_BENCH_PACE_S`` seconds (default 10, start times spread: a fleet of
phones on the road; the p99 latency a phone sees), then *flat out*, every device sending
its next request as soon as the previous one is answered (phones flushing backlogs: the
server's throughput; latency is then queueing, by Little's law about devices / throughput).
Bounded in time and by ``MAX_REQUESTS_PER_DEVICE``. Prints requests/s, fixes/s and p50/p99
latency per protocol; asserts only that the run stored fixes and made trips.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from kei_drive.db import accounts as acc
from kei_drive.db import migrate, session
from kei_drive.db.models import DeviceFix, Trip
from tests.support.ingest_payloads import gpslogger_params, overland_feature, owntracks_message

DEVICES = int(os.environ.get("KEI_DRIVE_BENCH_DEVICES", "100"))
DURATION_S = float(os.environ.get("KEI_DRIVE_BENCH_INGEST_S", "60"))
PACE_S = float(os.environ.get("KEI_DRIVE_BENCH_PACE_S", "10"))
MAX_REQUESTS_PER_DEVICE = 5_000
OVERLAND_BATCH = 100
PROTOCOLS = ("owntracks", "overland", "gpslogger")
M_PER_DEG = 111_195.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(db_url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": db_url, "KEI_DRIVE_INGEST_SWEEP_S": "0"}
    env.pop("KEI_DRIVE_SINGLE_USER", None)
    granian = Path(sys.executable).with_name("granian")
    proc = subprocess.Popen(
        [str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "kei_drive.api:api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),  # a file, not a pipe: a full pipe would stall the server
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


class Device:
    def __init__(self, index: int, token: str, start_ms: int) -> None:
        self.protocol = PROTOCOLS[index % len(PROTOCOLS)]
        self.token = token
        self.t_ms = start_ms
        self.lat, self.lon = 35.0 + index * 0.01, -100.0 + (index % 7) * 0.01
        self.latencies: list[float] = []
        self.fixes = 0
        self.errors = 0

    def _next(self) -> tuple[int, float, float]:
        self.t_ms += 1000
        self.lat += 15.0 / M_PER_DEG
        return self.t_ms, self.lat, self.lon

    async def send(self, client: httpx.AsyncClient) -> None:
        if self.protocol == "owntracks":
            t, lat, lon = self._next()
            n, request = (
                1,
                client.post(
                    "/api/v1/ingest/owntracks",
                    json=owntracks_message(t, lat, lon, 15.0),
                    auth=("driver", self.token),
                ),
            )
        elif self.protocol == "overland":
            body = {"locations": [overland_feature(*self._next(), 15.0)
                                  for _ in range(OVERLAND_BATCH)]}  # fmt: skip
            n, request = (
                OVERLAND_BATCH,
                client.post(
                    "/api/v1/ingest/overland",
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}"},
                ),
            )
        else:
            t, lat, lon = self._next()
            params = gpslogger_params(t, lat, lon, 15.0) | {"token": self.token}
            n, request = 1, client.get("/api/v1/ingest/gpslogger", params=params)
        started = time.perf_counter()
        response = await request
        self.latencies.append(time.perf_counter() - started)
        if response.status_code == 200:
            self.fixes += n
        else:
            self.errors += 1


async def _drive(device: Device, base_url: str, until: float, pace_s: float, delay: float) -> None:
    """Post until ``until``: every ``pace_s`` seconds (after ``delay``), or back to back."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0) as client:
        next_at = time.monotonic() + delay
        for _ in range(MAX_REQUESTS_PER_DEVICE):
            if pace_s:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += pace_s
            if time.monotonic() >= until:
                return
            await device.send(client)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _phase(devices: list[Device], port: int, pace_s: float) -> float:
    for device in devices:
        device.latencies, device.fixes, device.errors = [], 0, 0
    t0 = time.monotonic()
    until = t0 + DURATION_S

    async def everyone() -> None:
        base = f"http://127.0.0.1:{port}"
        await asyncio.gather(
            *(_drive(d, base, until, pace_s, pace_s * i / len(devices))
              for i, d in enumerate(devices))
        )  # fmt: skip

    asyncio.run(everyone())
    return time.monotonic() - t0


def _print_phase(title: str, devices: list[Device], elapsed: float) -> int:
    print(f"\n{title}: {len(devices)} devices, {elapsed:.1f} s (granian, 1 worker, SQLite)")
    total_fixes = 0
    for protocol in PROTOCOLS:
        mine = [d for d in devices if d.protocol == protocol]
        lat = [x for d in mine for x in d.latencies]
        fixes = sum(d.fixes for d in mine)
        errors = sum(d.errors for d in mine)
        total_fixes += fixes
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        print(
            f"  {protocol:9s} {len(mine):3d} devices  {len(lat) / elapsed:7.1f} req/s  "
            f"{fixes / elapsed:8.1f} fixes/s  p50 {p50:7.1f} ms  "
            f"p99 {_percentile(lat, 0.99) * 1000:7.1f} ms  errors {errors}"
        )
    all_lat = [x for d in devices for x in d.latencies]
    print(
        f"  all       {len(devices):3d} devices  {len(all_lat) / elapsed:7.1f} req/s  "
        f"{total_fixes / elapsed:8.1f} fixes/s  p99 {_percentile(all_lat, 0.99) * 1000:7.1f} ms"
    )
    return total_fixes


def run_load(db_url: str, tokens: list[str], log_path: Path) -> dict:
    port = _free_port()
    server = _start_server(db_url, port, log_path)
    start_ms = int(time.time() * 1000) - 6 * 3600 * 1000
    devices = [Device(i, token, start_ms) for i, token in enumerate(tokens)]
    try:
        paced = _print_phase(
            f"paced, a post every {PACE_S:g} s per device", devices, _phase(devices, port, PACE_S)
        )
        flat = _print_phase("flat out", devices, _phase(devices, port, 0.0))
    finally:
        server.terminate()
        server.wait(timeout=15)
    return {"fixes": paced + flat}


@pytest.fixture
def load_db(tmp_path) -> tuple[str, list[str]]:
    url = f"sqlite:///{tmp_path / 'bench_ingest.db'}"
    migrate(url)
    with session(url) as s:
        user = acc.create_account(s, "driver", "a long bench password")
        tokens = [acc.create_token(s, user.id, f"logger {i}", "ingest")[0] for i in range(DEVICES)]
    return url, tokens


def test_ingest_load(benchmark, load_db):
    url, tokens = load_db
    log_path = Path(url.removeprefix("sqlite:///")).with_name("server.log")
    report = benchmark.pedantic(run_load, args=(url, tokens, log_path), rounds=1, iterations=1)
    with session(url) as s:
        stored = s.exec(select(func.count()).select_from(DeviceFix)).one()
        trips = s.exec(select(func.count()).select_from(Trip)).one()
    print(f"  stored {stored} fixes in {trips} trips")
    assert stored > 0 and trips > 0 and report["fixes"] >= stored * 0.9
