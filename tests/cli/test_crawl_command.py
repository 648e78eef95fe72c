"""Manual runs against the bundled demo site: sites.toml, settings priority, custom spiders,
`scrapy crawl news -a site=...`, limits and configuration errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.demo.newspaper import DRAFT_PATHS, STORY_PATHS, demo_routes
from crawler.demo.siteserver import Route, SiteServer, serve
from storage import Archive
from tests import REPO
from tests.polling import wait_for
from tests.process_groups import live_members
from tests.terminal import read_until_closed

pytestmark = pytest.mark.e2e

ROOT = REPO
BIN = Path(sys.executable).parent
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")


def sites_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(body)
    return path


def newsarchive(
    tmp_path: Path, *args: str, sites: Path | None = None, env: dict[str, str] | None = None
):
    env = {**os.environ, "NEWSARCHIVE_DB": f"sqlite:///{tmp_path / 'a.db'}", **(env or {})}
    if sites is not None:
        env["NEWSARCHIVE_SITES"] = str(sites)
    return subprocess.run(
        [str(BIN / "newsarchive"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def slow_crawl(db: str, url: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A crawl of the demo site at one page a second, to act on while it runs."""
    slow = (
        "-s", "DOWNLOAD_DELAY=1", "-s", "DOWNLOAD_DELAY_JITTER=0",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=1",
    )  # fmt: skip
    return subprocess.Popen(
        [str(BIN / "newsarchive"), "--db", db, "crawl", url + "/", *slow],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def crawl_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = json.loads(result.stdout)
    return run


def test_configured_site_with_a_custom_spider(demo: SiteServer, tmp_path: Path) -> None:
    sites = sites_file(
        tmp_path,
        f'[sites.harbor]\nstart_urls = ["{demo.url}/"]\nspider = "harbor_times"\n',
    )
    run = crawl_json(
        newsarchive(tmp_path, "crawl", "harbor", *FAST, "--format", "json", sites=sites)
    )
    assert run["site"] == "harbor" and run["status"] == "succeeded"
    assert run["counters"]["articles_new"] == len(STORY_PATHS[1])
    requested = [entry.path for entry in demo.log]
    # its follow() rule: tag and author pages are never fetched
    assert not [p for p in requested if p.startswith(("/tag/", "/author/"))]
    assert not [p for p in requested if p in DRAFT_PATHS]
    with Archive(f"sqlite:///{tmp_path / 'a.db'}", create=False) as archive:
        snapshot = archive.snapshot(
            demo.url + "/local/2026/11/comet-lights-up-sky-over-harbor.html"
        )
        # its field selectors: the body is the story paragraphs only (no standfirst)
        assert snapshot.sources["text"] == "selector"
        assert snapshot.text.startswith("Hundreds of people crowded onto the breakwater")
        assert snapshot.tags == ["harbor"]
        assert snapshot.authors == ["Ines Duarte"]
        assert snapshot.sources["authors"] == "json-ld"
        cafe = archive.snapshot(
            demo.url + "/local/2026/11/cafe-opens-in-lighthouse-keepers-cottage.html"
        )
        assert "caf\u00e9" in cafe.text.lower() and "\u2019" in cafe.text + (cafe.title or "")


def test_scrapy_crawl_news_from_the_project_root(demo: SiteServer, tmp_path: Path) -> None:
    sites = sites_file(tmp_path, f'[sites.demo]\nstart_urls = ["{demo.url}/"]\n')
    db = f"sqlite:///{tmp_path / 'scrapy.db'}"
    result = subprocess.run(
        [
            str(BIN / "scrapy"), "crawl", "news", "-a", "site=demo",
            "-s", f"NEWSARCHIVE_DB={db}", "-s", f"NEWSARCHIVE_SITES={sites}",
            "-s", "LOG_LEVEL=WARNING", *FAST,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    with Archive(db, create=False) as archive:
        (run,) = archive.runs()
        assert run.site == "demo" and run.status == "succeeded"
        assert run.counters["articles_new"] == len(STORY_PATHS[1])


@pytest.mark.parametrize(
    ("spider_args", "message"),
    [
        (["-a", "site=unknown"], "error: 'unknown': not a site in the sites file, and not a URL"),
        ([], "error: no site given: use -a site=NAME or -a site=URL"),
        (["-a", "site=ftp://example.com/"], "error: URL: 'ftp://example.com/' is not an http(s)"),
    ],
    ids=["unknown site", "no site", "not http"],
)
def test_scrapy_crawl_with_a_bad_site_is_one_line(
    tmp_path: Path, spider_args: list[str], message: str
) -> None:
    """Scrapy would create the spider inside its engine: a traceback after a screen of
    start-up lines, and exit status 0."""
    sites = sites_file(tmp_path, '[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = subprocess.run(
        [str(BIN / "scrapy"), "crawl", "news", *spider_args, "-s", f"NEWSARCHIVE_SITES={sites}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(message), result.stderr


def test_command_line_settings_beat_site_settings(demo: SiteServer, tmp_path: Path) -> None:
    sites = sites_file(
        tmp_path,
        f'[sites.demo]\nstart_urls = ["{demo.url}/"]\nsettings = {{ NEWSARCHIVE_MAX_PAGES = 3 }}\n',
    )
    run = crawl_json(newsarchive(tmp_path, "crawl", "demo", *FAST, "--format", "json", sites=sites))
    assert run["counters"]["pages_fetched"] == 3
    assert run["counters"]["skipped"]["max_pages"] >= 1
    run = crawl_json(
        newsarchive(
            tmp_path,
            "crawl",
            "demo",
            *FAST,
            "-s",
            "NEWSARCHIVE_MAX_PAGES=5",
            "--format",
            "json",
            sites=sites,
        )
    )
    assert run["counters"]["pages_fetched"] == 5
    assert run["reason"] == "max_pages" and run["status"] == "succeeded"
    run = crawl_json(
        newsarchive(
            tmp_path, "crawl", demo.url + "/", *FAST, "--max-pages", "2", "--format", "json"
        )
    )
    assert run["counters"]["pages_fetched"] == 2


def test_settings_in_the_environment_are_the_weakest_source(
    demo: SiteServer, tmp_path: Path
) -> None:
    """docs/crawling.md: a NEWSARCHIVE_* setting may come from the environment; a site's
    own settings and -s win over it."""
    env_pages = {"NEWSARCHIVE_MAX_PAGES": "2"}
    sites = sites_file(tmp_path, f'[sites.plain]\nstart_urls = ["{demo.url}/"]\n'
                       f'[sites.own]\nstart_urls = ["{demo.url}/"]\n'
                       "settings = { NEWSARCHIVE_MAX_PAGES = 3 }\n")  # fmt: skip

    def crawl(*args: str) -> dict:
        return crawl_json(
            newsarchive(tmp_path, "crawl", *args, *FAST, "--format", "json", sites=sites,
                        env=env_pages)
        )  # fmt: skip

    assert crawl("plain")["counters"]["pages_fetched"] == 2
    assert crawl("own")["counters"]["pages_fetched"] == 3
    assert crawl("plain", "-s", "NEWSARCHIVE_MAX_PAGES=4")["counters"]["pages_fetched"] == 4


@pytest.mark.parametrize("command", ["newsarchive", "scrapy"])
def test_a_bad_setting_in_the_environment_is_one_line(tmp_path: Path, command: str) -> None:
    sites = sites_file(tmp_path, '[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\n')
    env = {**os.environ, "NEWSARCHIVE_WORKERS": "1.5", "NEWSARCHIVE_SITES": str(sites),
           "NEWSARCHIVE_DB": f"sqlite:///{tmp_path / 'a.db'}"}  # fmt: skip
    argv = {
        "newsarchive": [str(BIN / "newsarchive"), "crawl", "demo"],
        "scrapy": [str(BIN / "scrapy"), "crawl", "news", "-a", "site=demo"],
    }[command]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "error: environment variable NEWSARCHIVE_WORKERS: expected a whole number, got '1.5'\n"
    )
    assert not (tmp_path / "a.db").exists()


def test_since_skips_old_feed_and_sitemap_items(demo: SiteServer, tmp_path: Path) -> None:
    run = crawl_json(
        newsarchive(
            tmp_path,
            "crawl",
            demo.url + "/",
            *FAST,
            "--since",
            "2026-11-04",
            "--max-depth",
            "0",
            "--format",
            "json",
        )
    )
    # With link following off, only feed and sitemap items are fetched: those from
    # 4 and 5 November (three stories), not the five older ones.
    assert run["counters"]["skipped"]["too_old"] >= 5
    assert run["counters"]["articles_new"] == 3


def _story(n: int) -> str:
    paragraphs = "".join(
        f"<p>Paragraph {p} of story {n}: the council met on Tuesday and voted on the budget "
        "for the harbour, after a long debate about the cost of the new quay walls.</p>"
        for p in range(8)
    )
    return (
        f'<html lang="en"><head><title>Story {n}</title>'
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        f'"headline": "Story {n}", "datePublished": "2026-11-20T08:00:00Z"}}</script>'
        f"</head><body><article><h1>Story {n}</h1>{paragraphs}</article></body></html>"
    )


def _listing_site(stories: int) -> SiteServer:
    """A site whose sitemap lists `stories` pages, each twice (as a news sitemap and an
    archive sitemap often do), and one that robots.txt disallows; the home page links to
    none of them."""
    server = SiteServer({}).start()
    base = server.url
    paths = [f"/news/{n:04d}.html" for n in range(stories)]
    listed = [*paths, *paths, "/private/hidden.html"]
    sitemap = "".join(f"<url><loc>{base}{path}</loc></url>" for path in listed)
    server.set_routes({
        "/": Route(b"<html><body><p>Home</p></body></html>"),
        "/robots.txt": Route(
            f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n".encode(),
            content_type="text/plain",
        ),
        "/sitemap.xml": Route(
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemap}</urlset>'
            .encode(), content_type="application/xml",
        ),
        **{path: Route(_story(n).encode()) for n, path in enumerate(paths)},
    })  # fmt: skip
    return server


def test_sitemap_pages_are_requested_a_window_at_a_time(tmp_path: Path) -> None:
    """A long sitemap never floods Scrapy's scheduler: at most 4 listed pages per
    concurrent request are in flight, yet every one is fetched once; duplicates (dropped
    by the scheduler), a page robots.txt disallows and 304 answers each free their place."""
    server = _listing_site(240)
    try:
        args = ("crawl", server.url + "/", *FAST, "-s", "CONCURRENT_REQUESTS=4",
                "--max-depth", "0", "--format", "json")  # fmt: skip
        for _ in range(2):  # the recrawl is answered 304 for every story
            result = newsarchive(tmp_path, *args)
            assert "Traceback" not in result.stderr and "ERROR" not in result.stderr
            run = crawl_json(result)
            counters = run["counters"]
            assert counters["pages_fetched"] == 241  # the home page and every story, once
            assert 0 < counters["listed_in_flight_peak"] <= 16
            assert counters["blocked"]["robots"] == 1
        assert counters["checked_304"] == 240
        fetched = [entry.path for entry in server.log if entry.path.startswith("/news/")]
        assert len(fetched) == 2 * 240
    finally:
        server.stop()


def test_summary_line_and_exit_status(demo: SiteServer, tmp_path: Path) -> None:
    result = newsarchive(tmp_path, "crawl", demo.url + "/", *FAST)
    assert result.returncode == 0
    assert result.stdout == ""
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("run ")]
    assert "succeeded" in line and f"{len(STORY_PATHS[1])} new" in line


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\nmax_depth = "deep"\n', "max_depth"),
        ("[sites.demo]\nfeeds = []\n", "sites.demo.start_urls: required"),
        ("[sites.demo\n", "not valid TOML"),
    ],
)
def test_invalid_sites_file_fails_with_the_key(tmp_path: Path, body: str, message: str) -> None:
    sites = sites_file(tmp_path, body)
    for args in (("crawl", "demo"), ("sites",)):
        result = newsarchive(tmp_path, *args, sites=sites)
        assert result.returncode == 2
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "a.db").exists()


