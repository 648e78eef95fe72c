"""Everything done to one fetched page, in one pass, inside an extraction worker process.

Decode, parse once, read the page's declarations, collect its links, extract the article,
decide whether it is one, and precompute what storage needs (normalized text, MinHash,
compressed HTML). The reactor process only moves bytes and runs SQL; the worker returns
plain picklable values, never Scrapy objects.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from crawler.analysis.article_decision import Decision, decide
from crawler.analysis.charset import decode_html
from crawler.analysis.extraction import (
    ExtractionOptions,
    extract_article,
    extractor_name,
    parse_html,
)
from crawler.analysis.links import page_links
from crawler.analysis.pagemeta import read_page_meta
from crawler.analysis.url_shapes import Link, judge_links
from storage.prepare import InvalidFetchError, PreparedFetch, prepare
from storage.records import ExtractedArticle, FetchRecord
from storage.urls import canonical_or_none, same_site

__all__ = [
    "LISTING_HEADLINES",
    "FetchedPage",
    "PageAnalysis",
    "PageRules",
    "analyze_page",
    "not_modified",
]

# A page that is no article and links this many headlines is a listing of stories.
LISTING_HEADLINES = 3
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True, slots=True)
class PageRules:
    """The per-site rules a worker needs; plain values so they pickle cheaply."""

    allow: tuple[str, ...] = ()
    selectors: tuple[tuple[str, str], ...] = ()
    options: ExtractionOptions = field(default_factory=ExtractionOptions)
    # False when the page's own rel=canonical led back to it through a redirect.
    follow_canonical: bool = True


@dataclass(frozen=True, slots=True)
class FetchedPage:
    site: str
    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    # Every response header, (name, value) in order, kept with the version (for WARC).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class PageAnalysis:
    """The worker's verdict on a page.

    kind is "article", "not_article", "alternate" (an AMP or print copy whose rel=canonical
    names another page of the site: that page is fetched instead), "not_html", "empty" or
    "unparsable" (lxml could not make a document of it).
    """

    kind: str
    # Only for an article: what storage needs, precomputed here rather than in the writer.
    prepared: PreparedFetch | None = None
    decision: Decision | None = None
    judged_links: list[Link] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    canonical: str | None = None
    # Not an article but a page of headline links to stories: home, section, tag, author.
    listing: bool = False
    # Links whose anchor text reads like a headline: on a listing, teasers of stories.
    headline_links: frozenset[str] = frozenset()

    @property
    def links(self) -> list[str]:
        """The page's links as it wrote them."""
        return [link.url for link in self.judged_links]


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def analyze_page(page: FetchedPage, rules: PageRules) -> PageAnalysis:
    """Decide and extract one page; raises only on a bug, never on bad input."""
    media_type = (page.content_type or "").split(";")[0].strip().lower()
    if media_type not in _HTML_TYPES or _binary(page.body):
        return PageAnalysis("not_html")
    if not page.body.strip():
        return PageAnalysis("empty")
    text, _encoding = decode_html(page.body, page.content_type)
    tree = parse_html(text)
    if tree is None:
        return PageAnalysis("unparsable")
    meta = read_page_meta(tree, page.final_url)
    links = page_links(tree, page.final_url)
    judged = judge_links(links.urls)
    canonical = (
        _same_site_canonical(page.final_url, meta.canonical) if rules.follow_canonical else None
    )
    if canonical is not None:
        return PageAnalysis(
            "alternate", judged_links=judged, feeds=meta.feed_links, canonical=canonical
        )
    extraction = extract_article(tree, page.final_url, meta, rules.options, dict(rules.selectors))
    lines = [" ".join(line.split()) for line in extraction.article.text.splitlines()]
    lines = [line for line in lines if line]
    decision = decide(
        page.final_url,
        meta,
        extraction.text_chars,
        links.headline_links,
        links.headline_chars,
        _compiled(rules.allow),
        text_lines=len(lines),
        headline_lines=sum(1 for line in lines if line in links.link_texts),
    )
    if not decision.is_article:
        return PageAnalysis(
            "not_article",
            decision=decision,
            judged_links=judged,
            feeds=meta.feed_links,
            listing=links.headline_links >= LISTING_HEADLINES,
            headline_links=links.headline_urls,
        )
    try:
        extractor = extractor_name(rules.options, rules.selectors)
        prepared = prepare(_record(page, extraction.article, extractor))
        prepared = prepared.precompute().detach_body()
    except InvalidFetchError:
        return PageAnalysis("not_article", decision=decision, judged_links=judged)
    return PageAnalysis("article", prepared, decision, judged, meta.feed_links)


def not_modified(site: str, url: str, final_url: str, fetched_at: datetime) -> PreparedFetch | None:
    """A 304 answer to a conditional request: a check of a known story, nothing to parse.

    Prepared here like every other fetch, so the spider hands storage only what analysis
    made; None when the URL is not one the archive can key (it never requested such).
    """
    try:
        return prepare(FetchRecord(site, url, final_url, 304, fetched_at=fetched_at))
    except InvalidFetchError:
        return None


# Leading bytes of files that servers mislabel as text/html: never parse them as pages.
_MAGIC = (
    b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"RIFF",
    b"OggS", b"ID3", b"\x00\x00\x01\x00", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf",
)  # fmt: skip
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _binary(body: bytes) -> bool:
    """A file, not a page: known magic bytes, or NULs (which no 8-bit or UTF-8 page has)."""
    head = body[:16]
    if head.startswith(_MAGIC) or head[4:8] == b"ftyp":
        return True
    return not head.startswith(_UTF16_BOMS) and b"\x00" in body[:512]


def _record(page: FetchedPage, article: ExtractedArticle, extractor: str) -> FetchRecord:
    return FetchRecord(
        site=page.site,
        url=page.url,
        final_url=page.final_url,
        status=page.status,
        body=page.body,
        article=article,
        etag=page.etag,
        last_modified=page.last_modified,
        fetched_at=page.fetched_at,
        extractor=extractor,
        headers=page.headers,
    )


def _same_site_canonical(final_url: str, declared: str | None) -> str | None:
    """The page's rel=canonical when it names a different page of the same site.

    Such a page (AMP, print, a tracking-parameter variant) is a copy; archiving it too
    would make every crawl alternate between two texts of one story.
    """
    own, other = canonical_or_none(final_url), canonical_or_none(declared or "")
    if own is None or other is None or own == other or not same_site(own, other):
        return None
    if (urlsplit(other).path or "/") == "/":
        return None  # a template pointing every page at the home page
    return other
