"""The bundled demo news site, so `make demo` shows a real crawl on a fresh clone.

A demo that loads prepared rows proves nothing about discovery, the article decision or
versioning; one that crawls a real newspaper needs the network and changes under our feet.
So the project ships a small invented newspaper ("The Harbor Times") as static files and
serves it on 127.0.0.1: home, sections with pagination, tag/author/about/contact pages
that must not be archived, a feed, a sitemap, robots.txt hiding a draft, and a
windows-1252 story. A "second day" overlays the few files an editor would change: one
story gets a new headline and a correction, one story is new, and the home page's trending
box churns without changing any story, so a second crawl must find exactly one new version
and one new article.

Absolute URLs (feed, sitemap, robots.txt, og:url) are written as `{{BASE}}` and filled in
when routes are built, because the port is only known once the server has bound it.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import threading
from pathlib import Path
from types import FrameType

from crawler.demo.siteserver import Route, SiteServer

__all__ = [
    "DRAFT_PATHS",
    "EDITED_STORY",
    "NEW_STORY",
    "SITE_DIR",
    "STORY_PATHS",
    "demo_routes",
    "main",
]

log = logging.getLogger(__name__)

SITE_DIR = Path(__file__).parent / "site"
# Files that differ on the second day, mirrored under this folder of SITE_DIR.
_DAY2_DIR = "day2"
_PLACEHOLDER = b"{{BASE}}"
# A file tree cannot name a query string; these files are served at one.
_QUERY_ROUTES = {"local/index-page-2.html": "/local/?page=2"}
_META_CHARSET = re.compile(rb"""<meta\s+charset=["']?([\w-]+)""", re.IGNORECASE)

EDITED_STORY = "/news/2026/11/port-strike-enters-second-week.html"
NEW_STORY = "/local/2026/11/humpback-whale-spotted-in-inner-harbor.html"
_DAY1_STORIES = frozenset(
    {
        "/news/2026/11/island-ferry-cuts-evening-sailings.html",
        "/news/2026/11/lantern-street-library-reopens-after-flood-repairs.html",
        "/world/2026/11/puerto-alcina-delegation-renews-sister-port-pact.html",
        "/world/2026/11/mackerel-quota-talks-stall.html",
        "/local/2026/11/comet-lights-up-sky-over-harbor.html",
        EDITED_STORY,
        "/local/2026/11/cafe-opens-in-lighthouse-keepers-cottage.html",
        "/news/2026/11/shipyard-wins-order-for-electric-tugboats.html",
    }
)
# The paths that are stories (what a correct crawl archives), by day.
STORY_PATHS: dict[int, frozenset[str]] = {1: _DAY1_STORIES, 2: _DAY1_STORIES | {NEW_STORY}}
# Linked from the home page but disallowed by robots.txt: a polite crawler never asks.
DRAFT_PATHS = frozenset({"/drafts/new-ferry-terminal-plans.html"})


def demo_routes(base: str, day: int = 1) -> dict[str, Route]:
    """The demo site's routes for `day` (1 or 2), with absolute URLs pointing at `base`."""
    if day not in STORY_PATHS:
        raise ValueError(f"the demo site has days 1 and 2, not {day!r}")
    files = _site_files(SITE_DIR, skip=_DAY2_DIR)
    if day == 2:
        files.update(_site_files(SITE_DIR / _DAY2_DIR))
    filler = base.rstrip("/").encode("ascii")
    return {
        _route_path(relative): Route(
            body.replace(_PLACEHOLDER, filler), content_type=_content_type(relative, body)
        )
        for relative, body in sorted(files.items())
    }


def _site_files(root: Path, skip: str | None = None) -> dict[str, bytes]:
    """Every file under `root` by its POSIX path relative to it, minus the `skip` folder."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or (skip is not None and relative.parts[0] == skip):
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


def _route_path(relative: str) -> str:
    if relative in _QUERY_ROUTES:
        return _QUERY_ROUTES[relative]
    if relative == "index.html" or relative.endswith("/index.html"):
        return "/" + relative.removesuffix("index.html")
    return "/" + relative


def _content_type(relative: str, body: bytes) -> str:
    if relative.endswith(".html"):
        match = _META_CHARSET.search(body[:1024])
        charset = match.group(1).decode("ascii").lower() if match else "utf-8"
        # A legacy page declares its encoding only in <meta>, as old CMSs do; the crawler
        # must find it there.
        return "text/html; charset=utf-8" if charset == "utf-8" else "text/html"
    if relative == "feed.xml":
        return "application/rss+xml"
    if relative.endswith(".xml"):
        return "application/xml"
    if relative.endswith(".txt"):
        return "text/plain; charset=utf-8"
    raise ValueError(f"no content type known for demo file {relative!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.newspaper",
        description=(
            "Serve the demo news site on 127.0.0.1 and print its base URL on the first line "
            "of standard output. SIGUSR1 switches to day 2 on the same port (story URLs "
            "include the port); SIGTERM or Ctrl-C stops."
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument("--day", type=int, choices=(1, 2), default=1, help="day to serve first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    server = SiteServer({}, args.port)
    server.set_routes(demo_routes(server.url, args.day))
    stop = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def on_next_day(signum: int, frame: FrameType | None) -> None:
        server.set_routes(demo_routes(server.url, 2))
        log.info("demo site: now serving day 2")

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, on_next_day)
    server.start()
    print(server.url, flush=True)
    log.info("demo site: serving day %d at %s", args.day, server.url)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
