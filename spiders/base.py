"""ArchiveSpider: discovery, extraction and storage for any news site, made to be subclassed.

The generic `news` spider is this class with a name. A site that needs code gets a small
subclass in `spiders/<site>.py` that overrides only what differs:

- `discovery_requests()` for its own start requests (an API, a date-based archive),
- `follow(url, depth, source)` for its own link rules,
- `field_selectors` (CSS, or XPath starting with `/`) for fields trafilatura gets wrong,
- `extraction_options` for trafilatura's options.

Everything else (robots.txt sitemaps, feeds, link following, the article decision,
extraction in worker processes, conditional requests, batched archive writes, the run's
counters) is inherited. See `spiders/harbor_times.py` for an example.

The page callback awaits the page's analysis from the worker pool instead of handing raw
pages to a pipeline: the links it follows come out of the same single parse as the
article, so no page is parsed twice and the reactor never parses at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.analysis.extraction import ExtractionOptions
from crawler.analysis.listings import Listing, parse_feed, parse_sitemap, robots_sitemaps
from crawler.analysis.page import (
    LISTING_HEADLINES,
    FetchedPage,
    PageAnalysis,
    PageRules,
    analyze_page,
    not_modified,
)
from crawler.config.sites import SiteConfig, SitesConfigError, load_sites, resolve_targets
from crawler.config.timespec import parse_moment
from crawler.keys import Counter, Meta, Setting, stat
from crawler.runtime.discovery_memory import load_frontier, save_frontier
from crawler.runtime.failures import failure_kind
from crawler.runtime.frontier import Frontier, LinkPlan, Priority
from crawler.runtime.items import ArchivedFetch
from crawler.runtime.listed_pages import Listed, ListedWindow
from crawler.runtime.workers import (
    ExtractionPool,
    PageTimeoutError,
    WorkerCrashedError,
    pool_from_settings,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

__all__ = ["ArchiveSpider"]

log = logging.getLogger(__name__)

# Listed (sitemap and feed) pages requested and not yet handled, per concurrent request
# Scrapy allows: enough to keep every download slot busy (crawler.runtime.listed_pages).
LISTED_WINDOW_PER_SLOT = 4
# An article body shorter than this counts as short in the run's quality counters.
SHORT_TEXT = 500
# Feeds autodiscovered through <link rel="alternate"> on listing pages, per crawl.
MAX_AUTODISCOVERED_FEEDS = 10


class ArchiveSpider(scrapy.Spider):
    """Crawl one configured site (or one ad-hoc URL) into the archive."""

    # 304 answers to conditional requests reach the callback; other non-2xx go to errback.
    handle_httpstatus_list: ClassVar[list[int]] = [304]
    field_selectors: ClassVar[Mapping[str, str]] = {}
    extraction_options: ClassVar[ExtractionOptions] = ExtractionOptions()

    site: SiteConfig

    def __init__(
        self,
        site: SiteConfig,
        since: datetime | timedelta | str | None = None,
        pool: ExtractionPool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site = site
        self.cutoff = _cutoff(since if since is not None else site.since)
        self.pool = pool or ExtractionPool()
        self.rules = PageRules(
            allow=site.allow,
            selectors=tuple(self.field_selectors.items()),
            options=self.extraction_options,
        )
        self._deny = site.deny_patterns
        # Hosts of the start pages whose robots.txt has not been read for sitemaps yet.
        self._robots_hosts = {urlsplit(url).netloc: urlsplit(url).scheme for url in site.start_urls}
        # Replaced on spider_opened by one that knows what earlier runs learned.
        self.frontier = Frontier(site.discovery, site.max_depth)
        self._sitemaps_requested = 0
        self._feeds_discovered = 0
        self._pages_done = 0
        # Sized for Scrapy's default of 16 concurrent requests; from_crawler sizes it from
        # the crawl's own CONCURRENT_REQUESTS.
        self._listed = ListedWindow(LISTED_WINDOW_PER_SLOT * 16)
        self._refill_pending = False

    # ------------------------------------------------------------------ set-up

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArchiveSpider:
        """Accept a SiteConfig (the CLI) or a site name or URL (`scrapy crawl news -a site=X`).

        The site's own Scrapy settings are applied here, at "spider" priority, before
        Scrapy freezes the settings; `-s` on the command line still wins.
        """
        site = cls.resolve_site(kwargs.pop("site", None), crawler.settings)
        for name, value in site.settings.items():
            crawler.settings.set(name, value, priority="spider")
        pool = kwargs.pop("pool", None) or pool_from_settings(crawler.settings)
        spider = super().from_crawler(crawler, *args, site=site, pool=pool, **kwargs)
        spider._listed = ListedWindow(
            LISTED_WINDOW_PER_SLOT * crawler.settings.getint("CONCURRENT_REQUESTS")
        )
        crawler.signals.connect(spider._open_pool, signal=signals.spider_opened)
        crawler.signals.connect(spider._load_frontier, signal=signals.spider_opened)
        crawler.signals.connect(spider._close_pool, signal=signals.spider_closed)
        crawler.signals.connect(spider._save_frontier, signal=signals.spider_closed)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._listed_dropped, signal=signals.request_dropped)
        return spider

    @classmethod
    def resolve_site(cls, site: SiteConfig | str | None, settings: Any) -> SiteConfig:
        """The site a crawl is for: given, named in the sites file, or a bare URL; raises
        SitesConfigError (one line, the key named) otherwise."""
        if isinstance(site, SiteConfig):
            return site
        if not site:
            raise SitesConfigError("no site given: use -a site=NAME or -a site=URL")
        sites = None
        if "://" not in site:
            sites = load_sites(settings.get(Setting.SITES))
        return resolve_targets([site], sites)[0]

    def _open_pool(self) -> None:
        self.pool.start()

    async def _close_pool(self) -> None:
        await self.pool.close_async()

    async def _load_frontier(self) -> None:
        db = self.settings.get(Setting.DB)
        if not db or not self.settings.getbool(Setting.RECORD):
            return  # not recording (scrapy parse): the archive is not even opened
        site = self.site
        try:
            self.frontier = await load_frontier(
                db, site.name, site.discovery, site.max_depth, site.recheck_after
            )
        except Exception as exc:  # the crawl works without memory, only less well
            log.warning("could not read what earlier runs learned about %s: %s", site.name, exc)

    async def _save_frontier(self, reason: str) -> None:
        # A crawl that ends without going idle (--max-pages, a stop) counts them here.
        self._stats.set_value(stat(Counter.skipped("unexplored")), self.frontier.held)
        for line in self.frontier.describe_shapes()[:40]:
            log.info("shape %s", line)
        db = self.settings.get(Setting.DB)
        if not db or not self.settings.getbool(Setting.RECORD):
            return
        try:
            await save_frontier(db, self.site.name, self.frontier, complete=reason == "finished")
        except Exception as exc:
            log.warning("could not store what this run learned about %s: %s", self.site.name, exc)

    @property
    def _stats(self) -> Any:
        return self.crawler.stats

    def _count(self, counter: str, amount: int = 1) -> None:
        self._stats.inc_value(stat(counter), amount)

    # ------------------------------------------------------------------ discovery

    async def start(self) -> AsyncIterator[Any]:
        for request in self.discovery_requests():
            yield request

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        """Where a crawl starts: robots.txt (for sitemaps), sitemaps, feeds, start pages.

        With robots.txt obeyed, Scrapy's middleware downloads it before the first request
        to each host and hands it to `robots_fetched` (crawler.runtime.robots_once): one
        download serves both. Otherwise the spider asks for it itself."""
        if not self.settings.getbool("ROBOTSTXT_OBEY"):
            for url in sorted({urljoin(url, "/robots.txt") for url in self.site.start_urls}):
                yield scrapy.Request(
                    url,
                    self.parse_robots,
                    errback=self.robots_failed,
                    priority=Priority.ROBOTS,
                    meta={Meta.ROLE: "robots"},
                )
        for url in self.site.sitemaps:
            yield self.sitemap_request(url, depth=0)
        for url in self.site.feeds:
            yield self.feed_request(url)
        for url in self.site.start_urls:
            self.frontier.mark_seen(url)
            yield self.page_request(url, depth=0, source="start", priority=Priority.START)

    def page_request(
        self, url: str, depth: int, source: str, priority: int | None = None
    ) -> scrapy.Request:
        meta: dict[str, Any] = {Meta.ROLE: "page", Meta.DEPTH: depth, Meta.SOURCE: source}
        # Start pages are always downloaded: a home page whose server answers 304 though it
        # changed (a fixed Last-Modified) would otherwise hide every new story for good.
        validators = None if source == "start" else self.frontier.listing_validators(url)
        if validators is not None:
            meta[Meta.LISTING_VALIDATORS] = validators
        return scrapy.Request(
            url,
            self.parse_page,
            errback=self.page_failed,
            priority=Priority.OTHER - depth if priority is None else priority,
            meta=meta,
        )

    def sitemap_request(self, url: str, depth: int, guessed: bool = False) -> scrapy.Request:
        self._sitemaps_requested += 1
        return scrapy.Request(
            url,
            self.parse_sitemap,
            errback=self.discovery_failed,
            priority=Priority.DISCOVERY,
            meta={Meta.ROLE: "sitemap", Meta.DEPTH: depth, Meta.GUESSED: guessed},
        )

    def feed_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            self.parse_feed,
            errback=self.discovery_failed,
            priority=Priority.DISCOVERY,
            meta={Meta.ROLE: "feed"},
        )

    def follow(self, url: str, depth: int, source: str) -> bool:
        """Whether to request a discovered URL: on the site and not denied.

        robots.txt and the host check of the downloader middleware apply afterwards
        anyway; checking hosts here too keeps off-site links out of the queue.
        """
        if not self.site.allows_url(url):
            return False
        return not any(pattern.search(url) for pattern in self._deny)

    # The synchronous callbacks return lists, not generators: for a generator callback
    # Scrapy reads and parses the function's source file (to warn about `return value`),
    # on the first crawl's start-up path (docs/benchmarks.md, "What each change bought").

    def robots_fetched(self, netloc: str, url: str | None, body: bytes | None) -> None:
        """The robots.txt middleware downloaded a host's robots.txt (or failed to: None)."""
        scheme = self._robots_hosts.pop(netloc, None)
        if scheme is None or self._closing():
            return
        base = url or f"{scheme}://{netloc}/robots.txt"
        self._schedule(self._after_robots(base, body))

    def parse_robots(self, response: Response) -> list[scrapy.Request]:
        return self._after_robots(response.url, response.body)

    def robots_failed(self, failure: Failure) -> list[scrapy.Request]:
        return self._after_robots(_failed_request(failure).url, None)

    def _after_robots(self, url: str, body: bytes | None) -> list[scrapy.Request]:
        """The sitemaps robots.txt names; with none (or no robots.txt: nothing is
        disallowed), the conventional /sitemap.xml unless the site names its sitemaps."""
        found = robots_sitemaps(body, url) if body is not None else []
        requests = []
        if not found and not self.site.sitemaps:
            requests.append(self.sitemap_request(urljoin(url, "/sitemap.xml"), 0, guessed=True))
        requests += [
            self.sitemap_request(found_url, depth=0)
            for found_url in found
            if self.follow(found_url, 0, "robots")
        ]
        return requests

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._count(Counter.SITEMAPS)
        listing = await self._parse_listing(parse_sitemap, response)
        if listing is None:
            return
        depth = int(response.meta.get(Meta.DEPTH, 0))
        limit = self.settings.getint(Setting.MAX_SITEMAPS)
        for child in listing.sitemaps:
            if depth + 1 > self.settings.getint(Setting.MAX_SITEMAP_DEPTH):
                self._count(Counter.skipped("sitemap_depth"))
                break
            if self._sitemaps_requested >= limit:
                self._count(Counter.skipped("sitemap_limit"))
                break
            if self._too_old(child.published):
                continue
            if self.follow(child.url, depth + 1, "sitemap"):
                yield self.sitemap_request(child.url, depth + 1)
        for request in self._listed_pages(listing, "sitemap"):
            yield request

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._count(Counter.FEEDS)
        listing = await self._parse_listing(parse_feed, response)
        if listing is None:
            return
        for request in self._listed_pages(listing, "feed"):
            yield request

    async def _parse_listing(self, parser: Any, response: Response) -> Listing | None:
        try:
            listing: Listing = await self.pool.run(parser, response.body, response.url)
        except (PageTimeoutError, WorkerCrashedError) as exc:
            self._count(Counter.error("discovery_parse"))
            log.warning("could not parse %s: %s", response.url, exc)
            return None
        except Exception:
            self._count(Counter.error("discovery_parse"))
            log.exception("parsing %s failed", response.url)
            return None
        if listing.kind == "unknown":
            self._count(Counter.error("discovery_parse"))
            log.warning("not a sitemap or feed: %s", response.url)
            return None
        return listing

    def _listed_pages(self, listing: Listing, source: str) -> list[scrapy.Request]:
        """Stories a sitemap or feed lists are fetched before any other page. A 50,000-URL
        sitemap must not turn into a crawl of the whole site: in fresh discovery their
        links are judged by shape like any article's (crawler.runtime.frontier), in full
        discovery not followed. They wait in the window of listed pages
        (crawler.runtime.listed_pages) and are requested a few at a time."""
        depth = self.frontier.listed_depth
        for entry in listing.urls:
            if self._too_old(entry.published):
                self._count(Counter.skipped("too_old"))
                continue
            # What a sitemap or feed lists is fetched whatever an earlier run decided: the
            # publisher says it is a story now.
            if self.follow(entry.url, depth, source):
                self._listed.add(Listed(entry.url, depth, source))
        return self._released_listed()

    def _released_listed(self) -> list[scrapy.Request]:
        requests = []
        for page in self._listed.release():
            self.frontier.mark_seen(page.url)
            request = self.page_request(page.url, page.depth, page.source, Priority.LISTED)
            request.meta[Meta.LISTED] = True
            requests.append(request)
        if requests:
            self._stats.max_value(stat(Counter.LISTED_IN_FLIGHT_PEAK), self._listed.peak)
        return requests

    def _schedule(self, requests: list[scrapy.Request]) -> bool:
        """Hand requests to Scrapy outside a callback (idle, a dropped request); whether
        there were any."""
        if self._closing():
            return False
        for request in requests:
            self.crawler.engine.crawl(request)
        return bool(requests)

    def _schedule_listed(self) -> bool:
        """Request the listed pages the window has room for; whether there were any."""
        self._refill_pending = False
        return not self._closing() and self._schedule(self._released_listed())

    def _closing(self) -> bool:
        engine = self.crawler.engine
        return engine is None or engine.spider is None

    def _listed_dropped(self, request: scrapy.Request) -> None:
        """A listed page the scheduler refused (already requested) frees its place.

        The next pages are scheduled from the event loop, not from inside the scheduler's
        own call: two sitemaps listing the same 10,000 stories would otherwise recurse
        once per duplicate.
        """
        if not request.meta.get(Meta.LISTED):
            return
        self._listed.finished()
        if not self._refill_pending:
            self._refill_pending = True
            asyncio.get_running_loop().call_soon(self._schedule_listed)

    def _on_idle(self) -> None:
        """Nothing left to do: request the next window of listed pages, or else explore a
        few links of shapes the site has not shown yet (crawler.runtime.frontier)."""
        if len(self._listed):
            self._listed.nothing_in_flight()
            if self._schedule_listed():
                raise DontCloseSpider
        if self.frontier.fresh and self.frontier.held:
            sent = int(self._stats.get_value("downloader/request_count", 0))
            budget_used = self.frontier.explore_used
            explored = [
                self.page_request(url, depth, "explore", priority)
                for url, depth, priority in self.frontier.explore(sent)
            ]
            self._count(Counter.EXPLORED, self.frontier.explore_used - budget_used)
            if self._schedule(explored):
                raise DontCloseSpider
        # The crawl ends now: what still waits was never explored. Counted here, before
        # the spider closes and the run's counters are recorded.
        self._stats.set_value(stat(Counter.skipped("unexplored")), self.frontier.held)

    def _too_old(self, published: datetime | None) -> bool:
        return self.cutoff is not None and published is not None and published < self.cutoff

    def discovery_failed(self, failure: Failure) -> None:
        request = _failed_request(failure)
        if request.meta.get(Meta.GUESSED):
            return  # the conventional /sitemap.xml is often absent
        self._count_failure(failure)

    # ------------------------------------------------------------------ pages

    def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[Any]:
        """Scrapy's default callback (`scrapy parse URL` without --callback): a page."""
        return self.parse_page(response)

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        self._count(Counter.PAGES_FETCHED)
        try:
            async for item in self._page_items(response):
                yield item
        except Exception:
            # Scrapy calls no errback for a callback that raised: the page is done all
            # the same, and the listed pages it makes room for must not wait for idle.
            self._schedule(self._page_done(response.meta))
            raise
        for request in self._page_done(response.meta):
            yield request

    async def _page_items(self, response: Response) -> AsyncIterator[Any]:
        # The URL asked for, before redirects: storage keeps it as a redirect alias.
        request_url = response.meta.get("redirect_urls", [response.url])[0]
        fetched_at = datetime.now(UTC)
        if response.status == 304 and Meta.LISTING_VALIDATORS in response.meta:
            # A listing unchanged since the last complete run: the links it had then.
            self._count(Counter.CHECKED_LISTING_304)
            depth = int(response.meta.get(Meta.DEPTH, 0))
            for request in self._plan(self.frontier.unchanged_listing(request_url, depth)):
                yield request
            return
        if response.status == 304:
            self._count(Counter.CHECKED_304)
            check = not_modified(self.site.name, request_url, response.url, fetched_at)
            if check is None:
                log.warning("unusable 304 for %s: not an archivable URL", response.url)
            else:
                yield ArchivedFetch(response.url, check)
            return
        page = FetchedPage(
            site=self.site.name,
            url=request_url,
            final_url=response.url,
            status=response.status,
            body=response.body,
            content_type=_header(response, b"Content-Type"),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            fetched_at=fetched_at,
            headers=_all_headers(response),
        )
        rules = self.rules
        if response.meta.get(Meta.IGNORE_CANONICAL):
            rules = replace(rules, follow_canonical=False)
        try:
            analysis: PageAnalysis = await self.pool.run(analyze_page, page, rules)
        except PageTimeoutError as exc:
            self._count(Counter.error("extraction_timeout"))
            log.warning("extraction of %s stopped: %s", response.url, exc)
            return
        except WorkerCrashedError as exc:
            self._count(Counter.error("worker_crashed"))
            log.warning("extraction of %s crashed: %s", response.url, exc)
            return
        except Exception:
            self._count(Counter.error("extraction_failed"))
            log.exception("extraction of %s failed", response.url)
            return
        for item in self.handle_analysis(response, analysis):
            yield item

    def handle_analysis(self, response: Response, analysis: PageAnalysis) -> Iterable[Any]:
        request_url = response.meta.get("redirect_urls", [response.url])[0]
        depth = self.frontier.depth_of(request_url, int(response.meta.get(Meta.DEPTH, 0)))
        kind = analysis.kind
        verdict = "not_story"
        if kind == "article" and analysis.prepared is not None:
            verdict = "article"
            self._count(Counter.PAGES_ARTICLE)
            article = analysis.prepared.record.article
            if article is not None:  # extraction quality, for the site health check
                if article.published is None:
                    self._count(Counter.NO_DATE)
                if len(article.text) < SHORT_TEXT:
                    self._count(Counter.SHORT_TEXT)
            if analysis.decision is not None:
                log.debug("article (%s): %s", ", ".join(analysis.decision.reasons), response.url)
            yield ArchivedFetch(response.url, analysis.prepared)
        elif kind == "alternate" and analysis.canonical:
            verdict = ""  # a copy: what counts is the page it names
            self._count(Counter.PAGES_ALTERNATE)
            if self.follow(analysis.canonical, depth, "canonical"):
                request = self.page_request(analysis.canonical, depth, "canonical", Priority.STORY)
                request.meta[Meta.CANONICAL_OF] = response.url
                yield request
        elif kind in ("not_html", "empty", "unparsable"):
            self._count(Counter.skipped(kind))
            if kind != "not_html":
                verdict = ""  # a bad answer this time, not the page's nature
        else:
            self._count(Counter.NOT_ARTICLE)
            # A listing by its headline links, or by its links to the site's stories
            # (teasers that are images, or headlines too short to count as such).
            if (
                analysis.listing
                or self.frontier.story_links(analysis.judged_links) >= LISTING_HEADLINES
            ):
                verdict = "listing"
            if analysis.decision is not None:
                log.debug(
                    "not an article (%s): %s", ", ".join(analysis.decision.reasons), response.url
                )
        if verdict:
            yield from self._plan(
                self.frontier.decided(
                    request_url,
                    verdict,
                    _header(response, b"ETag"),
                    _header(response, b"Last-Modified"),
                )
            )
        if kind != "article" and depth <= 1:
            for feed in analysis.feeds:
                if self._feeds_discovered >= MAX_AUTODISCOVERED_FEEDS:
                    break
                if self.follow(feed, depth, "autodiscovery"):
                    self._feeds_discovered += 1
                    yield self.feed_request(feed)
        on_listing = verdict == "listing" or response.meta.get(Meta.SOURCE) == "start"
        links = [link for link in analysis.judged_links if self.follow(link.url, depth + 1, "link")]
        yield from self._plan(
            self.frontier.links(request_url, links, depth, on_listing, analysis.headline_links)
        )

    def _plan(self, plan: LinkPlan) -> list[scrapy.Request]:
        """The requests a frontier decision makes; what it left out, counted per rule."""
        for reason, amount in plan.skipped.items():
            self._count(Counter.skipped(reason), amount)
        return [
            self.page_request(url, depth, "link", priority) for url, depth, priority in plan.follow
        ]

    def page_failed(self, failure: Failure) -> list[scrapy.Request]:
        if isinstance(failure.value, HttpError):
            self._count(Counter.PAGES_FETCHED)
        self._count_failure(failure)
        request = _failed_request(failure)
        following = self._page_done(request.meta)
        if isinstance(failure.value, HttpError) and failure.value.response.status in (404, 410):
            url = request.meta.get("redirect_urls", [request.url])[0]
            following += self._plan(self.frontier.decided(url, "gone"))
        copy_of = request.meta.get(Meta.CANONICAL_OF)
        if copy_of and isinstance(failure.value, HttpError):
            # The canonical a page named is broken (404, 410, ...): the page we have is
            # the only copy of the story, so archive it after all.
            retry = self.page_request(copy_of, int(request.meta.get(Meta.DEPTH, 0)), "canonical")
            retry.meta[Meta.IGNORE_CANONICAL] = True
            following.append(retry.replace(dont_filter=True))
        return following

    def _page_done(self, meta: Mapping[str, Any]) -> list[scrapy.Request]:
        """A page was handled: with --max-pages, end the crawl once every admitted page
        has been, instead of letting discovery run on while each further page is refused;
        otherwise return the listed pages a listed page makes room for, for the callback
        to yield (through the spider middlewares, like every other request)."""
        if meta.get(Meta.ADMITTED):
            self._pages_done += 1
            limit = self.settings.getint(Setting.MAX_PAGES)
            if limit and self._pages_done >= limit:
                raise CloseSpider("max_pages")
        if not meta.get(Meta.LISTED):
            return []
        self._listed.finished()
        return self._released_listed()

    def _count_failure(self, failure: Failure) -> None:
        url = _failed_request(failure).url
        kind = failure_kind(failure, url)
        if kind is None:
            return
        self._count(kind)
        log.info("%s: %s", kind, url)


def _failed_request(failure: Failure) -> scrapy.Request:
    """Scrapy attaches the failed request to the Failure it hands an errback."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def _all_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """Every header as received (bytes read as Latin-1, as HTTP/1.1 defines them)."""
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _cutoff(since: datetime | timedelta | str | None) -> datetime | None:
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if isinstance(since, timedelta):
        return datetime.now(UTC) - since
    return parse_moment(since)
