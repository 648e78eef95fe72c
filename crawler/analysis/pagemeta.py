"""Structured signals a page declares about itself: JSON-LD, Open Graph, meta tags, links.

Read once from the parsed tree and shared by the article decision, metadata filling and
discovery (feed autodiscovery, rel=next pagination), so no step parses the HTML again.
Publishers' JSON-LD is often broken (trailing commas, several objects, @graph wrappers);
anything unreadable is skipped, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

__all__ = ["ARTICLE_TYPES", "LISTING_TYPES", "PageMeta", "read_page_meta"]

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
        "SatiricalArticle",
        "AdvertiserContentArticle",
    }
)
LISTING_TYPES = frozenset(
    {"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage", "AboutPage", "ContactPage"}
)
_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
}
_MAX_JSON_LD = 2 * 1024 * 1024
_MAX_OBJECTS = 200


@dataclass(slots=True)
class PageMeta:
    """What the page's head and structure say, before any text extraction."""

    json_ld: list[dict[str, Any]] = field(default_factory=list)
    json_ld_types: set[str] = field(default_factory=set)
    opengraph: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    html_lang: str | None = None
    feed_links: list[str] = field(default_factory=list)
    next_links: list[str] = field(default_factory=list)
    article_elements: int = 0

    @property
    def og_type(self) -> str | None:
        values = self.opengraph.get("og:type")
        return values[0].strip().lower() if values else None

    def og(self, prop: str) -> str | None:
        values = self.opengraph.get(prop)
        return values[0] if values else None

    @property
    def article_ld(self) -> dict[str, Any] | None:
        """The first JSON-LD object typed as an article, the source of most metadata."""
        for obj in self.json_ld:
            if _types(obj) & ARTICLE_TYPES:
                return obj
        return None


def read_page_meta(tree: HtmlElement, base_url: str) -> PageMeta:
    page = PageMeta()
    html = tree if tree.tag == "html" else tree.getroottree().getroot()
    page.html_lang = (html.get("lang") or html.get("xml:lang") or "").strip() or None
    for node in tree.iter("meta", "link", "script", "article"):
        tag = node.tag
        if tag == "meta":
            _read_meta(node, page)
        elif tag == "link":
            _read_link(node, page, base_url)
        elif tag == "script":
            if (node.get("type") or "").strip().lower() == "application/ld+json":
                _read_json_ld(node.text or "", page)
        else:
            page.article_elements += 1
    return page


def _read_meta(node: HtmlElement, page: PageMeta) -> None:
    content = node.get("content")
    if content is None:
        return
    prop = (node.get("property") or "").strip().lower()
    if prop.startswith(("og:", "article:")):
        page.opengraph.setdefault(prop, []).append(content.strip())
        return
    name = (node.get("name") or node.get("itemprop") or node.get("http-equiv") or "").strip()
    if name:
        page.meta.setdefault(name.lower(), content.strip())


def _read_link(node: HtmlElement, page: PageMeta, base_url: str) -> None:
    rels = set((node.get("rel") or "").lower().split())
    href = (node.get("href") or "").strip()
    if not href or not rels:
        return
    try:
        absolute = urljoin(base_url, href)
    except ValueError:
        return
    if "canonical" in rels and page.canonical is None:
        page.canonical = absolute
    elif "alternate" in rels and _is_feed(node.get("type"), absolute):
        page.feed_links.append(absolute)
    elif "next" in rels:
        page.next_links.append(absolute)


def _is_feed(media_type: str | None, url: str) -> bool:
    """RSS, Atom, RDF and JSON Feed links; plain `application/json` only when the URL says
    feed (WordPress marks its REST API `/wp-json/...` links the same way)."""
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind in _FEED_TYPES:
        return True
    return kind == "application/json" and "feed" in url.lower() and "wp-json" not in url


def _read_json_ld(text: str, page: PageMeta) -> None:
    if len(text) > _MAX_JSON_LD or len(page.json_ld) >= _MAX_OBJECTS:
        return
    # RecursionError: json gives up on nesting deeper than the interpreter's stack
    # (`[[[[...` a thousand deep), which is hostile or broken, never a real article.
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        try:  # the most common breakage: a trailing comma or control characters
            data = json.loads(text.strip().rstrip(";"), strict=False)
        except (ValueError, RecursionError):
            return
    for obj in _objects(data, depth=0):
        if len(page.json_ld) >= _MAX_OBJECTS:
            break
        page.json_ld.append(obj)
        page.json_ld_types |= _types(obj)


def _objects(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Top-level objects, with @graph members and list items flattened (bounded depth)."""
    if depth > 3:
        return
    if isinstance(data, list):
        for item in data:
            yield from _objects(item, depth + 1)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if isinstance(graph, list):
            yield from _objects(graph, depth + 1)
        if "@type" in data:
            yield data


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}
