"""A slow link for browser tests: an HTTP proxy on 127.0.0.1 in front of the app that holds
the answers to chosen paths back, as a weak but working signal would."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers, and those this proxy rewrites itself (it sends whole bodies).
DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


class SlowLink:
    """``with SlowLink(app_url, slow=("/garage",), delay_s=6) as link: ... link.url``."""

    def __init__(self, upstream: str, *, slow: tuple[str, ...], delay_s: float):
        self.upstream = urlsplit(upstream)
        self.slow = slow
        self.delay_s = delay_s
        self.held: list[str] = []  # paths whose answers were held back
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SlowLink:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        link = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                upstream = http.client.HTTPConnection(
                    link.upstream.hostname, link.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in DROPPED}
                headers["Host"] = link.upstream.netloc
                upstream.request("GET", self.path, headers=headers)
                answer = upstream.getresponse()
                body = answer.read()
                upstream.close()
                if self.path.startswith(link.slow):
                    link.held.append(self.path)
                    time.sleep(link.delay_s)
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() == "location":
                        value = value.replace(f"http://{link.upstream.netloc}", link.url)
                    if name.lower() not in DROPPED:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler
