"""The bundled demo site: every link served, robots/feed/sitemap honest, day 2 exactly as meant."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import lxml.html
import pytest

from crawler.analysis.charset import decode_html
from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from crawler.demo.newspaper import (
    DRAFT_PATHS,
    EDITED_STORY,
    NEW_STORY,
    SITE_DIR,
    STORY_PATHS,
    demo_routes,
)
from crawler.demo.siteserver import Route, SiteServer, serve
from tests import REPO

ROOT = REPO
BASE = "http://127.0.0.1:8123"
CAFE = "/local/2026/11/cafe-opens-in-lighthouse-keepers-cottage.html"
SITE_PAGES = {"/robots.txt", "/feed.xml", "/sitemap.xml"}
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(params=[1, 2], ids=["day1", "day2"])
def site(request) -> Iterator[SiteServer]:
    with serve({}) as server:
        server.set_routes(demo_routes(server.url, request.param))
        server.day = request.param  # type: ignore[attr-defined]
        yield server


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def route_key(routes: dict[str, Route], url: str) -> str | None:
    """The route the server answers `url` with: path and query first, then the path."""
    parts = urlsplit(url)
    with_query = parts.path + ("?" + parts.query if parts.query else "")
    if with_query in routes:
        return with_query
    return parts.path if parts.path in routes else None


def is_html(route: Route) -> bool:
    return route.content_type.startswith("text/html")


def html_links(page_url: str, body: bytes, content_type: str) -> list[str]:
    text, _ = decode_html(body, content_type)
    tree = lxml.html.fromstring(text)
    hrefs = [a.get("href") for a in tree.iter("a")]
    hrefs += [link.get("href") for link in tree.iter("link")]
    return [urldefrag(urljoin(page_url, h))[0] for h in hrefs if h and not h.startswith("#")]


def xml_links(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [el.text or "" for el in root.iter() if el.tag in ("link", f"{{{SITEMAP_NS['sm']}}}loc")]


def story_urls_in(routes: dict[str, Route], name: str) -> list[str]:
    return [u for u in xml_links(routes[name].body) if urlsplit(u).path != "/"]


def analyze(path: str, route: Route, base: str = BASE):
    url = base + path
    page = FetchedPage(
        site="demo",
        url=url,
        final_url=url,
        status=200,
        body=route.body,
        content_type=route.content_type,
    )
    return analyze_page(page, PageRules())


def test_every_internal_link_is_served_and_every_route_is_reachable(site):
    """Walk the site from robots.txt and the home page the way a crawler would (robots aside)."""
    routes = site.routes
    todo = [site.url + "/robots.txt", site.url + "/"]
    seen: set[str] = set(todo)
    reached: set[str] = set()
    while todo:
        url = todo.pop()
        status, headers, body = get(url)
        assert status == 200, url
        key = route_key(routes, url)
        assert key is not None
        reached.add(key)
        content_type = headers["Content-Type"]
        if content_type.startswith("text/html"):
            found = html_links(url, body, content_type)
        elif content_type.startswith("text/plain"):
            found = [
                line.split(":", 1)[1].strip()
                for line in body.decode().splitlines()
                if line.lower().startswith("sitemap:")
            ]
        else:
            found = xml_links(body)
        for link in found:
            if urlsplit(link).netloc != urlsplit(site.url).netloc:
                assert not link.startswith("http://127.0.0.1"), f"{url} links another port: {link}"
                continue
            assert route_key(routes, link) is not None, f"{url} links a missing page: {link}"
            if link not in seen:
                seen.add(link)
                todo.append(link)
    assert reached == set(routes), "routes nobody links to: " + str(set(routes) - reached)
    assert reached >= DRAFT_PATHS  # served and linked, though robots.txt hides them


def test_no_placeholder_survives_and_content_types_fit(site):
    for path, route in site.routes.items():
        assert b"{{BASE}}" not in route.body, path
        if path.endswith((".html", "/")) or "?" in path:
            assert is_html(route), path
    assert site.routes["/feed.xml"].content_type == "application/rss+xml"
    assert site.routes["/sitemap.xml"].content_type == "application/xml"
    assert site.routes["/robots.txt"].content_type.startswith("text/plain")


def test_robots_hides_the_drafts_and_names_the_sitemap(site):
    parser = RobotFileParser()
    parser.parse(site.routes["/robots.txt"].body.decode().splitlines())
    for draft in DRAFT_PATHS:
        assert draft.startswith("/drafts/")
        assert not parser.can_fetch("newsarchive", site.url + draft)
    for path in STORY_PATHS[site.day] | {"/", "/local/?page=2", "/feed.xml"}:
        assert parser.can_fetch("newsarchive", site.url + path), path
    assert parser.site_maps() == [site.url + "/sitemap.xml"]


def test_feed_and_sitemap_list_exactly_the_days_stories(site):
    stories = STORY_PATHS[site.day]
    feed = story_urls_in(site.routes, "/feed.xml")
    sitemap = story_urls_in(site.routes, "/sitemap.xml")
    for url in feed + sitemap:
        assert url.startswith(site.url + "/"), url
    assert {urlsplit(u).path for u in feed} == stories
    assert any("utm_source=" in u for u in feed)  # the crawler must strip these
    assert {urlsplit(u).path for u in sitemap} == stories
    assert not any(urlsplit(u).query for u in sitemap)
    root = ET.fromstring(site.routes["/sitemap.xml"].body)
    assert len(root.findall("sm:url/sm:lastmod", SITEMAP_NS)) == len(stories)


def test_the_home_page_links_a_tracking_variant_a_fragment_and_the_feed():
    home = demo_routes(BASE)["/"]
    links = [link.get("href") for link in lxml.html.fromstring(home.body).iter("a", "link")]
    assert any("?utm_source=demo" in (h or "") for h in links)
    assert any((h or "").endswith("#comments") for h in links)
    assert "/feed.xml" in links
    assert any(h in DRAFT_PATHS for h in links)


def test_day_two_changes_exactly_the_intended_files():
    day1, day2 = demo_routes(BASE, 1), demo_routes(BASE, 2)
    assert set(day2) - set(day1) == {NEW_STORY}
    assert set(day1) <= set(day2)
    changed = {path for path in day1 if day1[path] != day2[path]}
    assert changed == {"/", "/feed.xml", "/sitemap.xml", EDITED_STORY}
    day2_files = [p for p in (SITE_DIR / "day2").rglob("*") if p.is_file()]
    assert len(day2_files) == len(changed) + 1  # the day2 folder holds only what changes


def test_day_two_edits_the_headline_everywhere_and_appends_a_correction():
    old = analyze(EDITED_STORY, demo_routes(BASE, 1)[EDITED_STORY]).prepared.record.article
    new = analyze(EDITED_STORY, demo_routes(BASE, 2)[EDITED_STORY]).prepared.record.article
    assert old.title == "Port strike enters second week as container ships queue offshore"
    assert new.title == "Port strike enters second week as talks with harbor board collapse"
    body = demo_routes(BASE, 2)[EDITED_STORY].body.decode()
    assert body.count(new.title) >= 4  # <title>, <h1>, og:title, JSON-LD headline
    assert old.title not in body
    assert new.text.rstrip().endswith("The harbor board's figure is 23.")
    assert "Correction" not in old.text
    assert new.published == old.published and new.modified > old.modified


def test_the_trending_box_is_the_only_other_churn_on_the_home_page():
    def trending(routes: dict[str, Route]) -> list[str]:
        tree = lxml.html.fromstring(routes["/"].body)
        return [a.get("href") for a in tree.xpath('//aside[@class="trending"]//a')]

    before, after = trending(demo_routes(BASE, 1)), trending(demo_routes(BASE, 2))
    assert before != after
    assert after[0] == NEW_STORY


def test_windows_1252_story_decodes_from_its_meta_tag():
    route = demo_routes(BASE)[CAFE]
    assert route.content_type == "text/html"  # no charset: the <meta> must decide
    assert b'<meta charset="windows-1252">' in route.body
    with pytest.raises(UnicodeDecodeError):
        route.body.decode("utf-8")
    text, encoding = decode_html(route.body, route.content_type)
    assert encoding == "cp1252"
    for expected in ("café", "Café", "“Everyone in Port Ellery", "keeper’s", "– and by noon"):
        assert expected in text
    article = analyze(CAFE, route).prepared.record.article
    assert article.title == "Café opens in the old lighthouse keeper’s cottage"
    assert "“keeper’s cake”" in article.text


@pytest.mark.parametrize("day", [1, 2])
def test_stories_are_articles_and_everything_else_is_not(day):
    """On failure, the decision's reasons say which signals misjudged the page."""
    routes = demo_routes(BASE, day)
    kinds = {
        path: analyze(path, route)
        for path, route in routes.items()
        if is_html(route) and path not in DRAFT_PATHS  # a draft looks like a story on purpose
    }
    articles = {path for path, result in kinds.items() if result.kind == "article"}
    assert articles == STORY_PATHS[day], {p: kinds[p].decision for p in articles ^ STORY_PATHS[day]}
    for path in STORY_PATHS[day]:
        article = kinds[path].prepared.record.article
        assert len(article.text) >= 1500, path
        assert article.authors and article.language == "en", path
        assert article.published is not None and article.modified is not None, path
        assert article.canonical_url == BASE + path
        for boilerplate in ("cookies", "Morning Tide", "Related stories", "Post comment", "Share:"):
            assert boilerplate not in article.text, (path, boilerplate)


