"""Is this page a story? Home, section, tag, author, about and contact pages are not.

A single signal is unreliable on the open web: many CMSs stamp `og:type=article` on every
page, listing pages carry `<article>` teaser cards, and short news briefs are short. So the
decision adds up weighted evidence and requires a clear margin; the reasons are kept so a
wrong call can be explained (`newsarchive crawl -v` logs them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.analysis.pagemeta import ARTICLE_TYPES, LISTING_TYPES, PageMeta

__all__ = ["THRESHOLD", "Decision", "decide"]

THRESHOLD = 3
LONG_TEXT = 1500

_DATE_IN_URL = re.compile(
    r"/(?:19|20)\d{2}[/-](?:0?[1-9]|1[0-2])(?:[/-]|$)|/(?:19|20)\d{6}(?:/|$)|[-_/](?:19|20)\d{2}-\d{2}-\d{2}"
)
_LISTING_PATH = re.compile(
    r"/(?:tag|tags|topic|topics|author|authors|autor|auteur|category|categories|section|"
    r"sections|archive|archives|search|page|profile|people|staff|about|about-us|contact|"
    r"contact-us|impressum|imprint|privacy|terms|subscribe|newsletter|newsletters|login|"
    r"register|account|feed|rss)(?:/|$|\.html?$)",
    re.IGNORECASE,
)
_PAGINATION = re.compile(r"(?:[?&](?:page|p|pg|offset)=\d+|/page/\d+/?$)", re.IGNORECASE)
# A story slug: several words joined by hyphens or underscores, or a long numeric id.
_SLUG = re.compile(r"(?:[^/]+[-_]){2,}[^/]+/?$|\d{5,}(?:\.\w+)?/?$")


@dataclass(frozen=True, slots=True)
class Decision:
    is_article: bool
    score: int
    reasons: tuple[str, ...] = field(default=())


def decide(
    url: str,
    page: PageMeta,
    text_chars: int,
    headline_links: int,
    headline_chars: int,
    allow: Sequence[re.Pattern[str]] = (),
    *,
    text_lines: int = 0,
    headline_lines: int = 0,
) -> Decision:
    """Weigh the page's signals; `allow` patterns, when configured, are required."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket: no page has this address
        return Decision(False, -100, ("unparsable URL",))
    path = parts.path or "/"
    query = parts.query
    reasons: list[str] = []
    score = 0

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(f"{points:+d} {reason}")

    if path in ("/", "") and not query:
        return Decision(False, -100, ("home page",))
    if allow:
        if not any(p.search(url) for p in allow):
            return Decision(False, -100, ("no allow pattern matches",))
        add(3, "allow pattern")
    if page.json_ld_types & ARTICLE_TYPES:
        add(3, "JSON-LD article type")
    elif page.json_ld_types & LISTING_TYPES:
        add(-3, "JSON-LD listing type")
    og_type = page.og_type
    if og_type == "article":
        add(2, "og:type article")
    elif og_type in ("website", "profile", "video.other", "product"):
        add(-1, f"og:type {og_type}")
    # Listing evidence only counts when the text is short: long articles often carry
    # dozens of related-story cards and headline links (nytimes, heise, webmd do).
    short = text_chars < LONG_TEXT
    declared = bool(page.json_ld_types & ARTICLE_TYPES) or og_type == "article"
    if page.article_elements in (1, 2):
        add(1, "one <article>")
    elif page.article_elements >= 6 and (short or not declared):
        add(-2, f"{page.article_elements} <article> cards")
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    if _DATE_IN_URL.search(path) and not last_segment.isdigit():
        add(1, "date in URL")
    if _SLUG.search(path):
        add(1, "slug URL")
    if _LISTING_PATH.search(path):
        add(-3, "listing or site-page URL")
    if _PAGINATION.search(path + ("?" + query if query else "")):
        add(-3, "pagination URL")
    if text_chars >= LONG_TEXT:
        # Long prose with no listing evidence is a story even on a bare CMS page.
        add(3, "long text")
    elif text_chars >= 500:
        add(1, "medium text")
    elif text_chars < 200:
        add(-3, "little text")
    if headline_links >= 8 and short and headline_chars > text_chars * 2:
        add(-2, "mostly headline links")
    # The surest listing sign: the extracted text itself is a run of linked headlines
    # (where the corpus's articles and listings fall: docs/benchmarks.md).
    if headline_lines >= 3 and headline_lines >= 0.25 * max(text_lines, 1):
        add(-4, f"{headline_lines} of {text_lines} text lines are links")
    return Decision(score >= THRESHOLD, score, tuple(reasons))
