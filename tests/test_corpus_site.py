"""Self-tests of the local corpus news site: the crawl tests' truths must be true.

If the manifest said a story is reachable, listed or edited when the site does not make it
so, a crawler bug and a fixture bug would look the same. These tests check the routes
directly (no HTTP) where they can, and over HTTP what only a running server shows.
"""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Mapping
from urllib.parse import urlsplit

import lxml.etree
import pytest

from crawler.analysis.page import FetchedPage, PageAnalysis, PageRules, analyze_page
from crawler.demo.siteserver import Route
from tests.corpus_site import (
    CorpusSite,
    RunningCorpusSite,
    SiteManifest,
    corpus_site,  # noqa: F401  (the fixture under test)
    page_links,
)

BASE = "http://127.0.0.1:8001"
OTHER = "http://127.0.0.1:8002"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture(scope="module")
def site() -> CorpusSite:
    return CorpusSite()


@pytest.fixture(scope="module")
def manifest(site: CorpusSite) -> SiteManifest:
    return site.manifest


@pytest.fixture(scope="module")
def day1(site: CorpusSite) -> dict[str, Route]:
    return site.routes(1, BASE, OTHER)


@pytest.fixture(scope="module")
def day2(site: CorpusSite) -> dict[str, Route]:
    return site.routes(2, BASE, OTHER)


def lookup(routes: Mapping[str, Route], url_or_path: str) -> str | None:
    """The route key crawler.demo.siteserver would answer with: path+query, then path."""
    parts = urlsplit(url_or_path)
    key = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if key in routes:
        return key
    return parts.path if parts.path in routes else None


def analyze(path: str, body: bytes) -> PageAnalysis:
    url = BASE + path
    page = FetchedPage(
        site="t", url=url, final_url=url, status=200, body=body, content_type="text/html"
    )
    return analyze_page(page, PageRules())


def story_body(site: CorpusSite, routes: Mapping[str, Route], path: str) -> bytes:
    """A story's bytes, including the flaky one (served by a handler after its 503)."""
    if path == site.manifest.flaky_story:
        return site._flaky.page.html
    return routes[path].body


def links_of(routes: Mapping[str, Route], paths: set[str] | frozenset[str]) -> set[str]:
    """Every absolute link URL (fragments kept) on the given pages."""
    return {url for path in paths for url in page_links(routes[path].body, BASE + path)}


def key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# ---------------------------------------------------------------------- manifest


def test_manifest_sets_are_consistent(manifest: SiteManifest) -> None:
    day1 = manifest.stories_day1
    assert len(day1) == 30
    assert (len(manifest.edited_day2), len(manifest.churned_day2), len(manifest.new_day2)) == (
        3,
        3,
        2,
    )
    assert manifest.stories_day2 == day1 | manifest.new_day2
    assert not manifest.new_day2 & day1
    parts = [manifest.edited_day2, manifest.churned_day2, manifest.identical_day2]
    assert frozenset().union(*parts) == day1
    assert sum(len(p) for p in parts) == len(day1)
    assert manifest.feed_only | manifest.sitemap_only <= day1
    assert not manifest.feed_only & manifest.sitemap_only
    assert set(manifest.top_stories) <= day1
    assert set(manifest.amp.values()) <= manifest.identical_day2
    assert {manifest.flaky_story, manifest.redirect_chain_target} <= manifest.identical_day2
    assert manifest.redirect_chain[-1] == manifest.redirect_chain_target
    assert set(manifest.tracking_variants.values()) <= day1
    assert set(manifest.edits) == manifest.edited_day2
    assert not manifest.disallowed & manifest.stories_day2
    assert len(manifest.undated) == 3
    assert all(not p.startswith("/news/2026/") for p in manifest.undated)
    for path in manifest.stories_day2 | manifest.disallowed:
        assert manifest.titles[path]
        assert manifest.corpus_names[path]
    assert len(set(manifest.corpus_names.values())) == len(manifest.corpus_names)


def test_depths_reach_every_linked_story_within_three_hops(manifest: SiteManifest) -> None:
    only_machine = manifest.feed_only | manifest.sitemap_only
    for story in manifest.stories_day1 - only_machine:
        assert manifest.depth[story] <= 3, story
    for story in only_machine:
        assert story not in manifest.depth, story
    assert manifest.depth[manifest.redirect_chain_target] == manifest.depth["/fault/r1"]
    assert manifest.deep_stories
    assert all(manifest.depth[p] == 1 for p in manifest.top_stories)
    assert not manifest.disallowed & set(manifest.depth)


