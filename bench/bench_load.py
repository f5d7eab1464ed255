"""Load benchmark (issue 12, point 5): phones keep uploading while others export and a big
GPX import runs. Prints figures; it asserts nothing about speed.

    .venv/bin/pytest bench/bench_load.py --benchmark-only -s
    .venv/bin/python -m bench.bench_load --phones 100 --exporters 10 --import-points 500000

The server is granian on 127.0.0.1 running the API behind the HTTP guard, as ``kei-drive
serve`` runs them (the Reflex pages and websocket are not loaded), with ``--workers``
workers (default 1: what ``serve`` runs without Redis). The database is a fresh SQLite
file. Every client signs in with its own session cookie, as the Drive screen does.

Phones behave like ``assets/kei/recorder.js`` and post their fixes every ``--sync-s``
seconds (default 1: each fix as it comes, 100 phones = 100 POST/s; the recorder itself
batches every 3 s). Exporters loop on the GPX export of a ``--export-points`` trip. The
import is the CLI (``kei-drive trips import``) in its own process, as in the security
probe. Target: upload p99 < 200 ms in the loaded phase.

Wall-clock latencies depend on what else the machine runs, so the benchmark also prints
the server's CPU time per POST in the phones-alone phase (user + system time of the
server's processes from ``/proc``, divided by the POSTs answered): the cost of one upload,
which stays comparable on a busy machine. Everything is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
MAX_LOADED_S = 300.0  # the loaded phase ends with the import (or --loaded-s), or after this long
PASSWORD = "bench load password"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
    cpu_s: float = 0.0  # the server's processes, during the phase
    client_cpu_s: float = 0.0  # this process (the simulated phones and exporters)
    server_ms: list[float] = field(default_factory=list)  # inside the app, per POST

    def percentile(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    def report(self) -> str:
        span = max(1e-9, self.ended - self.started)
        posts = len(self.latencies_ms)
        worst = max(self.latencies_ms, default=float("nan"))
        inside = sorted(self.server_ms)
        statuses = dict(sorted(self.statuses.items()))
        pick = lambda q: inside[min(len(inside) - 1, int(q * len(inside)))] if inside else 0.0  # noqa: E731
        return (
            f"{self.name}: {span:.0f} s, {posts} POSTs ({posts / span:.1f}/s), "
            f"{self.fixes_acked / span:.1f} fixes/s, statuses {statuses}, "
            f"exports {self.exports} ({self.export_bytes / 1e6:.0f} MB)\n"
            f"    phone-side latency  p50 {self.percentile(0.5):7.1f}"
            f"  p95 {self.percentile(0.95):7.1f}  p99 {self.percentile(0.99):7.1f}"
            f"  max {worst:7.1f} ms\n"
            f"    server-side (app)   p50 {pick(0.5):7.1f}"
            f"  p95 {pick(0.95):7.1f}  p99 {pick(0.99):7.1f}"
            f"  max {max(inside, default=0.0):7.1f} ms\n"
            f"    server CPU {self.cpu_s:.1f} s = {1000 * self.cpu_s / max(1, posts):.2f} ms/POST; "
            f"bench client CPU {self.client_cpu_s:.1f} s = "
            f"{1000 * self.client_cpu_s / max(1, posts):.2f} ms/POST"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of ``root`` and its live descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


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


def seed(url: str, cookies: int, export_points: int) -> tuple[list[str], str]:
    """An account with ``cookies`` signed-in sessions, and a trip to export."""
    from kei_drive.db import accounts as acc
    from kei_drive.db import migrate, session
    from kei_drive.db import queries as q

    migrate(url)
    with session(url) as s:
        user = acc.create_account(s, "bench", PASSWORD)
        values = [acc.start_session(s, user, "bench", "127.0.0.1") for _ in range(cookies)]
        trip = str(uuid.uuid4())
        row, _ = q.ensure_trip(s, trip, name="Export me", user_id=user.id)
        q.add_points(
            s,
            row,
            [
                q.PointIn(f"e{i}", T0_MS + i * 1000, 39.0 + i * 1e-5, -76.6, 5.0, 12.0, 90.0, 30.0)
                for i in range(export_points)
            ],
        )
    return values, trip


class PostTimer:
    """Bench-only ASGI wrapper: how long the app takes for each points POST (from the
    request reaching Python to the last byte of the answer). ``GET /bench/post-ms`` hands
    the figures over and starts afresh. The phones' own figures also hold time spent
    waiting for a CPU in this process and theirs, which a busy machine makes long."""

    def __init__(self, app) -> None:
        self.app = app
        self.ms: list[float] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/bench/post-ms":
            body, self.ms = json.dumps(self.ms).encode(), []
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or not scope["path"].endswith("/points"):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.ms.append((time.perf_counter() - began) * 1000)


def guarded_api():
    """The granian target: the API behind the HTTP guard, as ``serve`` runs it."""
    from kei_drive.api import api
    from kei_drive.server.http_guard import GuardSettings, HttpGuard

    return PostTimer(HttpGuard(api, GuardSettings.from_env()))


def start_server(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    from kei_drive.server.http_guard import SETTINGS_ENV, GuardSettings

    env = dict(env, **{SETTINGS_ENV: GuardSettings.create([], port, https=False).to_env()})
    granian = Path(sys.executable).parent / "granian"
    command = [str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--factory"]
    command += ["bench.bench_load:guarded_api"]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/rules/order", timeout=2).is_success:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(process.pid, 9)
    raise RuntimeError("the API server did not start")


class Connection:
    """A phone's keep-alive HTTP/1.1 connection, written by hand: httpx spent as much CPU
    per request as the server (3.7 ms), and on a shared 2-core machine the simulated
    phones then measured their own queue rather than the server."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = json.dumps(body).encode()
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Cookie: kei_session={self.cookie}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")  # type: ignore[union-attr]
            lines = head.decode("latin-1").split("\r\n")
            fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
            raw = await self.reader.readexactly(int(fields.get("content-length", 0)))  # type: ignore[union-attr]
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if fields.get("connection") == "close":
            self.close()
        return int(lines[0].split()[1]), json.loads(raw) if raw else {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def phone(
    port: int, cookie: str, sync_s: float, stop: asyncio.Event, phases: dict, sent: dict
) -> None:
    conn = Connection(port, cookie)
    trip = str(uuid.uuid4())
    started = int(time.time() * 1000) - 5000
    await conn.request("PUT", f"/api/v1/trips/{trip}", {"started_at": started})
    await asyncio.sleep(random.uniform(0, sync_s))
    per_post = max(1, round(sync_s))  # one fix a second
    n = 0
    while not stop.is_set():
        now = int(time.time() * 1000)
        points = [
            {
                "id": f"{trip}:{n + k}",
                "t": now - (per_post - 1 - k) * 1000,
                "lat": 39.29 + (n + k) * 1e-5,
                "lon": -76.61,
                "acc": 5.0,
                "speed": 12.5,
            }
            for k in range(per_post)
        ]
        phase = phases["current"]
        began = time.perf_counter()
        try:
            status, answer = await conn.request(
                "POST", f"/api/v1/trips/{trip}/points", {"points": points, "sent_at": now}
            )
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, answer = 0, {}
        phase.latencies_ms.append((time.perf_counter() - began) * 1000)
        phase.statuses[status] = phase.statuses.get(status, 0) + 1
        if status == 200:
            phase.fixes_acked += answer["accepted"] + answer["duplicates"]
            sent[trip] = sent.get(trip, 0) + per_post
            n += per_post
        await asyncio.sleep(max(0.0, sync_s - (time.perf_counter() - began)))
    conn.close()


async def exporter(
    client: httpx.AsyncClient, cookie: str, trip: str, stop: asyncio.Event, phases: dict
) -> None:
    headers = {"Cookie": f"kei_session={cookie}"}
    while not stop.is_set():
        async with client.stream("GET", f"/api/v1/trips/{trip}/export.gpx", headers=headers) as r:
            async for chunk in r.aiter_bytes():
                phases["current"].export_bytes += len(chunk)
        phases["current"].exports += 1


async def run_load(args, port: int, server_pid: int, cookies: list[str], export_trip: str,
                   importer):  # fmt: skip
    phases = {"current": Phase(f"{args.phones} phones alone")}
    stop_phones, stop_exports = asyncio.Event(), asyncio.Event()
    sent: dict[str, int] = {}
    limits = httpx.Limits(max_connections=args.phones + args.exporters + 10)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:
        tasks = [
            asyncio.create_task(phone(port, cookies[i], args.sync_s, stop_phones, phases, sent))
            for i in range(args.phones)
        ]
        await asyncio.sleep(args.sync_s + 1)  # every phone has made its trip and started
        baseline = phases["current"] = Phase(f"{args.phones} phones alone")
        await client.get("/bench/post-ms")  # start afresh
        baseline.started, cpu = time.monotonic(), tree_cpu_s(server_pid)
        mine = time.process_time()
        await asyncio.sleep(args.warm_s)
        baseline.ended, baseline.cpu_s = time.monotonic(), tree_cpu_s(server_pid) - cpu
        baseline.client_cpu_s = time.process_time() - mine
        baseline.server_ms = (await client.get("/bench/post-ms")).json()
        if args.skip_loaded:
            stop_phones.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            return baseline, None, 0.0, None, sent, {}
        loaded = phases["current"] = Phase(f"+ {args.exporters} exporters + import")
        loaded.started, cpu = time.monotonic(), tree_cpu_s(server_pid)
        mine = time.process_time()
        tasks += [
            asyncio.create_task(
                exporter(client, cookies[args.phones + i], export_trip, stop_exports, phases)
            )
            for i in range(args.exporters)
        ]
        process, import_began = importer(), time.monotonic()
        while time.monotonic() - loaded.started < MAX_LOADED_S and (
            process.poll() is None or time.monotonic() - loaded.started < args.loaded_s
        ):
            await asyncio.sleep(0.5)
        import_s = time.monotonic() - import_began
        if process.poll() is None:
            process.kill()
            process.wait()
        loaded.ended, loaded.cpu_s = time.monotonic(), tree_cpu_s(server_pid) - cpu
        loaded.client_cpu_s = time.process_time() - mine
        loaded.server_ms = (await client.get("/bench/post-ms")).json()
        stop_phones.set()
        stop_exports.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        stored = {}
        headers = {"Cookie": f"kei_session={cookies[0]}"}
        for trip in list(sent)[:20]:  # spot-check acked == stored
            reply = await client.get(f"/api/v1/trips/{trip}", headers=headers)
            stored[trip] = reply.json()["point_count"]
    return baseline, loaded, import_s, process.returncode, sent, stored


def main(args: argparse.Namespace) -> tuple[Phase, Phase | None]:
    work = Path(tempfile.mkdtemp(prefix="kei-bench-load-"))
    url = f"sqlite:///{work / 'kei_drive.db'}"
    env = dict(os.environ, DATABASE_URL=url, KEI_DRIVE_HOME=str(work))
    env.pop("KEI_DRIVE_SINGLE_USER", None)
    os.environ.update(DATABASE_URL=url, KEI_DRIVE_HOME=str(work))
    gpx = work / "big.gpx"
    if not args.skip_loaded and args.import_points:
        began = time.monotonic()
        write_gpx(gpx, args.import_points)
        size_mb = gpx.stat().st_size / 1e6
        print(
            f"\nwrote a {args.import_points:,}-fix GPX ({size_mb:.0f} MB), "
            f"{time.monotonic() - began:.0f} s"
        )
    cookies, export_trip = seed(url, args.phones + args.exporters, args.export_points)
    port = free_port()
    server = start_server(port, args.workers, env)
    import_log = (work / "import.log").open("w")

    def importer() -> subprocess.Popen:
        command = [sys.executable, "-m", "kei_drive.cli", "trips", "import", str(gpx)]
        if not args.import_points:  # no import: the loaded phase is the exports alone
            command = [sys.executable, "-c", "pass"]
        return subprocess.Popen(command, env=env, stdout=import_log, stderr=subprocess.STDOUT)

    try:
        baseline, loaded, import_s, import_rc, sent, stored = asyncio.run(
            run_load(args, port, server.pid, cookies, export_trip, importer)
        )
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f}; server: {args.workers} granian worker(s); phones post every "
        f"{args.sync_s:g} s; export trip {args.export_points:,} fixes"
    )
    print(baseline.report())
    if loaded is None:
        return baseline, None
    print(loaded.report())
    print(f"import of {args.import_points:,} fixes: {import_s:.0f} s, exit code {import_rc}")
    if import_rc:
        print("import output:", (work / "import.log").read_text()[-2000:])
    mismatched = {t: (sent[t], n) for t, n in stored.items() if n != sent[t]}
    print(f"acked == stored for {len(stored) - len(mismatched)} of {len(stored)} phones checked")
    return baseline, loaded


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--sync-s", type=float, default=1.0, help="seconds between POSTs")
    parser.add_argument("--exporters", type=int, default=10)
    parser.add_argument("--export-points", type=int, default=20_000)
    parser.add_argument("--import-points", type=int, default=500_000)
    parser.add_argument("--warm-s", type=float, default=20.0, help="phones-alone phase")
    parser.add_argument(
        "--loaded-s", type=float, default=0.0, help="the loaded phase lasts at least this long"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--skip-loaded", action="store_true", help="the phones-alone phase only (CPU per POST)"
    )
    return parser.parse_args(argv)


def test_load_phones_exports_import(benchmark):
    benchmark.pedantic(main, args=(parse_args([]),), rounds=1, iterations=1)


if __name__ == "__main__":
    main(parse_args())
