"""Retries on 5xx and 429 that wait as long as the server's Retry-After asks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware

from crawler.keys import Counter, Setting, stat
from crawler.runtime.address_guard import refused_address

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

__all__ = ["RetryAfterMiddleware", "retry_after_seconds"]


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
        self.max_wait = settings.getfloat(Setting.MAX_RETRY_AFTER)

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
            self.crawler.stats.inc_value(stat(Counter.skipped("retry_after_too_long")))
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
