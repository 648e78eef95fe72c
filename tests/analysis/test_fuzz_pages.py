"""Fuzzing the page path: hostile or broken pages never crash it or become stories by accident.

Every page, header and declaration is untrusted input (docs/SECURITY.md). These properties
are the contracts later steps rely on: decoding always yields text, parsing declarations
never fails on broken JSON-LD, links are always absolute http(s) addresses, the article
decision adds up its stated evidence and only more article evidence makes an article, and
analysis always ends in one of its documented verdicts. Strategies build HTML-ish documents
(nested tags, odd attributes, entities, NULs, surrogates, declared charsets) rather than only
random bytes, so the fuzzing gets past the parser into the code that reads the tree.
"""

from __future__ import annotations

import codecs
import encodings.aliases
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import assume, event, example, given, strategies as st

from crawler.analysis.article_decision import THRESHOLD, Decision, decide
from crawler.analysis.charset import decode_html
from crawler.analysis.extraction import (
    _without_title_line,
    extract_article,
    parse_html,
    text_weight,
)
from crawler.analysis.links import MAX_LINKS, page_links
from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from crawler.analysis.pagemeta import ARTICLE_TYPES, LISTING_TYPES, PageMeta, read_page_meta
from crawler.analysis.web_dates import parse_web_date
from storage.prepare import FetchKind

URL = "http://127.0.0.1:8000/news/2026/11/a-story-about-the-harbor.html"

# --- strategies -------------------------------------------------------------------------

# Every codec name and alias Python knows (the labels that once crashed decoding were
# among them), WHATWG labels, and junk.
_CODEC_LABELS = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))
_ODD_LABELS = [
    "utf-8", "UTF8", "utf-16", "utf-16be", "utf-32", "x-user-defined", "undefined",
    "idna", "punycode", "unicode_escape", "raw_unicode_escape", "utf-7", "rot13",
    "base64", "zlib", "cp037", "hz", "iso-2022-jp", "gb2312", "shift_jis", "latin-1",
    "windows-1252", "koi8-r", "'utf-8'", '"utf-8"', "utf-8;", "", " ", "\x00",
]  # fmt: skip
_LABELS = st.one_of(
    st.sampled_from(_CODEC_LABELS), st.sampled_from(_ODD_LABELS), st.text(max_size=12)
)
_ODD_CONTENT_TYPES = [
    "", "text/html", "TEXT/HTML", "text/html;", "application/xhtml+xml", "text/plain",
    "application/pdf", "image/png", "application/octet-stream", "application/json",
    "text/html; charset", "text/html; charset=", 'text/html; charset="',
]  # fmt: skip
_CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(_ODD_CONTENT_TYPES),
    st.builds(lambda label: f"text/html; charset={label}", _LABELS),
    st.builds(lambda label: f'text/html;charset="{label}"; q=1', _LABELS),
    st.text(max_size=40),
)

# Text that includes what real pages never should but hostile ones do: NULs, controls,
# lone surrogates (only reachable through JSON escapes or wrongly encoded bytes).
_any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)
_words = st.sampled_from(
    ["harbor", "council", "ferry", "Übergang", "café", "新闻", "記事", "뉴스", "خبر", "a", "the"]
)
_prose = st.lists(_words, min_size=1, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
_ENTITIES = [
    "&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&#0;", "&#x0;", "&#xD800;", "&#55296;",
    "&#x110000;", "&#99999999999;", "&bogus;", "&", "&#", "&#x;", "&eacute", "&#128;",
]  # fmt: skip
_text_node = st.one_of(_prose, st.sampled_from(_ENTITIES), _any_text, st.just("\x00"))

_TAGS = [
    "div", "p", "span", "article", "section", "h1", "h2", "a", "b", "i", "table", "tr", "td",
    "ul", "li", "br", "img", "script", "style", "noscript", "template", "svg", "math", "title",
    "meta", "link", "base", "iframe", "form", "time", "header", "footer", "nav", "aside",
    "main", "figure", "pre", "blockquote", "html", "body", "head", "!--", "![CDATA[", "?xml",
]  # fmt: skip
_ATTR_NAMES = [
    "href", "src", "class", "id", "rel", "type", "content", "property", "name", "charset",
    "lang", "http-equiv", "itemprop", "datetime", "style", "xml:lang", "HREF", "on\x00x",
]  # fmt: skip
_ODD_VALUES = [
    "", " ", '"', "'", "javascript:alert(1)", "http://[::1", "http://[::1]:99999/",
    "//other.example/x", "https:", "http:///x", "http:", "../../../../x", "#frag",
    "mailto:a@b", "data:text/html,x", "\\\\host\\x", "/\\evil.example", "/a.pdf",
    "a%zz", "/\t/evil.example/", " /x ", "canonical", "alternate", "next nofollow",
    "nofollow", "application/ld+json", "application/rss+xml", "og:type", "article",
    "website", "og:title", "article:published_time", "2026-11-03T08:15:00+01:00",
    "0001-01-01", "9999-12-31T23:59:59-14:00", "text/html; charset=utf-16",
    "http://127.0.0.1:8000/news/2026/11/another-story.html", "http://127.0.0.1:8000/",
    "https://other.example/2026/11/a-story.html", "http://xn--/", "http://é.example/",
]  # fmt: skip
_ATTR_VALUES = st.one_of(
    st.sampled_from(_ODD_VALUES),
    st.sampled_from(_ENTITIES),
    _any_text,
)


def _attribute(name: str, value: str, style: int) -> str:
    return (f' {name}="{value}"', f" {name}='{value}'", f" {name}={value}", f" {name}")[style]


_attributes = st.lists(
    st.builds(_attribute, st.sampled_from(_ATTR_NAMES), _ATTR_VALUES, st.integers(0, 3)),
    max_size=4,
).map("".join)


def _element(tag: str, attrs: str, children: list[str], closed: bool) -> str:
    return f"<{tag}{attrs}>{''.join(children)}" + (f"</{tag}>" if closed else "")


_fragments = st.recursive(
    _text_node,
    lambda children: st.builds(
        _element, st.sampled_from(_TAGS), _attributes, st.lists(children, max_size=4),
        st.booleans(),
    ),
    max_leaves=25,
)  # fmt: skip

# JSON as publishers write it: schema.org keys, types, people, dates, and any junk.
_LD_KEYS = [
    "@type", "@graph", "@id", "@context", "headline", "name", "author", "datePublished",
    "dateModified", "articleBody", "description", "image", "url", "keywords", "inLanguage",
    "publisher", "mainEntityOfPage", "contentUrl",
]  # fmt: skip
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _any_text,
    st.sampled_from(
        [
            *sorted(ARTICLE_TYPES | LISTING_TYPES),
            *("WebPage", "https://schema.org/NewsArticle", "2026-11-03T08:15:00Z", "2026-02-30"),
        ]
    ),
)
_json = st.recursive(
    _json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_LD_KEYS), _any_text), children, max_size=5),
    ),
    max_leaves=20,
)


