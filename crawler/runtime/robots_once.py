"""robots.txt is downloaded once per host and crawl, though two parts of the crawl read it.

Scrapy's RobotsTxtMiddleware fetches it to obey it, and the spider fetches it for its
`Sitemap:` lines; each used to cost the publisher a request. This middleware, placed before
Scrapy's, lets the first request for a robots.txt URL through and makes every other one
wait for that download and share its response. A failed download (no answer at all) lets
the waiting requests try for themselves, so nothing depends on one lost connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

__all__ = ["RobotsTxtOnceMiddleware"]

# Marks the request (and its retries and redirects, which copy meta) that downloads a
# robots.txt for everyone: the original URL it is the download of.
_OWNER = "na_robots_owner"


def _is_robots(url: str) -> bool:
    return url.split("?", 1)[0].endswith("/robots.txt")


class RobotsTxtOnceMiddleware:
    def __init__(self) -> None:
        self._answers: dict[str, Response] = {}
        self._waiting: dict[str, list[Deferred[Response | None]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtOnceMiddleware:
        return cls()

    async def process_request(self, request: Request) -> Response | None:
        url = request.url
        if request.meta.get(_OWNER) or not _is_robots(url):
            return None
        answer = self._answers.get(url)
        if answer is None:
            if url not in self._waiting:
                self._waiting[url] = []
                request.meta[_OWNER] = url
                return None
            waiter: Deferred[Response | None] = Deferred()
            self._waiting[url].append(waiter)
            answer = await maybe_deferred_to_future(waiter)
            if answer is None:
                return None  # the first download failed: try ourselves
        return answer.replace(request=request)

    def process_response(self, request: Request, response: Response) -> Response:
        owner = request.meta.get(_OWNER)
        if owner and owner not in self._answers:
            self._answers[owner] = response
            for waiter in self._waiting.pop(owner, []):
                waiter.callback(response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        owner = request.meta.get(_OWNER)
        if owner and owner not in self._answers:
            for waiter in self._waiting.pop(owner, []):
                waiter.callback(None)
