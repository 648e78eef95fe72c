"""Downloader middlewares: where requests may go, how many, and what they carry.

Each one switches itself off when the spider is not an archive spider (no `site`
attribute) or its setting is off, following zyte-spider-templates' incremental
middleware, so they are safe in any Scrapy project.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.address_guard import refused_address
from storage.urls import InvalidURLError, canonicalize_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.sites import SiteConfig

__all__ = [
    "CanonicalRedirectMiddleware",
    "ConditionalRequestMiddleware",
    "PageBudgetMiddleware",
    "RetryAfterMiddleware",
    "SiteScopeMiddleware",
    "validator_key",
]

log = logging.getLogger(__name__)

STAT = "newsarchive/"


def _site(crawler: Crawler) -> SiteConfig | None:
    return getattr(crawler.spider, "site", None)


class SiteScopeMiddleware:
    """Only http(s), and only hosts of the site being crawled; redirects included.

    Scrapy's OffsiteMiddleware lets `dont_filter` requests (retries, start requests)
    through; this one checks every request, including each hop of a redirect, which
    comes back through the middlewares as a new request.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site = _site(self.crawler)
        if site is None:
            return
        parts = urlsplit(request.url)
        stats = self.crawler.stats
        assert stats is not None
        if parts.scheme not in ("http", "https"):
            stats.inc_value(STAT + "blocked/scheme")
            raise IgnoreRequest(f"scheme {parts.scheme!r} is not http or https")
        if not site.allows_url(request.url):
            stats.inc_value(STAT + "blocked/offsite")
            log.debug("blocked a request off the site: %s", request.url)
            raise IgnoreRequest(f"{parts.netloc} is not a host of site {site.name}")


class PageBudgetMiddleware:
    """`--max-pages N`: stop sending new page requests after N (retries and redirects of
    an admitted page do not count again)."""

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageBudgetMiddleware:
        limit = crawler.settings.getint("NEWSARCHIVE_MAX_PAGES")
        if limit <= 0:
            raise NotConfigured
        return cls(crawler, limit)

    def process_request(self, request: Request) -> None:
        if request.meta.get("na_role") != "page" or request.meta.get("na_admitted"):
            return
        if self.sent >= self.limit:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(STAT + "skipped/max_pages")
            raise IgnoreRequest("page budget reached")
        self.sent += 1
        request.meta["na_admitted"] = True


def validator_key(url: str) -> bytes | None:
    """An 8-byte key per known URL (instead of the URL) keeps the validator table small."""
    canonical = _canonical(url)
    return (
        None if canonical is None else hashlib.blake2b(canonical.encode(), digest_size=8).digest()
    )


