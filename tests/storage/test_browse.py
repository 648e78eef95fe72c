"""Reading the archive without a search term (storage.browse), on both databases: what the
web app's overview, changes, site and search pages list."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    Archive,
    ArchiveMissingError,
    ExtractedArticle,
    NothingToCompareError,
    SearchFilters,
)
from tests.conftest import fetch

FILLER = " ".join(f"filler{i}" for i in range(60))


def story(title: str, body: str = "", **extra: object) -> ExtractedArticle:
    return ExtractedArticle(title=title, text=f"{body}\n{FILLER}", **extra)  # type: ignore[arg-type]


def test_recent_stories_changes_and_sites(archive: Archive) -> None:
    archive.record_fetch(fetch("https://a.example/1", story("Harbor opens", "ships"), site="a"))
    archive.record_fetch(fetch("https://b.example/2", story("Comet seen", "sky"), site="b"))
    archive.record_fetch(fetch("https://a.example/3", story("Ferry cut", "boats"), site="a"))
    # a headline edit, then an edit of the body only
    archive.record_fetch(
        fetch("https://a.example/1", story("Harbor opens at last", "ships"), site="a")
    )
    archive.record_fetch(fetch("https://b.example/2", story("Comet seen", "sky, clear"), site="b"))
    run = archive.start_run("a")
    archive.finish_run(run, "succeeded", {"articles_new": 2, "flags": ["few stories"]})

    newest = archive.recent_stories(limit=2)
    assert [s.title for s in newest] == ["Ferry cut", "Comet seen"]
    assert [s.title for s in archive.recent_stories(site="a")] == [
        "Ferry cut",
        "Harbor opens at last",
    ]
    assert archive.recent_stories(limit=2, offset=2)[0].versions == 2

    changes = archive.recent_changes()
    assert [(c.title, c.version) for c in changes] == [
        ("Comet seen", 2),
        ("Harbor opens at last", 2),
    ]
    comet, harbor = changes
    assert harbor.headline_changed and harbor.previous_title == "Harbor opens"
    assert not comet.headline_changed and comet.changed_fields == ["text"]
    assert [c.site for c in archive.recent_changes(site="b")] == ["b"]

    assert archive.counts() == {"articles": 3, "snapshots": 5, "sites": 2, "runs": 1}
    a, b = archive.site_summaries()
    assert (a.name, a.articles, a.last_run_status, a.flags) == (
        "a",
        2,
        "succeeded",
        ["few stories"],
    )
    assert (b.name, b.articles, b.last_run_id) == ("b", 1, None)
    assert archive.site_summaries("b") == [b]


def test_stories_per_day_counts_each_day_with_zeros(archive: Archive) -> None:
    for n in range(3):
        archive.record_fetch(fetch(f"https://a.example/{n}", story(f"Story {n}"), site="a"))
    days = archive.stories_per_day("a", 7)
    today = datetime.now(UTC).date()
    assert [day for day, _ in days] == [today - timedelta(days=6 - n) for n in range(7)]
    assert days[-1][1] == 3 and sum(n for _, n in days) == 3
    assert archive.stories_per_day("nowhere", 3) == [(d, 0) for d, _ in days[-3:]]


def test_search_facets_count_every_match_per_site_and_language(archive: Archive) -> None:
    for n, (site, language) in enumerate([("a", "en"), ("a", "de"), ("b", "en"), ("b", None)]):
        article = story(f"Strike {n}", "the port strike", language=language)
        archive.record_fetch(fetch(f"https://{site}.example/{n}", article, site=site))
    archive.record_fetch(fetch("https://b.example/9", story("Comet", "sky"), site="b"))
    facets = archive.search_facets("strike")
    assert facets.total == 4 and not facets.capped
    assert facets.sites == {"a": 2, "b": 2}
    assert facets.languages == {"en": 2, "de": 1, "unknown": 1}
    assert archive.search_facets("strike", SearchFilters(site="b")).sites == {"b": 2}
    capped = archive.search_facets("strike", cap=3)
    assert capped.total == 3 and capped.capped


def test_copies_of_a_story_are_its_duplicate_group(archive: Archive) -> None:
    text = "The council approved the harbor budget after a long debate. " * 20
    archive.record_fetch(fetch("https://a.example/x", story("Budget passes", text), site="a"))
    archive.record_fetch(fetch("https://b.example/y", story("Budget passes", text), site="b"))
    first = archive.article("https://a.example/x")
    assert first.duplicate_group is not None
    assert [c.url for c in archive.copies_of(first)] == ["https://b.example/y"]
    assert archive.copies_of(dataclasses.replace(first, duplicate_group=None)) == []


def test_articles_filter_without_a_search_term(archive: Archive) -> None:
    day = datetime(2026, 11, 1, 12, tzinfo=UTC)
    entries = [
        ("a", "https://a.example/1", story("One", published=day, language="en-GB",
                                           authors=("Ana Lima",))),
        ("a", "https://a.example/2", story("Two", published=day + timedelta(days=2),
                                           language="de")),
        ("b", "https://b.example/3", story("Three", language="en")),  # no date
        ("b", "https://b.example/4", story("Four", published=day + timedelta(days=1),
                                           authors=("Ben Ortiz", "ana lima"))),
    ]  # fmt: skip
    for site, url, article in entries:
        archive.record_fetch(fetch(url, article, site=site))

    def titles(**filters: object) -> list[str]:
        return [s.title for s in archive.articles(SearchFilters(**filters))]  # type: ignore[arg-type]

    assert titles() == ["Two", "Four", "One", "Three"]  # newest published first, undated last
    assert titles(site="a") == ["Two", "One"]
    assert titles(language="en") == ["One", "Three"]
    assert titles(author="ANA") == ["Four", "One"]
    assert titles(since=day + timedelta(hours=1)) == ["Two", "Four"]
    assert titles(until=day + timedelta(days=1)) == ["One"]
    by_arrival = [s.title for s in archive.articles(SearchFilters(date_field="first_seen"))]
    assert by_arrival == ["Four", "Three", "Two", "One"]
    assert [s.title for s in archive.articles(limit=2, offset=1)] == ["Four", "One"]


def test_open_takes_a_path_and_never_creates_by_default(tmp_path: Path) -> None:
    path = tmp_path / "notes" / ".." / "archive.db"
    with pytest.raises(ArchiveMissingError):
        Archive.open(path)
    assert not (tmp_path / "archive.db").exists()
    with Archive.open(path, create=True) as created:
        assert created.counts()["articles"] == 0
    with Archive.open(str(tmp_path / "archive.db"), read_only=True) as reader:
        assert reader.url == f"sqlite:///{tmp_path / 'archive.db'}"


def test_diff_defaults_to_the_latest_two_versions(archive: Archive) -> None:
    for title in ("Harbor closes", "Harbor closes early", "Harbor closes early today"):
        archive.record_fetch(fetch("https://a.example/h", story(title)))
    compared = archive.diff("https://a.example/h")
    assert (compared.older.version, compared.newer.version) == (2, 3)
    assert [d.field for d in compared.changed] == ["title"]
    assert archive.diff("https://a.example/h", 1, -1).older.title == "Harbor closes"
    archive.record_fetch(fetch("https://a.example/new", story("New")))
    with pytest.raises(NothingToCompareError):
        archive.diff("https://a.example/new")