# ---------------------------------------------------------------------- links


@pytest.mark.parametrize("day", [1, 2])
def test_every_link_on_site_pages_is_served_or_deliberate(
    site: CorpusSite, manifest: SiteManifest, day: int
) -> None:
    routes = site.routes(day, BASE, OTHER)
    offsite = set()
    for url in links_of(routes, manifest.listing_pages):
        if url.startswith(OTHER):
            offsite.add(urlsplit(url).path)
            continue
        assert url.startswith(BASE), url
        if key(url) in manifest.disallowed:
            continue
        assert lookup(routes, url) is not None, url
    assert offsite == set(manifest.offsite_paths)


@pytest.mark.parametrize("day", [1, 2])
def test_story_pages_link_only_to_served_pages_or_known_strays(
    site: CorpusSite, manifest: SiteManifest, day: int
) -> None:
    routes = site.routes(day, BASE, OTHER)
    stories = manifest.stories_day1 if day == 1 else manifest.stories_day2
    for path in stories:
        for url in page_links(story_body(site, routes, path), BASE + path):
            if not url.startswith(BASE + "/"):
                assert not url.startswith(OTHER), url
                continue
            served = lookup(routes, url)
            if served is None:
                assert key(url) in manifest.stray_links, (path, url)
            else:
                # A corpus link to a story URL with a query would be a second URL for one
                # story, served with the same bytes; the selection rule keeps them out.
                assert served == key(url) or served not in stories, (path, url)


def test_home_has_variants_amp_secret_feed_and_other_host(
    day1: dict[str, Route], manifest: SiteManifest
) -> None:
    body = day1["/"].body
    hrefs = {
        key(u) + (f"#{urlsplit(u).fragment}" if urlsplit(u).fragment else "")
        for u in page_links(body, BASE + "/")
    }
    home_variants = {v for v in manifest.tracking_variants if v in hrefs}
    assert any("#comments" in v for v in home_variants)
    assert any("utm_source=" in v for v in home_variants)
    assert set(manifest.amp) <= hrefs
    assert manifest.disallowed <= hrefs
    assert set(manifest.top_stories) <= {lookup(day1, h) for h in hrefs}
    assert f"{OTHER}/stolen-story.html" in page_links(body, BASE + "/")
    assert b'<link rel="alternate" type="application/rss+xml"' in body
    for path in manifest.listing_pages:
        page = day1[path].body
        assert b'property="og:type" content="website"' in page


# ---------------------------------------------------------------------- machine files


def test_robots(day1: dict[str, Route]) -> None:
    text = day1["/robots.txt"].body.decode()
    assert text.splitlines() == [
        "User-agent: *",
        "Disallow: /private/",
        f"Sitemap: {BASE}/sitemap_index.xml",
    ]


