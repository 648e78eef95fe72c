"""Known stories and listings are requested with If-None-Match / If-Modified-Since, so an
unchanged one costs a 304: no download, no extraction."""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.keys import Counter, Meta, Setting, stat
from storage.urls import canonical_or_none

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = ["ConditionalRequestMiddleware", "validator_key"]


def validator_key(url: str) -> bytes | None:
    """An 8-byte key per known URL (instead of the URL) keeps the validator table small."""
    canonical = canonical_or_none(url)
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
        # Not when nothing is recorded (scrapy parse): it wants to see the page, not a 304,
        # and must not open (so create or migrate) the archive.
        if not crawler.settings.getbool(Setting.CONDITIONAL):
            raise NotConfigured
        if not crawler.settings.getbool(Setting.RECORD):
            raise NotConfigured
        return cls(crawler, crawler.settings.get(Setting.DB))

    async def spider_opened(self, spider: Any) -> None:
        site = getattr(spider, "site", None)
        if site is None:
            return
        self.validators = await asyncio.to_thread(self._load, site.name)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(stat(Counter.KNOWN_URLS), len(self.validators))

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
        if request.meta.get(Meta.ROLE) != "page":
            return
        # A listing an earlier run saw (the spider's frontier put its validators here).
        found = request.meta.get(Meta.LISTING_VALIDATORS)
        if found is None and self.validators:
            key = validator_key(request.url)
            found = self.validators.get(key) if key is not None else None
        if found is None:
            return
        etag, last_modified = found
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag.encode("latin-1", "replace")
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified.encode("latin-1", "replace")