def _json_text(data: Any, breakage: int) -> str:
    """JSON as it appears in a page: escaped for <script>, sometimes broken as pages break it."""
    text = json.dumps(data).replace("</", "<\\/")
    return (text, text + ";", text[: len(text) // 2], text.rstrip("]}") + ",}", text)[breakage]


_json_ld_scripts = st.builds(
    lambda data, breakage: (
        f'<script type="application/ld+json">{_json_text(data, breakage)}</script>'
    ),
    _json,
    st.integers(0, 4),
)
_deep_json = st.builds(
    lambda depth, opener: (
        '<script type="application/ld+json">'
        + opener * depth
        + "1"
        + ("]" if opener == "[" else "}") * depth
        + "</script>"
    ),
    st.integers(min_value=1, max_value=5000),
    st.sampled_from(["[", '{"@graph":', '{"a":']),
)
_head_parts = st.one_of(
    st.builds(lambda label: f'<meta charset="{label}">', _LABELS),
    st.builds(
        lambda label: f'<meta http-equiv="Content-Type" content="text/html; charset={label}">',
        _LABELS,
    ),
    st.builds(lambda value: f'<meta property="og:type" content="{value}">', _ATTR_VALUES),
    st.builds(lambda value: f'<link rel="canonical" href="{value}">', _ATTR_VALUES),
    st.just('<meta property="og:type" content="article">'),
    st.just(
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbor '
        'ferry", "datePublished": "2026-11-03T08:15:00+01:00", "author": {"name": "Ana"}}'
        "</script>"
    ),
    _json_ld_scripts,
    _deep_json,
    _fragments,
)
# A story-length run of prose, so that some documents are articles and reach storage.
_long_prose = st.lists(_prose, min_size=30, max_size=60).map(
    lambda sentences: "<p>" + " ".join(sentences) + "</p>"
)
_body_parts = st.one_of(_fragments, _long_prose, st.just("<article>"), st.just("</article>"))


def _document(doctype: bool, lang: str | None, head: list[str], body: list[str]) -> str:
    lang_attr = "" if lang is None else f' lang="{lang}"'
    return (
        "<!DOCTYPE html>" if doctype else ""
    ) + f"<html{lang_attr}><head>{''.join(head)}</head><body>{''.join(body)}</body></html>"


_documents = st.builds(
    _document,
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(["en", "de-DE", "pt_BR", ",en", " ", "x" * 50])),
    st.lists(_head_parts, max_size=6),
    st.lists(_body_parts, max_size=8),
)


def _encode(document: str, encoding: str) -> bytes:
    """The document in a page encoding. Lone surrogates are written the wrong way: as the
    bytes UTF-8 or UTF-16 would use if they allowed them (`ED A0 80`, an unpaired code
    unit), and as character references (`&#55296;`) in the legacy encodings."""
    if encoding.startswith("utf"):
        return document.encode(encoding, errors="surrogatepass")
    return document.encode(encoding, errors="xmlcharrefreplace")


_MAGIC_PREFIXES = [
    b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"PK\x03\x04",
    b"\x1f\x8b\x08\x00", b"RIFF\x00\x00\x00\x00WEBP", b"OggS", b"ID3\x03",
    b"\x00\x00\x00\x18ftypmp42",
]  # fmt: skip


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """Page bytes: an encoded document, sometimes damaged, prefixed or replaced by junk."""
    document = draw(_documents)
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8", "cp1252", "latin-1", "gb18030", "utf-16", "koi8-r"])
    )
    body = _encode(document, encoding)
    damage = draw(st.integers(0, 9))
    if damage == 0:
        body = draw(st.binary(max_size=300))
    elif damage == 1:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=20)) + body[at:]
    elif damage == 2:
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == 3:
        body = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])) + body
    return body