def _feed_links(routes: Mapping[str, Route]) -> list[str]:
    root = lxml.etree.fromstring(routes["/feed.xml"].body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    assert all(item.findtext("pubDate") and item.findtext("title") for item in items)
    return [item.findtext("link") for item in items]


def test_feed_lists_only_served_stories(
    day1: dict[str, Route], day2: dict[str, Route], manifest: SiteManifest
) -> None:
    for routes, stories in ((day1, manifest.stories_day1), (day2, manifest.stories_day2)):
        links = _feed_links(routes)
        assert all(link.startswith(BASE + "/") for link in links)
        assert {lookup(routes, link) for link in links} <= stories
        assert any("utm_source=" in link for link in links)
        for link in links:
            if "?" in link:
                assert key(link) in manifest.tracking_variants
    listed = {lookup(day2, link) for link in _feed_links(day2)}
    assert manifest.feed_only <= listed
    assert manifest.new_day2 <= listed
    assert not manifest.new_day2 & {lookup(day1, link) for link in _feed_links(day1)}
    # Feed-only means it: no site page links it.
    linked = {lookup(day2, url) for url in links_of(day2, manifest.listing_pages)}
    assert not manifest.feed_only & linked
    assert manifest.new_day2 <= {lookup(day2, u) for u in links_of(day2, {"/"})}


def _sitemap_locs(body: bytes) -> tuple[str, list[str], list[lxml.etree._Element]]:
    root = lxml.etree.fromstring(body)
    urls = root.findall(f"{SITEMAP_NS}url") + root.findall(f"{SITEMAP_NS}sitemap")
    return root.tag, [u.findtext(f"{SITEMAP_NS}loc") for u in urls], urls


def test_sitemaps(day1: dict[str, Route], day2: dict[str, Route], manifest: SiteManifest) -> None:
    tag, maps, _ = _sitemap_locs(day1["/sitemap_index.xml"].body)
    assert tag == f"{SITEMAP_NS}sitemapindex"
    assert {key(m) for m in maps} == {
        "/sitemaps/stories.xml.gz",
        "/sitemaps/news.xml",
        "/sitemap_index.xml",  # lists itself: a loop the crawler must bound
    }
    gz = day1["/sitemaps/stories.xml.gz"]
    assert gz.content_type in ("application/gzip", "application/x-gzip")
    assert not {h.lower() for h in gz.headers} & {"content-encoding"}
    assert gz.body[:2] == b"\x1f\x8b"
    listed: dict[int, set[str]] = {}
    for day, routes in ((1, day1), (2, day2)):
        tag, stories, _ = _sitemap_locs(gzip.decompress(routes["/sitemaps/stories.xml.gz"].body))
        assert tag == f"{SITEMAP_NS}urlset"
        tag, news, entries = _sitemap_locs(routes["/sitemaps/news.xml"].body)
        assert tag == f"{SITEMAP_NS}urlset"
        for entry in entries:
            assert entry.find(f"{NEWS_NS}news/{NEWS_NS}publication_date") is not None
        served = manifest.stories_day1 if day == 1 else manifest.stories_day2
        keys = {key(u) for u in stories + news}
        assert all(u.startswith(BASE + "/") for u in stories + news)
        assert keys <= served | manifest.disallowed
        assert all(lookup(routes, k) == k for k in keys)
        listed[day] = keys
    assert manifest.sitemap_only <= listed[1]
    assert manifest.new_day2 <= listed[2]
    feed = {lookup(day1, link) for link in _feed_links(day1)}
    linked = {lookup(day1, url) for url in links_of(day1, manifest.listing_pages)}
    assert not manifest.sitemap_only & (feed | linked)
    assert not manifest.sitemap_only & set(manifest.depth)


# ---------------------------------------------------------------------- pages


def test_amp_copy_puts_our_canonical_first(day1: dict[str, Route], manifest: SiteManifest) -> None:
    ((amp, story),) = manifest.amp.items()
    body = day1[amp].body
    original = day1[story].body
    ours = f'<link rel="canonical" href="{BASE}{story}">'.encode()
    head = body.lower().index(b"<head")
    assert body.index(ours) == body.index(b">", head) + 1
    assert body.replace(ours, b"", 1) == original
    assert b"canonical" in original.lower()  # the corpus page's own canonical comes later
    result = analyze(amp, body)
    assert result.kind == "alternate"
    assert result.canonical == BASE + story


def test_stories_are_articles_and_site_pages_are_not(
    site: CorpusSite, day1: dict[str, Route], day2: dict[str, Route], manifest: SiteManifest
) -> None:
    for path in manifest.stories_day1:
        result = analyze(path, story_body(site, day1, path))
        assert result.kind == "article", (path, result.decision)
    for path in manifest.new_day2:
        assert analyze(path, day2[path].body).kind == "article", path
    for routes in (day1, day2):
        for path in manifest.listing_pages:
            result = analyze(path, routes[path].body)
            assert result.kind == "not_article", (path, result.decision)
    assert analyze("/fault/malformed.html", day1["/fault/malformed.html"].body).kind in (
        "not_article",
        "empty",
    )
    assert analyze("/fault/empty.html", day1["/fault/empty.html"].body).kind == "empty"


def test_day2_edits_change_the_text_and_churn_does_not(
    day1: dict[str, Route], day2: dict[str, Route], manifest: SiteManifest
) -> None:
    for path in manifest.edited_day2:
        before, after = analyze(path, day1[path].body), analyze(path, day2[path].body)
        assert before.prepared and before.prepared.content
        assert after.prepared and after.prepared.content
        old, new = manifest.edits[path]
        assert old in before.prepared.content.text
        assert new in after.prepared.content.text
        assert old not in after.prepared.content.text
        assert before.prepared.content.title == after.prepared.content.title
    for path in manifest.churned_day2:
        assert day1[path].body != day2[path].body
        before, after = analyze(path, day1[path].body), analyze(path, day2[path].body)
        assert before.prepared and before.prepared.content
        assert after.prepared and after.prepared.content
        assert before.prepared.content.text == after.prepared.content.text, path
        assert before.prepared.content.content_hash == after.prepared.content.content_hash
    for path in manifest.identical_day2 - {manifest.flaky_story}:
        assert day1[path].body == day2[path].body, path
        assert day1[path].headers == day2[path].headers
    for path in manifest.new_day2:
        assert path not in day1 and path in day2
    for path in manifest.edited_day2 | manifest.churned_day2 | manifest.new_day2:
        assert "Last-Modified" in day2[path].headers  # later than day 1's default


# ---------------------------------------------------------------------- over HTTP


def get(
    base: str, path: str, headers: Mapping[str, str] | None = None, timeout: float = 5
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_served_site_faults_validators_and_days(corpus_site: RunningCorpusSite) -> None:  # noqa: F811
    running = corpus_site
    site, m = running.site, running.manifest
    url = running.url
    assert urlsplit(url).hostname == "127.0.0.1"
    assert urlsplit(running.other_url).port != urlsplit(url).port

    status, headers, _ = get(url, m.flaky_story)
    assert (status, headers.get("Retry-After")) == (503, "1")
    status, headers, body = get(url, m.flaky_story)
    assert status == 200 and body == site._flaky.page.html
    status, _, _ = get(url, m.flaky_story, {"If-None-Match": headers["ETag"]})
    assert status == 304

    location = "/fault/r1"
    for expected in m.redirect_chain[1:]:
        status, headers, _ = get(url, location)
        assert status == 302
        assert headers["Location"] == url + expected
        location = expected
    assert get(url, m.redirect_chain_target)[0] == 200
    status, headers, _ = get(url, "/fault/offsite")
    assert (status, headers["Location"]) == (302, running.other_url + "/stolen-story.html")
    assert get(url, "/fault/500")[0] == 500
    status, headers, body = get(url, "/fault/annual-report")
    assert (status, headers["Content-Type"], body[:5]) == (200, "application/pdf", b"%PDF-")
    status, headers, body = get(url, "/fault/empty.html")
    assert (status, body) == (200, b"")
    with pytest.raises(TimeoutError):
        get(url, "/fault/slow.html", timeout=0.5)

    status, headers, body = get(url, "/sitemaps/stories.xml.gz")
    assert headers["Content-Type"] in ("application/gzip", "application/x-gzip")
    assert "Content-Encoding" not in headers
    assert gzip.decompress(body).startswith(b"<?xml")
    variant = next(v for v in m.tracking_variants if "?" in v)
    assert get(url, variant.split("#")[0])[0] == 200
    status, headers, _ = get(url, next(iter(m.stories_day1 - {m.flaky_story})))
    assert headers["Content-Type"] == "text/html"  # no charset: the page's meta decides

    etags = {}
    for path in m.stories_day1 - {m.flaky_story}:
        status, headers, _ = get(url, path)
        assert status == 200, path
        etags[path] = headers["ETag"]
    for path in m.new_day2:
        assert get(url, path)[0] == 404
    running.set_day(2)
    for path in m.identical_day2 - {m.flaky_story}:
        assert get(url, path, {"If-None-Match": etags[path]})[0] == 304, path
    for path in m.edited_day2 | m.churned_day2:
        status, headers, _ = get(url, path, {"If-None-Match": etags[path]})
        assert status == 200 and headers["ETag"] != etags[path], path
    for path in m.new_day2:
        assert get(url, path)[0] == 200
    # The flaky page keeps its state across days: no second 503.
    assert get(url, m.flaky_story)[0] == 200

    assert get(running.other_url, "/stolen-story.html")[0] == 200
    assert running.server.requested("/fault/500") == 1
    assert len(running.other.log) == 1
