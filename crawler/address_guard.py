"""Never let a crawl reach a private, loopback, link-local or otherwise non-public address.

A news page is untrusted input: a link, a redirect or a DNS answer can point the crawler at
169.254.169.254 (cloud metadata), at 127.0.0.1:6379 or at the office intranet. Scrapy has
no such filter. Every request's host is resolved (decimal, octal and hex forms of an IPv4
address resolve like any name) and refused if any address is not globally routable,
unless the host is written in one of the site's start URLs: that is how an operator says
"crawl this intranet host" (and how the tests crawl 127.0.0.1).

The downloader resolves the name again when it connects, so a DNS answer that changes in
between (rebinding) is not caught here; a resolver pinned per crawl would close that gap.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = ["AddressGuardMiddleware", "forbidden_address"]

log = logging.getLogger(__name__)

STAT = "newsarchive/"


def forbidden_address(address: str) -> bool:
    """True for any address that is not a public unicast one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._verdicts: dict[str, str | None] = {}  # host -> the forbidden address, or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        site = getattr(self.crawler.spider, "site", None)
        if site is None:
            return
        host = (urlsplit(request.url).hostname or "").rstrip(".").lower()
        if not host or host in _start_hosts(site):
            return
        if host not in self._verdicts:
            self._verdicts[host] = await _first_forbidden(host)
        bad = self._verdicts[host]
        if bad is not None:
            stats: Any = self.crawler.stats
            stats.inc_value(STAT + "blocked/address")
            log.warning("refused %s: %s resolves to non-public %s", request.url, host, bad)
            raise IgnoreRequest(f"{host} resolves to the non-public address {bad}")


def _start_hosts(site: Any) -> set[str]:
    return {(urlsplit(url).hostname or "").rstrip(".").lower() for url in site.start_urls}


async def _first_forbidden(host: str) -> str | None:
    """The first non-public address `host` resolves to; None if all are public or the name
    does not resolve (the download then fails and is counted as a DNS error)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = str(info[4][0])
        if forbidden_address(address):
            return address
    return None
