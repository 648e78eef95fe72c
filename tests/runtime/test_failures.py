"""A failed request's counter, by the exception's type (as Scrapy's retry middleware
tells failures apart), never by matching the text of its name or message."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import defer, error
from twisted.python.failure import Failure

from crawler.runtime import address_guard
from crawler.runtime.failures import failure_kind

URL = "http://news.example/a"


def _bomb() -> IgnoreRequest:
    """What HttpCompressionMiddleware raises for a body over DOWNLOAD_MAXSIZE once
    decompressed."""
    try:
        raise _DecompressionMaxSizeExceeded(2**25, 2**24)
    except _DecompressionMaxSizeExceeded as cause:
        try:
            raise IgnoreRequest("Ignored response") from cause
        except IgnoreRequest as exc:
            return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (HttpError(Response(URL, status=404), "Ignoring"), "errors/http_404"),
        (HttpError(Response(URL, status=503), "Ignoring"), "errors/http_503"),
        (DownloadTimeoutError("took longer"), "errors/timeout"),
        (error.TimeoutError(), "errors/timeout"),
        (defer.TimeoutError(), "errors/timeout"),
        (error.TCPTimedOutError(), "errors/timeout"),
        (CannotResolveHostError("no such host"), "errors/dns"),
        (error.DNSLookupError("no such host"), "errors/dns"),
        (DownloadConnectionRefusedError("refused"), "errors/connection"),
        (error.ConnectionRefusedError(), "errors/connection"),
        (error.NoRouteError(), "errors/connection"),
        (ResponseDataLossError(), "errors/connection_lost"),
        (error.ConnectionLost(), "errors/connection_lost"),
        (error.ConnectionDone(), "errors/connection_lost"),
        (DownloadCancelledError("over the max size"), "errors/too_large"),
        (_bomb(), "errors/too_large"),
        (DownloadFailedError("TLS handshake failed"), "errors/DownloadFailedError"),
        (IgnoreRequest("Forbidden by robots.txt"), None),  # Scrapy counts it
        (IgnoreRequest("not a host of site demo"), None),  # our middlewares count theirs
        (ValueError("something else"), "errors/ValueError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_failures_are_counted_by_type(exc: Exception, kind: str | None) -> None:
    assert failure_kind(Failure(exc), URL) == kind


def test_a_name_the_resolver_refused_is_blocked_not_a_dns_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The address guard's resolver refuses a name that resolves to a private address by
    failing the lookup (crawler.runtime.address_guard); the request then counts as
    blocked, not as unresolvable."""
    monkeypatch.setitem(address_guard._refused, "rebinding.example", "127.0.0.1")
    refused = Failure(CannotResolveHostError("rebinding.example"))
    assert failure_kind(refused, "http://rebinding.example/a") == "blocked/address"
    assert failure_kind(refused, "http://elsewhere.example/a") == "errors/dns"
