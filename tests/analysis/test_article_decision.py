"""Article or not: every corpus story is one; home, section, tag, author, about, contact,
pagination and archive pages built from the same material are not."""

from __future__ import annotations

from functools import partial

import pytest

from crawler.analysis.article_decision import decide
from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from crawler.analysis.pagemeta import PageMeta
from tests.corpus import CorpusPage
from tests.listing_pages import listing_page, site_page

BASE = "http://127.0.0.1:8000"


def analyze(path: str, body: bytes, rules: PageRules = PageRules()):
    url = BASE + path
    return analyze_page(FetchedPage("t", url, url, 200, body, "text/html"), rules)


def test_every_corpus_page_is_an_article(every_corpus: list[CorpusPage]) -> None:
    missed = []
    for page in every_corpus:
        # a story URL without a date: the page's own signals must carry the decision
        result = analyze(f"/world/{page.name}-report", page.html)
        if result.kind != "article":
            missed.append((page.name, result.decision))
    assert not missed


# Built when a test runs (not at import), so a missing corpus fails the tests, not collection.
LISTINGS = {
    "/": partial(listing_page, "Home"),
    "/world/": partial(listing_page, "World", cards=False, og_website=False),
    "/world/?page=2": partial(listing_page, "World", cards=False, og_website=False, offset=20),
    "/world/page/3/": partial(listing_page, "World", cards=True, og_website=True, offset=10),
    "/business/": partial(listing_page, "Business", cards=True, og_website=False, count=8),
    "/tag/politics/": partial(listing_page, "Politics", cards=False, og_website=False, count=6),
    "/author/jane-doe/": partial(listing_page, "Jane Doe", cards=False, og_website=False, count=5),
    "/about/": partial(
        site_page, "About us", ["The Example Times has covered the city since 1881. " * 8] * 4
    ),
    "/contact/": partial(site_page, "Contact", ["Write to the newsroom. " * 5], form=True),
    "/2026/11/27/": partial(listing_page, "Daily archive", cards=False, og_website=False, count=15),
    # a hyphenated section at a slug-like URL, with long teaser text
    "/news/middle-east-and-africa/": partial(
        listing_page, "Middle East", cards=False, og_website=False
    ),
}


@pytest.mark.parametrize("path", sorted(LISTINGS))
def test_listing_and_site_pages_are_not_articles(path: str) -> None:
    result = analyze(path, LISTINGS[path]())
    assert result.kind == "not_article", result.decision
    # they are still followed: their links come back
    if path not in ("/about/", "/contact/"):
        assert any("-story.html" in link for link in result.links)


def test_allow_patterns_are_required_when_configured(corpus: list[CorpusPage]) -> None:
    page = corpus[0]
    rules = PageRules(allow=(r"/\d{4}/\d{2}/",))
    assert analyze(f"/world/{page.name}", page.html, rules).kind == "not_article"
    assert analyze(f"/2026/11/{page.name}", page.html, rules).kind == "article"


def test_decision_keeps_its_reasons() -> None:
    meta = PageMeta(json_ld_types={"NewsArticle"}, opengraph={"og:type": ["article"]})
    decision = decide(BASE + "/2026/11/27/a-story-about-things", meta, 3000, 0, 0)
    assert decision.is_article
    assert "+3 JSON-LD article type" in decision.reasons
    assert "+1 date in URL" in decision.reasons
    thin = decide(BASE + "/a-story-about-things", PageMeta(), 120, 0, 0)
    assert not thin.is_article and "-3 little text" in thin.reasons


def test_amp_copy_defers_to_its_canonical(corpus: list[CorpusPage]) -> None:
    page = corpus[1]
    canonical = f"{BASE}/news/{page.name}.html"
    body = page.html.replace(
        b"<head>", f'<head><link rel="canonical" href="{canonical}">'.encode(), 1
    )
    if body == page.html:  # <head> with attributes
        body = f'<link rel="canonical" href="{canonical}">'.encode() + page.html
    result = analyze(f"/amp/news/{page.name}.html", body)
    assert result.kind == "alternate"
    assert result.canonical == canonical
    # a canonical on another site (the corpus pages' own) does not make a page a copy
    assert analyze(f"/news/{page.name}.html", page.html).kind == "article"


def test_non_html_and_empty_pages() -> None:
    url = BASE + "/report.pdf"
    pdf = analyze_page(
        FetchedPage("t", url, url, 200, b"%PDF-1.4 ...", "application/pdf"), PageRules()
    )
    assert pdf.kind == "not_html"
    assert analyze("/empty.html", b"   \n").kind == "empty"
    assert analyze("/soup.html", b"<div><p>unclosed <b>words <i>here").kind in (
        "not_article",
        "unparsable",
    )
    assert analyze("/soup.html", b"\x01\x02<<<>>>&&&;;").kind == "unparsable"
    assert analyze("/nul.html", b"\x00\x01<<<>>>&&&;;").kind == "not_html"  # NULs: a file


def test_links_skip_files_fragments_and_other_schemes() -> None:
    from crawler.analysis.extraction import parse_html
    from crawler.analysis.links import page_links

    tree = parse_html(
        '<html><body><base href="/news/"><a href="a.html#top">A</a><a href="a.html">A</a>'
        '<a href="/img/photo.JPG">photo</a><a href="report.pdf">pdf</a>'
        '<a href="mailto:x@example.com">mail</a><a href="javascript:void(0)">js</a>'
        '<a href="ftp://127.0.0.1/f">ftp</a><a href="b.html" rel="nofollow">b</a>'
        '<a href="c.html" rel="next nofollow">c</a><p>text</p></body></html>'
    )
    assert tree is not None
    assert page_links(tree, BASE + "/x/y.html").urls == [
        BASE + "/news/a.html",
        BASE + "/news/c.html",
    ]