def test_unknown_site_and_bad_setting(tmp_path: Path) -> None:
    sites = sites_file(tmp_path, '[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = newsarchive(tmp_path, "crawl", "nope", sites=sites)
    assert result.returncode == 2 and "'nope': not a site" in result.stderr
    result = newsarchive(tmp_path, "crawl", "demo", "-s", "NOEQUALS", sites=sites)
    assert result.returncode == 2 and "NAME=VALUE" in result.stderr
    result = newsarchive(tmp_path, "crawl", "demo", "-s", "DOWNLOAD_DELAY=fast", sites=sites)
    assert result.returncode == 2 and "-s DOWNLOAD_DELAY: expected a number" in result.stderr
    assert "Traceback" not in result.stderr
    result = newsarchive(tmp_path, "crawl", "ftp://127.0.0.1/")
    assert result.returncode == 2 and "not an http(s) URL" in result.stderr


def test_sites_command_lists_the_file(tmp_path: Path) -> None:
    sites = sites_file(
        tmp_path,
        '[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "every 30m"\n'
        'since = "2d"\n',
    )
    result = newsarchive(tmp_path, "sites", "--format", "json", sites=sites)
    assert result.returncode == 0
    (site,) = json.loads(result.stdout)
    assert site["name"] == "demo" and site["schedule"] == "every 30m"
    assert site["since"] == "2d" and site["spider"] == "news"
    table = newsarchive(tmp_path, "sites", sites=sites)
    assert table.returncode == 0 and "demo" in table.stdout and "every 30m" in table.stdout


def test_unusable_database_fails_before_crawling(demo: SiteServer, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "newsarchive"), "--db", f"sqlite:///{tmp_path}/missing/dir/a.db", "crawl",
         demo.url + "/"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: database error") and result.stderr.count("\n") == 1
    assert demo.log == []


def test_live_counters_on_a_terminal(demo: SiteServer, tmp_path: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "NEWSARCHIVE_DB": f"sqlite:///{tmp_path / 'a.db'}", "COLUMNS": "100"}
    process = subprocess.Popen(
        [str(BIN / "newsarchive"), "crawl", demo.url + "/", *FAST],
        stdout=follower, stderr=follower, env=env,
    )  # fmt: skip
    os.close(follower)
    output = read_until_closed(leader)
    assert process.wait(timeout=60) == 0
    text = output.decode("utf-8", errors="replace")
    assert "newsarchive crawl" in text  # the live table's title
    assert "Traceback" not in text
    assert "succeeded" in text


def test_ctrl_c_marks_the_run_interrupted(demo: SiteServer, tmp_path: Path) -> None:
    import signal
    import time

    db = f"sqlite:///{tmp_path / 'a.db'}"
    process = slow_crawl(db, demo.url)
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "interrupted" in err
    with Archive(db, create=False) as archive:
        (run,) = archive.runs()
        assert run.status == "interrupted" and run.finished_at is not None
        assert run.counters["pages_fetched"] < 16, err
        # what was written before the stop is all counted (no flush lost at shutdown)
        with archive.engine.connect() as conn:
            from sqlalchemy import text

            stored = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        assert run.counters["articles_new"] == stored


def test_unknown_spider_is_a_configuration_error(tmp_path: Path) -> None:
    sites = sites_file(
        tmp_path, '[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\nspider = "nosuch"\n'
    )
    result = newsarchive(tmp_path, "crawl", "demo", sites=sites)
    assert result.returncode == 2
    assert "sites.demo.spider: no spider named 'nosuch'" in result.stderr
    assert "harbor_times" in result.stderr and "Traceback" not in result.stderr


def test_redirects_back_to_the_same_story_are_followed(tmp_path: Path) -> None:
    from crawler.demo.newspaper import SITE_DIR
    from crawler.demo.siteserver import Route

    # Its rel=canonical names an address that does not exist (404): the page is archived.
    story = (SITE_DIR / "local/2026/11/comet-lights-up-sky-over-harbor.html").read_bytes()
    other = (SITE_DIR / "news/2026/11/island-ferry-cuts-evening-sailings.html").read_bytes()
    # A page whose rel=canonical names an address that redirects straight back to it.
    looped = other.replace(
        b'href="/news/2026/11/island-ferry-cuts-evening-sailings.html"',
        b'href="/canonical/ferry.html"',
    )
    assert looped != other
    server = SiteServer({}).start()
    try:
        home = (
            '<html><head><meta property="og:type" content="website"></head><body>'
            '<a href="/comet.html?utm_source=home">The comet lights up the harbor sky tonight</a>'
            '<a href="/news/2026/11/island-ferry-cuts-evening-sailings.html">Ferry</a>'
            "</body></html>"
        )
        server.set_routes(
            {
                "/": Route(home.encode()),
                # publishers strip tracking parameters with a redirect to the clean URL
                "/comet.html?utm_source=home": Route(
                    status=301, headers={"Location": "/comet.html"}, validators=False
                ),
                "/comet.html": Route(story.replace(b"{{BASE}}", server.url.encode())),
                "/news/2026/11/island-ferry-cuts-evening-sailings.html": Route(
                    looped.replace(b"{{BASE}}", server.url.encode())
                ),
                "/canonical/ferry.html": Route(
                    status=301,
                    headers={"Location": "/news/2026/11/island-ferry-cuts-evening-sailings.html"},
                    validators=False,
                ),
            }
        )
        run = crawl_json(
            newsarchive(tmp_path, "crawl", server.url + "/", *FAST, "--format", "json")
        )
    finally:
        server.stop()
    assert run["counters"]["articles_new"] == 2, run["counters"]
    with Archive(f"sqlite:///{tmp_path / 'a.db'}", create=False) as archive:
        assert archive.resolve(server.url + "/comet.html?utm_source=home") == archive.resolve(
            server.url + "/comet.html"
        )
        archive.snapshot(server.url + "/news/2026/11/island-ferry-cuts-evening-sailings.html")


def test_an_unreachable_start_url_fails_the_run(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = newsarchive(
        tmp_path, "crawl", f"http://127.0.0.1:{port}/", *FAST, "-s", "RETRY_TIMES=0",
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 1
    (run,) = json.loads(result.stdout)
    assert run["status"] == "failed" and run["counters"]["errors"]["connection"] >= 1
    with Archive(f"sqlite:///{tmp_path / 'a.db'}", create=False) as archive:
        (recorded,) = archive.runs()
        assert recorded.status == "failed" and "no page could be fetched" in (recorded.error or "")


def test_a_run_whose_every_request_is_refused_fails(tmp_path: Path) -> None:
    """robots.txt refuses the whole site: nothing is fetched, and the run says so instead
    of passing for a good one."""
    routes = {
        "/": Route(b"<html><body><a href='/a.html'>A story</a></body></html>"),
        "/robots.txt": Route(b"User-agent: *\nDisallow: /\n", content_type="text/plain"),
    }
    with serve(routes) as server:
        result = newsarchive(tmp_path, "crawl", server.url + "/", *FAST, "--format", "json")
        paths = [entry.path for entry in server.log]
    assert result.returncode == 1, result.stderr
    (run,) = json.loads(result.stdout)
    assert run["status"] == "failed" and run["counters"]["pages_fetched"] == 0
    assert "/" not in paths
    with Archive(f"sqlite:///{tmp_path / 'a.db'}", create=False) as archive:
        (recorded,) = archive.runs()
    assert (recorded.error or "").startswith("no page could be fetched: every request was")


def test_two_sites_in_one_command(demo: SiteServer, tmp_path: Path) -> None:
    second = SiteServer({}).start()
    try:
        second.set_routes(demo_routes(second.url, day=2))
        result = newsarchive(
            tmp_path, "crawl", demo.url + "/", second.url + "/", *FAST, "--format", "json"
        )
    finally:
        second.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    runs = {run["site"]: run for run in json.loads(result.stdout)}
    assert runs[demo.url.removeprefix("http://")]["counters"]["articles_new"] == 8
    assert runs[second.url.removeprefix("http://")]["counters"]["articles_new"] == 9
    assert all(run["status"] == "succeeded" for run in runs.values())


def test_a_crawl_refused_after_its_early_worker_started_leaves_no_process(
    demo: SiteServer, tmp_path: Path
) -> None:
    """The CLI starts an extraction worker before it opens the archive; a crawl that then
    stops (a busy site, an unusable database) must stop that worker too."""
    db = f"sqlite:///{tmp_path / 'a.db'}"
    site = demo.url.removeprefix("http://")
    with Archive(db) as archive:
        assert archive.acquire_lease(site, "someone-else", timedelta(minutes=5))
    for database, status in ((db, 3), (f"sqlite:///{tmp_path}/missing/dir/a.db", 1)):
        process = subprocess.Popen(
            [str(BIN / "newsarchive"), "--db", database, "crawl", demo.url + "/", *FAST],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == status, stderr
        assert stderr.startswith("error: ") and stderr.count("\n") == 1
        # multiprocessing's resource tracker leaves once it reads the end of its pipe,
        # just after the command exits: a moment, not a process left behind.
        assert wait_for(lambda: live_members(process.pid) == [], 5), live_members(process.pid)
    assert demo.log == []


def test_a_busy_site_is_refused_or_waited_for(demo: SiteServer, tmp_path: Path) -> None:
    import threading
    from datetime import timedelta

    db = f"sqlite:///{tmp_path / 'a.db'}"
    site = demo.url.removeprefix("http://")
    with Archive(db) as archive:
        assert archive.acquire_lease(site, "scheduler-child", timedelta(minutes=5))
    result = newsarchive(tmp_path, "crawl", demo.url + "/", *FAST)
    assert result.returncode == 3
    assert f"site {site} is being crawled by scheduler-child" in result.stderr
    assert result.stderr.count("\n") == 1 and demo.log == []

    def finish_the_other_crawl() -> None:
        with Archive(db) as archive:
            archive.release_lease(site, "scheduler-child")

    timer = threading.Timer(3.0, finish_the_other_crawl)
    timer.start()
    try:
        result = newsarchive(tmp_path, "crawl", demo.url + "/", *FAST, "--wait")
    finally:
        timer.cancel()
    assert result.returncode == 0, result.stderr[-1500:]
    assert "waiting: site" in result.stderr
    with Archive(db, create=False) as archive:
        assert archive.lease(site) is None  # released when the crawl ended
        assert [run.status for run in archive.runs()] == ["succeeded"]


def test_a_broken_site_is_flagged(
    demo: SiteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.demo.newspaper import STORY_PATHS
    from crawler.demo.siteserver import Route

    crawl_json(newsarchive(tmp_path, "crawl", demo.url + "/", *FAST, "--format", "json"))
    # A redesign: every story URL now serves a thin placeholder page.
    routes = demo_routes(demo.url, day=1)
    for path in STORY_PATHS[1]:
        routes[path] = Route(b"<html><body><p>Loading...</p></body></html>")
    demo.set_routes(routes)
    run = crawl_json(newsarchive(tmp_path, "crawl", demo.url + "/", *FAST, "--format", "json"))
    assert run["counters"]["flags"] == ["no articles (usually 8)"]
    stats = newsarchive(tmp_path, "stats", "--format", "json")
    assert json.loads(stats.stdout)["flags"] == {
        demo.url.removeprefix("http://"): ["no articles (usually 8)"]
    }
    monkeypatch.setenv("COLUMNS", "200")
    table = newsarchive(tmp_path, "runs")
    assert "no articles (usually 8)" in table.stdout


def test_a_crawl_that_loses_its_lease_stops(demo: SiteServer, tmp_path: Path) -> None:
    import signal
    import time
    from datetime import timedelta

    db = f"sqlite:///{tmp_path / 'a.db'}"
    process = slow_crawl(db, demo.url, env={**os.environ, "NEWSARCHIVE_LEASE_TTL": "4"})
    site = demo.url.removeprefix("http://")
    try:
        time.sleep(3)
        with Archive(db) as archive:  # another machine takes over (e.g. after a long stall)
            with archive.engine.begin() as conn:
                from sqlalchemy import text

                conn.execute(text("UPDATE site_leases SET expires_at = '2000-01-01 00:00:00'"))
            assert archive.acquire_lease(site, "other-machine", timedelta(minutes=5))
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
    assert "lost the crawl lease" in err
    with Archive(db) as archive:
        (run,) = archive.runs()
        assert run.status == "interrupted"
        assert archive.lease(site).holder == "other-machine"  # not released by the loser


@pytest.mark.parametrize("ttl", ["inf", "nan", "1", "1e9", "soon"])
def test_a_lease_time_to_live_out_of_range_is_one_line(tmp_path: Path, ttl: str) -> None:
    env = {**os.environ, "NEWSARCHIVE_DB": f"sqlite:///{tmp_path / 'a.db'}"}
    result = subprocess.run(
        [str(BIN / "newsarchive"), "crawl", "http://127.0.0.1:9/"],
        env={**env, "NEWSARCHIVE_LEASE_TTL": ttl}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: NEWSARCHIVE_LEASE_TTL={ttl!r}: expected a number of seconds from 2 to 86400"
    ]


def _scrapy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "scrapy"), *args, *FAST,
         "-s", f"NEWSARCHIVE_DB=sqlite:///{tmp_path / 'a.db'}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_scrapy_crawl_writes_the_archived_articles_as_a_feed(
    demo: SiteServer, tmp_path: Path
) -> None:
    """`scrapy crawl news -o items.jsonl`: every archived article, JSON-ready, with the
    export's keys; 304 checks of a recrawl are not articles and are left out."""
    from crawler.runtime.items import FEED_KEYS

    feed = tmp_path / "items.jsonl"
    done = _scrapy(tmp_path, "crawl", "news", "-a", f"site={demo.url}/", "-o", str(feed))
    assert done.returncode == 0, done.stderr[-2000:]
    items = [json.loads(line) for line in feed.read_text().splitlines()]
    with Archive(f"sqlite:///{tmp_path / 'a.db'}") as archive:
        rows = archive.iter_snapshot_rows(all_versions=False, site=None, since=None)
        archived = {row["canonical_url"]: row for row in rows}
    assert len(items) == len(archived) == len(STORY_PATHS[1])
    for item in items:
        assert tuple(item) == FEED_KEYS
        row = archived[item["canonical_url"]]
        assert (item["title"], item["text"], item["authors"]) == (
            row["title"],
            row["text"],
            list(row["authors"]),
        )
        assert item["published"] == row["published"].isoformat()
        assert item["content_hash"] == row["content_hash"]
        assert item["http_status"] == 200 and item["site"] == demo.url.removeprefix("http://")
    again = tmp_path / "again.jsonl"
    done = _scrapy(tmp_path, "crawl", "news", "-a", f"site={demo.url}/", "-o", str(again))
    assert done.returncode == 0, done.stderr[-2000:]
    assert not again.exists() or again.read_text() == ""
    assert "Dropped" not in done.stderr


def test_scrapy_parse_shows_the_article_and_records_nothing(
    demo: SiteServer, tmp_path: Path
) -> None:
    story = demo.url + sorted(STORY_PATHS[1])[0]
    parse = ("parse", story, "--spider", "news", "-a", f"site={demo.url}/")
    done = _scrapy(tmp_path, *parse)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'title':" in done.stdout and "'text':" in done.stdout
    assert "b'" not in done.stdout  # no raw bytes, no zstd copy
    assert not (tmp_path / "a.db").exists()  # no archive made to look in
    with Archive(f"sqlite:///{tmp_path / 'a.db'}"):
        pass
    db = tmp_path / "a.db"
    with sqlite3.connect(db) as conn:
        schema = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    done = _scrapy(tmp_path, *parse)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        for table in ("crawl_runs", "articles", "sites", "site_url_shapes", "site_url_verdicts"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == schema


def test_a_crawled_version_records_its_extractor_and_response_headers(
    demo: SiteServer, tmp_path: Path
) -> None:
    crawl_json(newsarchive(tmp_path, "crawl", demo.url + "/", *FAST, "--format", "json"))
    with Archive(f"sqlite:///{tmp_path / 'a.db'}", create=False) as archive:
        story = archive.articles(limit=1)[0]
        snapshot = archive.snapshot(story.id)
    assert snapshot.extractor is not None
    assert snapshot.extractor.startswith("news: trafilatura ")
    names = {name.lower(): value for name, value in snapshot.http_headers or []}
    assert names["content-type"].startswith("text/html")
    assert "date" in names or "server" in names
