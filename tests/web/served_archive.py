"""An archive made by real crawls of a local site, served by `newsarchive serve`.

The site is the demo newspaper (crawled on day 1, then day 2, which edits a headline),
plus one hostile story: markup and `javascript:` in its title, author and image URL, and
scripts, a refresh, a stylesheet and images that try to reach a second server ("the
publisher") or the app itself when the archived page is opened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from crawler.demo.newspaper import demo_routes
from crawler.demo.siteserver import Route, SiteServer
from tests.redis_server import free_port

BIN = Path(sys.executable).parent
HOSTILE_PATH = "/news/2026/11/ferry-hostile-copy.html"
HOSTILE_TITLE = 'Ferry <img src=x onerror="alert(1)"> cuts <script>alert(2)</script> sailings'
FAST = (
    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
    "-s", "NEWSARCHIVE_FLUSH_SECONDS=0.5",
)  # fmt: skip


@dataclass
class ServedArchive:
    db: str
    url: str  # the app, http://127.0.0.1:PORT
    site: SiteServer  # the crawled site
    publisher: SiteServer  # what the hostile page tries to reach
    process: subprocess.Popen[str]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        """Status, headers (names in any case) and body of a GET."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def hostile_page(base: str, publisher: str, ferry: bytes) -> bytes:
    """The ferry story under another URL, made hostile."""
    page = ferry.decode()
    title = "Island ferry cuts evening sailings in winter timetable"
    escaped = HOSTILE_TITLE.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    page = page.replace(
        f"<title>{title} | The Harbor Times</title>", f"<title>{HOSTILE_TITLE}</title>"
    )
    page = page.replace(f'content="{title}"', f'content="{escaped}"')
    page = page.replace(f'"headline": "{title}"', '"headline": "Ferry <b>bold</b> sailings"')
    page = page.replace("/news/2026/11/island-ferry-cuts-evening-sailings.html", HOSTILE_PATH)
    page = page.replace(
        '<meta property="og:type" content="article">',
        '<meta property="og:type" content="article">\n'
        '<meta property="og:image" content="javascript:alert(3)">\n'
        # Scrapy does not follow a refresh inside <noscript>; a frame without scripts does.
        f'<noscript><meta http-equiv="refresh" content="1;url={publisher}/refresh"></noscript>\n'
        f'<link rel="stylesheet" href="{publisher}/style.css">\n'
        f'<link rel="dns-prefetch" href="{publisher}">\n',
    )
    attack = f"""
<script>
try {{ parent.document.title = "pwned"; }} catch (e) {{}}
try {{ top.location = "{publisher}/navigated"; }} catch (e) {{}}
try {{ fetch("{base}/api/overview"); fetch("/api/overview"); }} catch (e) {{}}
try {{ new Image().src = "{publisher}/beacon.png"; }} catch (e) {{}}
try {{ document.cookie = "stolen=1"; }} catch (e) {{}}
</script>
<img src="{publisher}/photo.jpg" alt="">
<img src="/static/style.css" alt="">
<iframe src="{publisher}/frame.html"></iframe>
<form action="{publisher}/form" method="post"><input name="a" value="b"></form>
<script>document.forms[0].submit();</script>
"""
    return page.replace("</body>", attack + "</body>").encode()


def site_routes(site: SiteServer, publisher: SiteServer, day: int) -> dict[str, Route]:
    routes = demo_routes(site.url, day=day)
    ferry = routes["/news/2026/11/island-ferry-cuts-evening-sailings.html"].body
    routes[HOSTILE_PATH] = Route(hostile_page(site.url, publisher.url, ferry))
    home = routes["/"]
    link = (
        f'<article class="teaser"><h2><a href="{HOSTILE_PATH}">Ferry operator trims the '
        "winter evening timetable again</a></h2></article></main>"
    ).encode()
    routes["/"] = Route(home.body.replace(b"</main>", link, 1), content_type=home.content_type)
    return routes


def crawl(db: str, url: str) -> None:
    done = subprocess.run(
        [str(BIN / "newsarchive"), "--db", db, "crawl", url, *FAST],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def serve(db: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "newsarchive"), "--db", db, "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "NEWSARCHIVE_WEB_TOKEN"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return process, url
        except urllib.error.HTTPError:
            return process, url  # answering (a token is asked for)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("serve did not answer within 30 s")


def served_archive(db: str) -> Iterator[ServedArchive]:
    site = SiteServer({}).start()
    publisher = SiteServer({}).start()
    try:
        site.set_routes(site_routes(site, publisher, day=1))
        crawl(db, site.url + "/")
        site.set_routes(site_routes(site, publisher, day=2))
        crawl(db, site.url + "/")
        process, url = serve(db)
        try:
            yield ServedArchive(db, url, site, publisher, process)
        finally:
            process.terminate()
            process.wait(15)
    finally:
        site.stop()
        publisher.stop()
