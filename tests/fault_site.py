"""A news site on 127.0.0.1 that serves every fault the hardening issue lists, beside good
stories: the crawl of it must archive each good story, count each fault by kind, exit 0,
stay within bounded memory and never request anything outside the site.

Connection-level faults are written byte by byte from the request handler (reset, short
Content-Length, broken chunked encoding, a slow drip); a connect timeout needs a listener
whose accept queue is full, and a refused connection a port nobody listens on. Both are
start URLs of the site, so they are in scope and only the network can fail them.

The good stories are the bundled demo newspaper's (crawler/demo/site), served at their own
paths so their canonical URLs agree, which keeps this site independent of the corpus.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import MappingProxyType

import brotli
import zstandard

from crawler.demo.newspaper import SITE_DIR
from crawler.demo.siteserver import Route, SiteServer

# What the crawl's settings must be for the expectations below to hold.
TIMEOUT = 3.0  # DOWNLOAD_TIMEOUT
MAX_SIZE = 1024 * 1024  # DOWNLOAD_MAXSIZE
CRAWL_SETTINGS = MappingProxyType(
    {
        "DOWNLOAD_TIMEOUT": str(TIMEOUT),
        "DOWNLOAD_MAXSIZE": str(MAX_SIZE),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "RETRY_TIMES": "1",
        "REDIRECT_MAX_TIMES": "10",
    }
)

STORIES = tuple(
    sorted(
        "/" + str(path.relative_to(SITE_DIR))
        for section in ("news", "local", "world")
        for path in (SITE_DIR / section).rglob("*.html")
        if path.name not in ("index.html",) and "index-page" not in path.name
    )
)
# What the XXE sitemap's entity file holds: a request for it means the entity was expanded.
LEAKED_PATH = "/leaked-from-a-local-file.html"
# A story answered 429 with Retry-After once, then served: it must be archived too.
RATE_LIMITED = "/fault/rate-limited.html"
BOMB_SIZE = 64 * 1024 * 1024  # decompressed; each bomb is a few kB to 64 kB on the wire

# The counters each fault adds to (beyond what the good stories add), and the paths
# whose requests show that a defence held.
EXPECTED_COUNTS = MappingProxyType(
    {
        # read timeout, a response that never finishes, a slow drip, a connect timeout
        "errors/timeout": 4,
        "errors/connection": 1,  # refused
        # reset mid-body, short Content-Length, broken chunked encoding
        "errors/connection_lost": 3,
        "errors/http_500": 1,
        "errors/http_503": 1,  # Retry-After longer than the crawl will wait
        "skipped/retry_after_too_long": 1,
        "errors/too_many_redirects": 2,  # a loop and a long chain
        "blocked/scheme": 3,  # redirects to file:, data: and ftp:
        # over the size limit with and without a Content-Length; four encoding bombs
        "errors/too_large": 6,
        "skipped/not_html": 2,  # a PDF and a PNG served as text/html
        "skipped/empty": 1,
        "skipped/unparsable": 1,  # ten bytes
        # the home page; a DOM 10,000 deep, a huge attribute, script only, a lying charset
        "not_article": 5,
        "blocked/address": 1,  # localhost is a site domain but resolves to loopback
    }
)


def _story(path: str, base: str) -> bytes:
    return (SITE_DIR / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", base.encode())


def _start(request: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
    request.send_response(200)
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.flush()


def _write_until_hung_up(request: BaseHTTPRequestHandler, chunk: bytes, pause: float) -> None:
    """Keep the connection busy until the crawler gives up on it (bounded for the tests)."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            request.wfile.write(chunk)
            request.wfile.flush()
            time.sleep(pause)
    except OSError:
        pass
    request.close_connection = True


def _read_timeout(request: BaseHTTPRequestHandler) -> None:
    """Accepts the request and says nothing until long after the download timeout."""
    time.sleep(TIMEOUT * 3)
    request.close_connection = True


def _never_finishes(request: BaseHTTPRequestHandler) -> None:
    _start(request, {"Content-Type": "text/html", "Content-Length": "100000"})
    request.wfile.write(b"<html><body><p>" + b"a" * 1000)
    _write_until_hung_up(request, b" ", 0.5)


def _slow_drip(request: BaseHTTPRequestHandler) -> None:
    """A byte every 100 ms: no single read ever times out, only a bound on the whole does."""
    _start(request, {"Content-Type": "text/html"})
    _write_until_hung_up(request, b"a", 0.1)


def _reset_mid_body(request: BaseHTTPRequestHandler) -> None:
    _start(request, {"Content-Type": "text/html", "Content-Length": "50000"})
    request.wfile.write(b"<html><body><p>" + b"b" * 2000)
    request.wfile.flush()
    # SO_LINGER with a zero timeout turns close() into a TCP reset.
    request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    request.connection.close()
    request.close_connection = True


