"""Two processes recording the same stories at the same moment, on both databases."""

from __future__ import annotations

import itertools
import multiprocessing
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from storage import Archive, ExtractedArticle, FetchRecord, Outcome

STORIES = 30


def _article(version: str, n: int) -> ExtractedArticle:
    return ExtractedArticle(
        title=f"Story {n} ({version})",
        text=f"Body of story {n}, edition {version}. " * 20,
        authors=("Desk",),
        published=datetime(2026, 11, 1, tzinfo=UTC),
    )


def _records(version: str, variant: str) -> list[FetchRecord]:
    # Each process uses a different URL spelling of the same story.
    return [
        FetchRecord(
            site="concurrent",
            url=f"https://news.example.com/story/{n}{variant}",
            final_url=f"https://news.example.com/story/{n}{variant}",
            status=200,
            body=f"<html>{version} {n}</html>".encode(),
            article=_article(version, n),
        )
        for n in range(STORIES)
    ]


def _worker(url: str, variant: str, barrier: Any, queue: Any) -> None:
    outcomes: list[str] = []
    with Archive(url) as archive:
        for phase in ("A", "B", "A"):
            barrier.wait(timeout=60)
            records = _records(phase, variant)
            for start in range(0, len(records), 10):  # batched, like the crawler
                outcomes += [
                    r.outcome.value for r in archive.record_fetches(records[start : start + 10])
                ]
            # and one by one, interleaving single-record transactions
            outcomes += [archive.record_fetch(r).outcome.value for r in records[:5]]
    queue.put(outcomes)


def _run_pair(url: str) -> list[list[str]]:
    Archive(url).close()  # migrate once, so both workers start on a ready schema
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(url, variant, barrier, queue))
        for variant in ("?utm_source=a", "#b")
    ]
    for w in workers:
        w.start()
    results = [queue.get(timeout=180) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    return results


def test_concurrent_writers_make_one_article_per_story_and_right_versions(db_url: str) -> None:
    results = _run_pair(db_url)
    assert all(Outcome.REJECTED.value not in r for r in results)
    with Archive(db_url) as archive, archive.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar_one() == STORIES
        rows = conn.execute(
            text(
                "SELECT article_id, version, content_hash FROM snapshots "
                "ORDER BY article_id, version"
            )
        ).all()
        latest = dict(conn.execute(text("SELECT id, latest_version FROM articles")).all())
    by_article: dict[int, list[tuple[int, str]]] = {}
    for article_id, version, content_hash in rows:
        by_article.setdefault(article_id, []).append((version, content_hash))
    for article_id, versions in by_article.items():
        numbers = [v for v, _ in versions]
        assert numbers == list(range(1, len(numbers) + 1)), "versions must be contiguous"
        hashes = [h for _, h in versions]
        assert all(a != b for a, b in itertools.pairwise(hashes)), "no repeated version"
        # A -> B -> A recorded by both processes is exactly three versions.
        assert len(versions) == 3
        assert latest[article_id] == 3
    new_articles = sum(r.count(Outcome.NEW_ARTICLE.value) for r in results)
    assert new_articles == STORIES
