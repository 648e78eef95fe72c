"""Self-tests of the web-like local news site (tests/web_site.py), over a real server.

The crawl benchmark trusts the manifest: if it said a story is link-only, or a link is
dead, when the served site does not make it so, a crawler's discovery would be measured
against a wrong truth. So these tests read what 127.0.0.1 serves (bundled pages, the same
on every machine) and check it against the manifest.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from crawler.demo.siteserver import Route
from tests import REPO
from tests.corpus import CorpusPage
from tests.corpus_site import EXCLUDED
from tests.web_site import (
    AUTHORS,
    FATES,
    SECTIONS,
    TAGS,
    RunningWebSite,
    WebSite,
    WebSiteManifest,
    load_corpus_dir,
    serve_web_site,
    story_urls,
)

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_ANY_HREF = re.compile(rb"""(?<=[\s"'/])href\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+)""", re.I)
_ASIDE = re.compile(rb'<aside class="related">.*?</aside>\n', re.DOTALL)
_CHARSET_META = re.compile(rb"<meta\b[^>]*charset[^>]*>", re.IGNORECASE)


def get(base: str, path: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def running(corpus: list[CorpusPage]) -> Iterator[RunningWebSite]:
    with serve_web_site(corpus) as site:
        yield site


@pytest.fixture(scope="module")
def served(running: RunningWebSite) -> dict[str, bytes]:
    """Every HTML page of the site, fetched once over HTTP (path -> body)."""
    bodies = {}
    for path in sorted(running.manifest.pages):
        status, _, body = get(running.url, path)
        assert status == 200, path
        bodies[path] = body
    return bodies


def local_links(body: bytes, base: str, path: str) -> list[str]:
    """Paths (with query) of a page's <a>/<area> links that stay on our host, in page
    order, resolved as the crawler does (crawler.analysis.links: <base href> honoured)."""
    document = lxml.html.document_fromstring(body)
    page_url = base + path
    for node in document.iter("base"):
        href = (node.get("href") or "").strip()
        page_url = urljoin(page_url, href) if href else page_url
        break
    netloc = urlsplit(base).netloc
    found = []
    for node in document.iter("a", "area"):
        href = (node.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            parts = urlsplit(urljoin(page_url, href).split("#", 1)[0])
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.netloc == netloc:
            found.append((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return found


def route_of(routes: Mapping[str, Route], key: str) -> str | None:
    """The route crawler.demo.siteserver answers `key` with: path+query, then path."""
    if key in routes:
        return key
    path = urlsplit(key).path
    return path if path in routes else None


def without_links(body: bytes) -> bytes:
    return _ANY_HREF.sub(b'href=""', body)


# ------------------------------------------------------------------------------ stories


def test_story_pages_are_the_corpus_bytes_but_their_links(
    running: RunningWebSite, served: dict[str, bytes], corpus: list[CorpusPage]
) -> None:
    m = running.manifest
    pages = {page.name: page for page in corpus}
    assert set(m.stories.values()) == set(pages) - set(EXCLUDED)
    changed = 0
    for path, name in m.stories.items():
        original, body = pages[name].html, served[path]
        _, headers, _ = get(running.url, path)
        assert headers["Content-Type"] == "text/html", path
        # One aside of three related stories, inserted before the last </body>.
        asides = _ASIDE.findall(body)
        assert len(asides) == 1, path
        assert asides[0].count(b"<li>") == 3
        rest = _ASIDE.sub(b"", body, count=1)
        assert without_links(rest) == without_links(original), name
        fates = m.story_link_fates[path]
        rewritten = fates["story"] + fates["tag_or_author_or_section"] + fates["other_page"]
        if rewritten:
            changed += 1
            assert rest != original, name
        assert _CHARSET_META.findall(rest) == _CHARSET_META.findall(original), name
        # A paragraph's text survives byte for byte.
        sentences = [
            line.strip()
            for line in pages[name].expected.splitlines()
            if 40 < len(line.strip()) < 200 and line.strip().encode("utf-8") in original
        ]
        for sentence in sentences[:3]:
            assert sentence.encode("utf-8") in body, name
    assert changed > len(m.stories) / 2  # most pages have links that lead to our pages


def test_story_urls_dates_and_sections(running: RunningWebSite) -> None:
    m = running.manifest
    newest_first = sorted(m.stories, key=lambda p: m.published[p], reverse=True)
    for path in m.stories:
        section, year, month, day, slug = path.strip("/").split("/")
        assert section == m.sections[path] in SECTIONS
        assert (year, month, day) == tuple(f"{m.published[path]:%Y/%m/%d}".split("/"))
        assert slug == m.stories[path].lower() + "-story"
    gaps = [
        (m.published[a] - m.published[b]).total_seconds() / 3600
        for a, b in itertools.pairwise(newest_first)
    ]
    assert all(7 < gap < 9 for gap in gaps)
    assert m.published[newest_first[0]].strftime("%Y-%m-%d") == "2026-11-30"
    per_section = Counter(m.sections.values())
    assert max(per_section.values()) - min(per_section.values()) <= 1
    assert story_urls(m, running.url) == {running.url + p for p in m.stories}


# ------------------------------------------------------------------------------ discovery


def test_robots_sitemap_lists_exactly_the_newest_half(running: RunningWebSite) -> None:
    m, url = running.manifest, running.url
    status, headers, robots = get(url, "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    lines = robots.decode().splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert f"Sitemap: {url}/sitemap.xml" in lines
    status, _, body = get(url, "/sitemap.xml")
    assert status == 200
    root = ET.fromstring(body)
    assert root.tag == SITEMAP_NS + "urlset"
    entries = root.findall(f"{SITEMAP_NS}url")
    assert all(e.findtext(f"{SITEMAP_NS}lastmod") for e in entries)
    listed = {e.findtext(f"{SITEMAP_NS}loc") for e in entries}
    newest_first = sorted(m.stories, key=lambda p: m.published[p], reverse=True)
    newest_half = newest_first[: len(newest_first) // 2]
    assert listed == story_urls(m, url, newest_half) == story_urls(m, url, m.sitemap_stories)


def test_feed_holds_the_newest_fifteen_and_is_advertised(
    running: RunningWebSite, served: dict[str, bytes]
) -> None:
    m, url = running.manifest, running.url
    status, headers, body = get(url, "/feed.xml")
    assert status == 200 and "rss" in headers["Content-Type"]
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    links = [item.findtext("link") for item in root.iter("item")]
    assert len(links) == 15
    newest_listed = sorted(m.listed_stories, key=lambda p: m.published[p], reverse=True)[:15]
    assert links == [url + p for p in newest_listed]
    assert set(links) == story_urls(m, url, m.feed_stories)
    assert b'<link rel="alternate" type="application/rss+xml"' in served["/"]
    assert b'href="/feed.xml"' in served["/"]


# ------------------------------------------------------------------------------ listings


def test_home_pagination_reaches_every_listed_story(
    running: RunningWebSite, served: dict[str, bytes]
) -> None:
    m, url = running.manifest, running.url
    numbered = [p for p in m.listing_pages if p.startswith("/page/")]
    home_pages = ["/", *sorted(numbered, key=lambda p: int(p.split("/")[2]))]
    assert len(home_pages) == -(-len(m.listed_stories) // 20) >= 2
    seen: list[str] = []
    for path in home_pages:
        links = local_links(served[path], url, path)
        # Every page shows every page number (page 1 is the home page itself).
        assert {p for p in home_pages if p != path} <= set(links), path
        stories = [p for p in links if p in m.stories]
        assert len(stories) <= 20
        seen += stories
    assert len(seen) == len(set(seen))
    assert set(seen) == m.listed_stories
    assert seen == sorted(seen, key=lambda p: m.published[p], reverse=True)


def test_sections_tags_and_authors_list_only_listed_stories(
    running: RunningWebSite, served: dict[str, bytes]
) -> None:
    m, url = running.manifest, running.url
    for section in SECTIONS:
        pages = [p for p in sorted(m.listing_pages) if p.startswith(f"/{section}/")]
        stories: list[str] = []
        for path in pages:
            links = local_links(served[path], url, path)
            assert set(pages) - {path} <= set(links)
            page_stories = [p for p in links if p in m.stories]
            assert len(page_stories) <= 10
            stories += page_stories
        expected = {p for p in m.listed_stories if m.sections[p] == section}
        assert set(stories) == expected and len(stories) == len(expected)
    assert m.tag_pages == {f"/tag/{t}/" for t in TAGS} and len(TAGS) == 12
    assert m.author_pages == {f"/author/{a}/" for a in AUTHORS} and len(AUTHORS) == 8
    for path in m.tag_pages | m.author_pages:
        picked = {p for p in local_links(served[path], url, path) if p in m.stories}
        assert len(picked) == 8 and picked <= m.listed_stories, path


def test_every_site_page_carries_the_nav_and_headline_teasers(
    running: RunningWebSite, served: dict[str, bytes], corpus: list[CorpusPage]
) -> None:
    m, url = running.manifest, running.url
    nav = {f"/{s}/" for s in SECTIONS} | {"/about/", "/contact/", "/privacy/"}
    for path in m.listing_pages | m.tag_pages | m.author_pages | m.other_pages:
        body = served[path]
        assert b'<meta charset="utf-8">' in body
        links = set(local_links(body, url, path))
        assert nav <= links, path
        assert len([p for p in links if p in m.tag_pages]) >= 4, path
    titles = {page.name: page.title for page in corpus}
    teasers = 0
    for path in m.listing_pages | m.tag_pages | m.author_pages:
        for story, text in re.findall(r'<h2><a href="([^"]+)">([^<]+)</a>', served[path].decode()):
            headline = html.unescape(text)
            assert len(headline) >= 30
            assert headline.startswith(titles[m.stories[story]])
            teasers += 1
    assert teasers > len(m.listed_stories) * 2


# ------------------------------------------------------------------------------ links


def test_link_only_stories_are_found_only_through_other_stories(
    running: RunningWebSite, served: dict[str, bytes]
) -> None:
    m, url = running.manifest, running.url
    assert len(m.link_only_stories) == round(len(m.stories) * 0.2)
    assert m.link_only_stories == set(m.stories) - m.listed_stories
    oldest = sorted(m.stories, key=lambda p: m.published[p])[: len(m.link_only_stories)]
    assert set(oldest) == m.link_only_stories
    assert not m.link_only_stories & (m.sitemap_stories | m.feed_stories)
    _, _, sitemap = get(url, "/sitemap.xml")
    _, _, feed = get(url, "/feed.xml")
    for path in m.link_only_stories:
        assert path.encode() not in sitemap and path.encode() not in feed
    listings = m.listing_pages | m.tag_pages | m.author_pages | m.other_pages
    for path in listings:
        assert not set(local_links(served[path], url, path)) & m.link_only_stories, path
    linked_from: dict[str, set[str]] = {p: set() for p in m.link_only_stories}
    for path in m.listed_stories:
        for target in local_links(served[path], url, path):
            if target in linked_from:
                linked_from[target].add(path)
    for path, sources in linked_from.items():
        assert len(sources) >= 2, path
    for path, related in m.related.items():
        assert len(related) == 3 == len(set(related)) and path not in related


def test_story_links_have_the_fates_the_manifest_counts(
    running: RunningWebSite, served: dict[str, bytes]
) -> None:
    """Each story's links, as a crawler resolves them, land where the manifest says; the
    shares match the design: most same-site links are dead or lead to non-articles."""
    m, url = running.manifest, running.url
    routes = running.server.routes
    hubs = m.tag_pages | m.author_pages | {f"/{s}/" for s in SECTIONS}
    total: Counter[str] = Counter()
    dead: list[str] = []
    for path in sorted(m.stories):
        aside = set(m.related[path])
        counted: Counter[str] = Counter()
        for link in local_links(served[path], url, path):
            route = route_of(routes, link)
            if route is None:
                counted["dead"] += 1
                dead.append(link)
            elif route in aside and link == route:
                aside.discard(route)  # the aside's link, once (counted nowhere)
            elif route in m.stories:
                assert route != path, (path, link)
                counted["story"] += 1
            elif route in hubs:
                counted["tag_or_author_or_section"] += 1
            elif route in m.other_pages and route.startswith(("/video/", "/gallery/")):
                counted["other_page"] += 1
            else:
                pytest.fail(f"{path}: link {link} lands on {route}, which no fate leads to")
        assert not aside, path
        fates = m.story_link_fates[path]
        assert counted == Counter({f: fates[f] for f in FATES[:4] if fates[f]}), path
        total.update(counted)
    same_site = sum(total.values())
    assert same_site > 500
    assert {f: total[f] for f in FATES[:4]} == {f: m.link_fates[f] for f in FATES[:4]}
    share = {fate: total[fate] / same_site for fate in FATES[:4]}
    assert 0.04 < share["story"] < 0.13
    assert 0.03 < share["tag_or_author_or_section"] < 0.12
    assert 0.09 < share["other_page"] < 0.22
    assert 0.60 < share["dead"] < 0.80
    assert m.link_fates["offsite"] > 1000
    # Dead links answer 404 (a spread-out sample; every one is checked against routes).
    for link in sorted(set(dead))[::7]:
        status, _, _ = get(url, link)
        assert status == 404, link


# ------------------------------------------------------------------------------ build


def routes_digest(routes: Mapping[str, Route]) -> str:
    digest = hashlib.sha256()
    for path in sorted(routes):
        route = routes[path]
        head = (path, route.status, route.content_type, sorted(route.headers.items()))
        digest.update(repr(head).encode() + b"\0" + route.body + b"\0")
    return digest.hexdigest()


_FOREIGN_BASE = {"pixnet"}  # the bundled pages with a <base href> to another host
_CHILD = """
import sys
from tests.corpus import bundled_pages
from tests.test_web_site import routes_digest
from tests.web_site import WebSite
print(routes_digest(WebSite(bundled_pages()).routes("http://127.0.0.1:8001")))
"""


def test_building_twice_gives_identical_routes(corpus: list[CorpusPage]) -> None:
    base = "http://127.0.0.1:8001"
    first, second = WebSite(corpus), WebSite(list(reversed(corpus)))
    routes = first.routes(base)
    assert routes == second.routes(base)
    assert first.manifest == second.manifest
    # Another process with another string-hash seed: no set or dict order leaks in.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == routes_digest(routes)
    # Only the discovery documents name the host, and the asides of pages whose
    # <base href> points to their original site (pixnet): those must be absolute.
    other = first.routes("http://127.0.0.1:8002")
    differing = {p for p in routes if routes[p] != other[p]}
    based = {p for p, name in first.manifest.stories.items() if name in _FOREIGN_BASE}
    assert based and differing == {"/robots.txt", "/sitemap.xml", "/feed.xml"} | based


def test_load_corpus_dir_reads_a_corpus_folder(tmp_path: Path, corpus: list[CorpusPage]) -> None:
    chosen = corpus[:3]
    for page in chosen:
        folder = tmp_path / page.name
        folder.mkdir()
        (folder / "source.html").write_bytes(page.html)
        (folder / "expected.txt").write_text(page.expected, encoding="utf-8")
        (folder / "metadata.json").write_text(json.dumps(page.metadata), encoding="utf-8")
    (tmp_path / "not-a-page").mkdir()
    loaded = load_corpus_dir(tmp_path)
    assert [p.name for p in loaded] == [p.name for p in chosen]
    assert [p.html for p in loaded] == [p.html for p in chosen]
    assert [p.title for p in loaded] == [p.title for p in chosen]


def test_manifest_is_frozen(running: RunningWebSite) -> None:
    m: WebSiteManifest = running.manifest
    with pytest.raises(AttributeError):
        m.stories = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.stories["/x/"] = "y"  # type: ignore[index]
    assert set(m.link_fates) == set(FATES)
    assert m.listing_pages >= {"/", "/world/", "/business/", "/culture/"}
    expected_other = {"/about/", "/contact/", "/privacy/"}
    expected_other |= {f"/{k}/{n}/" for k in ("video", "gallery") for n in range(1, 21)}
    assert m.other_pages == expected_other
