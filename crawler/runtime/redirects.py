"""Redirects as Scrapy follows them, plus redirects back to the same story, and never to
another scheme."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler.keys import Counter, Meta, stat
from storage.urls import canonical_or_none

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

__all__ = ["CanonicalRedirectMiddleware"]


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
            stats.inc_value(stat(Counter.blocked("scheme")))
            raise IgnoreRequest(f"redirect from {request.url} to a non-http(s) URL")
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:
            stats.inc_value(stat(Counter.error("too_many_redirects")))
            raise
        if result is request or not hasattr(result, "dont_filter"):
            return result
        target = canonical_or_none(result.url)
        seen = {canonical_or_none(u) for u in (request.url, *request.meta.get("redirect_urls", ()))}
        canonical_of = request.meta.get(Meta.CANONICAL_OF)
        if target is not None and target in seen:
            result.dont_filter = True
        elif target is not None and canonical_of and target == canonical_or_none(canonical_of):
            # The page named a canonical that redirects straight back to it: the page is
            # the story after all, so archive it instead of treating it as a copy again.
            result.dont_filter = True
            result.meta[Meta.IGNORE_CANONICAL] = True
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
