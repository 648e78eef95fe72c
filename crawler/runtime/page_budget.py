"""`--max-pages N`: a crawl requests at most N pages (robots.txt, sitemaps and feeds aside)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.keys import Counter, Meta, Setting, stat

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = ["PageBudgetMiddleware"]


class PageBudgetMiddleware:
    """`--max-pages N`: stop sending new page requests after N (retries and redirects of
    an admitted page do not count again)."""

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageBudgetMiddleware:
        limit = crawler.settings.getint(Setting.MAX_PAGES)
        if limit <= 0:
            raise NotConfigured
        return cls(crawler, limit)

    def process_request(self, request: Request) -> None:
        if request.meta.get(Meta.ROLE) != "page" or request.meta.get(Meta.ADMITTED):
            return
        if self.sent >= self.limit:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(stat(Counter.skipped("max_pages")))
            raise IgnoreRequest("page budget reached")
        self.sent += 1
        request.meta[Meta.ADMITTED] = True