class ConditionalRequestMiddleware:
    """Known stories are requested with If-None-Match / If-Modified-Since.

    The validators come from the archive when the spider opens; a 304 then costs
    neither a download nor an extraction (the spider records it as a check).
    """

    def __init__(self, crawler: Crawler, db_url: str) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.validators: dict[bytes, tuple[str | None, str | None]] = {}
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.getbool("NEWSARCHIVE_CONDITIONAL"):
            raise NotConfigured
        return cls(crawler, crawler.settings.get("NEWSARCHIVE_DB"))

    async def spider_opened(self, spider: Any) -> None:
        site = getattr(spider, "site", None)
        if site is None:
            return
        self.validators = await asyncio.to_thread(self._load, site.name)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(STAT + "known_urls", len(self.validators))

    def _load(self, site: str) -> dict[bytes, tuple[str | None, str | None]]:
        from storage.archive import Archive

        table: dict[bytes, tuple[str | None, str | None]] = {}
        with Archive(self.db_url) as archive:
            for url, etag, last_modified in archive.validators(site):
                key = validator_key(url)
                if key is not None:
                    table[key] = (etag, last_modified)
        return table

    def process_request(self, request: Request) -> None:
        if not self.validators or request.meta.get("na_role") != "page":
            return
        key = validator_key(request.url)
        found = self.validators.get(key) if key is not None else None
        if found is None:
            return
        etag, last_modified = found
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag.encode("latin-1", "replace")
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified.encode("latin-1", "replace")


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries on 5xx/429, but waiting as long as the server's Retry-After asks.

    The wait is put on the site's download slot, so every request to that site waits, not
    just the retried one (that is what the server asked for), and no download slot is held
    while waiting. A server asking for longer than NEWSARCHIVE_MAX_RETRY_AFTER is not
    retried in this run (the page counts as an error): waiting would hold the crawl hostage.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSARCHIVE_MAX_RETRY_AFTER")

    # A coroutine where Scrapy's is a plain method: Scrapy awaits middleware methods.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Any:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        reason = f"HTTP {response.status}"
        allowed = request.meta.get("max_retry_times", self.max_retry_times)
        if request.meta.get("retry_times", 0) + 1 > allowed:
            return self._retry(request, reason) or response  # gives up, and logs it
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.max_wait:
            self.crawler.stats.inc_value(STAT + "skipped/retry_after_too_long")
            return response
        if wait and not self._hold_site(request, wait):
            await asyncio.sleep(wait)
        return self._retry(request, reason) or response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if refused_address(urlsplit(request.url).hostname or ""):
            return None  # refused by the address guard: asking again cannot help
        return super().process_exception(request, exception)

    def _hold_site(self, request: Request, wait: float) -> bool:
        """Push the site's next download `wait` seconds away; False if there is no delay
        slot to push (DOWNLOAD_DELAY 0), in which case the caller waits itself."""
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return False
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None or slot.download_delay() <= 0:
            return False
        slot.lastseen = max(slot.lastseen, monotonic() + wait - slot.download_delay())
        return True


def _canonical(url: str) -> str | None:
    try:
        return canonicalize_url(url)
    except InvalidURLError:
        return None


class CanonicalRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, plus redirects that lead back to the same story.

    Fingerprints are canonical URLs, so `/story?utm_source=x` -> 301 -> `/story` would be
    dropped by the duplicate filter as "already seen" and the story never fetched. A
    redirect whose target is the same story as the request (or as the page whose
    rel=canonical sent us here, when the canonical redirects back to it) is let through
    the filter; REDIRECT_MAX_TIMES still ends loops.
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        stats: Any = self.crawler.stats
        if _redirects_off_the_web(request, response):
            # Scrapy hands such a 3xx to the spider as an HTTP error; it is a blocked
            # attempt to make the crawler read a local file or another protocol.
            stats.inc_value(STAT + "blocked/scheme")
            raise IgnoreRequest(f"redirect from {request.url} to a non-http(s) URL")
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:
            stats.inc_value(STAT + "errors/too_many_redirects")
            raise
        if result is request or not hasattr(result, "dont_filter"):
            return result
        target = _canonical(result.url)
        seen = {_canonical(u) for u in (request.url, *request.meta.get("redirect_urls", ()))}
        canonical_of = request.meta.get("na_canonical_of")
        if target is not None and target in seen:
            result.dont_filter = True
        elif target is not None and canonical_of and target == _canonical(canonical_of):
            # The page named a canonical that redirects straight back to it: the page is
            # the story after all, so archive it instead of treating it as a copy again.
            result.dont_filter = True
            result.meta["na_ignore_canonical"] = True
        return result


def _redirects_off_the_web(request: Request, response: Response) -> bool:
    """A redirect (3xx with Location) whose target's scheme is not http or https."""
    if response.status not in (301, 302, 303, 307, 308) or request.meta.get("dont_redirect"):
        return False
    location = response.headers.get(b"Location")
    if not location:
        return False
    target = urljoin(request.url, location.decode("latin-1").strip())
    return urlsplit(target).scheme.lower() not in ("http", "https")
