"""The run's counters and status, read from the crawl's Scrapy stats when it ends.

Every part of the crawl counts into Scrapy's stats under `newsarchive/` (crawler.keys);
what a run records is those numbers, nested by group (`errors/timeout` becomes
`errors.timeout`), plus the few that Scrapy's own components count for us.
"""

from __future__ import annotations

from typing import Any

from crawler.keys import STATS_PREFIX, Counter, Stat

__all__ = ["CORE_COUNTERS", "SUCCESS_REASONS", "collect_counters", "crawler_stats", "run_status"]

# Close reasons of a run that did what it was asked (--max-pages and the closespider limits
# included).
SUCCESS_REASONS = frozenset(
    {
        "finished",
        "max_pages",
        "closespider_timeout",
        "closespider_itemcount",
        "closespider_pagecount",
        "closespider_timeout_no_item",
    }
)
_INTERRUPT_REASONS = frozenset({"shutdown", "cancelled"})
# Counters every run reports, zero or not, so scripts and health checks can rely on them.
CORE_COUNTERS = (
    Counter.PAGES_FETCHED,
    Counter.ARTICLES_NEW,
    Counter.ARTICLES_CHANGED,
    Counter.ARTICLES_UNCHANGED,
    Counter.CHECKED_304,
    Counter.NOT_ARTICLE,
)
# Scrapy's own stats that are counters of ours: its robots.txt middleware counts the
# requests it refuses, and raises a plain IgnoreRequest that says no more than its text.
_SCRAPY_STATS = {
    "robotstxt/forbidden": Counter.blocked("robots"),
    "downloader/request_count": Counter.REQUESTS,
}


def run_status(reason: str, counters: dict[str, Any] | None = None) -> str:
    """The crawl run's status for a spider's close reason (and what it managed to fetch).

    A run that fetched no page at all failed, even though the spider itself finished
    normally: a mistyped or unreachable start URL, or every request refused (off the
    site, robots.txt): a run that archived nothing must not pass for a good one. A
    recrawl fetches its start pages and counts 304 answers, so it always has pages.
    """
    if (
        counters is not None
        and not counters.get(Counter.PAGES_FETCHED)
        and (counters.get(Counter.ERRORS) or reason in SUCCESS_REASONS)
    ):
        return "failed"
    if reason in SUCCESS_REASONS:
        return "succeeded"
    if reason in _INTERRUPT_REASONS:
        return "interrupted"
    return "failed"


def collect_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's counters from Scrapy's stats: numbers only, nested by group.

    The health check adds `flags` (a list) when the run is recorded.
    """
    counters: dict[str, Any] = dict.fromkeys(CORE_COUNTERS, 0)
    for key, value in sorted(stats.items()):
        if not isinstance(value, int | float) or key == Stat.RUN_ID:
            continue
        if key.startswith(STATS_PREFIX):
            name = key[len(STATS_PREFIX) :]
        elif key in _SCRAPY_STATS:
            name = _SCRAPY_STATS[key]
        else:
            continue
        group, _, leaf = name.partition("/")
        if leaf:
            counters.setdefault(group, {})[leaf] = value
        else:
            counters[name] = value
    stories = sum(
        counters.get(name, 0)
        for name in (
            Counter.ARTICLES_NEW,
            Counter.ARTICLES_CHANGED,
            Counter.ARTICLES_UNCHANGED,
            Counter.ARTICLES_REEXTRACTED,
        )
    )
    if stories and counters.get(Counter.REQUESTS):
        counters[Counter.REQUESTS_PER_STORY] = round(counters[Counter.REQUESTS] / stories, 2)
    return counters


def crawler_stats(crawler: Any) -> dict[str, Any]:
    """A Scrapy crawler's stats, or nothing before its crawl has started (or if it never
    did)."""
    try:
        stats = crawler.stats
    except RuntimeError:
        return {}
    return dict(stats.get_stats()) if stats is not None else {}