_PAGE_URLS = [
    URL, "http://127.0.0.1:8000/", "http://127.0.0.1:8000/tag/harbor/",
    "http://127.0.0.1:8000/world/?page=2", "http://127.0.0.1:8000/amp/2026/11/a-b-c",
    "https://news.example.com/2026/11/27/the-long-story-of-the-ferry",
    "https://news.example.com/article/12345678", "https://xn--nachrichten-q9a.example/a-b-c",
    "http://[::1]:8000/2026/11/a-b-c", "http://[::1/2026/11/a-b-c",
    "http://127.0.0.1:99999/a-b-c", "https://news.example.com/%E9t%E9/a-b-c",
]  # fmt: skip
_page_urls = st.one_of(
    st.sampled_from(_PAGE_URLS),
    st.builds(lambda path: f"https://news.example.com/{path}", _any_text),
)

KINDS = {"article", "not_article", "alternate", "not_html", "empty", "unparsable"}


# --- the article decision ---------------------------------------------------------------

_SEGMENTS = [
    "news", "2026", "11", "27", "2026-11-27", "20261127", "tag", "page", "2", "about",
    "a-story-about-things", "story_of_the_day_here", "12345678", "index.html", "amp",
    "author", "", "feed", "archive",
]  # fmt: skip
_PATH_SEGMENTS = st.one_of(
    st.sampled_from(_SEGMENTS),
    _any_text.map(lambda s: s.replace("/", "").replace("?", "").replace("#", "")),
)
_decision_urls = st.one_of(
    st.builds(
        lambda segments, query: "https://news.example.com/" + "/".join(segments) + query,
        st.lists(_PATH_SEGMENTS, max_size=5),
        st.sampled_from(["", "?page=2", "?p=3", "?id=5", "?utm_source=x", "?offset=10", "?"]),
    ),
    _page_urls,
    _any_text,
)
_og_types = st.one_of(
    st.sampled_from(["article", "website", "profile", "video.other", "product", " Article "]),
    _any_text,
)
_metas = st.builds(
    PageMeta,
    json_ld_types=st.sets(
        st.one_of(
            st.sampled_from(sorted(ARTICLE_TYPES | LISTING_TYPES | {"WebPage", "Person"})),
            _any_text,
        ),
        max_size=3,
    ),
    opengraph=st.one_of(st.just({}), st.builds(lambda t: {"og:type": [t]}, _og_types)),
    article_elements=st.integers(min_value=0, max_value=60),
)
_counts = st.integers(min_value=0, max_value=100_000)
_allow = st.one_of(
    st.just(()),
    st.lists(
        st.sampled_from([r"/\d{4}/\d{2}/", r"/news/", r"story", r"\A(?!)", r"."]), max_size=2
    ).map(lambda patterns: tuple(re.compile(p) for p in patterns)),
)


def _points(reason: str) -> int:
    match = re.match(r"([+-]\d+) ", reason)
    assert match, reason
    return int(match.group(1))


_EARLY = {("home page",), ("no allow pattern matches",), ("unparsable URL",)}


@given(
    url=_decision_urls,
    meta=_metas,
    text_chars=_counts,
    headline_links=_counts,
    headline_chars=_counts,
    allow=_allow,
    text_lines=_counts,
    headline_lines=_counts,
)
@example(  # regression: an unbalanced IPv6 bracket made urlsplit raise
    url="http://[::1/2026/11/a-b-c", meta=PageMeta(), text_chars=0, headline_links=0,
    headline_chars=0, allow=(), text_lines=0, headline_lines=0,
)  # fmt: skip
def test_the_decision_is_its_stated_evidence(
    url, meta, text_chars, headline_links, headline_chars, allow, text_lines, headline_lines
) -> None:
    """Never raises; the verdict is the score against THRESHOLD, and the score is exactly
    the sum of the reasons' points, so the reasons logged with -v explain every call."""
    decision = decide(
        url, meta, text_chars, headline_links, headline_chars, allow,
        text_lines=text_lines, headline_lines=headline_lines,
    )  # fmt: skip
    assert isinstance(decision, Decision)
    assert decision.is_article == (decision.score >= THRESHOLD)
    if decision.reasons in _EARLY:
        assert decision.score == -100
    else:
        assert decision.score == sum(_points(reason) for reason in decision.reasons)
    if decision.is_article:
        assert decision.reasons  # an article is always explained


@given(
    host=st.sampled_from(["news.example.com", "127.0.0.1:8000", "EXAMPLE.org", "[::1]"]),
    rest=st.sampled_from(["", "/", "#top", "/#x"]),
    meta=_metas,
    text_chars=_counts,
    text_lines=_counts,
)
def test_a_home_page_is_never_an_article(host, rest, meta, text_chars, text_lines) -> None:
    """Whatever it declares and however long its text, the site's front page is a listing."""
    decision = decide(f"https://{host}{rest}", meta, text_chars, 0, 0, text_lines=text_lines)
    assert not decision.is_article


