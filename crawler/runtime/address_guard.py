"""Never let a crawl reach a private, loopback, link-local or otherwise non-public address.

A news page is untrusted input: a link, a redirect or a DNS answer can point the crawler at
169.254.169.254 (cloud metadata), at 127.0.0.1:6379 or at the office intranet. Scrapy has
no such filter. Every request's host is resolved (decimal, octal and hex forms of an IPv4
address resolve like any name) and refused if any address is not globally routable,
unless the host is written in one of the site's start URLs: that is how an operator says
"crawl this intranet host" (and how the tests crawl 127.0.0.1).

Two checks, because a DNS answer can change between them (rebinding):
- `AddressGuardMiddleware` refuses a request before it is queued for download, and counts
  it, so a refused page costs no download slot and no retries.
- `GuardedResolver`, installed as the process's resolver (TWISTED_DNS_RESOLVER), checks
  the very answer the downloader connects to (address literals pass through it too).
  Scrapy caches that answer for the process, so every later connection to the host uses
  the address that was checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.keys import Counter, stat

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred

__all__ = [
    "AddressGuardMiddleware",
    "GuardedResolver",
    "forbidden_address",
    "refused_address",
]

log = logging.getLogger(__name__)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Special-purpose blocks that some Python versions count as global (RFC 6890 registry).
_ALSO_FORBIDDEN = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("2002::/16"))


def forbidden_address(address: str) -> bool:
    """True for any address that is not a public unicast one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 (mapped, 6to4, NAT64's well-known prefix) is judged as
        # the IPv4 address it reaches; is_global alone misses some of these forms.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
        elif ip.teredo is not None:
            return True  # a tunnel endpoint, never a news site
    if any(ip in network for network in _ALSO_FORBIDDEN):
        return True
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
        host = _host_key(urlsplit(request.url).hostname or "")
        if not host or host in _start_hosts(site):
            return
        if host not in self._verdicts:
            self._verdicts[host] = await _first_forbidden(host)
        bad = self._verdicts[host]
        if bad is not None:
            stats: Any = self.crawler.stats
            stats.inc_value(stat(Counter.blocked("address")))
            log.warning("refused %s: %s resolves to non-public %s", request.url, host, bad)
            raise IgnoreRequest(f"{host} resolves to the non-public address {bad}")


def _start_hosts(site: Any) -> set[str]:
    return {_host_key(urlsplit(url).hostname or "") for url in site.start_urls}


def _host_key(host: str) -> str:
    """A host as the downloader resolves it: lower case, no trailing dot, IDNA-encoded."""
    host = host.rstrip(".").lower()
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


# Names the resolver refused in this process, and the address each resolved to. Twisted
# turns any resolver error into a plain "no results" DNS failure on its way to the
# downloader, so the spider looks the host up here to count it as blocked, not as DNS.
_refused: dict[str, str] = {}


def refused_address(host: str) -> str | None:
    """The non-public address `host` was refused for at connect time, if it was."""
    return _refused.get(_host_key(host))


@implementer(IResolverSimple)
class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing non-public answers for hosts no crawl started at.

    Scrapy builds the resolver once per process from the CrawlerProcess, so the exempt
    hosts are the start hosts of every crawl in the process; each crawl's scope middleware
    still keeps it to its own site's hosts.
    """

    def __init__(
        self,
        reactor: Any,
        cache_size: int,
        timeout: float,
        exempt_hosts: Callable[[], Collection[str] | None],
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self._exempt_hosts = exempt_hosts

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        crawlers = getattr(crawler, "crawlers", None)

        def exempt_hosts() -> Collection[str] | None:
            """Start hosts of every archive crawl here; None (all) when there is none:
            like the project's middlewares, the guard leaves other spiders (`scrapy
            fetch`, `scrapy shell`) alone."""
            hosts: set[str] = set()
            archive_crawls = 0
            for each in crawlers if crawlers is not None else (crawler,):
                site = getattr(getattr(each, "spider", None), "site", None)
                if site is not None:
                    archive_crawls += 1
                    hosts |= _start_hosts(site)
            return hosts if archive_crawls else None

        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), exempt_hosts)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        deferred: Deferred[str] = super().getHostByName(name, timeout)
        deferred.addCallback(self._refuse_non_public, name)
        return deferred

    def _refuse_non_public(self, address: str, name: str) -> str:
        host = _host_key(name)
        if not forbidden_address(address):
            return address
        exempt = self._exempt_hosts()
        if exempt is not None and host not in exempt:
            _refused[host] = address
            log.warning(
                "address guard: refused to connect to %s, which resolves to non-public %s",
                name,
                address,
            )
            raise DNSLookupError(f"{name} resolves to the non-public address {address}")
        return address


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
