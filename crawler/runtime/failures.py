"""Which counter a failed request adds to, decided by the exception's type.

The kinds follow what Scrapy's own retry middleware tells apart (RETRY_EXCEPTIONS):
Scrapy wraps Twisted's download errors in its own types, and the Twisted types that can
still reach an errback (a connection closed under a response) are listed beside them.
An `IgnoreRequest` was raised by a middleware that counted it already (ours count the
kind they refuse; Scrapy's robots.txt middleware counts into `robotstxt/forbidden`, which
the run's counters read), so it adds nothing here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error
from twisted.python.failure import Failure

from crawler.keys import Counter
from crawler.runtime.address_guard import refused_address

try:  # Scrapy names a body that grew past DOWNLOAD_MAXSIZE while decompressed only so
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded as _Decompressed
except ImportError:  # pragma: no cover - a Scrapy that renamed it: counted as too_large
    _Decompressed = ValueError  # type: ignore[assignment,misc]

__all__ = ["failure_kind"]

_TIMEOUTS = (DownloadTimeoutError, error.TimeoutError, defer.TimeoutError, error.TCPTimedOutError)
_DNS = (CannotResolveHostError, error.DNSLookupError)
_REFUSED = (DownloadConnectionRefusedError, error.ConnectError)
# A response cut short. Not DownloadFailedError: Scrapy wraps every failed response in it
# (TLS handshakes, certificates too), so it keeps its own name, as any type not listed.
_LOST = (ResponseDataLossError, error.ConnectionLost, error.ConnectionDone)


def failure_kind(failure: Failure, url: str) -> str | None:
    """The counter `failure` of a request for `url` adds to, or None when a middleware
    counted it already."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return Counter.error(f"http_{exc.response.status}")
    if isinstance(exc, IgnoreRequest):
        if isinstance(exc.__cause__, _Decompressed):
            return Counter.error("too_large")  # over DOWNLOAD_MAXSIZE once decompressed
        return None
    if isinstance(exc, _DNS):
        if refused_address(urlsplit(url).hostname or ""):
            return Counter.blocked("address")  # the resolver refused the answer it got
        return Counter.error("dns")
    # Before _REFUSED: a TCP connect timeout is a ConnectError too.
    if isinstance(exc, _TIMEOUTS):
        return Counter.error("timeout")
    if isinstance(exc, _REFUSED):
        return Counter.error("connection")
    if isinstance(exc, _LOST):
        return Counter.error("connection_lost")
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only once it passes DOWNLOAD_MAXSIZE (announced by
        # Content-Length or not).
        return Counter.error("too_large")
    return Counter.error(type(exc).__name__)