@given(url=_decision_urls, meta=_metas, text_chars=_counts, text_lines=_counts)
def test_allow_patterns_gate_and_add_exactly_their_points(
    url, meta, text_chars, text_lines
) -> None:
    """A configured allow pattern that does not match vetoes the page; one that matches adds
    its 3 points and changes nothing else."""
    never = (re.compile(r"\A(?!)"),)
    assert not decide(url, meta, text_chars, 0, 0, never, text_lines=text_lines).is_article
    plain = decide(url, meta, text_chars, 0, 0, text_lines=text_lines)
    assume(plain.reasons not in _EARLY)
    allowed = decide(url, meta, text_chars, 0, 0, (re.compile(".", re.S),), text_lines=text_lines)
    assert allowed.score == plain.score + 3


@given(
    url=_decision_urls,
    meta=_metas,
    counts=st.tuples(_counts, _counts, _counts, _counts, _counts),
    more=st.tuples(_counts, _counts, _counts, _counts),
)
def test_more_article_evidence_never_lowers_the_score(url, meta, counts, more) -> None:
    """Longer text, more text lines, a JSON-LD article type or og:type=article can only add
    to the score, and more headline links or link lines can only take away: no single
    piece of article evidence can turn an article into a non-article."""
    text_chars, headline_links, headline_chars, text_lines, headline_lines = counts
    more_text, more_lines, more_links, more_link_lines = more

    def score(
        meta: PageMeta = meta,
        text_chars: int = text_chars,
        headline_links: int = headline_links,
        headline_chars: int = headline_chars,
        text_lines: int = text_lines,
        headline_lines: int = headline_lines,
    ) -> int:
        decision = decide(
            url, meta, text_chars, headline_links, headline_chars,
            text_lines=text_lines, headline_lines=headline_lines,
        )  # fmt: skip
        assume(decision.reasons not in _EARLY)
        return decision.score

    base = score()
    assert score(text_chars=text_chars + more_text) >= base
    assert score(text_lines=text_lines + more_lines) >= base
    declared = PageMeta(
        json_ld_types=meta.json_ld_types | {"NewsArticle"},
        opengraph=meta.opengraph,
        article_elements=meta.article_elements,
    )
    assert score(meta=declared) >= base
    og_article = PageMeta(
        json_ld_types=meta.json_ld_types,
        opengraph={**meta.opengraph, "og:type": ["article"]},
        article_elements=meta.article_elements,
    )
    assert score(meta=og_article) >= base
    assert score(headline_links=headline_links + more_links) <= base
    assert score(headline_chars=headline_chars + more_links) <= base
    assert score(headline_lines=headline_lines + more_link_lines) <= base


@given(
    url=_decision_urls,
    meta=_metas,
    text_chars=st.integers(min_value=0, max_value=199),
    text_lines=_counts,
)
def test_a_thin_page_needs_json_ld_to_be_an_article(url, meta, text_chars, text_lines) -> None:
    """Under 200 characters, only a JSON-LD article type (or a site's allow pattern) can
    make a story: og:type=article, which many CMSs stamp on every page, plus a story-like
    URL and an <article> element are not enough (an empty page is the extreme case)."""
    undeclared = PageMeta(
        json_ld_types=meta.json_ld_types - ARTICLE_TYPES,
        opengraph=meta.opengraph,
        article_elements=meta.article_elements,
    )
    decision = decide(url, undeclared, text_chars, 0, 0, text_lines=text_lines)
    assert not decision.is_article, decision


# --- page declarations: JSON-LD, Open Graph, links --------------------------------------


def _tree(document: str) -> Any:
    tree = parse_html(document)
    assume(tree is not None)
    return tree


@given(document=_documents, base=_page_urls)
@example(  # regression: json gave up with RecursionError, which was not caught
    document=_document(
        False, None, ['<script type="application/ld+json">' + "[" * 100_000 + "</script>"], []
    ),
    base=URL,
)
def test_page_declarations_of_any_document(document: str, base: str) -> None:
    """read_page_meta never raises, and what it keeps has the shape its users rely on."""
    meta = read_page_meta(_tree(document), base)
    assert len(meta.json_ld) <= 200
    for obj in meta.json_ld:
        assert isinstance(obj, dict) and "@type" in obj
    assert all(isinstance(t, str) for t in meta.json_ld_types)
    article = meta.article_ld
    assert article is None or article in meta.json_ld
    assert meta.og_type is None or meta.og_type == meta.og_type.strip().lower()
    for values in meta.opengraph.values():
        assert all(value == value.strip() for value in values)
    assert meta.article_elements >= 0
    for link in [meta.canonical, *meta.feed_links, *meta.next_links]:
        assert link is None or isinstance(link, str)


