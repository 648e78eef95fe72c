"""Names the crawler's parts share: stats keys, request-meta keys, settings, environment.

A misspelt bare string fails silently: a counter nobody reads, a meta key nobody set, an
environment variable nobody looks at. Written once here, a typo is an AttributeError that
mypy reports before anything runs, and a reader finds every user of a name by its
constant.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DISCOVERY_MODES", "STATS_PREFIX", "Counter", "Env", "Meta", "Setting", "Stat", "stat"]

# Scrapy keeps one stats dict for every component; ours are the keys under this prefix.
STATS_PREFIX: Final = "newsarchive/"


# How a crawl follows links (crawler.runtime.frontier): "fresh" spends requests where the
# stories are, "full" follows every same-site link to max_depth (backfill).
DISCOVERY_MODES: Final = ("fresh", "full")


def stat(counter: str) -> str:
    """Scrapy's stats key of one of the run's counters."""
    return STATS_PREFIX + counter


class Counter:
    """The run's counters (`runs --format json`). A name with a slash nests there:
    `errors/timeout` is `errors.timeout`. Families take a kind: `errors/http_404`."""

    PAGES_FETCHED: Final = "pages_fetched"
    PAGES_ARTICLE: Final = "pages_article"
    PAGES_ALTERNATE: Final = "pages_alternate"
    ARTICLES_NEW: Final = "articles_new"
    ARTICLES_CHANGED: Final = "articles_changed"
    ARTICLES_UNCHANGED: Final = "articles_unchanged"
    # New versions that came with a different extractor (storage Outcome.RE_EXTRACTED).
    ARTICLES_REEXTRACTED: Final = "articles_reextracted"
    CHECKED_304: Final = "checked_304"
    # Listings asked for conditionally that had not changed since the last run.
    CHECKED_LISTING_304: Final = "checked_listing_304"
    # Every request the run sent (Scrapy's downloader count, robots.txt included), and that
    # divided by the stories it archived or checked: what a story costs the publisher.
    REQUESTS: Final = "requests"
    REQUESTS_PER_STORY: Final = "requests_per_story"
    # Links of shapes the site had not shown yet, fetched within the exploration budget.
    EXPLORED: Final = "discovery/explored"
    NOT_ARTICLE: Final = "not_article"
    KNOWN_URLS: Final = "known_urls"
    LISTED_IN_FLIGHT_PEAK: Final = "listed_in_flight_peak"
    SITEMAPS: Final = "documents/sitemaps"
    FEEDS: Final = "documents/feeds"
    NO_DATE: Final = "quality/no_date"
    SHORT_TEXT: Final = "quality/short_text"

    ERRORS: Final = "errors"
    SKIPPED: Final = "skipped"
    BLOCKED: Final = "blocked"

    @staticmethod
    def error(kind: str) -> str:
        return f"{Counter.ERRORS}/{kind}"

    @staticmethod
    def skipped(kind: str) -> str:
        return f"{Counter.SKIPPED}/{kind}"

    @staticmethod
    def blocked(kind: str) -> str:
        return f"{Counter.BLOCKED}/{kind}"


class Stat:
    """Stats keys that record the run itself rather than count anything."""

    RUN_ID: Final = stat("run_id")
    RUN_STATUS: Final = stat("run_status")
    FLAGS: Final = stat("flags")
    FAILURE: Final = stat("failure")


class Meta:
    """Keys of `Request.meta` that the spider and the middlewares share."""

    # What the request fetches: "robots", "sitemap", "feed" or "page".
    ROLE: Final = "na_role"
    # Link hops from a start page.
    DEPTH: Final = "na_depth"
    # How the URL was found: "start", "link", "sitemap", "feed", "canonical", ...
    SOURCE: Final = "na_source"
    # The conventional /sitemap.xml, tried without being named anywhere (its 404 is no error).
    GUESSED: Final = "na_guessed"
    # Listed by a sitemap or feed: holds a place in the window of listed pages.
    LISTED: Final = "na_listed"
    # Counted against --max-pages once (retries and redirects are not counted again).
    ADMITTED: Final = "na_admitted"
    # The page whose rel=canonical this request follows.
    CANONICAL_OF: Final = "na_canonical_of"
    # Archive the page even though it names another canonical (that one is broken).
    IGNORE_CANONICAL: Final = "na_ignore_canonical"
    # A listing an earlier run saw: (etag, last_modified) to ask for it conditionally.
    LISTING_VALIDATORS: Final = "na_listing_validators"


class Setting:
    """The project's own Scrapy settings (crawler/runtime/settings.py holds the defaults)."""

    DB: Final = "NEWSARCHIVE_DB"
    SITES: Final = "NEWSARCHIVE_SITES"
    TRIGGER: Final = "NEWSARCHIVE_TRIGGER"
    # A queued run this crawl has claimed: its row is used instead of a new one.
    RUN_ID: Final = "NEWSARCHIVE_RUN_ID"
    # False: fetch and analyse, write nothing to the archive (`scrapy parse`).
    RECORD: Final = "NEWSARCHIVE_RECORD"
    WORKERS: Final = "NEWSARCHIVE_WORKERS"
    PAGE_TIMEOUT: Final = "NEWSARCHIVE_PAGE_TIMEOUT"
    WORKER_MEMORY: Final = "NEWSARCHIVE_WORKER_MEMORY"
    BATCH_SIZE: Final = "NEWSARCHIVE_BATCH_SIZE"
    FLUSH_SECONDS: Final = "NEWSARCHIVE_FLUSH_SECONDS"
    MAX_PAGES: Final = "NEWSARCHIVE_MAX_PAGES"
    CONDITIONAL: Final = "NEWSARCHIVE_CONDITIONAL"
    MAX_RETRY_AFTER: Final = "NEWSARCHIVE_MAX_RETRY_AFTER"
    MAX_SITEMAPS: Final = "NEWSARCHIVE_MAX_SITEMAPS"
    MAX_SITEMAP_DEPTH: Final = "NEWSARCHIVE_MAX_SITEMAP_DEPTH"


class Env:
    """Environment variables newsarchive reads."""

    DB: Final = "NEWSARCHIVE_DB"
    SITES: Final = "NEWSARCHIVE_SITES"
    CONTACT: Final = "NEWSARCHIVE_CONTACT"
    # Seconds a site lease lives without renewal (default 60).
    LEASE_TTL: Final = "NEWSARCHIVE_LEASE_TTL"
    # Set by the scheduling service for a child crawl: the tag of its lease holder name.
    LEASE_TAG: Final = "NEWSARCHIVE_LEASE_TAG"
    # The broker of queued runs (`--broker`), e.g. redis://127.0.0.1:6379/0.
    BROKER: Final = "NEWSARCHIVE_BROKER"
    # Seconds the broker waits for a worker's acknowledgement before it redelivers a run.
    BROKER_VISIBILITY: Final = "NEWSARCHIVE_BROKER_VISIBILITY"
    # Set by a queue worker for the crawls it starts: its name, recorded with the run.
    WORKER_NAME: Final = "NEWSARCHIVE_WORKER_NAME"
    # "0" turns off every trick of crawler/speedups.py, for debugging.
    SPEEDUPS: Final = "NEWSARCHIVE_SPEEDUPS"
    # The token `newsarchive serve` asks of every request (`--token`).
    WEB_TOKEN: Final = "NEWSARCHIVE_WEB_TOKEN"  # noqa: S105 - a variable name
