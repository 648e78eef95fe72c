"""End to end: fresh discovery on a local site shaped like the web (tests/web_site.py).

The story pages keep their own links (most to 404s and pages that are no stories), listings
paginate, the sitemap lists only the newest half and a fifth of the stories are linked only
from other stories. Each crawl is a child process, as users run it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.siteserver import Route, serve
from tests.corpus import bundled_pages
from tests.running.test_crawl import EXE, FAST, crawl, run_of
from tests.web_site import RunningWebSite, serve_web_site

pytestmark = pytest.mark.e2e


@pytest.fixture
def web_site() -> Iterator[RunningWebSite]:
    with serve_web_site(bundled_pages()) as site:
        yield site


def archived_paths(db: str, site: RunningWebSite) -> set[str]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        urls = {url for (url,) in conn.execute("SELECT url FROM article_urls")}
    return {path for path in site.manifest.stories if site.url + path in urls}


def requested(site: RunningWebSite, since: int = 0) -> list[str]:
    return [entry.path for entry in site.server.log[since:]]


def dead_links(site: RunningWebSite, paths: list[str]) -> set[str]:
    """Requested paths that are no page of the site (links copied from the original)."""
    served = site.manifest.pages | {"/robots.txt", "/sitemap.xml", "/feed.xml"}
    return {path for path in paths if path.split("?")[0] not in served}


def test_a_first_crawl_finds_every_story_including_those_only_linked_from_stories(
    web_site: RunningWebSite, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = crawl(db, web_site.url + "/")
    run = run_of(result)
    manifest = web_site.manifest
    assert manifest.link_only_stories, "the site must have stories only articles link to"
    assert archived_paths(db, web_site) == set(manifest.stories)
    counters = run["counters"]
    paths = requested(web_site)
    # Each story fetched once; what else was fetched is a small part of the crawl: most
    # of the site's dead links and non-story pages were never requested.
    stories = [p for p in paths if p in manifest.stories]
    assert len(stories) == len(set(stories)) == len(manifest.stories)
    same_site_dead = sum(f["dead"] for f in manifest.story_link_fates.values())
    assert len(dead_links(web_site, paths)) <= 6 < same_site_dead
    assert counters["requests"] == len(paths)
    assert counters["requests_per_story"] == round(len(paths) / len(manifest.stories), 2)
    assert counters["requests_per_story"] < 1.7
    assert counters["skipped"]["unexplored"] > 100
    # The summary line says what the run cost and what each rule left out.
    summary = result.stderr.strip().splitlines()[-1]
    assert f"{counters['requests']} requests ({counters['requests_per_story']} per story)" in (
        summary
    )
    assert f"unexplored={counters['skipped']['unexplored']}" in summary
    stats = subprocess.run(
        [str(EXE), "--db", db, "stats", "--format", "json"], capture_output=True, text=True
    )
    discovery = json.loads(stats.stdout)["discovery"]
    (site,) = discovery.values()
    assert site["requests_per_story"] == counters["requests_per_story"]
    assert site["shapes"] > 0 and site["remembered_urls"]["listing"] > 0
    # robots.txt once, though both the robots.txt middleware and the spider read it.
    assert paths.count("/robots.txt") == 1


def test_a_crawl_cut_short_by_max_pages_has_archived_stories_not_tag_pages(
    web_site: RunningWebSite, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    run = run_of(crawl(db, web_site.url + "/", "--max-pages", "15"))
    manifest = web_site.manifest
    pages = [p for p in requested(web_site) if p not in ("/robots.txt", "/sitemap.xml")]
    assert run["counters"]["articles_new"] >= 13
    not_stories = [p for p in pages if p not in manifest.stories]
    assert set(not_stories) <= {"/", "/feed.xml"}, not_stories
    assert not any(p in manifest.tag_pages | manifest.author_pages for p in pages)


def test_pages_decided_not_stories_are_not_fetched_again_until_the_memory_expires(
    web_site: RunningWebSite, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    run_of(crawl(db, web_site.url + "/"))
    first = requested(web_site)
    not_stories = {
        p for p in first if p in web_site.manifest.other_pages or p in dead_links(web_site, [p])
    }
    assert {"/about/", "/contact/"} <= not_stories

    mark = len(web_site.server.log)
    second = run_of(crawl(db, web_site.url + "/"))
    again = requested(web_site, mark)
    assert not_stories.isdisjoint(again), not_stories & set(again)
    # The listings' site pages are skipped by name; the dead links of stories are not
    # even seen (an unchanged story answers 304, with no links).
    assert second["counters"]["skipped"]["known_not_story"] >= 3
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        verdicts = dict(conn.execute("SELECT verdict, count(*) FROM site_url_verdicts GROUP BY 1"))
    assert verdicts["gone"] >= 1
    assert verdicts["not_story"] >= 3
    assert verdicts["listing"] >= len(web_site.manifest.listing_pages)
    # Listings are asked for conditionally; one unchanged stands for the links it had,
    # so the stories on it are still checked (and answer 304).
    assert second["counters"]["checked_listing_304"] >= 1
    assert second["counters"]["checked_304"] >= len(web_site.manifest.listed_stories)

    # A week later every verdict has expired: the pages are looked at again.
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        conn.execute("UPDATE site_url_verdicts SET checked_at = datetime('now', '-8 days')")
    mark = len(web_site.server.log)
    run_of(crawl(db, web_site.url + "/"))
    assert {"/about/", "/contact/"} <= set(requested(web_site, mark))


def test_learned_url_shapes_are_stored_and_read_by_the_next_run(
    web_site: RunningWebSite, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    run_of(crawl(db, web_site.url + "/"))
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        shapes = dict(
            conn.execute("SELECT shape, articles FROM site_url_shapes WHERE listings = 0")
        )
    host = web_site.url.removeprefix("http://").split(":")[0]
    story_shape = f"{host}/world/{{yyyy}}/{{nn}}/{{nn}}/{{words}}/"
    assert shapes.get(story_shape, 0) >= 3, sorted(shapes)
    second = subprocess.run(
        [str(EXE), "--db", db, "-v", "crawl", web_site.url + "/", *FAST],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    # At -v the run logs what it knows of the site's shapes, earlier runs' counts included.
    lines = [line for line in second.stderr.splitlines() if line.endswith(" " + story_shape)]
    assert len(lines) == 1 and "shape story" in lines[0], lines
    articles = int(lines[0].split("shape story")[1].split()[0])
    assert articles >= shapes[story_shape]  # run 2 archived no new story: all from run 1


def test_full_discovery_in_sites_toml_follows_every_same_site_link(
    web_site: RunningWebSite, tmp_path: Path
) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.wire]\nstart_urls = ["{web_site.url}/"]\ndiscovery = "full"\n')
    fresh_db, full_db = (f"sqlite:///{tmp_path / name}" for name in ("fresh.db", "full.db"))
    run_of(crawl(fresh_db, web_site.url + "/"))
    fresh = requested(web_site)
    mark = len(web_site.server.log)
    run_of(crawl(full_db, "wire", sites=sites))
    full = requested(web_site, mark)
    # Full discovery follows the dead links of the stories the listings link to; fresh
    # discovery tries a few and drops their shapes.
    assert len(dead_links(web_site, full)) > 5 * max(1, len(dead_links(web_site, fresh)))
    assert len(full) > len(fresh)
    # and, like fresh discovery, finds every story (a listed story a listing also links
    # to is entered at the listing's depth, so its links are followed)
    assert archived_paths(full_db, web_site) == set(web_site.manifest.stories)
    assert archived_paths(fresh_db, web_site) == set(web_site.manifest.stories)


HOME = b"<html><head><title>Home</title></head><body><h1>Home</h1><p>Hello.</p></body></html>"
SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>"""


