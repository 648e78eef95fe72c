"""A small built-in article that a starting extraction worker analyses before real pages.

Importing is not all of a worker's start: its first analysis also loads the public suffix
list and compiles trafilatura's and htmldate's patterns. Done on a built-in page while the
crawler starts (crawler.speedups.rehearse), the first real page costs what every page
costs. The page is a dated story with a byline, links and a few paragraphs; its host's
name is short like bbc.co.uk's or cnn.com's, for which courlan's quick pattern fails and
the suffix list is loaded; its date is in the past on any clock a crawl runs on, because
htmldate refuses future dates.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.analysis.page import FetchedPage, PageRules, analyze_page

__all__ = ["rehearsal_page", "rehearse"]

_URL = "https://www.abc.example/2020/01/02/rehearsal.html"
_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Rehearsal</title>"
    "<meta name='author' content='A. Writer'>"
    "<meta property='article:published_time' content='2020-01-02T08:00:00Z'></head>"
    "<body><header><a href='/'>Home</a> <a href='/world/'>World</a></header>"
    "<article><h1>Rehearsal</h1>"
    + "".join(
        f"<p>Paragraph {n} of a story that only exists to warm the extractor up before "
        "the first real page, with enough words to count as running text.</p>"
        for n in range(8)
    )
    + "</article></body></html>"
).encode()


def rehearsal_page() -> FetchedPage:
    """The built-in article, fetched now."""
    return FetchedPage(
        site="rehearsal",
        url=_URL,
        final_url=_URL,
        status=200,
        body=_PAGE,
        content_type="text/html; charset=utf-8",
        fetched_at=datetime.now(UTC),
    )


def rehearse() -> None:
    """Analyse the built-in article (its result is dropped)."""
    analyze_page(rehearsal_page(), PageRules())
