"""URL shapes: path templates that group a site's URLs by what kind of page they are.

A news site names its stories one way (`/world/2026/11/03/some-long-slug/`), its sections
another (`/world/`), its tag pages a third (`/tag/climate/`). Which template means "story"
differs from site to site, but within one site it holds for thousands of pages, so the
crawler learns it from the pages it has already decided (crawler.analysis.shape_book) and
uses it to judge links before fetching them. The template keeps what tells kinds apart
(segment counts, date segments, numeric ids, slug length, file extensions, the query's
parameter names, a section prefix) and drops what is unique to one page (the words of a
slug, the value of an id).

Each URL has two shapes: the fine one keeps its first path segment as written when it is a
plain word (a section or a kind of page: `world`, `tag`), the coarse one replaces it too, so
that a story shape learned in one section carries over to the site's other sections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from storage.urls import canonical_or_none

__all__ = [
    "COARSE_MARK",
    "MAX_SHAPE_CHARS",
    "UrlShape",
    "looks_like_pagination",
    "looks_like_story",
    "url_shape",
]

# File extensions a CMS puts on pages; kept in the shape (`.html` stories vs `/` sections).
_PAGE_EXTENSIONS = frozenset(
    {"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cms", "ece", "amp"}
)
_TOKEN_SPLIT = re.compile(r"[-_.,+~!]+")
_WORD = re.compile(r"^[^\W\d_]{1,30}$")
_DATE_TOKEN = re.compile(r"^(?:19|20)\d{2}-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])$")
# Shapes of a plain word at the start of a path are kept only when short: a one-word story
# slug (`/obituary-...` aside) is rare, and `/verylongwordwithoutseparators` is an id.
_SECTION_CHARS = 24
_MAX_SEGMENTS = 8
MAX_SHAPE_CHARS = 400
# The first character of every coarse shape.
COARSE_MARK = "~"


@dataclass(frozen=True, slots=True)
class UrlShape:
    fine: str
    coarse: str

    @property
    def has_section(self) -> bool:
        """Whether the fine shape keeps a section prefix that the coarse one generalises."""
        return self.fine != self.coarse[len(COARSE_MARK) :]


class Link(NamedTuple):
    """A link as the crawl's frontier judges it: as the page wrote it, its canonical URL and
    its shape (None when either cannot be had). Made in the extraction worker, with the
    page's parse, so the reactor does not canonicalize and shape thousands of links."""

    url: str
    key: str | None
    shape: UrlShape | None


def judge_links(urls: Iterable[str]) -> list[Link]:
    links = []
    for url in urls:
        key = canonical_or_none(url)
        links.append(Link(url, key, url_shape(key) if key is not None else None))
    return links


def url_shape(url: str) -> UrlShape | None:
    """The URL's shapes, host included (a site's subdomains hold different kinds of page);
    None for a URL that does not parse."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    segments = [s for s in parts.path.split("/") if s]
    trailing = "/" if parts.path.endswith("/") and segments else ""
    classes = [_segment_class(s) for s in segments[:_MAX_SEGMENTS]]
    if len(segments) > _MAX_SEGMENTS:
        classes[-1] = "{deep}"
        trailing = ""
    fine = list(classes)
    if segments and _is_section(segments[0]):
        fine[0] = segments[0].lower()
    query = _query_shape(parts.query)
    tail = "/".join(classes[1:])
    return UrlShape(
        fine=_limited(f"{host}/{'/'.join(fine)}{trailing}{query}"),
        # Marked, so that no fine shape is ever spelt like a coarse one.
        coarse=_limited(
            f"{COARSE_MARK}{host}/{classes[0] if classes else ''}"
            f"{'/' + tail if tail else ''}{trailing}{query}"
        ),
    )


def _limited(shape: str) -> str:
    """Shapes are stored in a column of 400 characters; a longer one is cut (and so may
    share its row with another, which only merges their counts)."""
    return shape[:MAX_SHAPE_CHARS]


def _is_section(segment: str) -> bool:
    return bool(_WORD.match(segment)) and len(segment) <= _SECTION_CHARS


def _segment_class(segment: str) -> str:
    """One path segment as a template element."""
    stem, dot, extension = segment.rpartition(".")
    if dot and extension.lower() in _PAGE_EXTENSIONS and stem:
        return _stem_class(stem) + "." + extension.lower()
    return _stem_class(segment)


def _stem_class(stem: str) -> str:
    if stem.isdigit():
        if len(stem) == 4 and stem[:2] in ("19", "20"):
            return "{yyyy}"
        if len(stem) <= 2:
            return "{nn}"
        if _DATE_TOKEN.match(stem):
            return "{date}"
        return "{id}"
    if _DATE_TOKEN.match(stem):
        return "{date}"
    tokens = [t for t in _TOKEN_SPLIT.split(stem) if t]
    has_id = any(t.isdigit() and len(t) >= 4 for t in tokens)
    words = [t for t in tokens if not t.isdigit()]
    suffix = "+id" if has_id else ""
    if len(words) >= 4:
        return "{slug" + suffix + "}"
    if len(words) >= 2:
        return "{words" + suffix + "}"
    if len(tokens) == 1 and _WORD.match(stem):
        return "{word}"
    if any(c.isdigit() for c in stem) and any(c.isalpha() for c in stem):
        return "{token" + suffix + "}"
    return "{word" + suffix + "}"


def _query_shape(query: str) -> str:
    """The query's parameter names, sorted: `?page=2` and `?page=3` are one shape."""
    if not query:
        return ""
    names = sorted({name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)})
    return "?" + "&".join(names[:6]) if names else ""


# Not `?p=`: WordPress names its posts so (`/?p=123` is a story).
_PAGINATION = re.compile(
    r"(?:[?&](?:page|pg|offset|start)=\d+|/page/\d+/?$|/p/\d+/?$)", re.IGNORECASE
)


def looks_like_pagination(url: str) -> bool:
    """`?page=2`, `/page/2/`: the next page of a listing."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(_PAGINATION.search(parts.path + ("?" + parts.query if parts.query else "")))


def looks_like_story(url: str) -> bool:
    """What a story URL looks like on most sites before this site taught us anything: a
    date in the path, a slug of several words, or a long numeric id at the end."""
    shape = url_shape(url)
    if shape is None:
        return False
    path = shape.coarse.removeprefix(COARSE_MARK).split("/", 1)[1].split("?", 1)[0]
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return (
        "{slug" in last
        or "+id}" in last
        or last.startswith("{id}")
        or ("{yyyy}" in path and last.startswith(("{words", "{token")))
        or ("{date}" in path and last != "{date}")
    )