def _short_content_length(request: BaseHTTPRequestHandler) -> None:
    _start(request, {"Content-Type": "text/html", "Content-Length": "50000", "Connection": "close"})
    request.wfile.write(b"<html><body><p>" + b"c" * 1000 + b"</p></body></html>")
    request.close_connection = True


def _broken_chunked(request: BaseHTTPRequestHandler) -> None:
    _start(request, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"})
    request.wfile.write(b"10\r\n<html><body><p>x\r\nzz-not-a-size\r\n" + b"d" * 100 + b"\r\n")
    request.wfile.flush()
    time.sleep(0.5)
    request.close_connection = True


def _no_length(request: BaseHTTPRequestHandler) -> None:
    """Over the size limit with no Content-Length: only counting the bytes stops it."""
    _start(request, {"Content-Type": "text/html", "Connection": "close"})
    chunk = b"<p>" + b"x" * 65536 + b"</p>"
    try:
        for _ in range(2 * MAX_SIZE // len(chunk) + 2):
            request.wfile.write(chunk)
    except OSError:
        pass
    request.close_connection = True


def _bombs() -> dict[str, Route]:
    """One bomb per Content-Encoding the crawler accepts, each decompressing to 64 MiB."""
    zeros = b"\0" * BOMB_SIZE
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    encoded = {
        "gzip": gzip.compress(zeros, 9),
        "deflate": deflate.compress(zeros) + deflate.flush(),
        "br": brotli.compress(zeros, quality=5),
        "zstd": zstandard.ZstdCompressor(level=3).compress(zeros),
    }
    return {
        f"/fault/bomb-{name}.html": Route(body, headers={"Content-Encoding": name})
        for name, body in encoded.items()
    }


@dataclass
class FaultSite:
    """The site, an off-site server that must never be asked anything, and two dead ports."""

    server: SiteServer
    other: SiteServer
    blackhole_port: int
    closed_port: int
    # A local file an external entity names; its content is a path of this site.
    entity_file: Path = Path("/nonexistent")
    _sockets: list[socket.socket] = field(default_factory=list)
    _rate_limited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return int(self.server.url.rsplit(":", 1)[1])

    def sites_toml(self, name: str = "faults") -> str:
        starts = [
            self.url + "/",
            f"http://127.0.0.1:{self.blackhole_port}/",
            f"http://127.0.0.1:{self.closed_port}/",
        ]
        quoted = ", ".join(f'"{u}"' for u in starts)
        # localhost is one of the site's domains, but not a start host: it resolves to
        # loopback, so the address guard must refuse it.
        return f'[sites.{name}]\nstart_urls = [{quoted}]\ndomains = ["localhost"]\n'

    def crawl_args(self) -> list[str]:
        return [arg for key, value in CRAWL_SETTINGS.items() for arg in ("-s", f"{key}={value}")]

    def never_requested(self) -> dict[str, int]:
        """Requests that must never have been made, by what they would have reached."""
        return {
            "off-site server": len(self.other.log),
            "localhost secret": self.server.requested("/secret.html"),
            # the local file the XXE sitemap names holds this path: expanded, it is asked for
            "external entity": self.server.requested(LEAKED_PATH),
            "billion laughs": sum("lollol" in entry.path for entry in self.server.log),
        }

    def _serve_rate_limited(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._rate_limited += 1
            first = self._rate_limited == 1
        if first:
            request.send_response(429)
            request.send_header("Retry-After", "1")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        body = _story(STORIES[0], self.url).replace(STORIES[0].encode(), RATE_LIMITED.encode())
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def routes(self) -> dict[str, Route]:
        base, other = self.url, self.other.url
        redirect = "/fault/redirect-to-"
        faults: dict[str, Route] = {
            "/fault/read-timeout.html": Route(handler=_read_timeout),
            "/fault/never-finishes.html": Route(handler=_never_finishes),
            "/fault/slow-drip.html": Route(handler=_slow_drip),
            "/fault/reset.html": Route(handler=_reset_mid_body),
            "/fault/short-length.html": Route(handler=_short_content_length),
            "/fault/broken-chunked.html": Route(handler=_broken_chunked),
            "/fault/500.html": Route(b"<h1>Internal error</h1>", status=500),
            "/fault/503.html": Route(
                b"<h1>Come back tomorrow</h1>", status=503, headers={"Retry-After": "86400"}
            ),
            RATE_LIMITED: Route(handler=self._serve_rate_limited),
            "/fault/loop-a": Route(status=302, headers={"Location": "/fault/loop-b"}),
            "/fault/loop-b": Route(status=302, headers={"Location": "/fault/loop-a"}),
            **{
                f"/fault/chain/{n}": Route(
                    status=301, headers={"Location": f"/fault/chain/{n + 1}"}
                )
                for n in range(30)
            },
            redirect + "file": Route(status=302, headers={"Location": "file:///etc/passwd"}),
            redirect + "data": Route(
                status=302, headers={"Location": "data:text/html,<h1>injected</h1>"}
            ),
            redirect + "ftp": Route(status=302, headers={"Location": "ftp://127.0.0.1/pub/x"}),
            redirect + "other": Route(status=302, headers={"Location": other + "/stolen.html"}),
            "/fault/big.html": Route(b"<p>" + b"y" * (2 * MAX_SIZE) + b"</p>"),
            "/fault/no-length.html": Route(handler=_no_length),
            **_bombs(),
            "/fault/report.html": Route(b"%PDF-1.7\n" + b"\x00\x01" * 5000),
            "/fault/photo.html": Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000),
            "/fault/empty.html": Route(b""),
            "/fault/ten-bytes.html": Route(b"<p>hi</p>\n"),
            "/fault/deep.html": Route(b"<html><body>" + b"<div>" * 10_000 + b"deep"),
            "/fault/attribute.html": Route(
                b'<html><body><p title="' + b"q" * 900_000 + b'">x</p></body></html>'
            ),
            "/fault/script-only.html": Route(
                b"<html><head><script>" + b"var a=1;" * 20_000 + b"</script></head></html>"
            ),
            "/fault/lying-charset.html": Route(
                '<html><head><meta charset="utf-16"></head><body><p>Caf\u00e9 \u2014 '
                "na\u00efve</p></body></html>".encode("cp1252"),
                content_type="text/html; charset=shift_jis",
            ),
            "/secret.html": Route(b"<h1>never to be requested</h1>"),
        }
        links = [*STORIES, RATE_LIMITED, *(p for p in faults if not p.startswith("/fault/chain/"))]
        links.remove("/secret.html")
        links.remove("/fault/loop-b")  # reached only through the loop, never directly
        links += ["/fault/chain/0", f"http://localhost:{self.port}/secret.html", other + "/"]
        anchors = "\n".join(
            f'<li><a href="{link}">Headline number {n} about the harbor today</a></li>'
            for n, link in enumerate(links)
        )
        home = (
            '<html><head><title>Fault Times</title><meta property="og:type" content="website">'
            f"</head><body><ul>{anchors}</ul></body></html>"
        ).encode()
        sitemap_index = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sitemap.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemap-xxe.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemap-laughs.xml</loc></sitemap>"
            "</sitemapindex>"
        ).encode()
        xxe = (
            '<?xml version="1.0"?><!DOCTYPE urlset '
            f'[<!ENTITY x SYSTEM "{self.entity_file.as_uri()}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/&x;</loc></url></urlset>"
        ).encode()
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "lol">'
            + "".join(
                f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
            )
            + ']><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/&j;</loc></url></urlset>"
        ).encode()
        robots = f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n".encode()
        return {
            "/": Route(home),
            "/robots.txt": Route(robots, content_type="text/plain"),
            # The sitemap is an index that lists itself: a cycle, bounded by the crawler.
            "/sitemap.xml": Route(sitemap_index, content_type="application/xml"),
            "/sitemap-xxe.xml": Route(xxe, content_type="application/xml"),
            "/sitemap-laughs.xml": Route(laughs, content_type="application/xml"),
            **{path: Route(_story(path, base)) for path in STORIES},
            **faults,
        }


def _blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listener that never accepts, its queue already full: new connects time out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(filler)
    return listener, fillers


def _closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()  # bound once, now closed: connecting is refused
    return port


@contextmanager
def serve_fault_site() -> Iterator[FaultSite]:
    server = SiteServer({}).start()
    other = SiteServer({"/": Route(b"<h1>other</h1>")}).start()
    listener, fillers = _blackhole()
    site = FaultSite(server, other, listener.getsockname()[1], _closed_port())
    site._sockets = [listener, *fillers]
    entity_dir = Path(tempfile.mkdtemp(prefix="fault-site-"))
    site.entity_file = entity_dir / "secret.txt"
    site.entity_file.write_text(LEAKED_PATH.lstrip("/"))
    server.set_routes(site.routes())
    try:
        yield site
    finally:
        shutil.rmtree(entity_dir, ignore_errors=True)
        server.stop()
        other.stop()
        for sock in site._sockets:
            sock.close()


def good_story_paths() -> tuple[str, ...]:
    return (*STORIES, RATE_LIMITED)


__all__ = [
    "CRAWL_SETTINGS",
    "EXPECTED_COUNTS",
    "FaultSite",
    "good_story_paths",
    "serve_fault_site",
]
