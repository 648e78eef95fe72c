"""A small HTTP server for whole local sites: the demo, the tests and the benchmarks.

It serves a table of routes (path -> Route) on 127.0.0.1 with what a crawler meets on real
news sites: ETag and Last-Modified validators answered with 304 (If-None-Match first, as
RFC 9110 orders them), any status and headers, and handlers for faults. It keeps a log of
every request so tests can assert what was (and was never) fetched. Routes can be swapped
while it runs, which is how a "second day" with edited stories is served on the same port.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic, sleep
from urllib.parse import urlsplit

__all__ = ["Route", "SiteServer", "serve"]

# A handler gets the request handler and writes the whole response itself (faults).
Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    # Send ETag and Last-Modified, and answer conditional requests with 304.
    validators: bool = True
    handler: Handler | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    # time.monotonic() when the request arrived, to check waits such as Retry-After.
    at: float = 0.0


class SiteServer:
    """Serve `routes` on 127.0.0.1 (a free port unless one is given) in a daemon thread."""

    def __init__(self, routes: Mapping[str, Route], port: int = 0, latency: float = 0.0) -> None:
        self.routes: dict[str, Route] = dict(routes)
        # Seconds each answer waits, as a server across the internet would (benchmarks).
        self.latency = latency
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def do_HEAD(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = _QuietServer(("127.0.0.1", port), RequestHandler)
        self._httpd.daemon_threads = True
        # serve_forever looks for a stop request once per poll interval, and every stop
        # (one per test) waited out Python's default of half a second.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def set_routes(self, routes: Mapping[str, Route]) -> None:
        with self._lock:
            self.routes = dict(routes)

    def requested(self, path: str) -> int:
        """How many times `path` (with its query string) was asked for."""
        with self._lock:
            return sum(1 for entry in self.log if entry.path == path)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.log.append(
                LoggedRequest(
                    request.command, request.path, dict(request.headers.items()), monotonic()
                )
            )
            route = self.routes.get(request.path) or self.routes.get(urlsplit(request.path).path)
        if self.latency > 0:
            sleep(self.latency)
        if route is None:
            route = Route(b"<html><body><h1>Not found</h1></body></html>", status=404)
        if route.handler is not None:
            route.handler(request)
            return
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.validators and route.status == 200:
            etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
            headers["ETag"] = etag
            headers.setdefault("Last-Modified", formatdate(1_700_000_000, usegmt=True))
            if _not_modified(request, etag, headers["Last-Modified"]):
                request.send_response(304)
                request.send_header("ETag", etag)
                request.send_header("Content-Length", "0")
                request.end_headers()
                return
        request.send_response(route.status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(route.body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(route.body)


class _QuietServer(ThreadingHTTPServer):
    # socketserver's default listen backlog of 5 overflows when a crawler opens 16
    # connections at once: the extra SYNs are dropped and retried a second later, which
    # made the benchmarks measure the server's stalls instead of the crawler.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-response is what fault routes provoke; stay quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _not_modified(request: BaseHTTPRequestHandler, etag: str, last_modified: str) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since otherwise."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


@contextmanager
def serve(routes: Mapping[str, Route], port: int = 0) -> Iterator[SiteServer]:
    server = SiteServer(routes, port).start()
    try:
        yield server
    finally:
        server.stop()
