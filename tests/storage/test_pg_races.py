"""PostgreSQL: two writers naming one story by different URLs at the same moment."""

from __future__ import annotations

import dataclasses
import threading

from storage import Archive, ExtractedArticle
from storage.engine import writer
from storage.prepare import prepare
from storage.writes import SiteCache, write_prepared
from tests.conftest import fetch

PAGE = "https://www.example.com/print/port-strike"
CANONICAL = "https://www.example.com/2026/11/02/port-strike.html"
A = ExtractedArticle(title="Port strike ends", text="Dock workers returned to work.")


def test_alias_lookup_and_insert_are_atomic(pg_url: str) -> None:
    with Archive(pg_url) as first, Archive(pg_url) as second:
        second.record_fetch(fetch("https://www.example.com/warm-up", A))  # site and schema ready
        item = prepare(fetch(PAGE, dataclasses.replace(A, canonical_url=CANONICAL)))
        results: list[int | None] = []
        with writer(first.engine).begin() as conn:
            write_prepared(conn, [item], SiteCache())
            # The first writer has not committed; the second names the page without its
            # canonical. Without URL locks it sees no alias and creates a second article.
            thread = threading.Thread(
                target=lambda: results.append(second.record_fetch(fetch(PAGE, A)).article_id)
            )
            thread.start()
            thread.join(timeout=1.0)
            assert thread.is_alive(), "the second writer must wait for the first"
        thread.join(timeout=30)
        assert results == [first.resolve(CANONICAL)]
        assert first.resolve(PAGE) == first.resolve(CANONICAL)
        assert first.stats()["articles"] == 2  # the warm-up page and the story


WIRE = " ".join(
    f"Harbor officials said on {day} that the ferry service to the outer islands would "
    "resume after repairs to the northern pier were completed ahead of schedule."
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
)


def test_two_copies_written_at_once_join_one_duplicate_group(pg_url: str) -> None:
    """The known race (docs/data-model.md, near-duplicates): two writers committing copies
    of one wire story at the same instant each found no group and started their own."""
    first_copy = ExtractedArticle(title="Ferry resumes", text=WIRE)
    second_copy = ExtractedArticle(title="Ferry service to resume", text=WIRE + " (AP)")
    with Archive(pg_url) as first, Archive(pg_url) as second:
        second.record_fetch(fetch("https://www.example.com/warm-up", A))
        item = prepare(fetch("https://www.example.com/2026/ferry-resumes", first_copy))
        results: list[int | None] = []
        with writer(first.engine).begin() as conn:
            write_prepared(conn, [item], SiteCache())
            thread = threading.Thread(
                target=lambda: results.append(
                    second.record_fetch(
                        fetch("https://news.example.org/wire/ferry-service", second_copy)
                    ).article_id
                )
            )
            thread.start()
            thread.join(timeout=1.0)
            assert thread.is_alive(), "the second copy must wait for the first's group"
        thread.join(timeout=30)
        one = first.resolve("https://www.example.com/2026/ferry-resumes")
        other = first.resolve("https://news.example.org/wire/ferry-service")
        assert results == [other] and one != other
        assert first.article(other).duplicate_group == first.article(one).duplicate_group == one