@given(
    junk=_json,
    article_type=st.sampled_from(sorted(ARTICLE_TYPES)),
    headline=_any_text,
    placement=st.integers(0, 3),
    breakage=st.sampled_from([0, 1]),  # intact, or with the stray `;` pages add
)
def test_a_json_ld_article_is_found_wherever_it_sits(
    junk, article_type, headline, placement, breakage
) -> None:
    """An article object at the top, in a list, in an @graph, or next to junk is found,
    and its values come back as JSON had them (lone surrogates from escapes included)."""
    article = {"@type": article_type, "headline": headline}
    data = (
        article,
        [junk, article],
        {"@context": "https://schema.org", "@graph": [junk, article]},
        [{"@graph": [article]}, junk],
    )[placement]
    script = f'<script type="application/ld+json">{_json_text(data, breakage)}</script>'
    meta = read_page_meta(_tree(_document(False, None, [script], ["<p>x</p>"])), URL)
    assert article_type in meta.json_ld_types
    assert meta.article_ld is not None  # the junk's own article objects may come first
    assert article in meta.json_ld


def test_hostile_json_ld_nesting_is_skipped() -> None:
    """A JSON-LD block nested deeper than Python's stack is skipped, the page still read."""
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        deep = opener * 200_000 + "1" + closer * 200_000
        document = _document(
            False,
            "en",
            [
                f'<script type="application/ld+json">{deep}</script>',
                '<script type="application/ld+json">{"@type": "NewsArticle"}</script>',
            ],
            ["<p>text</p>"],
        )
        tree = parse_html(document)
        assert tree is not None
        meta = read_page_meta(tree, URL)
        assert meta.json_ld_types == {"NewsArticle"} and meta.html_lang == "en"


_hrefs = st.one_of(_ATTR_VALUES, st.builds(lambda a, b: a + b, _ATTR_VALUES, _ATTR_VALUES))


@given(
    hrefs=st.lists(_hrefs, max_size=12),
    base_href=st.one_of(st.none(), _hrefs),
    page_url=_page_urls,
    noise=st.lists(_fragments, max_size=3),
)
@example(hrefs=["https:", "http:///x", "http:"], base_href=None, page_url=URL, noise=[])
def test_links_are_absolute_http_urls(hrefs, base_href, page_url, noise) -> None:
    """Whatever the hrefs and <base>, every link is an absolute http(s) URL with a host and
    no fragment, listed once; a relative href never leaves the page's host."""
    base = "" if base_href is None else f'<base href="{base_href}">'
    anchors = "".join(f'<a href="{href}">link text that is long enough</a>' for href in hrefs)
    tree = _tree(_document(False, None, [base], [anchors, *noise]))
    links = page_links(tree, page_url)
    assert len(links.urls) == len(set(links.urls)) <= MAX_LINKS
    for link in links.urls:
        parts = urlsplit(link)
        assert parts.scheme in ("http", "https") and parts.hostname, link
        assert not parts.fragment and "#" not in link
    assert links.headline_links <= len(links.urls) and links.headline_chars >= 0


@given(
    href=_hrefs,
    page_url=st.sampled_from(
        [URL, "https://news.example.com/a/b/", "http://[::1]:8000/x", "https://xn--n-xga.example"]
    ),
)
def test_a_relative_href_stays_on_the_pages_host(href, page_url) -> None:
    """An href without scheme or host (as the parser hands it over, entities decoded)
    resolves on the page's own host: only an absolute link can point elsewhere."""
    tree = _tree(_document(False, None, [], [f'<a href="{href}">x</a>']))
    anchors = list(tree.iter("a", "area", "base"))
    assume(len(anchors) == 1)
    try:
        parts = urlsplit((anchors[0].get("href") or "").strip())
    except ValueError:
        assume(False)
        return
    assume(not parts.scheme and not parts.netloc)
    for link in page_links(tree, page_url).urls:
        assert urlsplit(link).hostname == urlsplit(page_url).hostname


# --- extraction post-processing ---------------------------------------------------------


@given(text=_any_text, title=st.one_of(st.none(), _any_text))
@example(text="  Harbor   FERRY \nBody text", title="harbor ferry")
@example(text="Harbor ferry", title="Harbor ferry")
def test_the_title_line_is_dropped_only_when_it_is_the_title(text, title) -> None:
    """The body loses its first line exactly when that line is the title (spacing and
    case aside), and nothing else ever changes."""
    result = _without_title_line(text, title)
    first, _, rest = text.partition("\n")
    same = bool(title) and " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    assert result == (rest.strip() if same and text else text)


@given(a=_any_text, b=_any_text)
def test_text_weight_counts_each_character_once_or_three_times(a, b) -> None:
    """The weight is per character (so it adds up over concatenation), never less than the
    length, never more than three times it, and plain ASCII weighs its length."""
    assert text_weight(a + b) == text_weight(a) + text_weight(b)
    assert len(a) <= text_weight(a) <= 3 * len(a)
    if a.isascii():
        assert text_weight(a) == len(a)


