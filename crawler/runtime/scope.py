"""Requests go only to the site being crawled: http(s), its hosts and its ports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler.keys import Counter, stat

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from crawler.config.sites import SiteConfig

__all__ = ["SiteScopeMiddleware"]

log = logging.getLogger(__name__)


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
        site: SiteConfig | None = getattr(self.crawler.spider, "site", None)
        if site is None:
            return
        parts = urlsplit(request.url)
        stats = self.crawler.stats
        assert stats is not None
        if parts.scheme not in ("http", "https"):
            stats.inc_value(stat(Counter.blocked("scheme")))
            raise IgnoreRequest(f"scheme {parts.scheme!r} is not http or https")
        if not site.allows_url(request.url):
            stats.inc_value(stat(Counter.blocked("offsite")))
            log.debug("blocked a request off the site: %s", request.url)
            raise IgnoreRequest(f"{parts.netloc} is not a host of site {site.name}")
