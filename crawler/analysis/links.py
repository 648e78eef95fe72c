"""Links a page offers to follow: absolute http(s) URLs without fragments, each once.

Only `<a>` and `<area>` hrefs count (not scripts, images or stylesheets); `<base href>` is
honoured because relative links on CMS pages are often written against it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.html import HtmlElement

__all__ = ["MAX_LINKS", "PageLinks", "page_links"]

# A page with more links than this is a link farm or a sitemap in HTML; the rest are dropped.
MAX_LINKS = 5000


# Links to files that are never news pages: fetching them would only waste bandwidth.
_SKIPPED_EXTENSIONS = frozenset(
    [
        "7z",
        "apk",
        "avi",
        "bin",
        "bmp",
        "bz2",
        "css",
        "csv",
        "dmg",
        "doc",
        "docx",
        "eps",
        "exe",
        "flac",
        "flv",
        "gif",
        "gz",
        "ico",
        "iso",
        "jpeg",
        "jpg",
        "js",
        "json",
        "m4a",
        "m4v",
        "mkv",
        "mov",
        "mp3",
        "mp4",
        "mpeg",
        "mpg",
        "msi",
        "odp",
        "ods",
        "odt",
        "ogg",
        "otf",
        "pdf",
        "png",
        "ppt",
        "pptx",
        "ps",
        "rar",
        "rss",
        "svg",
        "swf",
        "tar",
        "tgz",
        "tif",
        "tiff",
        "ttf",
        "wav",
        "webm",
        "webp",
        "wma",
        "wmv",
        "woff",
        "woff2",
        "xls",
        "xlsx",
        "xz",
        "zip",
    ]
)

# Anchor text this long reads as a headline: listing pages are made of them.
HEADLINE_CHARS = 30
# Anchor text this long can be a whole line of extracted text (a listing's or a link
# farm's lines are links); shorter ones are menu words that also occur inside prose.
LINE_CHARS = 12
MAX_LINK_TEXTS = 50_000


@dataclass(frozen=True, slots=True)
class PageLinks:
    urls: list[str]
    # The links whose anchor text reads like a headline (a listing's teasers), and the
    # total length of those texts.
    headline_urls: frozenset[str]
    headline_chars: int
    # Anchor texts of LINE_CHARS or more (whitespace-normalized), to recognise extracted
    # text lines that are links.
    link_texts: frozenset[str] = frozenset()

    @property
    def headline_links(self) -> int:
        return len(self.headline_urls)


def page_links(tree: HtmlElement, page_url: str) -> PageLinks:
    base = page_url
    for node in tree.iter("base"):
        href = (node.get("href") or "").strip()
        if href:
            with contextlib.suppress(ValueError):
                base = urljoin(page_url, href)
        break
    seen: dict[str, None] = {}
    headlines: dict[str, int] = {}
    texts: set[str] = set()
    for node in tree.iter("a", "area"):
        href = (node.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        rel = (node.get("rel") or "").lower().split()
        if "nofollow" in rel and "next" not in rel:
            continue
        try:
            url = urldefrag(urljoin(base, href))[0]
            parts = urlsplit(url)
        except ValueError:
            continue
        # No host: `https:` or `http:///x` against a page of the other scheme stays as
        # written and names no page.
        if parts.scheme not in ("http", "https") or not parts.hostname or _is_file(url):
            continue
        if len(seen) < MAX_LINKS:
            seen.setdefault(url, None)
        text = " ".join(node.text_content().split())
        if len(text) >= HEADLINE_CHARS:
            headlines[url] = max(len(text), headlines.get(url, 0))
        if len(text) >= LINE_CHARS and len(texts) < MAX_LINK_TEXTS:
            texts.add(text)
    return PageLinks(list(seen), frozenset(headlines), sum(headlines.values()), frozenset(texts))


def _is_file(url: str) -> bool:
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    _, dot, extension = last.rpartition(".")
    return bool(dot) and extension.lower() in _SKIPPED_EXTENSIONS