_BODIES = {
    "none": "<html><body></body></html>",
    "short": "<html><body><div><p>Three short words.</p></div></body></html>",
    "long": "<html><body><div>"
    + "<p>The council met again to discuss the ferry timetable and its costs for all.</p>" * 10
    + "</div></body></html>",
}
_SOURCES = {"trafilatura", "json-ld", "opengraph", "meta", "html", "selector"}
_FIELDS = {
    "text", "title", "authors", "published", "modified", "language", "description", "image",
    "tags", "site_name", "canonical_url",
}  # fmt: skip
_ld_values = st.one_of(
    _json,
    st.datetimes(
        min_value=datetime(1800, 1, 1),
        max_value=datetime(2300, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]),
    ).map(datetime.isoformat),
    st.lists(st.fixed_dictionaries({"name": _any_text}), max_size=3),
)
_OG_PROPERTIES = [
    "og:title", "og:type", "article:published_time", "article:modified_time",
    "og:updated_time", "og:locale", "article:tag", "og:site_name", "og:url",
]  # fmt: skip
_og_values = st.lists(_any_text.map(str.strip), min_size=1, max_size=2)


def _assert_well_formed(article: Any) -> None:
    assert article.title is None or (isinstance(article.title, str) and article.title.strip())
    assert isinstance(article.text, str)
    assert all(isinstance(n, str) and n for n in article.authors)
    assert len(set(article.authors)) == len(article.authors)
    for moment in (article.published, article.modified):
        assert moment is None or (
            moment.utcoffset() == timedelta(0) and 1990 <= moment.year <= 2100
        ), moment
    assert article.language is None or (
        isinstance(article.language, str)
        and 0 < len(article.language) <= 35
        and "_" not in article.language
        and "," not in article.language
    )
    assert all(isinstance(tag, str) for tag in article.tags)
    assert set(article.sources) <= _FIELDS and set(article.sources.values()) <= _SOURCES
    for name in _FIELDS - {"text"}:
        if getattr(article, name):
            assert name in article.sources, name


@given(
    body=st.sampled_from(sorted(_BODIES)),
    ld=st.dictionaries(st.sampled_from(_LD_KEYS), _ld_values, max_size=8),
    og=st.dictionaries(
        st.sampled_from(_OG_PROPERTIES),
        _og_values,
        max_size=4,
    ),
    meta=st.dictionaries(
        st.sampled_from(["author", "date", "pubdate", "content-language"]),
        _any_text.map(str.strip),
        max_size=3,
    ),
    html_lang=st.one_of(st.none(), st.sampled_from([",", ",en", "pt_BR", " en "]), _any_text),
)
@example(body="short", ld={}, og={}, meta={}, html_lang=",en")  # was language ""
def test_metadata_filled_from_any_json_ld_and_open_graph(body, ld, og, meta, html_lang) -> None:
    """Whatever the page's JSON-LD holds, filling never raises and every field has the type
    and range storage expects, with the source it came from."""
    ld = {**ld, "@type": "NewsArticle"}
    page = PageMeta(
        json_ld=[ld],
        json_ld_types={"NewsArticle"},
        opengraph=og,
        meta=meta,
        html_lang=(html_lang or "").strip() or None,
    )
    extraction = extract_article(parse_html(_BODIES[body]), URL, page)
    article = extraction.article
    _assert_well_formed(article)
    assert extraction.text_chars == text_weight(article.text)


