"""Scrapy settings of the newsarchive project: polite, bounded and archive-aware by default.

Every value a site may need to change can be overridden per site (`settings = {...}` in
sites.toml) or per run (`newsarchive crawl -s NAME=VALUE`, highest priority), exactly like
`scrapy crawl -s`. Project settings carry the `NEWSARCHIVE_` prefix.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

from crawler.keys import Env
from crawler.runtime import workers as _workers

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# `scrapy crawl` checks an archive spider's `-a site=` before Scrapy starts.
COMMANDS_MODULE = "crawler.running.scrapy_commands"

# --- Identity: who we are and how to reach the operator (never Scrapy's default UA).
NEWSARCHIVE_CONTACT = os.environ.get(
    Env.CONTACT, "https://github.com/newsarchive/newsarchive#crawler"
)
USER_AGENT = f"newsarchive/0.1 (news archiver; +{NEWSARCHIVE_CONTACT})"

# --- Politeness.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control runs Python sent to an HTTP server on localhost: off, like
# the telnet console. Components a crawl never uses are left out of Scrapy's base lists,
# not just disabled: Scrapy imports every listed class, even one set to None, and these
# cost start-up time (the remote control imports aiohttp; the cookies middleware,
# tldextract) (docs/benchmarks.md, "Figures behind choices in the code").
REMOTE_CONTROL_ENABLED = False
_unused_components = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
}
EXTENSIONS_BASE = {
    path: order
    for path, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if path not in _unused_components
}

# --- Bounds: a slow or huge response cannot stall or exhaust the crawl.
DOWNLOAD_TIMEOUT = 30
# Applies to the decompressed body as well (HttpCompressionMiddleware checks it).
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# --- Only http and https: no file:, data:, ftp: or s3: handlers at all.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# The resolver the downloader connects with refuses non-public answers (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.runtime.address_guard.GuardedResolver"

# Tracking parameters and fragments never cause a second fetch of a story.
REQUEST_FINGERPRINTER_CLASS = "crawler.runtime.request_fingerprints.CanonicalRequestFingerprinter"

DOWNLOADER_MIDDLEWARES_BASE = {
    path: order
    for path, order in _scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items()
    if path not in _unused_components
}
DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt and everything else: a request off the site goes nowhere.
    "crawler.runtime.scope.SiteScopeMiddleware": 40,
    # No private, loopback or link-local addresses unless a start URL names the host.
    "crawler.runtime.address_guard.AddressGuardMiddleware": 42,
    # Scrapy's robots.txt middleware, which also hands what it downloads to the spider.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.runtime.robots_once.SharedRobotsTxtMiddleware": 100,
    # After robots.txt: a disallowed page does not use up the budget.
    "crawler.runtime.page_budget.PageBudgetMiddleware": 110,
    "crawler.runtime.conditional_requests.ConditionalRequestMiddleware": 560,
    # Replaces Scrapy's RetryMiddleware to honour Retry-After.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.runtime.retry_after.RetryAfterMiddleware": 550,
    # Replaces Scrapy's RedirectMiddleware so a redirect to the same story is not dropped.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.runtime.redirects.CanonicalRedirectMiddleware": 600,
}
# A page yields one item at most, so Scrapy's 100 parallel output processors per response
# (one asyncio task each) were pure overhead: 8,200 tasks for 81 pages.
CONCURRENT_ITEMS = 8
# Bytes of responses being handled at once before Scrapy stops taking new downloads.
# Scrapy counts a response as at least 1 kB, so its default of 5 MB let thousands of empty
# 304 answers pile up behind the archive writes on a large recrawl, each with its request
# and callbacks. 2 MB bounds that and still lets a heavy page be analysed while the next
# ones download (docs/benchmarks.md, "Figures behind choices in the code").
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 2_000_000
ITEM_PIPELINES = {"crawler.runtime.pipeline.ArchivePipeline": 300}
LOG_FORMATTER = "crawler.runtime.log_formatter.ArchiveLogFormatter"
# Retries that run out are counted per kind in the run's counters; no traceback per page.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"

# --- newsarchive.
NEWSARCHIVE_DB = os.environ.get(Env.DB, "sqlite:///archive.db")
NEWSARCHIVE_SITES = os.environ.get(Env.SITES, "sites.toml")
NEWSARCHIVE_TRIGGER = "manual"
NEWSARCHIVE_RUN_ID = 0
# False: pages are fetched and analysed but nothing is written to the archive, no run,
# no discovery memory (set by `scrapy parse`, a look at what the spider would do).
NEWSARCHIVE_RECORD = True
# Extraction worker processes (0 = one per core) and the time one page may take.
NEWSARCHIVE_WORKERS = _workers.DEFAULT_WORKERS
NEWSARCHIVE_PAGE_TIMEOUT = _workers.DEFAULT_PAGE_TIMEOUT
# Address-space limit of each extraction worker, in MiB (0 = none).
NEWSARCHIVE_WORKER_MEMORY = _workers.DEFAULT_WORKER_MEMORY_MB
# Archive writes: fetches per transaction and the longest a fetch waits to be written.
NEWSARCHIVE_BATCH_SIZE = 50
NEWSARCHIVE_FLUSH_SECONDS = 2.0
# Stop requesting new pages after this many (0 = no limit).
NEWSARCHIVE_MAX_PAGES = 0
# Send If-None-Match / If-Modified-Since for stories already archived.
NEWSARCHIVE_CONDITIONAL = True
# Longest Retry-After honoured; a server asking for more is given up on for this run.
NEWSARCHIVE_MAX_RETRY_AFTER = 120.0
# Sitemap documents per crawl (indexes of indexes, loops) and nesting depth.
NEWSARCHIVE_MAX_SITEMAPS = 500
NEWSARCHIVE_MAX_SITEMAP_DEPTH = 3

LOG_LEVEL = "INFO"
