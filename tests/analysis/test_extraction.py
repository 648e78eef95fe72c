"""Extraction: clean bodies at least as good as plain trafilatura, metadata with its sources."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import trafilatura

from crawler.analysis.charset import decode_html
from crawler.analysis.extraction import extract_article, parse_html
from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from crawler.analysis.pagemeta import read_page_meta
from tests.corpus import CorpusPage
from tests.quality import shingle_f1

URL = "http://127.0.0.1:8000/news/2026/11/story-of-the-day.html"


def extract(html: bytes, selectors: dict[str, str] | None = None):
    tree = parse_html(decode_html(html)[0])
    assert tree is not None
    return extract_article(tree, URL, read_page_meta(tree, URL), selectors=selectors).article


@pytest.mark.slow
def test_pipeline_is_at_least_as_good_as_plain_trafilatura(
    every_corpus: list[CorpusPage],
) -> None:
    plain, ours = [], []
    for page in every_corpus:
        document = trafilatura.bare_extraction(page.html, with_metadata=True)
        plain.append(shingle_f1((document.text if document else "") or "", page.expected))
        result = analyze_page(FetchedPage("t", URL, URL, 200, page.html, "text/html"), PageRules())
        text = result.prepared.record.article.text if result.kind == "article" else ""
        ours.append(shingle_f1(text, page.expected))
    mean_plain, mean_ours = sum(plain) / len(plain), sum(ours) / len(ours)
    assert mean_ours >= mean_plain, (mean_ours, mean_plain)
    # no page collapses where plain trafilatura did well
    collapsed = [p.name for p, a, b in zip(every_corpus, plain, ours, strict=True) if a > 0.5 > b]
    assert not collapsed


BOILERPLATE = {
    "cookie": '<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve '
    "your experience on our website. By continuing you accept our cookie policy.</p>"
    "<button>Accept all cookies</button></div>",
    "share": '<div class="share-bar social-share"><a href="https://facebook.example/sharer">'
    'Share on Facebook</a> <a href="https://x.example/intent">Share on X</a> '
    '<a href="mailto:?subject=x">Email this story to a friend</a></div>',
    "newsletter": '<aside class="newsletter-signup"><h3>Get the Morning Briefing newsletter</h3>'
    "<p>Sign up for our daily newsletter with the top stories delivered to your inbox.</p>"
    '<form><input type="email" placeholder="Your email address"><button>Subscribe now'
    "</button></form></aside>",
    "related": '<aside class="related-stories"><h3>Related stories</h3><ul>'
    '<li><a href="/news/2026/11/aaa.html">Harbor authority approves new breakwater plan</a></li>'
    '<li><a href="/news/2026/11/bbb.html">Fishing fleet returns early as storm approaches</a></li>'
    "</ul></aside>",
    "comments": '<section id="comments" class="comments"><h3>Leave a comment</h3>'
    '<form class="comment-form"><textarea name="comment">Write your comment here</textarea>'
    "<button>Post comment</button></form><p>Comments are moderated by our team.</p></section>",
}
PHRASES = (
    "cookie policy",
    "Share on Facebook",
    "Email this story",
    "Morning Briefing",
    "Subscribe now",
    "breakwater plan",
    "storm approaches",
    "Leave a comment",
    "Comments are moderated",
)


def test_boilerplate_stays_out_of_the_body(corpus: list[CorpusPage]) -> None:
    checked = 0
    for page in corpus[:40]:
        html = page.html.decode("utf-8", errors="ignore")
        if "</article>" not in html or "<body" not in html:
            continue
        head, _, tail = html.partition("</article>")
        html = head + BOILERPLATE["share"] + BOILERPLATE["related"] + "</article>" + tail
        html = html.replace(
            "</body>",
            BOILERPLATE["newsletter"] + BOILERPLATE["comments"] + BOILERPLATE["cookie"] + "</body>",
            1,
        )
        article = extract(html.encode())
        original = page.html.decode("utf-8", errors="ignore").lower()
        leaked = [
            phrase
            for phrase in PHRASES
            if phrase.lower() in article.text.lower() and phrase.lower() not in original
        ]
        assert not leaked, (page.name, leaked)
        # and the story itself is still extracted as well as without the clutter
        clean = shingle_f1(extract(page.html).text, page.expected)
        assert shingle_f1(article.text, page.expected) >= clean - 0.05, page.name
        checked += 1
    assert checked >= 10


def _page(head: str, body: str, lang: str = "en") -> bytes:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the report says the harbor council voted on the new ferry "
        f"timetable after a long debate about costs, fares and the winter schedule.</p>"
        for i in range(12)
    )
    return (
        f'<!doctype html><html lang="{lang}"><head>{head}</head><body>'
        f"<article><h1>Council votes on ferry timetable</h1>{body}{paragraphs}</article>"
        "</body></html>"
    ).encode()


def test_json_ld_fills_and_is_recorded_as_the_source() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Harbor Times"},
            {
                "@type": ["NewsArticle"],
                "headline": "Council votes on ferry timetable",
                "datePublished": "2026-11-03T08:15:00+01:00",
                "dateModified": "2026-11-04T10:00:00Z",
                "author": [{"@type": "Person", "name": "Ana Lima"}, {"name": "Bo Chen"}],
                "keywords": "ferries, council",
                "image": {"@type": "ImageObject", "url": "https://127.0.0.1/i.jpg"},
                "publisher": {"@type": "Organization", "name": "Harbor Times"},
            },
        ],
    }
    head = (
        "<title>Council votes on ferry timetable | Harbor Times</title>"
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        '<link rel="canonical" href="/news/2026/11/council-ferry.html">'
        '<meta property="og:type" content="article">'
    )
    article = extract(_page(head, ""))
    assert article.authors == ("Ana Lima", "Bo Chen")
    assert article.published == datetime(2026, 11, 3, 7, 15, tzinfo=UTC)
    assert article.modified == datetime(2026, 11, 4, 10, tzinfo=UTC)
    assert article.canonical_url == "http://127.0.0.1:8000/news/2026/11/council-ferry.html"
    assert article.language == "en"
    assert article.sources["authors"] == "json-ld"
    assert article.sources["published"] == "json-ld"
    assert article.sources["modified"] == "json-ld"
    assert article.sources["canonical_url"] == "html"
    assert article.sources["language"] == "html"
    # the headline is the title field, not the first line of the body
    assert article.title == "Council votes on ferry timetable"
    assert not article.text.startswith("Council votes")
    assert article.text.startswith("Paragraph 0")


def test_open_graph_and_meta_fill_gaps() -> None:
    head = (
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2026-11-05T12:00:00Z">'
        '<meta property="article:tag" content="ferries">'
        '<meta name="author" content="Carla Souza">'
    )
    article = extract(_page(head, "", lang="pt-BR"))
    assert article.published == datetime(2026, 11, 5, 12, tzinfo=UTC)
    assert article.sources["published"] == "opengraph"
    assert article.authors == ("Carla Souza",)
    assert article.language == "pt-BR"


def test_broken_json_ld_is_skipped() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
        '<script type="application/ld+json">[1, "x", null]</script>'
    )
    article = extract(_page(head, ""))
    assert article.title == "Council votes on ferry timetable"


def test_field_selectors_override_everything() -> None:
    body = '<p class="byline">By <span class="who">Dora Diaz</span></p>'
    article = extract(
        _page("", body), selectors={"authors": ".byline .who", "published": "//time/@datetime"}
    )
    assert article.authors == ("Dora Diaz",)
    assert article.sources["authors"] == "selector"
    assert "published" not in article.sources or article.sources["published"] != "selector"


def test_free_text_dates_are_parsed_in_news_languages_only() -> None:
    """Extraction installs a date parser limited to NEWS_LANGUAGES into htmldate, which
    otherwise tries every dateparser locale (a second of cold start per worker); dates in
    those languages are still read."""
    from htmldate import extractors

    from crawler.analysis.page import FetchedPage, PageRules, analyze_page
    from crawler.speedups import NEWS_LANGUAGES

    url = "http://127.0.0.1:8000/news/2026/11/hafen.html"
    html = "<html><body><article><p>" + "Der Hafen wurde erweitert. " * 40 + "</p></article>"
    analyze_page(FetchedPage("t", url, url, 200, html.encode(), "text/html"), PageRules())
    parser = extractors.get_external_parser()
    assert list(parser.languages) == list(NEWS_LANGUAGES)
    assert str(parser.get_date_data("3. März 2026").date_obj)[:10] == "2026-03-03"
    assert str(parser.get_date_data("15 mars 2026").date_obj)[:10] == "2026-03-15"


def test_each_article_names_what_extracted_it_and_keeps_its_headers(
    corpus: list[CorpusPage],
) -> None:
    """The extractor recorded with a version: trafilatura's version and a hash of the
    options and selectors, which a different choice of either changes."""
    from dataclasses import replace

    from crawler.analysis.extraction import ExtractionOptions, extractor_name

    headers = (("Content-Type", "text/html; charset=utf-8"), ("Date", "Tue, 01 Dec 2026"))
    page = FetchedPage("t", URL, URL, 200, corpus[0].html, "text/html", headers=headers)
    record = analyze_page(page, PageRules()).prepared.record
    assert record.headers == headers
    name = extractor_name(ExtractionOptions(), ())
    assert record.extractor == name
    assert name.startswith(f"trafilatura {trafilatura.__version__}, options ")
    assert extractor_name(ExtractionOptions(), ()) == name  # stable
    assert extractor_name(replace(ExtractionOptions(), favor_precision=True), ()) != name
    assert extractor_name(ExtractionOptions(), (("title", "//h1"),)) != name
