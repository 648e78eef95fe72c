"""Run crawls from the command line: settings by priority, one process, live counters.

Settings are layered like `scrapy crawl`: the project's defaults (crawler.runtime.settings), then
a site's own `settings` table (applied by the spider at "spider" priority), then `-s
NAME=VALUE` at "cmdline" priority, which always wins. The Twisted reactor runs once per
process, so all the targets of one command crawl side by side in it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler import speedups
from crawler.config.environment import apply_environment
from crawler.config.sites import SiteConfig, SitesConfigError, check_setting_value
from crawler.keys import Setting, Stat

__all__ = ["CrawlResult", "build_settings", "run_crawls"]

if TYPE_CHECKING:
    from crawler.runtime.workers import ExtractionPool

log = logging.getLogger(__name__)


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
    settings.setmodule("crawler.runtime.settings", priority="project")
    apply_environment(settings)  # the weakest source: a site's settings and -s win
    settings.set(Setting.DB, db_url, priority="cmdline")
    if sites_path:
        settings.set(Setting.SITES, sites_path, priority="cmdline")
    if max_pages:
        settings.set(Setting.MAX_PAGES, max_pages, priority="cmdline")
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
    from crawler.runtime.workers import pool_from_settings

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
    # Here, where the stack is short, rather than deep in the engine at its first request.
    speedups.import_without_stack_source("scrapy.core.downloader.handlers.http11")
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from crawler.running.live_counters import LiveCounters
    from crawler.runtime.counters import collect_counters, crawler_stats

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
        LiveCounters([(site.name, crawler) for site, crawler in crawlers]) if progress else None
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
        stats = crawler_stats(crawler)
        results.append(
            CrawlResult(
                site=site.name,
                run_id=stats.get(Stat.RUN_ID),
                status=stats.get(Stat.RUN_STATUS, "failed"),
                counters={**collect_counters(stats), "flags": list(stats.get(Stat.FLAGS, []))},
                reason=stats.get("finish_reason"),
                error=stats.get(Stat.FAILURE),
            )
        )
    return results


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True
