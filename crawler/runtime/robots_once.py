"""robots.txt is downloaded once per host and crawl, though two parts of the crawl read it.

Scrapy's RobotsTxtMiddleware downloads it to obey it, and the spider needs its `Sitemap:`
lines; each used to cost the publisher a request. This subclass of Scrapy's middleware
hands every robots.txt it downloads (or the news that it could not) to the spider's
`robots_fetched(netloc, url, body)`, and the spider requests no robots.txt of its own while
the middleware is on. The hooks are Scrapy's own steps after a download and after a failed
one; tests/runtime/test_robots_once.py fails if a Scrapy upgrade renames them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

__all__ = ["SharedRobotsTxtMiddleware"]


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        self._tell_spider(netloc, response.url, response.body)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        super()._robots_error(exc, netloc)
        self._tell_spider(netloc, None, None)

    def _tell_spider(self, netloc: str, url: str | None, body: bytes | None) -> None:
        listener: Any = getattr(self.crawler.spider, "robots_fetched", None)
        if listener is not None:
            listener(netloc, url, body)
