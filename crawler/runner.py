"""Run crawls from the command line: settings by priority, one process, live counters.

Settings are layered like `scrapy crawl`: the project's defaults (crawler.settings), then
a site's own `settings` table (applied by the spider at "spider" priority), then `-s
NAME=VALUE` at "cmdline" priority, which always wins. The Twisted reactor runs once per
process, so all the targets of one command crawl side by side in it.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sites import SiteConfig, SitesConfigError, check_setting_value

__all__ = ["CrawlResult", "build_settings", "run_crawls"]

if TYPE_CHECKING:
    from crawler.workers import ExtractionPool

log = logging.getLogger(__name__)

STAT = "newsarchive/"


@dataclass(frozen=True)
class CrawlResult:
    site: str
    run_id: int | None
    status: str
    counters: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    # Why the archive stopped the run (a full disk, a read-only database), in one line.
    error: str | None = None


def build_settings(
    db_url: str,
    overrides: Mapping[str, str],
    *,
    sites_path: str | None = None,
    max_pages: int | None = None,
    log_level: str = "WARNING",
) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSARCHIVE_DB", db_url, priority="cmdline")
    if sites_path:
        settings.set("NEWSARCHIVE_SITES", sites_path, priority="cmdline")
    if max_pages:
        settings.set("NEWSARCHIVE_MAX_PAGES", max_pages, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    for name, value in overrides.items():
        check_setting_value(name, value, f"-s {name}")
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawls(
    sites: Sequence[SiteConfig],
    settings: Any,
    *,
    since: datetime | None = None,
    progress: bool = False,
    pool: ExtractionPool | None = None,
) -> list[CrawlResult]:
    """Crawl every site in this process; return each run's outcome once all have ended.

    `pool` is the command's extraction pool when the caller started it early; by default
    one is made from `settings`.
    """
    # One pool of extraction workers for all the sites of this command: four sites must
    # not start four pools of one process per core.
    from crawler.workers import pool_from_settings

    if pool is None:
        pool = pool_from_settings(settings)
    try:
        return _run_crawls(sites, settings, pool, since=since, progress=progress)
    finally:
        pool.close_unused()


def _run_crawls(
    sites: Sequence[SiteConfig],
    settings: Any,
    pool: ExtractionPool,
    *,
    since: datetime | None,
    progress: bool,
) -> list[CrawlResult]:
    _import_download_handler()
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    # Scrapy installs its own root handler at LOG_LEVEL; the CLI's would print twice.
    for handler in list(logging.root.handlers):
        logging.root.removeHandler(handler)
    # A site whose robots.txt cannot be fetched (down, timing out) is one line, not a
    # traceback: the crawl goes on and the page fetches that fail are counted.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_without_traceback)
    loader = SpiderLoader.from_settings(settings.frozencopy())
    known = loader.list()
    for site in sites:
        if site.spider not in known:
            raise SitesConfigError(
                f"sites.{site.name}.spider: no spider named {site.spider!r} "
                f"(known: {', '.join(sorted(known))})"
            )
    spider_classes = [loader.load(site.spider) for site in sites]
    process = AsyncCrawlerProcess(settings)
    crawlers = []
    for site, spider_class in zip(sites, spider_classes, strict=True):
        crawler = process.create_crawler(spider_class)
        process.crawl(crawler, site=site, since=since, pool=pool)
        crawlers.append((site, crawler))
    display = (
        _LiveCounters([(site.name, crawler) for site, crawler in crawlers]) if progress else None
    )
    # The rest of the workers start now, while the engine is set up and robots.txt and the
    # first pages are fetched (not at the first page, which would wait for them), and not
    # earlier, where they would take both cores from the imports above (the CLI started
    # one already, on the core those imports leave idle).
    pool.boot()
    if display is not None:
        display.start()
    try:
        process.start()
    finally:
        if display is not None:
            display.stop()
    results = []
    for site, crawler in crawlers:
        stats = _stats_of(crawler)
        from crawler.pipelines import collect_counters

        results.append(
            CrawlResult(
                site=site.name,
                run_id=stats.get(STAT + "run_id"),
                status=stats.get(STAT + "run_status", "failed"),
                counters={**collect_counters(stats), "flags": list(stats.get(STAT + "flags", []))},
                reason=stats.get("finish_reason"),
                error=stats.get(STAT + "failure"),
            )
        )
    return results


def _import_download_handler() -> None:
    """Import Scrapy's HTTP download handler now, without reading the source of the stack.

    Its TLS modules build three deprecated aliases with `inspect.stack()`, only to name the
    module that defines them, and `inspect.stack()` reads the source file of every frame
    on the stack: 190 ms when the engine imported it at its first request, 30-60 ms from
    here. Frames without source context name the same module at no cost.
    """
    real_stack = inspect.stack

    def stack_without_source(context: int = 1) -> list[inspect.FrameInfo]:
        caller = sys._getframe(1)
        return inspect.getouterframes(caller, 0)

    inspect.stack = stack_without_source
    try:
        import scrapy.core.downloader.handlers.http11  # noqa: F401
    finally:
        inspect.stack = real_stack


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


def _stats_of(crawler: Any) -> dict[str, Any]:
    """A crawler's stats, or nothing before its crawl has started (or if it never did)."""
    try:
        stats = crawler.stats
    except RuntimeError:
        return {}
    return dict(stats.get_stats()) if stats is not None else {}


def summary_line(result: CrawlResult) -> str:
    """One line per run for logs and pipes: the counters people look at first."""
    c = result.counters
    errors = sum(c.get("errors", {}).values())
    return (
        f"run {result.run_id} {result.site}: {result.status}; "
        f"{c.get('pages_fetched', 0)} pages, "
        f"{c.get('articles_new', 0)} new, {c.get('articles_changed', 0)} changed, "
        f"{c.get('articles_unchanged', 0)} unchanged ({c.get('checked_304', 0)} by 304), "
        f"{c.get('not_article', 0)} not articles, {errors} errors"
        + (f" {_flat(c.get('errors', {}))}" if errors else "")
        + "".join(f"; WARNING: {flag}" for flag in c.get("flags", []))
    )


def _flat(values: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in sorted(values.items())) + ")"


class _LiveCounters:
    """A Rich table on stderr, refreshed from the crawlers' stats twice a second."""

    COLUMNS = (
        ("pages", "pages_fetched"),
        ("new", "articles_new"),
        ("changed", "articles_changed"),
        ("unchanged", "articles_unchanged"),
        ("not articles", "not_article"),
    )

    def __init__(self, crawlers: list[tuple[str, Any]]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.crawlers = crawlers
        self.live = Live(console=Console(file=sys.stderr), refresh_per_second=4, transient=False)
        self._loop: Any = None

    def start(self) -> None:
        from twisted.internet import task

        self.live.start()
        self._loop = task.LoopingCall(self.refresh)
        self._loop.start(0.5)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.refresh()
        self.live.stop()

    def refresh(self) -> None:
        from rich.table import Table

        table = Table(title="newsarchive crawl", title_justify="left")
        table.add_column("site")
        for title, _ in self.COLUMNS:
            table.add_column(title, justify="right")
        table.add_column("errors", justify="right")
        for name, crawler in self.crawlers:
            stats = _stats_of(crawler)
            errors = sum(
                v for k, v in stats.items() if k.startswith(STAT + "errors/") and isinstance(v, int)
            )
            table.add_row(
                name,
                *(f"{stats.get(STAT + key, 0):,}" for _, key in self.COLUMNS),
                f"{errors:,}",
            )
        self.live.update(table)
