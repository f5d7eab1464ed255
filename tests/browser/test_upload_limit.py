"""Reflex's ``/_upload`` (the trips page's GPX import) refuses oversized bodies while they
arrive, with the server's memory measured (security probe M1a: a 1 GB upload was read
whole into RAM, +1 GB peak)."""

from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path

from tests.browser.app_server import AppServer
from tests.support.trips_pages import drop_file_js, long_log_gpx, synthetic_gpx

SENT_MB = 300
CHUNK = 1024 * 1024


def server_peaks(server: AppServer) -> dict[int, int]:
    """Peak resident memory (VmHWM, kB) of every process of the running server."""
    group = os.getpgid(server.process.pid)
    peaks = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != group:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[int(proc.name)] = int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return peaks


def upload_headers(phone) -> dict[str, str]:
    """The headers the page's own GPX import sends (client token and handler name)."""
    captured = {}

    def remember(request):
        if request.url.endswith("/_upload") and request.method == "POST":
            captured.update(request.headers)

    phone.on("request", remember)
    phone.goto("/trips")
    phone.wait_for_selector("text=Import GPX")
    phone.set_input_files(
        "#gpx-upload input[type=file]",
        [{"name": "tiny.gpx", "mimeType": "application/gpx+xml", "buffer": b"<gpx></gpx>"}],
    )
    phone.wait_for_selector("#import-errors")
    return {k: v for k, v in captured.items() if k.startswith("reflex-")}


def stream_upload(port: int, headers: dict[str, str], megabytes: int) -> tuple[bytes, int]:
    """POST a chunked multipart body of ``megabytes`` MB; stop as soon as the server
    answers. Returns (the start of the answer, bytes sent)."""
    boundary = "kdboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        'filename="huge.gpx"\r\nContent-Type: application/gpx+xml\r\n\r\n'
    ).encode()
    lines = [
        "POST /_upload HTTP/1.1",
        f"Host: localhost:{port}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        "Transfer-Encoding: chunked",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    answer = b""
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        pieces = [head] + [b"x" * CHUNK] * megabytes
        for piece in pieces:
            ready, _, _ = select.select([sock], [], [], 0)
            if ready:
                break
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        else:
            sock.sendall(b"0\r\n\r\n")
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return answer, sent


def test_oversized_streaming_upload_is_cut_off_with_memory_measured(phone, app_server):
    headers = upload_headers(phone)
    assert "reflex-event-handler" in headers, headers
    before = server_peaks(app_server)
    answer, sent = stream_upload(app_server.port, headers, SENT_MB)
    after = server_peaks(app_server)
    growth_mb = max(after.get(pid, 0) - kb for pid, kb in before.items()) / 1024
    print(f"sent {sent / 2**20:.0f} of {SENT_MB} MB; server peak memory grew {growth_mb:.0f} MB")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the upload is larger than 26 MB" in answer
    assert sent < 100 * CHUNK  # refused near the limit, not at the end
    assert growth_mb < 60  # the whole body would be >= 300 MB


def test_declared_oversized_upload_is_refused_before_reading(app_server):
    with socket.create_connection(("127.0.0.1", app_server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /_upload HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 1073741824\r\n\r\n"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_file_over_the_pages_limit_is_named_not_dropped_in_silence(phone, tmp_path):
    """The drop zone refuses a file over the limit before sending it: the 500k-fix, 55 MB
    GPX of issue 11 did nothing at all on /trips (no request, no message)."""
    from kei_drive import config

    big = tmp_path / "year.gpx"
    with big.open("wb") as out:
        out.truncate(config.MAX_GPX_BYTES + 1)
    phone.goto("/trips")
    phone.wait_for_selector("text=Import GPX")
    phone.set_input_files("#gpx-upload input[type=file]", str(big))
    errors = phone.wait_for_selector("#import-errors").inner_text()
    assert "year.gpx: larger than the 25 MB" in errors and "./" not in errors, errors
    assert "kei-drive trips import" in errors
    # the Plan page's route check likewise
    phone.goto("/plan")
    phone.wait_for_selector("#gpx input[type=file]", state="attached")
    phone.set_input_files("#gpx input[type=file]", str(big))
    error = phone.wait_for_selector("#plan-error").inner_text()
    assert "year.gpx" in error and "kei-drive check-route" in error, error


def test_one_drop_of_a_good_and_an_oversized_file_says_both_then_the_next_drop_replaces_it(
    phone, tmp_path
):
    """react-dropzone hands a drop to the upload (over HTTP) and its refusals (by socket): in
    whichever order they reached the server, the later cleared the other's lines (the
    refusal vanished in 1 of 3 drops in a loop of a refused-only drop)."""
    from kei_drive import config

    big, good, other = tmp_path / "year.gpx", tmp_path / "errand.gpx", tmp_path / "next.gpx"
    with big.open("wb") as out:
        out.truncate(config.MAX_GPX_BYTES + 1)
    # tracks of their own: the server is shared with tests importing synthetic_gpx()
    good.write_bytes(synthetic_gpx(east_m=2_300, name="Errand"))
    other.write_bytes(synthetic_gpx(east_m=2_800, name="Next errand"))
    phone.goto("/trips")
    phone.wait_for_selector("text=Import GPX")
    phone.set_input_files("#gpx-upload input[type=file]", [str(good), str(big)])
    ok = phone.wait_for_selector("#import-ok").inner_text()
    assert "errand.gpx" in ok and "Errand" in ok, ok
    errors = phone.wait_for_selector("#import-errors").inner_text()
    assert "year.gpx: larger than the 25 MB" in errors, errors
    phone.set_input_files("#gpx-upload input[type=file]", str(other))
    phone.wait_for_selector("#import-ok >> text=next.gpx")
    phone.wait_for_selector("#import-errors", state="detached")
    assert "errand.gpx" not in phone.locator("#import-ok").inner_text()


def test_while_a_file_imports_the_page_says_a_file_dropped_then_is_not_read(phone, tmp_path):
    """Reflex's upload helper ignores a second drop while an upload runs (a console line
    only): the page says so for as long as the import runs, and not after. A file refused
    meanwhile is named beside the import's results (its refusal, read after the import,
    replaced them)."""
    from kei_drive import config

    big = tmp_path / "huge.gpx"
    with big.open("wb") as out:
        out.truncate(config.MAX_GPX_BYTES + 1)
    phone.goto("/trips")
    phone.wait_for_selector("text=Import GPX")
    phone.set_input_files(
        "#gpx-upload input[type=file]",
        [{"name": "long.gpx", "mimeType": "application/gpx+xml", "buffer": long_log_gpx(60_000)}],
    )
    busy = phone.wait_for_selector("#import-busy").inner_text()
    assert "not read" in busy and "drop it again" in busy, busy
    assert phone.locator(".kd-btn-import").is_disabled()
    # a drop meanwhile is taken by the page (not opened by the browser in place of the app)
    assert phone.evaluate(drop_file_js("#gpx-upload", "second.gpx")) is True
    phone.set_input_files("#gpx-upload input[type=file]", str(big))
    ok = phone.wait_for_selector("#import-ok", timeout=120_000).inner_text()
    assert phone.locator("#import-busy").count() == 0
    assert "long.gpx" in ok, ok
    errors = phone.wait_for_selector("#import-errors").inner_text()
    assert "huge.gpx: larger than the 25 MB" in errors, errors
    assert "long.gpx" in phone.inner_text("#import-ok")  # still said
