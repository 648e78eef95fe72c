"""End to end: `newsarchive crawl` against a local news site built from the corpus.

Each crawl runs as a child process, as users run it (Twisted's reactor cannot be restarted
in one process). The site (tests/corpus_site.py) knows its own truths: which paths are
stories, which are listings, what changes on the second day, which paths are off limits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from storage import Archive
from storage.urls import canonicalize_url
from tests import REPO
from tests.corpus import bundled_pages
from tests.corpus_site import RunningCorpusSite, story_urls
from tests.quality import shingle_f1

pytestmark = pytest.mark.e2e

ROOT = REPO
EXE = Path(sys.executable).parent / "newsarchive"
FAST = (
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "DOWNLOAD_TIMEOUT=2",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "NEWSARCHIVE_FLUSH_SECONDS=0.5",
)  # fmt: skip


def crawl(db: str, *args: str, cwd: Path | None = None, sites: Path | None = None):
    env = {**os.environ, "NEWSARCHIVE_DB": db}
    if sites is not None:
        env["NEWSARCHIVE_SITES"] = str(sites)
    return subprocess.run(
        [str(EXE), "crawl", *args, *FAST, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
    )


def run_of(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = json.loads(result.stdout)
    return run


def archived(db: str) -> dict[str, int]:
    """Canonical URL -> number of versions, for every article in the archive."""
    with Archive(db, create=False) as archive, archive.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(text("SELECT canonical_url, latest_version FROM articles"))
        return {row[0]: row[1] for row in rows}


def story_key(path: str) -> str:
    """The story a requested path means, with tracking parameters and fragments dropped."""
    return urlsplit(canonicalize_url("http://h" + path)).path


def test_two_days_of_a_news_site(corpus_site: RunningCorpusSite, db_url: str) -> None:
    site, manifest = corpus_site, corpus_site.manifest
    run = run_of(crawl(db_url, site.url + "/"))
    counters = run["counters"]
    assert run["status"] == "succeeded"

    # Every story found once, through links, pagination, the feed, the sitemaps, the
    # redirect chain and the flaky page's retry; nothing else archived.
    expected = story_urls(site.url, manifest.stories_day1)
    found = archived(db_url)
    assert set(found) == expected, (expected - set(found), set(found) - expected)
    assert all(versions == 1 for versions in found.values())
    assert counters["articles_new"] == len(expected)

    # Listing pages were fetched (they lead to the stories) but are not articles.
    requested = site.requested_paths()
    for path in manifest.listing_pages:
        assert path in requested or path.split("?")[0] in requested, path
    assert counters["not_article"] >= len(manifest.listing_pages)

    # Off limits: robots.txt's disallowed paths and the other host, redirects included.
    assert not [p for p in requested if any(p.startswith(d) for d in manifest.disallowed)]
    assert site.other.log == []
    assert counters["blocked"]["offsite"] >= 1

    # Tracking parameters, fragments and the AMP copy never cost a second fetch.
    per_story: dict[str, int] = {}
    for path in requested:
        key = story_key(path)
        if key in manifest.stories_day1:
            per_story[key] = per_story.get(key, 0) + 1
    retried = {manifest.flaky_story}
    assert {k: n for k, n in per_story.items() if n > 1 and k not in retried} == {}
    assert per_story[manifest.flaky_story] == 2
    # the 503 carried Retry-After: 1, and the retry waited for it
    flaky = [e.at for e in site.server.log if story_key(e.path) == manifest.flaky_story]
    assert flaky[1] - flaky[0] >= 0.9
    for amp_path, canonical in manifest.amp.items():
        assert requested.count(amp_path) == 1
        assert site.url + canonical in found

    # Faults are counted by kind, and the crawl went on.
    errors = counters["errors"]
    assert errors.get("http_500", 0) >= 1
    assert errors.get("timeout", 0) >= 1
    assert counters["skipped"]["not_html"] >= 1
    assert counters["skipped"].get("empty", 0) + counters["skipped"].get("unparsable", 0) >= 1

    # Clean text and metadata for what was archived.
    pages = {page.name: page for page in bundled_pages()}
    with Archive(db_url, create=False) as archive:
        scores = []
        for path in manifest.stories_day1:
            snapshot = archive.snapshot(site.url + path)
            assert snapshot.title, path
            reference = pages[manifest.corpus_names[path]].expected
            scores.append(shingle_f1(snapshot.text, reference))
        assert sum(scores) / len(scores) > 0.9
        chain_start = site.url + manifest.redirect_chain[0]
        assert archive.resolve(chain_start) == archive.resolve(
            site.url + manifest.redirect_chain_target
        )

    # Day two: edits are versioned, boilerplate churn is not, known stories answer 304.
    site.set_day(2)
    day1_requests = len(site.server.log)
    run = run_of(crawl(db_url, site.url + "/"))
    counters = run["counters"]
    found = archived(db_url)
    assert set(found) == story_urls(site.url, manifest.stories_day2)
    for path in manifest.edited_day2:
        assert found[site.url + path] == 2, path
    for path in manifest.churned_day2 | manifest.identical_day2:
        assert found[site.url + path] == 1, path
    for path in manifest.new_day2:
        assert found[site.url + path] == 1, path
    assert counters["articles_changed"] == len(manifest.edited_day2)
    assert counters["articles_new"] == len(manifest.new_day2)
    conditional = {
        story_key(entry.path)
        for entry in site.server.log[day1_requests:]
        if "If-None-Match" in entry.headers
    }
    assert manifest.identical_day2 <= conditional
    assert counters["checked_304"] >= len(manifest.identical_day2)
    with Archive(db_url, create=False) as archive:
        for path, (old, new) in manifest.edits.items():
            text = archive.snapshot(site.url + path).text
            assert new in text and old not in text, path

    with Archive(db_url, create=False) as archive:
        statuses = [(r.trigger, r.status) for r in archive.runs()]
    assert statuses == [("manual", "succeeded"), ("manual", "succeeded")]
