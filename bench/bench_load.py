"""Load benchmark (issue 12, point 5): phones keep uploading while others export and a big
GPX import runs. Prints figures; it asserts nothing about speed.

    .venv/bin/pytest bench/bench_load.py --benchmark-only -s
    .venv/bin/python -m bench.bench_load --phones 100 --exporters 10 --import-points 500000

The server is the API under granian, one worker, on 127.0.0.1 (the app's own server and
process model; the Reflex pages and websocket are not loaded). The database is a fresh
SQLite file. Phones behave like ``assets/kei/recorder.js``: one fix a second, sent every
3 s as a batch. Exporters loop on the GPX export of a 1,500-fix trip. The import is the
CLI (``kei-drive trips import``) in its own process, as in the security probe. Target:
upload p99 < 200 ms in the loaded phase. Everything is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

T0_MS = 1_714_834_800_000
SYNC_EVERY_S = 3.0  # recorder.js SYNC_EVERY_MS
MAX_LOADED_S = 300.0  # the loaded phase ends with the import, or after this long


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    fixes_acked: int = 0
    exports: int = 0
    export_bytes: int = 0
    started: float = 0.0
    ended: float = 0.0

    def report(self) -> str:
        lat = sorted(self.latencies_ms)
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
        span = max(1e-9, self.ended - self.started)
        worst = lat[-1] if lat else float("nan")
        return (
            f"{self.name:<30} {span:5.0f} s {len(lat):6d} POSTs "
            f"{self.fixes_acked / span:6.1f} fixes/s  p50 {pick(0.5):6.1f}  "
            f"p95 {pick(0.95):6.1f}  p99 {pick(0.99):7.1f}  max {worst:7.1f} ms  "
            f"statuses {dict(sorted(self.statuses.items()))}  "
            f"exports {self.exports} ({self.export_bytes / 1e6:.0f} MB)"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_gpx(path: Path, points: int) -> None:
    """One track of ``points`` fixes a second apart (one trip), written in pieces."""
    with path.open("w") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1">')
        out.write("<trk><name>Bench import</name><trkseg>\n")
        for start in range(0, points, 10_000):
            rows = []
            for i in range(start, min(points, start + 10_000)):
                t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0_MS / 1000 + i))
                lat = 35.0 + (i % 200_000) * 1e-4
                rows.append(f'<trkpt lat="{lat:.6f}" lon="-100.000000"><time>{t}</time></trkpt>\n')
            out.write("".join(rows))
        out.write("</trkseg></trk></gpx>\n")


def seed_export_trip(url: str) -> str:
    from kei_drive.db import migrate, session
    from kei_drive.db import queries as q

    migrate(url)
    trip = str(uuid.uuid4())
    with session(url) as s:
        row, _ = q.ensure_trip(s, trip, name="Export me")
        q.add_points(
            s,
            row,
            [
                q.PointIn(f"e{i}", T0_MS + i * 1000, 39.0 + i * 1e-4, -76.6, 5.0, 12.0, 90.0, 30.0)
                for i in range(1500)
            ],
        )
    return trip


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    granian = Path(sys.executable).parent / "granian"
    command = [str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--log-level", "warning", "kei_drive.api:api"]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/vehicles", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the API server did not start")


async def phone(client: httpx.AsyncClient, stop: asyncio.Event, phases: dict, sent: dict) -> None:
    trip = str(uuid.uuid4())
    await client.put(f"/api/v1/trips/{trip}", json={"started_at": int(time.time() * 1000) - 5000})
    await asyncio.sleep(random.uniform(0, SYNC_EVERY_S))
    n = 0
    while not stop.is_set():
        now = int(time.time() * 1000)
        points = [
            {
                "id": f"{trip}:{n + k}",
                "t": now - (2 - k) * 1000,
                "lat": 39.29 + (n + k) * 1e-5,
                "lon": -76.61,
            }
            for k in range(3)
        ]
        phase = phases["current"]
        began = time.perf_counter()
        try:
            reply = await client.post(
                f"/api/v1/trips/{trip}/points", json={"points": points, "sent_at": now}
            )
            status = reply.status_code
        except httpx.HTTPError:
            status = 0
        phase.latencies_ms.append((time.perf_counter() - began) * 1000)
        phase.statuses[status] = phase.statuses.get(status, 0) + 1
        if status == 200:
            phase.fixes_acked += reply.json()["accepted"] + reply.json()["duplicates"]
            sent[trip] = sent.get(trip, 0) + 3
            n += 3
        await asyncio.sleep(max(0.0, SYNC_EVERY_S - (time.perf_counter() - began)))


async def exporter(client: httpx.AsyncClient, trip: str, stop: asyncio.Event, phases: dict) -> None:
    while not stop.is_set():
        async with client.stream("GET", f"/api/v1/trips/{trip}/export.gpx") as reply:
            async for chunk in reply.aiter_bytes():
                phases["current"].export_bytes += len(chunk)
        phases["current"].exports += 1


async def run_load(
    port: int, phones: int, exporters: int, export_trip: str, importer, warm_s: float
):
    phases = {"current": Phase(f"{phones} phones alone")}
    stop_phones, stop_exports = asyncio.Event(), asyncio.Event()
    sent: dict[str, int] = {}
    limits = httpx.Limits(max_connections=phones + exporters + 10)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:
        tasks = [
            asyncio.create_task(phone(client, stop_phones, phases, sent)) for _ in range(phones)
        ]
        baseline = phases["current"]
        baseline.started = time.monotonic()
        await asyncio.sleep(warm_s)
        baseline.ended = time.monotonic()
        loaded = Phase(f"+ {exporters} exporters + import")
        loaded.started = time.monotonic()
        phases["current"] = loaded
        tasks += [
            asyncio.create_task(exporter(client, export_trip, stop_exports, phases))
            for _ in range(exporters)
        ]
        process, import_began = importer(), time.monotonic()
        while process.poll() is None and time.monotonic() - loaded.started < MAX_LOADED_S:
            await asyncio.sleep(0.5)
        import_s = time.monotonic() - import_began
        if process.poll() is None:
            process.kill()
        loaded.ended = time.monotonic()
        stop_phones.set()
        stop_exports.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        stored = {}
        for trip in list(sent)[:20]:  # spot-check acked == stored
            stored[trip] = (await client.get(f"/api/v1/trips/{trip}")).json()["point_count"]
    return baseline, loaded, import_s, process.returncode, sent, stored


def main(
    phones: int = 100, exporters: int = 10, import_points: int = 500_000, warm_s: float = 20.0
):
    work = Path(tempfile.mkdtemp(prefix="kei-bench-load-"))
    url = f"sqlite:///{work / 'kei_drive.db'}"
    env = dict(os.environ, DATABASE_URL=url, KEI_DRIVE_HOME=str(work), KEI_DRIVE_SINGLE_USER="1")
    os.environ.update(DATABASE_URL=url, KEI_DRIVE_HOME=str(work))
    gpx = work / "big.gpx"
    began = time.monotonic()
    write_gpx(gpx, import_points)
    size_mb = gpx.stat().st_size / 1e6
    print(
        f"\nwrote a {import_points:,}-fix GPX ({size_mb:.0f} MB), {time.monotonic() - began:.0f} s"
    )
    export_trip = seed_export_trip(url)
    port = free_port()
    server = start_server(port, env)
    import_log = (work / "import.log").open("w")

    def importer() -> subprocess.Popen:
        command = [sys.executable, "-m", "kei_drive.cli", "trips", "import", str(gpx)]
        return subprocess.Popen(command, env=env, stdout=import_log, stderr=subprocess.STDOUT)

    try:
        baseline, loaded, import_s, import_rc, sent, stored = asyncio.run(
            run_load(port, phones, exporters, export_trip, importer, warm_s)
        )
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(baseline.report())
    print(loaded.report())
    print(f"import of {import_points:,} fixes: {import_s:.0f} s, exit code {import_rc}")
    mismatched = {t: (sent[t], n) for t, n in stored.items() if n != sent[t]}
    print(f"acked == stored for {len(stored) - len(mismatched)} of {len(stored)} phones checked")
    return baseline, loaded


def test_load_phones_exports_import(benchmark):
    benchmark.pedantic(main, rounds=1, iterations=1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--exporters", type=int, default=10)
    parser.add_argument("--import-points", type=int, default=500_000)
    parser.add_argument("--warm-s", type=float, default=20.0)
    args = parser.parse_args()
    main(args.phones, args.exporters, args.import_points, args.warm_s)
