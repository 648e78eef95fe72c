"""Plain values that cross the storage boundary.

The crawler hands storage these dataclasses, never Scrapy objects, so storage can be used
(and tested) without a crawl, and the crawler never depends on table layouts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ExtractedArticle",
    "FetchRecord",
    "Outcome",
    "RecordResult",
]


class Outcome(enum.StrEnum):
    """What recording one fetch did to the archive."""

    NEW_ARTICLE = "new_article"
    NEW_VERSION = "new_version"
    # A new version whose difference came with a different extractor (another trafilatura,
    # spider or options): most likely the extraction changed, not the story.
    RE_EXTRACTED = "re_extracted"
    UNCHANGED = "unchanged"
    NOT_ARTICLE = "not_article"
    # The fetch itself was unusable (invalid URL, no site); nothing was written.
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """The fields extraction found on a page that is an article."""

    title: str | None = None
    text: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    description: str | None = None
    image: str | None = None
    tags: tuple[str, ...] = ()
    site_name: str | None = None
    canonical_url: str | None = None
    # Where each metadata value came from ("json-ld", "opengraph", "meta", "trafilatura").
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One HTTP fetch of one page, as the crawler saw it.

    `article` is None when the page is not an article (a section page, an error page);
    such fetches change no stories. A 304 answer carries no body and no article and
    counts as a check of a known story.
    """

    site: str
    url: str
    final_url: str
    status: int
    body: bytes = b""
    article: ExtractedArticle | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    run_id: int | None = None
    # What extracted `article`: name, version and a hash of its options (the crawler's
    # spider, trafilatura's version, the extraction options). A new version extracted
    # differently from the one before is recorded as a re-extraction, not an edit.
    extractor: str | None = None
    # The response's headers as received, (name, value) pairs in order, for a faithful
    # WARC (Content-Type with its charset, Date, Last-Modified...).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of one fetch, with the story it touched (if any)."""

    outcome: Outcome
    article_id: int | None = None
    version: int | None = None
    changed_fields: tuple[str, ...] = ()
    canonical_url: str | None = None
    error: str | None = None
