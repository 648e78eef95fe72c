"""The archive pipeline leaves retries to the archive's one policy."""

from __future__ import annotations

import asyncio
import sqlite3
from types import SimpleNamespace
from typing import Any

from scrapy.utils.test import get_crawler
from sqlalchemy.exc import OperationalError

from crawler.keys import Counter, Stat, stat
from crawler.runtime.pipeline import ArchivePipeline


class _LockedArchive:
    """An archive whose every write fails as a write that its own retries gave up on."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def record_fetches(self, batch: list[Any]) -> None:
        self.calls.append(len(batch))
        raise OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))


def test_a_batch_the_archive_could_not_write_is_not_tried_again() -> None:
    """The archive already retried it (storage.retries); trying the whole again in the
    pipeline multiplied the attempts (3 x 8) and the time a broken database held a crawl."""
    scrapy_crawler = get_crawler()
    crawler = SimpleNamespace(
        signals=scrapy_crawler.signals, stats=scrapy_crawler.stats, engine=None
    )
    pipeline = ArchivePipeline(crawler, "sqlite://", 50, 2.0, "manual")  # type: ignore[arg-type]
    archive = _LockedArchive()
    pipeline.archive = archive  # type: ignore[assignment]

    assert asyncio.run(pipeline._write([object(), object()])) is None  # type: ignore[list-item]
    assert archive.calls == [2]
    stats = crawler.stats.get_stats()
    assert stats[stat(Counter.error("not_written"))] == 2
    assert stats[Stat.FAILURE].startswith("archive write failed: database is locked")