@given(
    headline=_any_text,
    published=st.datetimes(
        min_value=datetime(1990, 1, 2),
        max_value=datetime(2099, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    zulu=st.booleans(),
    people=st.lists(_any_text, max_size=4),
    article_body=_any_text,
    body=st.sampled_from(["none", "long"]),
)
def test_json_ld_fills_what_the_page_body_lacks(
    headline, published, zulu, people, article_body, body
) -> None:
    """On a page with no title, date or byline of its own, the JSON-LD headline, date and
    authors are taken as written; its articleBody stands in for a missing body but never
    replaces a real one."""
    stamp = published.isoformat()
    if zulu and published.utcoffset() == timedelta(0):
        stamp = stamp.replace("+00:00", "Z")
    ld = {
        "@type": "NewsArticle",
        "headline": headline,
        "datePublished": stamp,
        "author": [{"@type": "Person", "name": name} for name in people],
        "articleBody": article_body,
    }
    page = PageMeta(json_ld=[ld], json_ld_types={"NewsArticle"})
    article = extract_article(parse_html(_BODIES[body]), URL, page).article
    _assert_well_formed(article)
    if headline.strip():
        assert article.title == headline.strip() and article.sources["title"] == "json-ld"
    assert article.published == published.astimezone(UTC)
    assert article.sources["published"] == "json-ld"
    names = [
        n.strip() for n in people if n.strip() and not n.strip().startswith(("http://", "https://"))
    ]
    if names:
        assert article.authors == tuple(dict.fromkeys(names))
    if body == "long":
        assert article.sources["text"] == "trafilatura"
        assert "ferry timetable" in article.text
    elif len(article_body.strip()) >= 2:
        assert article.sources["text"] == "json-ld"
        assert article_body.strip().endswith(article.text)


# --- charset decoding --------------------------------------------------------------------


@given(
    body=st.one_of(st.binary(max_size=400), _bodies()),
    content_type=_CONTENT_TYPES,
    meta_label=st.one_of(st.none(), _LABELS),
)
@example(body=b"<p>caf\xc3\xa9</p>", content_type="text/html; charset=undefined", meta_label=None)
@example(body=b"<p>x</p>", content_type="text/html; charset=idna", meta_label=None)
@example(body=b"<p>\\ud800 +2AA-</p>", content_type=None, meta_label="unicode_escape")
def test_any_bytes_decode_to_storable_text(body, content_type, meta_label) -> None:
    """decode_html never raises, and always returns text lxml and every database accept
    (no lone surrogates) with the name of a real codec."""
    if meta_label is not None:
        body = f'<meta charset="{meta_label}">'.encode("utf-8", "surrogatepass") + body
    text, encoding = decode_html(body, content_type)
    assert isinstance(text, str)
    text.encode("utf-8")  # raises on a lone surrogate
    codecs.lookup(encoding)


@given(
    text=st.text(min_size=1, max_size=200),
    content_type=_CONTENT_TYPES,
    meta_label=st.one_of(st.none(), _LABELS),
)
def test_utf8_bytes_are_utf8_whatever_the_labels_say(text, content_type, meta_label) -> None:
    """Non-ASCII bytes that form valid UTF-8 are read as UTF-8: a wrong label (header or
    meta, legacy or bogus) cannot turn a UTF-8 page into mojibake."""
    head = "" if meta_label is None else f'<meta charset="{meta_label}">'
    document = f"<html><head>{head}</head><body><p>{text}é</p></body></html>"
    assert decode_html(document.encode("utf-8"), content_type) == (document, "utf-8")


@given(
    words=st.text(alphabet=st.characters(max_codepoint=0x7E, min_codepoint=0x20), max_size=80),
    label=_LABELS,
)
@example(words="<p>hello</p>", label="utf-16")
@example(words="<p>hello</p>", label="cp037")
def test_a_meta_label_never_garbles_ascii_markup(words, label) -> None:
    """The <meta> that names the charset was found by reading the bytes as ASCII, so an
    ASCII page reads as itself whatever the label (the HTML standard reads utf-16 there
    as UTF-8), unless the label names an encoding with escapes in printable ASCII."""
    document = f'<html><head><meta charset="{label}"></head><body>{words}</body></html>'
    body = document.encode("utf-8", "surrogatepass")
    assume(body.isascii())
    decoded, encoding = decode_html(body)
    if encoding in ("hz", "iso2022_jp", "iso2022_kr") or encoding.startswith("iso2022"):
        return  # `~{` and ESC sequences are shift codes in these: decoding differs by design
    assert decoded == document, encoding


def _repertoire(encoding: str) -> list[str]:
    """The characters up to U+2FFF (Latin to CJK punctuation) an encoding can write."""
    found = []
    for code in range(0x20, 0x3000):
        char = chr(code)
        try:
            char.encode(encoding)
        except UnicodeEncodeError:
            continue
        if char not in "<&" and not 0xD800 <= code <= 0xDFFF:
            found.append(char)
    return found


_LEGACY = ["cp1252", "iso8859-15", "cp1251", "koi8-r", "iso8859-2", "gb18030", "cp1250"]
_REPERTOIRES = {encoding: _repertoire(encoding) for encoding in _LEGACY}


@given(data=st.data(), encoding=st.sampled_from(_LEGACY), where=st.sampled_from(["header", "meta"]))
def test_a_declared_encoding_the_bytes_do_not_contradict_is_used(data, encoding, where) -> None:
    """A page written in its declared ASCII-compatible encoding reads back as written, unless
    its bytes happen to be valid UTF-8 (then UTF-8 is the documented, likelier reading)."""
    text = data.draw(st.text(st.sampled_from(_REPERTOIRES[encoding]), min_size=1, max_size=100))
    words = text.encode(encoding)
    try:
        words.decode("utf-8")
        assume(words.isascii())
    except UnicodeDecodeError:
        pass
    head = f'<meta charset="{encoding}">' if where == "meta" else ""
    body = f"<html><head>{head}</head><body><p>".encode() + words + b"</p></body></html>"
    content_type = f"text/html; charset={encoding}" if where == "header" else "text/html"
    decoded, _ = decode_html(body, content_type)
    assert text in decoded


# --- dates --------------------------------------------------------------------------------


@given(text=st.one_of(_any_text, st.sampled_from(["Tue, 1 Jan 10000 00:00:00 GMT",
                                                   "0001-01-01T00:00:00+01:00",
                                                   "Mon, 32 Jan 2020", "2026-02-30",
                                                   "1 Jan 2020 00:00:00 +9999"])),
       rfc822=st.booleans())  # fmt: skip
def test_any_text_is_a_utc_date_or_none(text, rfc822) -> None:
    moment = parse_web_date(text, rfc822=rfc822)
    assert moment is None or moment.utcoffset() == timedelta(0)


_aware = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]
    ),
)


@given(moment=_aware, naive=st.booleans())
def test_iso_dates_read_back(moment: datetime, naive: bool) -> None:
    """Any ISO 8601 timestamp reads back as the same instant; without a zone, as UTC."""
    if naive:
        moment = moment.replace(tzinfo=None)
        assert parse_web_date(moment.isoformat()) == moment.replace(tzinfo=UTC)
    else:
        assert parse_web_date(moment.isoformat(), rfc822=False) == moment
        assert parse_web_date(f" {moment.astimezone(UTC).isoformat()[:-6]}Z ") == moment


