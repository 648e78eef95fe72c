"""Request fingerprints by canonical URL, so tracking parameters never cost a second fetch.

Scrapy's default fingerprint keeps `utm_*` parameters, so `/story?utm_source=rss` and
`/story` would both be downloaded. Fingerprinting the archive's own canonical form (the
one storage uses as a story's identity) makes the duplicate filter and the archive agree.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from storage.urls import canonical_or_none

if TYPE_CHECKING:
    from scrapy import Request

__all__ = ["CanonicalRequestFingerprinter"]


class CanonicalRequestFingerprinter:
    def __init__(self) -> None:
        self._cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CanonicalRequestFingerprinter:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        cached = self._cache.get(request)
        if cached is not None:
            return cached
        url = canonical_or_none(request.url) or request.url
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(request.method.encode())
        digest.update(b"\0")
        digest.update(url.encode())
        digest.update(b"\0")
        digest.update(request.body or b"")
        value = digest.digest()
        self._cache[request] = value
        return value
