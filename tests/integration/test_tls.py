"""The self-signed certificate and the TLS terminator behind ``kei-drive serve --https``."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.request

import pytest
from cryptography import x509

from kei_drive.server import tls
from kei_drive.server.runner import free_port


@pytest.fixture
def plain_http_server():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from behind TLS"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_certificate_covers_names_and_addresses_and_is_reused(tmp_path):
    cert, key = tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1", "192.168.1.20"])
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "192.168.1.20",
    }
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    before = cert.read_bytes()
    tls.ensure_certificate(tmp_path, ["192.168.1.20", "localhost", "127.0.0.1"])
    assert cert.read_bytes() == before  # same hosts: kept
    tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1", "10.0.0.7"])
    assert cert.read_bytes() != before  # new LAN address: renewed


def test_tls_proxy_forwards_to_the_app(tmp_path, plain_http_server):
    cert, key = tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1"])
    port = free_port()
    proxy = tls.TlsProxy("127.0.0.1", port, plain_http_server, cert, key)
    proxy.start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=context) as reply:
            assert reply.read() == b"hello from behind TLS"
        with pytest.raises(urllib.error.URLError):  # an untrusting client refuses it
            urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=5)
    finally:
        proxy.stop()


def test_tls_proxy_port_in_use_is_a_clear_error(tmp_path, plain_http_server):
    cert, key = tls.ensure_certificate(tmp_path, ["localhost", "127.0.0.1"])
    with pytest.raises(OSError):
        tls.TlsProxy("127.0.0.1", plain_http_server, plain_http_server, cert, key).start()