def test_a_story_answers_conditional_requests_with_304_until_day_two_edits_it():
    unchanged = "/local/2026/11/comet-lights-up-sky-over-harbor.html"
    with serve({}) as server:
        server.set_routes(demo_routes(server.url, 1))
        tags = {}
        for path in (unchanged, EDITED_STORY):
            status, headers, body = get(server.url + path)
            assert status == 200 and body
            assert headers["Content-Type"] == "text/html; charset=utf-8"
            tags[path] = headers["ETag"]
            assert get(server.url + path, {"If-None-Match": tags[path]})[0] == 304
        server.set_routes(demo_routes(server.url, 2))
        assert get(server.url + unchanged, {"If-None-Match": tags[unchanged]})[0] == 304
        status, headers, _ = get(server.url + EDITED_STORY, {"If-None-Match": tags[EDITED_STORY]})
        assert status == 200 and headers["ETag"] != tags[EDITED_STORY]


def test_the_command_prints_its_url_serves_and_switches_days_on_sigusr1():
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.newspaper"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        status, _, body = get(base + "/sitemap.xml")
        assert status == 200 and NEW_STORY.encode() not in body
        assert get(base + NEW_STORY)[0] == 404
        process.send_signal(signal.SIGUSR1)
        for _ in range(50):
            if get(base + NEW_STORY)[0] == 200:
                break
            time.sleep(0.1)
        assert get(base + NEW_STORY)[0] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