@pytest.mark.parametrize("obey", [True, False])
def test_robots_txt_is_read_once_for_its_sitemaps_obeyed_or_not(tmp_path: Path, obey: bool) -> None:
    routes = {
        "/": Route(HOME),
        "/robots.txt": Route(
            b"User-agent: *\nDisallow: /private/\nSitemap: /news-sitemap.xml\n",
            content_type="text/plain",
        ),
        "/news-sitemap.xml": Route(SITEMAP, content_type="application/xml"),
    }
    with serve(routes) as server:
        extra = () if obey else ("-s", "ROBOTSTXT_OBEY=False")
        run = run_of(crawl(f"sqlite:///{tmp_path / 'a.db'}", server.url + "/", *extra))
        paths = [entry.path for entry in server.log]
    assert paths.count("/robots.txt") == 1
    assert "/news-sitemap.xml" in paths and "/sitemap.xml" not in paths
    assert run["counters"]["documents"]["sitemaps"] == 1


def test_a_robots_txt_that_cannot_be_read_does_not_stall_the_crawl(tmp_path: Path) -> None:
    """A redirect loop ends the robots.txt download with an error inside Scrapy's redirect
    handling; the crawl goes on as without robots.txt (the conventional sitemap tried)."""
    routes = {
        "/": Route(HOME),
        "/robots.txt": Route(b"", status=301, headers={"Location": "/robots2.txt"}),
        "/robots2.txt": Route(b"", status=301, headers={"Location": "/robots.txt"}),
    }
    with serve(routes) as server:
        result = crawl(f"sqlite:///{tmp_path / 'a.db'}", server.url + "/")
        paths = [entry.path for entry in server.log]
    run_of(result)
    assert "/" in paths and "/sitemap.xml" in paths
