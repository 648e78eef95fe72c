"""The archive pipeline: batched transactions off the reactor, and the crawl run's record.

Fetches arrive already extracted and precomputed by the worker processes, so writing is
SQL only. They are written in batches (NEWSARCHIVE_BATCH_SIZE, or every
NEWSARCHIVE_FLUSH_SECONDS) in a thread, never on the reactor; a crash loses at most one
unwritten batch, never the crawl (a next run simply fetches those pages again).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.keys import Counter, Setting, Stat, stat
from crawler.runtime.counters import SUCCESS_REASONS, collect_counters, run_status
from crawler.runtime.items import NOT_MODIFIED, ArchivedFetch, feed_item
from storage.records import Outcome

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from storage.archive import Archive
    from storage.prepare import PreparedFetch
    from storage.records import RecordResult

__all__ = ["ArchivePipeline"]

log = logging.getLogger(__name__)

_OUTCOME_COUNTER = {
    Outcome.NEW_ARTICLE: Counter.ARTICLES_NEW,
    Outcome.NEW_VERSION: Counter.ARTICLES_CHANGED,
    Outcome.RE_EXTRACTED: Counter.ARTICLES_REEXTRACTED,
    Outcome.UNCHANGED: Counter.ARTICLES_UNCHANGED,
    Outcome.REJECTED: Counter.error("rejected"),
}


class ArchivePipeline:
    def __init__(
        self,
        crawler: Crawler,
        db_url: str,
        batch_size: int,
        flush_seconds: float,
        trigger: str,
        claimed_run: int | None = None,
        record: bool = True,
    ) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.trigger = trigger
        self.claimed_run = claimed_run
        self.record = record
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.failure: str | None = None
        self._pending: list[PreparedFetch] = []
        self._lock = asyncio.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            db_url=settings.get(Setting.DB),
            batch_size=settings.getint(Setting.BATCH_SIZE),
            flush_seconds=settings.getfloat(Setting.FLUSH_SECONDS),
            trigger=settings.get(Setting.TRIGGER),
            claimed_run=settings.getint(Setting.RUN_ID) or None,
            record=settings.getbool(Setting.RECORD),
        )

    @property
    def _stats(self) -> Any:
        return self.crawler.stats

    async def open_spider(self) -> None:
        from scrapy.exceptions import CloseSpider
        from sqlalchemy.exc import SQLAlchemyError

        from storage.archive import Archive
        from storage.engine import describe_error

        site = getattr(self.crawler.spider, "site", None)
        if site is None or not self.record:
            return
        try:
            self.archive = await asyncio.to_thread(Archive, self.db_url)
            if self.claimed_run is not None:  # a queued run, claimed by the crawl command
                self.run_id = self.claimed_run
            else:
                self.run_id = await asyncio.to_thread(
                    self.archive.start_run, site.name, self.trigger
                )
        except SQLAlchemyError as exc:
            # A full disk or a read-only database before the first page: nothing could be
            # stored, so nothing is fetched. Scrapy closes the spider with this reason
            # once it is open, without a traceback.
            self._set_failure(f"could not start the crawl run: {describe_error(exc)}")
            if self.archive is not None:
                await asyncio.to_thread(self.archive.close)
                self.archive = None
            raise CloseSpider("database_error") from None
        self._stats.set_value(Stat.RUN_ID, self.run_id)
        log.info("crawl run %s of site %s started", self.run_id, site.name)
        self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        """Flush every few seconds; never cancelled mid-write (close_spider sets the event
        and waits), so a batch's outcomes are always counted before the run is recorded."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.flush_seconds)
            except TimeoutError:
                await self._flush()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchivedFetch):
            return item
        if self.archive is None:  # not recording (scrapy parse)
            return _for_feeds(item)
        if self.failure is not None:
            self._stats.inc_value(stat(Counter.error("not_written")))
            return _for_feeds(item)
        prepared = item.prepared
        record = prepared.record
        # The spider is part of what extracted it: another spider, another extraction.
        spider = getattr(self.crawler.spider, "name", "?")
        extractor = f"{spider}: {record.extractor}" if record.extractor else None
        prepared.record = dataclasses.replace(record, run_id=self.run_id, extractor=extractor)
        self._pending.append(prepared)
        if len(self._pending) >= self.batch_size:
            # Awaiting the write here is the back-pressure: a slow database slows the
            # crawl instead of piling fetches up in memory.
            await self._flush()
        return _for_feeds(item)

    async def _flush(self) -> None:
        async with self._lock:
            if self.failure is not None and self._pending:
                # Fetches queued behind the batch that failed: never written, and counted.
                self._stats.inc_value(stat(Counter.error("not_written")), len(self._pending))
                self._pending = []
            if not self._pending or self.archive is None or self.failure is not None:
                return
            batch, self._pending = self._pending, []
            results = await self._write(batch)
            if results is not None:
                self._count(results)

    async def _write(self, batch: list[PreparedFetch]) -> list[RecordResult] | None:
        """One batch, one transaction. The archive retries what a retry can fix (a conflict,
        a lost connection: storage.retries); what still fails stops the crawl."""
        assert self.archive is not None
        try:
            return await asyncio.to_thread(self.archive.record_fetches, batch)
        except Exception as exc:
            self._fail(exc, len(batch))
            return None

    def _count(self, results: list[RecordResult]) -> None:
        for result in results:
            name = _OUTCOME_COUNTER.get(result.outcome)
            if name:
                self._stats.inc_value(stat(name))
            if result.outcome is Outcome.REJECTED:
                log.warning("fetch rejected by the archive: %s", result.error)

    def _set_failure(self, message: str) -> None:
        """Remember why the archive failed; the run records it and the CLI prints it."""
        self.failure = message[:500]
        self._stats.set_value(Stat.FAILURE, self.failure)
        log.error("%s; stopping the crawl", self.failure)

    def _fail(self, exc: Exception, lost: int) -> None:
        """The archive cannot be written: stop the crawl instead of fetching for nothing."""
        from sqlalchemy.exc import SQLAlchemyError

        from storage.engine import describe_error

        if isinstance(exc, SQLAlchemyError):
            cause = describe_error(exc)
        else:  # not the database's doing: the type says more than the message
            cause = f"{type(exc).__name__}: {exc}".splitlines()[0]
        self._set_failure(f"archive write failed: {cause}")
        self._stats.inc_value(stat(Counter.error("not_written")), lost)
        engine = self.crawler.engine
        if engine is not None:
            self._closing = asyncio.ensure_future(
                engine.close_spider_async(reason="database_error")
            )

    async def close_spider(self) -> None:
        self._stopping.set()
        if self._ticker is not None:
            await self._ticker
        await self._flush()

    def _health(self, counters: dict[str, Any], status: str) -> list[str]:
        """This run against the site's recent runs (crawler.runtime.health); flags are logged."""
        from crawler.runtime.health import HISTORY, run_flags

        assert self.archive is not None
        site = getattr(self.crawler.spider, "site", None)
        if site is None:
            return []
        try:
            recent = self.archive.runs(site=site.name, limit=HISTORY + 1)
        except Exception as exc:
            log.warning("could not read recent runs for the health check: %s", exc)
            return []
        history = [(r.status, r.counters) for r in recent if r.id != self.run_id]
        flags = run_flags(counters, status, history)
        for flag in flags:
            log.warning("site %s: %s", site.name, flag)
        return flags

    async def spider_closed(self, spider: Any, reason: str) -> None:
        """Record how the run ended; runs after close_spider's final flush."""
        if self.archive is None or self.run_id is None:
            return
        counters = collect_counters(self._stats.get_stats())
        status = "failed" if self.failure else run_status(reason, counters)
        counters["flags"] = await asyncio.to_thread(self._health, counters, status)
        self._stats.set_value(Stat.FLAGS, counters["flags"])
        self._stats.set_value(Stat.RUN_STATUS, status)
        error = self.failure
        if status == "failed" and error is None:
            error = f"closed: {reason}" if reason not in SUCCESS_REASONS else _nothing(counters)
        try:
            await asyncio.to_thread(self.archive.finish_run, self.run_id, status, counters, error)
        except Exception as exc:
            log.error("could not record the end of run %s: %s", self.run_id, exc)
            self._stats.set_value(Stat.RUN_STATUS, "failed")
        finally:
            await asyncio.to_thread(self.archive.close)
            self.archive = None


def _nothing(counters: dict[str, Any]) -> str:
    """Why a run that finished fetched no page: errors, or every request refused."""
    if counters.get(Counter.ERRORS):
        return "no page could be fetched (see errors)"
    return (
        "no page could be fetched: every request was refused (off the site, robots.txt, "
        "deny rules; see skipped)"
    )


def _for_feeds(item: ArchivedFetch) -> dict[str, Any]:
    """What Scrapy's feed exports (`-o items.jsonl`) and item signals get: the article as
    a JSON-ready dict; a 304 check, which holds no article, goes no further."""
    article = feed_item(item)
    if article is None:
        raise DropItem(NOT_MODIFIED, log_level="DEBUG")  # routine, not a WARNING
    return article
