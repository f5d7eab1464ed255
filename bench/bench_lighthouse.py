"""Lighthouse 12 (mobile) on the Drive screen beside a bare Reflex page with just a number
(issue 13, point 10). Prints figures side by side; it asserts nothing about speed.

    .venv/bin/python -m bench.bench_lighthouse [--runs 3]

Both apps are built and served in production mode on 127.0.0.1 at the same time: the real
app through ``kei-drive serve --single-user`` (as the browser tests start it), and the bare
page, ``bench/lighthouse_bare`` (Reflex's defaults, one ``rx.text("42")``), through
``reflex run --env prod``. Lighthouse's default mobile settings (simulated Slow 4G, 4x CPU
slowdown, Moto G Power screen) run on Chromium (``CHROME_PATH``, default /usr/bin/chromium),
alternating the two pages, ``--runs`` times each; the table shows each figure's median.
Lighthouse comes from npm and is installed into ``bench/.node`` on the first run
(gitignored). Reports are kept in ``test-artifacts/lighthouse/``.

The machine is shared: simulated throttling multiplies the CPU time this machine took, so
a busy machine inflates TBT and LCP. The load average and Lighthouse's benchmark index are
printed with the figures; compare the two columns of one run, not runs of different days.
Figures measured are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / ".node"
LIGHTHOUSE = "lighthouse@12"
LIGHTHOUSE_CLI = NODE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
BARE_APP = ROOT / "bench" / "lighthouse_bare"
REPORTS = ROOT / "test-artifacts" / "lighthouse"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
BUILD_TIMEOUT_S = 300
LIGHTHOUSE_TIMEOUT_S = 180


def ensure_lighthouse() -> Path:
    """Install Lighthouse 12 from npm into bench/.node on the first run."""
    if not LIGHTHOUSE_CLI.exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm not found: install Node.js 20+ (Debian/Ubuntu: apt install nodejs npm)")
        print(f"Installing {LIGHTHOUSE} into {NODE_DIR} (first run only)…", flush=True)
        command = [npm, "install", "--prefix", str(NODE_DIR), "--no-save", "--no-audit"]
        subprocess.run([*command, "--no-fund", LIGHTHOUSE], check=True)
    return LIGHTHOUSE_CLI


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early; see {log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
            if reply.status == 200:
                return
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {BUILD_TIMEOUT_S} s; see {log}")


class BareServer:
    """``bench/lighthouse_bare`` under ``reflex run --env prod`` on 127.0.0.1."""

    def __init__(self):
        from tests.browser.app_server import free_port

        self.port = free_port()
        self.url = f"http://localhost:{self.port}/"
        self.log = REPORTS / "bare-server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from kei_drive.server import runner, toolchain

        # Built in bench/.node/bare (gitignored), whose .web is kept: later runs are warm.
        app_dir = NODE_DIR / "bare"
        shutil.copytree(
            BARE_APP, app_dir, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
        env = runner.reflex_environment(toolchain.ensure_bun(), None)
        command = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port"]
        command += ["--frontend-port", str(self.port), "--backend-host", "127.0.0.1"]
        self.process = subprocess.Popen(
            command, cwd=app_dir, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_until_up(self.url, self.process, self.log)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def lighthouse(cli: Path, url: str, report: Path) -> dict:
    """One Lighthouse mobile performance run; the figures this bench prints."""
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    command = ["node", str(cli), url, "--only-categories=performance", "--output=json"]
    command += [f"--output-path={report}", f"--chrome-flags={CHROME_FLAGS}", "--quiet"]
    for attempt in range(3):  # on a busy machine Lighthouse now and then loses its trace
        done = subprocess.run([*command, "--save-assets"], env=env, timeout=LIGHTHOUSE_TIMEOUT_S)
        if done.returncode == 0:
            break
        print(f"Lighthouse failed on {url} (attempt {attempt + 1}); trying again", flush=True)
    else:
        raise RuntimeError(f"Lighthouse failed three times on {url}")
    data = json.loads(report.read_text())
    trace = report.with_name(f"{report.stem}-0.trace.json")
    cpu_ms, cpu_tbt_ms = main_thread_cpu_after_fcp(json.loads(trace.read_text()))
    for asset in report.parent.glob(f"{report.stem}-0.*.json"):
        asset.unlink()  # traces are ~10 MB each
    audits = data["audits"]
    lcp_items = audits.get("largest-contentful-paint-element", {}).get("details", {})
    try:
        element = lcp_items["items"][0]["items"][0]["node"]["snippet"]
    except (KeyError, IndexError):
        element = "?"
    return {
        "score": data["categories"]["performance"]["score"],
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "si_s": audits["speed-index"]["numericValue"] / 1000,
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "requests": len(audits["network-requests"]["details"]["items"]),
        "benchmark_index": data["environment"]["benchmarkIndex"],
        "cpu_ms": cpu_ms,
        "cpu_tbt_ms": cpu_tbt_ms,
        "lcp_element": element[:70],
    }


def main_thread_cpu_after_fcp(trace: dict) -> tuple[float, float]:
    """The page's main-thread CPU time after its first contentful paint, and the TBT that
    work would give on an idle machine: Lighthouse's own TBT multiplies wall-clock task
    lengths, which on a busy shared machine are several times the CPU they took."""
    events = trace["traceEvents"]
    paints = [e for e in events if e.get("name") == "firstContentfulPaint"]
    if not paints:
        return float("nan"), float("nan")
    thread = (paints[-1]["pid"], paints[-1]["args"]["frame"])
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "ParseHTML" and e["args"].get("beginData", {}).get("frame") == thread[1]
    }
    after = paints[-1]["ts"]
    tasks = [
        e.get("tdur", 0) / 1000
        for e in events
        if e.get("name") == "RunTask" and (e["pid"], e["tid"]) in main and e["ts"] >= after
    ]
    return sum(tasks), sum(max(0.0, 4 * cpu - 50) for cpu in tasks)  # 4x: Lighthouse's slowdown


ROWS = (
    ("performance score", "score", "{:.2f}"),
    ("LCP (s)", "lcp_s", "{:.2f}"),
    ("FCP (s)", "fcp_s", "{:.2f}"),
    ("TBT (ms)", "tbt_ms", "{:.0f}"),
    ("Speed Index (s)", "si_s", "{:.2f}"),
    ("transfer (KiB)", "kib", "{:.0f}"),
    ("requests", "requests", "{:.0f}"),
    ("benchmark index", "benchmark_index", "{:.0f}"),
    ("CPU after FCP (ms)", "cpu_ms", "{:.0f}"),
    ("TBT from CPU (ms)", "cpu_tbt_ms", "{:.0f}"),
)


def print_table(results: dict[str, list[dict]]) -> None:
    names = list(results)
    print(f"\nMedian of {len(results[names[0]])} runs each (Lighthouse 12, mobile):")
    print(f"{'':<20}" + "".join(f"{name:>14}" for name in names))
    for label, key, fmt in ROWS:
        cells = [fmt.format(statistics.median(r[key] for r in results[n])) for n in names]
        print(f"{label:<20}" + "".join(f"{cell:>14}" for cell in cells))
    for name in names:
        print(f"LCP element, {name}: {results[name][-1]['lcp_element']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    args = parser.parse_args()
    cli = ensure_lighthouse()
    REPORTS.mkdir(parents=True, exist_ok=True)
    from tests.browser.app_server import AppServer

    with tempfile.TemporaryDirectory(prefix="kei-lighthouse-") as tmp:
        home = Path(tmp)
        drive = AppServer(home / "drive", log_name="lighthouse/drive-server.log")
        bare = BareServer()
        try:
            print("Building and starting the app and the bare page (production)…", flush=True)
            drive.start()
            bare.start()
            pages = {"Drive /": f"{drive.url}/", "bare page": bare.url}
            results: dict[str, list[dict]] = {name: [] for name in pages}
            print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
            for run in range(args.runs):
                for name, url in pages.items():
                    slug = "drive" if name.startswith("Drive") else "bare"
                    figures = lighthouse(cli, url, REPORTS / f"{slug}-{run}.json")
                    results[name].append(figures)
                    print(
                        f"run {run + 1} {name:<10} score {figures['score']:.2f}  "
                        f"LCP {figures['lcp_s']:.2f} s  {figures['kib']:.0f} KiB  "
                        f"load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
            print_table(results)
            print(f"load average after: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        finally:
            bare.stop()
            drive.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