@given(moment=_aware)
def test_rss_dates_read_back_only_when_rfc822_is_on(moment: datetime) -> None:
    """RFC 822 dates as feeds write them read back to the second; extraction (rfc822=False)
    refuses them, as pages' metadata is ISO 8601."""
    written = format_datetime(moment.replace(microsecond=0))
    assert parse_web_date(written) == moment.replace(microsecond=0)
    assert parse_web_date(written, rfc822=False) is None


# --- the whole analysis of one page --------------------------------------------------------


def _check_analysis(page: FetchedPage) -> str:
    result = analyze_page(page, PageRules())
    assert result.kind in KINDS
    event(result.kind)
    for link in [*result.links, *result.feeds]:
        parts = urlsplit(link)
        assert parts.scheme in ("http", "https") and parts.netloc, link
    if result.kind in ("not_html", "empty", "unparsable"):
        assert result.prepared is None and not result.links
    if result.kind == "article":
        assert result.decision is not None and result.decision.is_article
        assert result.prepared is not None and result.prepared.kind is FetchKind.ARTICLE
        assert result.prepared.content is not None
        assert result.prepared.content.title or result.prepared.content.text
    if result.kind == "not_article":
        assert result.decision is not None and result.prepared is None
    if result.kind == "alternate":
        assert result.canonical is not None and result.prepared is None
        assert urlsplit(result.canonical).path not in ("", "/")
    return result.kind


@given(
    body=_bodies(),
    content_type=_CONTENT_TYPES,
    final_url=_page_urls,
    etag=st.one_of(st.none(), _any_text),
    last_modified=st.one_of(st.none(), _any_text),
)
@example(
    body=b'<meta charset="idna"><p>caf\xe9</p>', content_type=None, final_url=URL, etag=None,
    last_modified=None,
)  # fmt: skip
def test_any_page_gets_one_of_the_documented_verdicts(
    body, content_type, final_url, etag, last_modified
) -> None:
    """analyze_page raises only on a bug: any bytes, labels, URL and validators end in one
    of its documented kinds, with the parts each kind promises."""
    page = FetchedPage("fuzz", final_url, final_url, 200, body, content_type, etag, last_modified)
    kind = _check_analysis(page)
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in ("text/html", "application/xhtml+xml", "text/plain", ""):
        assert kind == "not_html"


@given(
    magic=st.sampled_from(_MAGIC_PREFIXES),
    body=_bodies(),
    content_type=st.sampled_from([None, "text/html", "text/html; charset=utf-8", ""]),
)
def test_files_labelled_as_html_are_never_parsed(magic, body, content_type) -> None:
    """PDFs, images, archives and media served as text/html are files, never pages."""
    page = FetchedPage("fuzz", URL, URL, 200, magic + body, content_type)
    assert analyze_page(page, PageRules()).kind == "not_html"


@given(body=_bodies(), at=st.integers(0, 511))
def test_nul_bytes_early_in_the_body_mean_a_file(body, at) -> None:
    """No 8-bit or UTF-8 page has a NUL in its first 512 bytes; a body that does (without a
    UTF-16 byte-order mark) is never analysed as a page."""
    assume(not body.startswith((b"\xff\xfe", b"\xfe\xff")))
    at = min(at, len(body))
    damaged = body[:at] + b"\x00" + body[at:]
    assert analyze_page(FetchedPage("fuzz", URL, URL, 200, damaged), PageRules()).kind == (
        "not_html"
    )


@pytest.mark.parametrize(
    "label", ["undefined", "idna", "punycode", "unicode_escape", "raw_unicode_escape", "base64"]
)
def test_pages_declaring_non_text_codecs_are_still_read(label: str) -> None:
    """Regression: `charset=undefined` / `idna` made decoding raise (and with it the whole
    analysis); `unicode_escape` turned backslashes in the markup into surrogates. The
    bytes are windows-1252, not UTF-8, so the label is what decides."""
    story = "<p>" + "The harbor council met again about the ferry timetable. " * 40 + "</p>"
    document = (
        f'<html><head><meta charset="{label}"><script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Ferry"}</script></head>'
        f"<body><article><h1>Ferry</h1>{story}<p>C:\\ud800\\new caf\xe9</p></article></body>"
        "</html>"
    )
    body = document.encode("cp1252")
    for content_type in ("text/html", f"text/html; charset={label}"):
        text, _ = decode_html(body, content_type)
        assert "C:\\ud800\\new caf\xe9" in text
        result = analyze_page(FetchedPage("t", URL, URL, 200, body, content_type), PageRules())
        assert result.kind == "article"


def test_meta_utf16_over_ascii_bytes_reads_as_ascii() -> None:
    """Regression: `<meta charset="utf-16">` on an ASCII page decoded it as UTF-16 (CJK
    noise); a header saying UTF-16 is still obeyed, as in browsers (not asserted here)."""
    body = b'<html><head><meta charset="utf-16"></head><body><p>hello</p></body></html>'
    assert decode_html(body) == (body.decode(), "ascii")
