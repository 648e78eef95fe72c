"""Hostile HTML is analysed within bounds and never archived as a story by accident."""

from __future__ import annotations

import time

import pytest

from crawler.analysis.page import FetchedPage, PageRules, analyze_page

pytestmark = pytest.mark.slow

URL = "http://127.0.0.1:8000/news/2026/11/a-story-about-the-harbor.html"

PAGES = {
    "ten bytes": b"<p>hi</p>x",
    "a DOM nested 10,000 deep": b"<html><body>" + b"<div>" * 10_000 + b"<p>deep text</p>"
    + b"</div>" * 10_000 + b"</body></html>",
    "a 5 MB attribute": b'<html><body><p title="' + b"a" * (5 * 1024 * 1024)
    + b'">hello</p></body></html>',
    "script only": b"<html><head>" + b"<script>var a = 1;</script>" * 20_000
    + b"</head><body></body></html>",
    "a link farm": b"<html><body>" + b"".join(
        b'<a href="/l%d">link number %d with text</a><br>' % (i, i) for i in range(30_000)
    ) + b"</body></html>",
    "unclosed everything": b"<html><body>" + b"<p><b><i><table><tr><td>" * 5_000,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAGES))
def test_hostile_page_is_bounded_and_not_an_article(name: str) -> None:
    started = time.perf_counter()
    result = analyze_page(FetchedPage("t", URL, URL, 200, PAGES[name], "text/html"), PageRules())
    assert time.perf_counter() - started < 25  # well inside the 30 s per-page limit
    assert result.kind != "article", result.decision
    assert len(result.links) <= 5000  # links per page are capped


def test_a_huge_real_page_still_yields_its_story() -> None:
    paragraph = (
        b"<p>" + b"The harbor council met again to discuss the ferry timetable. " * 8 + b"</p>"
    )
    body = (
        b"<html><body><article><h1>A long report</h1>"
        + paragraph * 4000
        + b"</article></body></html>"
    )
    started = time.perf_counter()
    result = analyze_page(FetchedPage("t", URL, URL, 200, body, "text/html"), PageRules())
    assert time.perf_counter() - started < 25
    assert result.kind == "article" and len(body) > 1_900_000
