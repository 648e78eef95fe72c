"""A whole local news site built at run time from the real pages in the corpus.

The crawl integration tests need a site that behaves like a real publisher's: a home page,
sections with pagination, a feed, robots.txt with sitemaps (gzipped, Google News, an index
that lists itself), AMP copies, tracking-parameter duplicates, pages that must never be
archived, a disallowed path, faults (500, 503 then 200, redirect chains, an off-site
redirect, a page slower than the download timeout, a PDF, an empty and a broken page) and a
second host the crawler must never touch. Day 2 edits some stories, changes only the
boilerplate of others and publishes new ones, so incremental crawling can be checked.

The story pages are the corpus bytes themselves (the bundled subset, tests/corpus.py, so
the site is the same on every machine), served as `text/html` without a charset so each
page's own meta declaration decides. Everything the tests assert against is in
`SiteManifest`, as paths (host-independent), computed by the same code that builds the
routes so the two cannot disagree.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
import itertools
import re
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from http.server import BaseHTTPRequestHandler
from types import MappingProxyType
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
import pytest

from crawler.demo.siteserver import Route, SiteServer
from tests.corpus import CorpusPage, bundled_pages

__all__ = [
    "CorpusSite",
    "RunningCorpusSite",
    "SiteManifest",
    "corpus_site",
    "page_links",
    "story_urls",
]

SITE_NAME = "The Local Ledger"
# A page whose relative links point into our site more often than this is left out:
# the crawler would chase that many 404s (archive-of-our-own has 3,845 such links).
STRAY_LINK_LIMIT = 15
# Corpus pages that cannot serve as stories, and why.
EXCLUDED = MappingProxyType(
    {
        # Declares gb2312 over UTF-8 bytes: decoded as declared it is mojibake, and the
        # extractor (rightly, for what it was given) does not call it an article.
        "qq": "charset declaration contradicts the bytes",
        # A short fable page that scores below the article threshold.
        "hukumusume": "not an article by the crawler's rules",
        # The same Lifehacker story as lifehacker-working: two copies would be one story
        # to the archive's duplicate detection, muddling every count.
        "lifehacker-post-comment-load": "duplicate of lifehacker-working",
    }
)
DAY1_STORIES = 30
SLOW_SECONDS = 6.0
# Last-Modified for day 1 (the server's default) and for anything that changed on day 2.
DAY1_MODIFIED = 1_700_000_000
DAY2_MODIFIED = DAY1_MODIFIED + 86_400
FIRST_PUBLISHED = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY2_PUBLISHED = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

HOME = "/"
WORLD = "/world/"
BUSINESS = "/business/"
ABOUT = "/about/"
CONTACT = "/contact/"
TAG = "/tag/politics/"
AUTHOR = "/author/jane-doe/"
ROBOTS = "/robots.txt"
FEED = "/feed.xml"
SITEMAP_INDEX = "/sitemap_index.xml"
STORIES_SITEMAP = "/sitemaps/stories.xml.gz"
NEWS_SITEMAP = "/sitemaps/news.xml"
SECRET = "/private/secret-story.html"
STOLEN = "/stolen-story.html"
FLAKY = "/fault/flaky.html"
SLOW = "/fault/slow.html"
REDIRECTS = ("/fault/r1", "/fault/r2", "/fault/r3")
FAULT_KINDS = MappingProxyType(
    {
        "/fault/500": "server_error",
        FLAKY: "flaky",
        REDIRECTS[0]: "redirect",
        REDIRECTS[1]: "redirect",
        REDIRECTS[2]: "redirect",
        "/fault/offsite": "offsite_redirect",
        SLOW: "slow",
        "/fault/annual-report": "not_html",
        "/fault/empty.html": "empty",
        "/fault/malformed.html": "malformed",
    }
)
# Section pages: (section, page number) -> path. Page 1 links pages 2 and 3 directly (a
# numbered pager) as well as by rel=next, so no story is more than 3 hops from home.
SECTION_PAGES = MappingProxyType(
    {
        (WORLD, 1): WORLD,
        (WORLD, 2): WORLD + "?page=2",
        (WORLD, 3): WORLD + "?page=3",
        (BUSINESS, 1): BUSINESS,
        (BUSINESS, 2): BUSINESS + "?page=2",
    }
)
_HEAD_TAG = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical\b", re.IGNORECASE)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_EDITABLE_WORD = re.compile(r"\b[a-z]{7,}\b")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_PLACEHOLDER = "http://127.0.0.1:9"  # manifest paths are computed against this base
_OTHER_PLACEHOLDER = "http://127.0.0.1:10"


# ------------------------------------------------------------------------------ corpus


def page_links(body: bytes, url: str) -> list[str]:
    """Absolute URLs of a page's links, as a crawler sees them (fragments kept).

    `<a>`/`<area>` hrefs, honouring `<base href>`, plus feed `<link rel=alternate>` hrefs,
    since crawlers autodiscover feeds from any page.
    """
    if not body.strip():
        return []
    try:
        document = lxml.html.document_fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return []
    base = url
    for node in document.iter("base"):
        href = (node.get("href") or "").strip()
        if href:
            try:
                base = urljoin(url, href)
            except ValueError:
                pass
        break
    found: list[str] = []
    for node in document.iter("a", "area", "link"):
        if node.tag == "link" and not (
            "alternate" in (node.get("rel") or "").lower().split()
            and (node.get("type") or "").strip().lower() in _FEED_TYPES
        ):
            continue
        href = (node.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            absolute = urljoin(base, href)
        except ValueError:
            continue
        if urlsplit(absolute).scheme in ("http", "https"):
            found.append(absolute)
    return found


def _internal_keys(body: bytes, page_path: str, base: str) -> list[str]:
    """Paths with query (no fragment) of the links that stay on `base`'s host:port."""
    netloc = urlsplit(base).netloc
    keys = []
    for url in page_links(body, base + page_path):
        parts = urlsplit(urldefrag(url)[0])
        if parts.netloc == netloc:
            keys.append((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return keys


@functools.cache
def _eligible() -> tuple[CorpusPage, ...]:
    """Corpus pages fit to be stories, in name order: the fixed selection rule.

    Left out: EXCLUDED, pages with more than STRAY_LINK_LIMIT links into our site, and
    pages linking to themselves with a query (webmd's `?page=2`, `?print=true`). The
    server answers those with the same bytes, so the crawler would find a second URL
    for one story, which no manifest count could predict.
    """
    nominal = "/news/2026/11/x-story.html"
    chosen = []
    for page in bundled_pages():
        if page.name in EXCLUDED:
            continue
        links = set(_internal_keys(page.html, nominal, _PLACEHOLDER))
        if len(links) > STRAY_LINK_LIMIT:
            continue
        if any(urlsplit(link).path == nominal for link in links):
            continue
        chosen.append(page)
    return tuple(chosen)


def _summary(page: CorpusPage) -> str:
    """One sentence for a teaser card: listing pages must stay short and link-heavy."""
    excerpt = page.metadata.get("excerpt")
    text = excerpt if isinstance(excerpt, str) and excerpt.strip() else page.expected
    text = " ".join(text.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) > 160:
        sentence = sentence[:160].rsplit(" ", 1)[0] + "\u2026"
    return sentence


def _paragraph_text_nodes(body: bytes) -> list[str]:
    """Text nodes directly inside `<p>` elements: body prose, not captions or scripts."""
    try:
        document = lxml.html.document_fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return []
    nodes = []
    for paragraph in document.iter("p"):
        if paragraph.text:
            nodes.append(paragraph.text)
        nodes.extend(child.tail for child in paragraph if child.tail)
    return nodes


def _edit(page: CorpusPage) -> tuple[str, str] | None:
    """A sentence of the reference text that the page shows as one literal text node, edited.

    Only plain-ASCII sentences without characters HTML would escape are used, so the same
    bytes are found whatever the page's encoding. The sentence must sit whole in a text
    node of a `<p>`: pages built by JavaScript (Medium) also carry the text in a JSON blob,
    and the reference text has captions; editing either changes nothing extractors read.
    """
    nodes: list[str] | None = None
    for line in page.expected.splitlines():
        for sentence in _SENTENCE_END.split(line.strip()):
            if not 60 <= len(sentence) <= 300 or not sentence.isascii():
                continue
            if any(char in sentence for char in "&<>\"'"):
                continue
            word = _EDITABLE_WORD.search(sentence)
            if word is None or word.group() == "revised":
                continue
            if sentence.encode("ascii") not in page.html:
                continue
            if nodes is None:
                nodes = _paragraph_text_nodes(page.html)
            if not any(sentence in node for node in nodes):
                continue
            return sentence, sentence[: word.start()] + "revised" + sentence[word.end() :]
    return None


def _apply_edit(body: bytes, edit: tuple[str, str]) -> bytes:
    """Every occurrence changes, so the old sentence is nowhere in the day-2 page."""
    return body.replace(edit[0].encode("ascii"), edit[1].encode("ascii"))


_CHURN = (
    b'<div class="trending" aria-hidden="true"><ul>'
    b'<li><a href="/world/">World</a></li><li><a href="/business/">Business</a></li>'
    b'<li><a href="/tag/politics/">Politics</a></li></ul></div><!-- build 2 -->'
)


def _churn(body: bytes) -> bytes:
    """Change bytes outside the article only: a trending box and a build comment."""
    ends = list(_BODY_END.finditer(body))
    if not ends:
        return body + _CHURN
    at = ends[-1].start()
    return body[:at] + _CHURN + body[at:]


def _amp_copy(body: bytes, canonical: str) -> bytes:
    """The page with our rel=canonical right after <head>, ahead of the corpus's own."""
    match = _HEAD_TAG.search(body)
    link = f'<link rel="canonical" href="{html.escape(canonical)}">'.encode("ascii")
    if match is None:
        return link + body
    return body[: match.end()] + link + body[match.end() :]


# ------------------------------------------------------------------------------ pages


def _document(title: str, body: str) -> bytes:
    """A listing or site page: declares itself a website and carries the site chrome."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {SITE_NAME}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:type" content="website">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:title" content="{html.escape(title)}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{FEED}">
</head>
<body>
<header class="masthead"><a class="logo" href="/">{SITE_NAME}</a>
<nav><a href="{WORLD}">World</a> <a href="{BUSINESS}">Business</a>
<a href="{TAG}">Politics</a></nav></header>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
<footer><a href="{ABOUT}">About us</a> <a href="{CONTACT}">Contact</a>
<a href="{AUTHOR}">Jane Doe</a> <span>&copy; 2026 {SITE_NAME}</span></footer>
</body></html>
""".encode()


def _teaser(href: str, headline: str, summary: str, more: str = "") -> str:
    return (
        f'<article class="teaser"><h2><a href="{html.escape(href)}">{html.escape(headline)}'
        f"</a></h2><p>{html.escape(summary)}</p>{more}</article>\n"
    )


_ABOUT_TEXT = """<p>The Local Ledger is an independent newsroom covering world affairs and
business from a small office above the market square. We publish several stories a day.</p>
<p>Our reporters follow the stories that matter to our readers and correct our mistakes in
public. Corrections are noted at the foot of each story.</p>
<p>The Ledger is owned by its staff. We do not accept payment for coverage.</p>"""

_CONTACT_TEXT = """<p>Tips, corrections and letters are welcome.</p>
<form class="contact" method="post" action="/contact/send">
<label>Your name <input type="text" name="name"></label>
<label>Email <input type="email" name="email"></label>
<label>Message <textarea name="message" rows="6"></textarea></label>
<input type="hidden" name="token" value="a1b2c3">
<button type="submit">Send</button>
</form>"""

_MALFORMED = (
    b"<html><head><title>Broken page</titl <body><div><p>Some words <b>of tag <i>soup"
    b"</div></p><table><tr><td>here and <a href=>there</b></i><p><p>"
)
_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _etag(body: bytes) -> str:
    """The same validator format as crawler.demo.siteserver, for routes served by handlers."""
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _respond(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
    *,
    validators: bool = False,
) -> None:
    """Write a whole response from a handler; the client may be gone (slow page)."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if validators and status == 200:
        etag = _etag(body)
        all_headers["ETag"] = etag
        all_headers.setdefault("Last-Modified", formatdate(DAY1_MODIFIED, usegmt=True))
        if request.headers.get("If-None-Match") == etag:
            status, body = 304, b""
            all_headers = {"ETag": etag}
    try:
        request.send_response(status)
        for name, value in all_headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
    except OSError:
        pass  # the crawler timed out and hung up, as it should


# ------------------------------------------------------------------------------ manifest


@dataclass(frozen=True)
class SiteManifest:
    """What is true of the site, as paths: the facts crawl tests assert against.

    Day-2 sets partition the day-1 stories: each is edited (extracted text changes),
    churned (bytes change outside the article, extracted text does not) or identical
    (same bytes; the server answers If-None-Match with 304).
    """

    stories_day1: frozenset[str]
    stories_day2: frozenset[str]
    new_day2: frozenset[str]
    edited_day2: frozenset[str]
    churned_day2: frozenset[str]
    identical_day2: frozenset[str]
    # Pages a crawler fetches but must never archive: home, sections and their pages,
    # about, contact, tag and author pages.
    listing_pages: frozenset[str]
    disallowed: frozenset[str]
    # AMP path -> the story path its rel=canonical names.
    amp: Mapping[str, str]
    # hrefs used in links and the feed (query and/or fragment) -> the story they mean.
    tracking_variants: Mapping[str, str]
    faults: Mapping[str, str]
    redirect_chain: tuple[str, ...]
    redirect_chain_target: str
    flaky_story: str
    # Story path -> title from the corpus metadata.json (the page's <title>). The extracted,
    # normalized title differs for ebb-org, gmw, mercurial, spiceworks and v8-blog (site
    # suffix dropped, NFKC punctuation, og:title preferred), so never assert equality.
    titles: Mapping[str, str]
    # Story path -> corpus folder name (for expected.txt and metadata.json).
    corpus_names: Mapping[str, str]
    top_stories: tuple[str, ...]
    feed_only: frozenset[str]
    sitemap_only: frozenset[str]
    # Stories without a date in the path.
    undated: frozenset[str]
    # Day-1 pages reachable by links from home -> fewest link hops (redirects are free).
    depth: Mapping[str, int]
    # Edited story -> (sentence on day 1, the sentence that replaces it on day 2).
    edits: Mapping[str, tuple[str, str]]
    # Links inside corpus pages that point into our site at paths it does not serve (404).
    stray_links: frozenset[str]
    # robots.txt, the feed and the sitemaps: fetched for discovery, never archived.
    machine_files: frozenset[str]
    # Paths served by the other host (linked from home, target of /fault/offsite).
    offsite_paths: frozenset[str]

    @property
    def deep_stories(self) -> frozenset[str]:
        """Stories exactly 3 hops from home (only on page 2 or 3 of a section)."""
        return frozenset(p for p in self.stories_day1 if self.depth.get(p) == 3)


# ------------------------------------------------------------------------------ the site


@dataclass(frozen=True)
class _Story:
    path: str
    page: CorpusPage
    published: datetime


class CorpusSite:
    """Builds the routes for day 1 and day 2 and the manifest describing them.

    Selection and roles follow fixed rules over the sorted names of the bundled pages, so
    every run on every machine gets the same site. Handler state (the flaky
    page's first failure, the slow page's sleep) lives here, so it survives set_day().
    """

    def __init__(self) -> None:
        pages = _eligible()
        needed = DAY1_STORIES + 5  # two new on day 2, the secret, the stolen, the slow page
        if len(pages) < needed:
            pytest.fail(f"only {len(pages)} usable corpus pages, the site needs {needed}")
        day1, rest = pages[:DAY1_STORIES], pages[DAY1_STORIES:]
        self._secret_page, self._stolen_page, self._slow_page = rest[2], rest[3], rest[4]
        linked, feed_only = day1[:24], day1[24:26]
        sitemap_only, (redirect_page, flaky_page) = day1[26:28], day1[28:30]
        # Linked stories alternate between the sections; three get date-less paths.
        undated = {linked[9].name, linked[12].name, feed_only[0].name}
        self._undated_names = frozenset(undated)
        self._section: dict[str, tuple[str, int]] = {}
        self._stories: list[_Story] = []
        counts = {WORLD: 0, BUSINESS: 0}
        per_page = {WORLD: (5, 4, 3), BUSINESS: (6, 6)}

        def story_path(page: CorpusPage, section: str) -> str:
            if page.name in undated:
                return f"{section}{page.name}-{zlib.crc32(page.name.encode()) % 90_000 + 10_000}"
            return f"/news/2026/11/{page.name}-story.html"

        for index, page in enumerate(day1):
            published = FIRST_PUBLISHED + timedelta(hours=11 * (DAY1_STORIES - index))
            if index < 24:
                section = WORLD if index % 2 == 0 else BUSINESS
                position, number = counts[section], 1
                counts[section] += 1
                for size in per_page[section]:
                    if position < size:
                        break
                    position -= size
                    number += 1
                path = story_path(page, section)
                self._section[path] = (section, number)
            elif page is flaky_page:
                path = FLAKY
            else:
                path = story_path(page, WORLD)
            self._stories.append(_Story(path, page, published))
        self._by_name = {s.page.name: s for s in self._stories}
        self._linked = [self._by_name[p.name] for p in linked]
        self._top = self._linked[:8]
        self._feed_only = [self._by_name[p.name] for p in feed_only]
        self._sitemap_only = [self._by_name[p.name] for p in sitemap_only]
        self._redirect_target = self._by_name[redirect_page.name]
        self._flaky = self._by_name[flaky_page.name]
        self._new = [
            _Story(
                f"/news/2026/11/{page.name}-story.html",
                page,
                DAY2_PUBLISHED + timedelta(hours=index),
            )
            for index, page in enumerate(rest[:2])
        ]
        # The AMP copy: the first top story after the tracking-variant ones whose page
        # already declares a canonical of its own, so the ordering matters.
        self._amp_story = next(
            s
            for s in self._top[3:]
            if _HEAD_TAG.search(s.page.html) and _CANONICAL.search(s.page.html)
        )
        self._amp_path = "/amp" + self._amp_story.path
        # Day 2: one edited and one churned story in each of three groups (top stories,
        # other section fronts' stories, deep stories), so a crawler must revisit every
        # depth. The edited one is the group's first with an editable sentence; the AMP
        # story stays as it is so its copy keeps matching.
        groups = [
            self._top,
            [s for s in self._linked[8:] if self._section[s.path][1] == 1],
            [s for s in self._linked[8:] if self._section[s.path][1] > 1],
        ]
        self._edits: dict[str, tuple[str, str]] = {}
        churned: list[str] = []
        for group in groups:
            for story in group:
                if story is not self._amp_story and (edit := _edit(story.page)) is not None:
                    self._edits[story.path] = edit
                    break
            churned.append(
                next(
                    s.path for s in group if s is not self._amp_story and s.path not in self._edits
                )
            )
        self._churned = frozenset(churned)
        self._lock = threading.Lock()
        self._flaky_requests = 0
        self._release = threading.Event()
        self.manifest = self._build_manifest()

    # ---------------------------------------------------------------- handlers

    def _serve_flaky(self, request: BaseHTTPRequestHandler) -> None:
        """503 with Retry-After on the very first request, the story ever after."""
        with self._lock:
            self._flaky_requests += 1
            first = self._flaky_requests == 1
        if first:
            _respond(
                request,
                503,
                b"<html><body><h1>Service unavailable</h1></body></html>",
                "text/html; charset=utf-8",
                {"Retry-After": "1"},
            )
        else:
            _respond(request, 200, self._flaky.page.html, "text/html", validators=True)

    def _serve_slow(self, request: BaseHTTPRequestHandler) -> None:
        """Answer after SLOW_SECONDS (sooner when the fixture tears down)."""
        self._release.wait(SLOW_SECONDS)
        _respond(request, 200, self._slow_page.html, "text/html")

    def release(self) -> None:
        """Let sleeping handlers finish, so stopping the server leaves no thread waiting."""
        self._release.set()

    # ---------------------------------------------------------------- pages

    def _story_body(self, story: _Story, day: int) -> bytes:
        if day >= 2 and story.path in self._edits:
            return _apply_edit(story.page.html, self._edits[story.path])
        if day >= 2 and story.path in self._churned:
            return _churn(story.page.html)
        return story.page.html

    def _home(self, day: int, other_base: str) -> bytes:
        cards = []
        if day >= 2:
            cards += [_teaser(s.path, s.page.title, _summary(s.page)) for s in self._new]
        for index, story in enumerate(self._top):
            href, more = story.path, ""
            if index == 0:
                more = f'<a class="comments" href="{story.path}#comments">12 comments</a>'
            elif index == 1:
                href = story.path + "?utm_source=x&utm_medium=y"
            elif index == 2:
                more = (
                    f'<a class="share" href="{story.path}?utm_source=newsletter&amp;'
                    'utm_medium=email#comments">Share</a>'
                )
            if story is self._amp_story:
                more = f'<a class="amp" href="{self._amp_path}">Fast version</a>'
            cards.append(_teaser(href, story.page.title, _summary(story.page), more))
        cards.append(
            _teaser(
                SECRET,
                "Members only: the story behind the story",
                "Subscribers read it first.",
            )
        )
        cards.append(
            _teaser(
                other_base + STOLEN,
                f"From our partners: {self._stolen_page.title}",
                "A story from another site.",
            )
        )
        return _document("Top stories", "".join(cards))

    def _section_page(self, section: str, number: int) -> bytes:
        stories = [s for s in self._linked if self._section[s.path] == (section, number)]
        cards = [_teaser(s.path, s.page.title, _summary(s.page)) for s in stories]
        last = max(n for (name, n) in SECTION_PAGES if name == section)
        pager = []
        if number > 1:
            prev = SECTION_PAGES[(section, number - 1)]
            pager.append(f'<a rel="prev" href="{prev}">Previous</a>')
        if number < last:
            pager.append(f'<a rel="next" href="?page={number + 1}">Next</a>')
        if number == 1:
            pager += [f'<a href="?page={n}">{n}</a>' for n in range(2, last + 1)]
        extra = f'<nav class="pager">{" ".join(pager)}</nav>'
        if (section, number) == (WORLD, 1):
            extra += self._more_box()
        name = section.strip("/").title()
        title = name if number == 1 else f"{name}, page {number}"
        return _document(title, "".join(cards) + extra)

    def _more_box(self) -> str:
        """The fault links, as a 'more from the wires' box on the World front."""
        items = [
            (FLAKY, self._flaky.page.title),
            ("/fault/500", "Election results live"),
            (REDIRECTS[0], "Read the full report"),
            ("/fault/offsite", "Partner coverage"),
            (SLOW, "Live blog: the summit"),
            ("/fault/annual-report", "Annual report (PDF)"),
            ("/fault/empty.html", "Weather"),
            ("/fault/malformed.html", "Market data"),
        ]
        rows = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in items)
        return f'<aside class="more"><h2>More from the wires</h2><ul>{rows}</ul></aside>'

    def _tag_page(self) -> bytes:
        stories = self._top[:4]
        cards = "".join(_teaser(s.path, s.page.title, _summary(s.page)) for s in stories)
        return _document("Politics", cards)

    def _author_page(self) -> bytes:
        stories = self._top[4:8]
        cards = "".join(_teaser(s.path, s.page.title, _summary(s.page)) for s in stories)
        intro = "<p>Jane Doe covers world affairs for the Ledger.</p>"
        return _document("Jane Doe", intro + cards)

    def _feed(self, day: int, base: str) -> bytes:
        items = []
        stories = ([*self._new] if day >= 2 else []) + [*self._top, *self._feed_only]
        for story in stories:
            link = base + self._feed_href(story)
            items.append(
                f"<item><title>{html.escape(story.page.title)}</title>"
                f"<link>{html.escape(link)}</link>"
                f'<guid isPermaLink="false">ledger-{zlib.crc32(story.path.encode())}</guid>'
                f"<pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>"
                f"<description>{html.escape(_summary(story.page))}</description></item>\n"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>\n'
            f"<title>{SITE_NAME}</title><link>{base}/</link>"
            f"<description>Top stories</description>\n{''.join(items)}</channel></rss>\n"
        ).encode()

    def _feed_href(self, story: _Story) -> str:
        """Feed links for the 5th and 6th top stories and one feed-only story carry tracking."""
        tracked = {self._top[4].path, self._top[5].path, self._feed_only[0].path}
        return story.path + ("?utm_source=rss&utm_medium=feed" if story.path in tracked else "")

    def _sitemap_index(self, base: str) -> bytes:
        entries = "".join(
            f"<sitemap><loc>{base}{path}</loc><lastmod>2026-11-20</lastmod></sitemap>\n"
            for path in (STORIES_SITEMAP, NEWS_SITEMAP, SITEMAP_INDEX)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</sitemapindex>\n"
        ).encode()

    def _stories_sitemap(self, day: int, base: str) -> bytes:
        """Every linked story, one sitemap-only story and the disallowed one (robots wins)."""
        entries = []
        for story in [*self._linked, self._sitemap_only[0]]:
            modified = DAY2_PUBLISHED if day >= 2 and story.path in self._edits else None
            lastmod = (modified or story.published).strftime("%Y-%m-%dT%H:%M:%SZ")
            entries.append(f"<url><loc>{base}{story.path}</loc><lastmod>{lastmod}</lastmod></url>")
        entries.append(f"<url><loc>{base}{SECRET}</loc></url>")
        data = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(entries)
            + "\n</urlset>\n"
        ).encode()
        return gzip.compress(data, mtime=0)  # mtime=0: same bytes, same ETag, every build

    def _news_sitemap(self, day: int, base: str) -> bytes:
        stories = ([*self._new] if day >= 2 else []) + [*self._top, self._sitemap_only[1]]
        entries = "".join(
            f"<url><loc>{base}{s.path}</loc><news:news><news:publication>"
            f"<news:name>{SITE_NAME}</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>"
            f"{s.published.strftime('%Y-%m-%dT%H:%M:%SZ')}</news:publication_date>"
            f"<news:title>{html.escape(s.page.title)}</news:title></news:news></url>\n"
            for s in stories
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
            '        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{entries}</urlset>\n"
        ).encode()

    def _robots(self, base: str) -> bytes:
        return f"User-agent: *\nDisallow: /private/\nSitemap: {base}{SITEMAP_INDEX}\n".encode()

    # ---------------------------------------------------------------- routes

    def routes(self, day: int, base: str, other_base: str) -> dict[str, Route]:
        """The main host's routes for `day` (1 or 2); `base` is its own URL, no slash."""
        if day not in (1, 2):
            raise ValueError(f"the site has days 1 and 2, not {day}")
        routes = self._routes(day, base, other_base)
        if day == 2:
            # Honest validators: whatever changed since day 1 was modified a day later.
            before = self._routes(1, base, other_base)
            for path, route in list(routes.items()):
                old = before.get(path)
                if route.handler is None and (old is None or old.body != route.body):
                    headers = {**route.headers}
                    headers["Last-Modified"] = formatdate(DAY2_MODIFIED, usegmt=True)
                    routes[path] = Route(
                        route.body, route.status, route.content_type, headers, route.validators
                    )
        return routes

    def _routes(self, day: int, base: str, other_base: str) -> dict[str, Route]:
        routes: dict[str, Route] = {
            HOME: Route(self._home(day, other_base)),
            ABOUT: Route(_document("About us", _ABOUT_TEXT)),
            CONTACT: Route(_document("Contact", _CONTACT_TEXT)),
            TAG: Route(self._tag_page()),
            AUTHOR: Route(self._author_page()),
            ROBOTS: Route(self._robots(base), content_type="text/plain; charset=utf-8"),
            FEED: Route(self._feed(day, base), content_type="application/rss+xml; charset=utf-8"),
            SITEMAP_INDEX: Route(self._sitemap_index(base), content_type="application/xml"),
            STORIES_SITEMAP: Route(
                self._stories_sitemap(day, base), content_type="application/x-gzip"
            ),
            NEWS_SITEMAP: Route(self._news_sitemap(day, base), content_type="application/xml"),
            SECRET: Route(self._secret_page.html, content_type="text/html"),
        }
        for (section, number), path in SECTION_PAGES.items():
            routes[path] = Route(self._section_page(section, number))
        for story in self._stories:
            if story is not self._flaky:
                routes[story.path] = Route(self._story_body(story, day), content_type="text/html")
        if day >= 2:
            for story in self._new:
                routes[story.path] = Route(story.page.html, content_type="text/html")
        routes[self._amp_path] = Route(
            _amp_copy(self._amp_story.page.html, base + self._amp_story.path),
            content_type="text/html",
        )
        chain = [*REDIRECTS, self._redirect_target.path]
        for source, target in itertools.pairwise(chain):
            routes[source] = Route(status=302, headers={"Location": base + target})
        routes.update(
            {
                "/fault/500": Route(
                    b"<html><body><h1>Internal server error</h1></body></html>", status=500
                ),
                FLAKY: Route(handler=self._serve_flaky),
                "/fault/offsite": Route(status=302, headers={"Location": other_base + STOLEN}),
                SLOW: Route(handler=self._serve_slow),
                "/fault/annual-report": Route(_PDF, content_type="application/pdf"),
                "/fault/empty.html": Route(b"", content_type="text/html"),
                "/fault/malformed.html": Route(_MALFORMED, content_type="text/html"),
            }
        )
        return routes

    def other_routes(self) -> dict[str, Route]:
        """The other host: one story the crawler must never fetch."""
        return {STOLEN: Route(self._stolen_page.html, content_type="text/html")}

    # ---------------------------------------------------------------- manifest

    def _html_bodies(self, day: int) -> dict[str, bytes]:
        """Every HTML page a crawler can receive on `day`, handlers' pages included."""
        bodies = {
            path: route.body
            for path, route in self._routes(day, _PLACEHOLDER, _OTHER_PLACEHOLDER).items()
            if route.handler is None
            and route.status == 200
            and route.content_type.startswith("text/html")
        }
        bodies[FLAKY] = self._flaky.page.html
        bodies[SLOW] = self._slow_page.html
        return bodies

    def _build_manifest(self) -> SiteManifest:
        day1 = self._routes(1, _PLACEHOLDER, _OTHER_PLACEHOLDER)
        day2 = self._routes(2, _PLACEHOLDER, _OTHER_PLACEHOLDER)
        stories1 = frozenset(s.path for s in self._stories)
        new = frozenset(s.path for s in self._new)
        edited = frozenset(self._edits)
        listing = frozenset([HOME, ABOUT, CONTACT, TAG, AUTHOR, *SECTION_PAGES.values()])
        strays: set[str] = set()
        for day, routes in ((1, day1), (2, day2)):
            for path, body in self._html_bodies(day).items():
                if path in listing or path == SECRET:
                    continue
                for key in _internal_keys(body, path, _PLACEHOLDER):
                    if _lookup(routes, key) is None:
                        strays.add(key)
        variants = dict(_variant_hrefs(day1[HOME].body, HOME))
        for story in [*self._top, *self._feed_only]:
            href = self._feed_href(story)
            if href != story.path:
                variants[href] = story.path
        everything = [*self._stories, *self._new, self._secret_page_story()]
        return SiteManifest(
            stories_day1=stories1,
            stories_day2=stories1 | new,
            new_day2=new,
            edited_day2=edited,
            churned_day2=self._churned,
            identical_day2=stories1 - edited - self._churned,
            listing_pages=listing,
            disallowed=frozenset([SECRET]),
            amp=MappingProxyType({self._amp_path: self._amp_story.path}),
            tracking_variants=MappingProxyType(variants),
            faults=FAULT_KINDS,
            redirect_chain=(*REDIRECTS, self._redirect_target.path),
            redirect_chain_target=self._redirect_target.path,
            flaky_story=FLAKY,
            titles=MappingProxyType({s.path: s.page.title for s in everything}),
            corpus_names=MappingProxyType({s.path: s.page.name for s in everything}),
            top_stories=tuple(s.path for s in self._top),
            feed_only=frozenset(s.path for s in self._feed_only),
            sitemap_only=frozenset(s.path for s in self._sitemap_only),
            undated=frozenset(s.path for s in self._stories if s.page.name in self._undated_names),
            depth=MappingProxyType(_depths(day1, self._html_bodies(1))),
            edits=MappingProxyType(dict(self._edits)),
            stray_links=frozenset(strays),
            machine_files=frozenset([ROBOTS, FEED, SITEMAP_INDEX, STORIES_SITEMAP, NEWS_SITEMAP]),
            offsite_paths=frozenset([STOLEN]),
        )

    def _secret_page_story(self) -> _Story:
        return _Story(SECRET, self._secret_page, FIRST_PUBLISHED)


def _lookup(routes: Mapping[str, Route], key: str) -> str | None:
    """The route key the server would answer `key` with (exact, then without query)."""
    if key in routes:
        return key
    path = urlsplit(key).path
    return path if path in routes else None


def _variant_hrefs(body: bytes, page_path: str) -> Iterator[tuple[str, str]]:
    """Links on a page whose query or fragment makes them another URL of a served story."""
    for url in page_links(body, _PLACEHOLDER + page_path):
        parts = urlsplit(url)
        if parts.netloc != urlsplit(_PLACEHOLDER).netloc or not (parts.query or parts.fragment):
            continue
        if parts.path.startswith(("/world/", "/business/")) and parts.query.startswith("page="):
            continue  # pagination is a page of its own, not a variant
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        key += f"#{parts.fragment}" if parts.fragment else ""
        yield key, parts.path


def _depths(routes: Mapping[str, Route], bodies: Mapping[str, bytes]) -> dict[str, int]:
    """Fewest link hops from home to every served page; a redirect costs no hop.

    That is how Scrapy's DepthMiddleware counts: a redirected request keeps its depth.
    Disallowed paths are not entered (the crawler must not fetch them).
    """
    depth = {HOME: 0}
    queue: deque[str] = deque([HOME])
    while queue:
        current = queue.popleft()
        route = routes.get(current)
        targets: list[tuple[str, int]] = []
        if route is not None and route.status in (301, 302, 303, 307, 308):
            location = urlsplit(route.headers.get("Location", ""))
            if location.netloc == urlsplit(_PLACEHOLDER).netloc:
                targets.append((location.path, 0))
        for key in _internal_keys(bodies.get(current, b""), current, _PLACEHOLDER):
            targets.append((key, 1))
        for key, cost in targets:
            served = _lookup(routes, key)
            if served is None or served.startswith("/private/"):
                continue
            hops = depth[current] + cost
            if hops < depth.get(served, 1_000_000):
                depth[served] = hops
                # 0-cost edges go first so the BFS order still yields shortest hops.
                (queue.appendleft if cost == 0 else queue.append)(served)
    return depth


# ------------------------------------------------------------------------------ fixture


@dataclass
class RunningCorpusSite:
    """The site served on 127.0.0.1, its off-limits twin host, and the manifest."""

    site: CorpusSite
    server: SiteServer
    other: SiteServer
    day: int = 1

    @property
    def manifest(self) -> SiteManifest:
        return self.site.manifest

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def other_url(self) -> str:
        return self.other.url

    def set_day(self, day: int) -> None:
        """Swap the running server's routes (same port, so stored URLs still match)."""
        self.server.set_routes(self.site.routes(day, self.server.url, self.other.url))
        self.day = day

    def requested_paths(self) -> list[str]:
        """Every path (with query) the main server was asked for, in order."""
        return [entry.path for entry in self.server.log]


@pytest.fixture
def corpus_site() -> Iterator[RunningCorpusSite]:
    """A fresh local news site (day 1) and a second host; both stopped afterwards."""
    site = CorpusSite()  # rebuilt per test: handler state; the corpus read is cached
    other = SiteServer(site.other_routes()).start()
    server = SiteServer({}).start()
    running = RunningCorpusSite(site, server, other)
    running.set_day(1)
    try:
        yield running
    finally:
        site.release()
        other.stop()
        server.stop()


def story_urls(base: str, paths: Iterable[str]) -> set[str]:
    """Absolute URLs for manifest paths, for comparing with what the archive holds."""
    return {base + path for path in paths}
