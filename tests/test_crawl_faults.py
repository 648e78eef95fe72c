"""Oversized and mislabelled responses: counted by kind, never archived, the crawl goes on."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from crawler.analysis import FetchedPage, PageRules, analyze_page
from crawler.demo_site import SITE_DIR
from crawler.siteserver import Route, SiteServer

BIN = Path(sys.executable).parent
LIMIT = 1024 * 1024  # DOWNLOAD_MAXSIZE for these tests


def _no_length(request: BaseHTTPRequestHandler) -> None:
    """A body over the limit, with no Content-Length: only counting the bytes stops it."""
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Connection", "close")
    request.end_headers()
    chunk = b"<p>" + b"x" * 65536 + b"</p>"
    try:
        for _ in range(40):
            request.wfile.write(chunk)
    except OSError:
        pass  # the crawler hung up, as it should
    request.close_connection = True


def test_size_limits_bombs_and_files_posing_as_pages(tmp_path: Path) -> None:
    story = (SITE_DIR / "local/2026/11/comet-lights-up-sky-over-harbor.html").read_bytes()
    server = SiteServer({}).start()
    links = ["/big.html", "/nolength.html", "/bomb.html", "/report", "/photo", "/ok.html"]
    home = "".join(
        f'<a href="{link}">A headline long enough for a link {link}</a>' for link in links
    )
    try:
        server.set_routes(
            {
                "/": Route(f"<html><body>{home}</body></html>".encode()),
                "/big.html": Route(b"<p>" + b"y" * (2 * LIMIT) + b"</p>"),
                "/nolength.html": Route(handler=_no_length),
                # 40 MB of zeros in 40 KB of gzip, served as an encoded HTML page
                "/bomb.html": Route(
                    gzip.compress(b"\0" * (40 * 1024 * 1024)),
                    headers={"Content-Encoding": "gzip"},
                ),
                "/report": Route(b"%PDF-1.7\n" + b"\x00\x01" * 5000),  # says text/html
                "/photo": Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000),
                "/ok.html": Route(
                    story.replace(b"{{BASE}}", server.url.encode()).replace(
                        b'href="/local/2026/11/comet-lights-up-sky-over-harbor.html"',
                        b'href="/ok.html"',
                    )
                ),
            }
        )
        result = subprocess.run(
            [str(BIN / "newsarchive"), "--db", f"sqlite:///{tmp_path / 'a.db'}", "crawl",
             server.url + "/", "-s", f"DOWNLOAD_MAXSIZE={LIMIT}", "-s", "DOWNLOAD_DELAY=0",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "--format", "json"],
            capture_output=True, text=True, timeout=120, env=dict(os.environ),
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = json.loads(result.stdout)
    counters = run["counters"]
    assert counters["errors"]["too_large"] == 3  # with, without Content-Length, and the bomb
    assert counters["skipped"]["not_html"] == 2  # the PDF and the PNG labelled text/html
    assert counters["articles_new"] == 1  # the good story still made it


def test_binary_bodies_are_not_parsed_but_utf16_pages_are() -> None:
    url = "http://127.0.0.1:8000/x"
    for body in (b"%PDF-1.4", b"\xff\xd8\xff\xe0JFIF", b"\x00\x00\x00\x18ftypmp42", b"a\x00b"):
        page = FetchedPage("t", url, url, 200, body + b"\x00" * 100, "text/html")
        assert analyze_page(page, PageRules()).kind == "not_html"
    html = "<html><body><p>" + "Ein Satz über den Hafen. " * 40 + "</p></body></html>"
    page = FetchedPage("t", url, url, 200, html.encode("utf-16"), "text/html")
    assert analyze_page(page, PageRules()).kind != "not_html"
