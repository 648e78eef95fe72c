"""A local news site that looks like the real web, built at run time from real article pages.

Why it looks like this: a crawl benchmark must look like the web or it flatters the
crawler. The first benchmark site served corpus pages whose own links went nowhere and
listed every story on its home page, so one fetch of `/` found everything and no link on a
story page ever cost anything. On a real news site:

* article pages keep their own links, dozens to hundreds each, and most of them lead to
  pages that are not stories (tag, author and section pages, videos, galleries) or to
  nothing at all (404s): the crawler has to fetch and judge them;
* some stories are found only through links in other stories, never on a listing;
* listings paginate, so the home page shows only the newest stories;
* the sitemap is partial (here: the newest half), and the feed holds only the newest 15.

So every usable corpus page (all but `corpus_site.EXCLUDED`) is one story, served with its
own bytes (`text/html` without a charset: each page's meta declaration decides) except its
`<a>`/`<area>` hrefs, rewritten in the raw bytes (never re-serialized, so bytes and charset
stay as they are). Absolute http(s) links are off-site and stay as they are; same-site
links (relative, or protocol-relative to the page's original host) get a fate from a hash
of the page's name and the href: about 8% lead to another story, 7% to a tag, author or
section page, 15% to a video or gallery page, and the rest keep their path on our host
and answer 404 (rewritten under `/old/` when that path would hit a real route). The oldest
fifth of the stories are "link-only": in no sitemap, feed, listing, tag or author page,
and each is linked from the "Related" aside of at least two listed stories.

Everything is deterministic (hashes of strings, no randomness): the same pages give
byte-identical routes. Only robots.txt, the sitemap and the feed name the base URL; every
other page links by path. `WebSiteManifest` records what is true of the site, as paths,
computed by the same code that builds the routes.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import MappingProxyType, TracebackType
from urllib.parse import urljoin, urlsplit

from crawler.demo.siteserver import Route, SiteServer
from tests.corpus import _FILES, CorpusPage, _page
from tests.corpus_site import EXCLUDED

__all__ = [
    "AUTHORS",
    "FATES",
    "SECTIONS",
    "SITE_NAME",
    "TAGS",
    "RunningWebSite",
    "WebSite",
    "WebSiteManifest",
    "load_corpus_dir",
    "serve_web_site",
    "story_urls",
    "usable_pages",
]

SITE_NAME = "The Evening Wire"
SECTIONS = ("world", "business", "culture")
TAGS = (
    "politics", "economy", "climate", "technology", "science", "health",
    "education", "sport", "travel", "media", "energy", "housing",
)  # fmt: skip
AUTHORS = (
    "ada-okafor", "ben-lindqvist", "carla-mendes", "dev-patel",
    "elena-rossi", "farid-haddad", "grace-kim", "hugo-martin",
)  # fmt: skip
NAV_TAGS = TAGS[:4]
VIDEOS = 20
GALLERIES = 20
# The newest story's publication time; each older one about 8 hours before the next.
NEWEST = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=8)
HOME_PER_PAGE = 20
SECTION_PER_PAGE = 10
TAG_STORIES = 8
FEED_STORIES = 15
LINK_ONLY_SHARE = 0.2
RELATED = 3
# Fates of same-site links, by hash bucket out of 100 (the rest are dead).
STORY_SHARE = 8
HUB_SHARE = 7
OTHER_SHARE = 15
HUB_PAGES = (
    *(f"/tag/{tag}/" for tag in TAGS),
    *(f"/author/{name}/" for name in AUTHORS),
    *(f"/{section}/" for section in SECTIONS),
)
MEDIA_PAGES = (
    *(f"/video/{n}/" for n in range(1, VIDEOS + 1)),
    *(f"/gallery/{n}/" for n in range(1, GALLERIES + 1)),
)
FATES = ("story", "tag_or_author_or_section", "other_page", "dead", "offsite")
# Dead links whose path would hit a real route are moved under this prefix, never a route.
DEAD_PREFIX = "/old"

HOME = "/"
ABOUT = "/about/"
CONTACT = "/contact/"
PRIVACY = "/privacy/"
ROBOTS = "/robots.txt"
SITEMAP = "/sitemap.xml"
FEED = "/feed.xml"

_PLACEHOLDER = "http://127.0.0.1:9"  # links are resolved against this host, never fetched
_OWN_NETLOC = urlsplit(_PLACEHOLDER).netloc
_SKIPPED = re.compile(
    rb"<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<textarea\b.*?</textarea\s*>"
    rb"|<title\b.*?</title\s*>",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR = re.compile(rb"<(?:a|area)\b[^>]*>", re.IGNORECASE)
_TAG_OR_SKIPPED = re.compile(_SKIPPED.pattern + rb"|" + _ANCHOR.pattern, re.IGNORECASE | re.DOTALL)
_HREF = re.compile(rb"""(?<=[\s"'/])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_BASE_OR_SKIPPED = re.compile(_SKIPPED.pattern + rb"|<base\b[^>]*>", re.IGNORECASE | re.DOTALL)
_CANONICAL = re.compile(
    rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>"
    rb"|<meta\b[^>]*\bproperty\s*=\s*[\"']?og:url\b[^>]*>",
    re.IGNORECASE,
)
_CONTENT = re.compile(rb"""\b(?:href|content)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


# ------------------------------------------------------------------------------ corpus


def load_corpus_dir(directory: Path) -> tuple[CorpusPage, ...]:
    """The corpus pages in `directory` (NAME/source.html, expected.txt, metadata.json).

    tests/corpus.py reads only its own two places (the bundle and the configured full
    corpus); this reads any folder laid out the same way, in name order.
    """
    folders = sorted(p for p in directory.iterdir() if all((p / f).is_file() for f in _FILES))
    return tuple(_page(f.name, {n: (f / n).read_bytes() for n in _FILES}) for f in folders)


def usable_pages(pages: Iterable[CorpusPage]) -> tuple[CorpusPage, ...]:
    """The pages that can be stories: all but corpus_site.EXCLUDED, in name order."""
    return tuple(sorted((p for p in pages if p.name not in EXCLUDED), key=lambda p: p.name))


def _hash(*parts: str) -> int:
    """A stable 64-bit hash of strings (Python's hash() changes with PYTHONHASHSEED)."""
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _slug(name: str) -> str:
    return _SLUG_JUNK.sub("-", name.lower()).strip("-") + "-story"


def _summary(page: CorpusPage) -> str:
    """One line for a teaser: the page's excerpt, or the first sentence of its text."""
    excerpt = page.metadata.get("excerpt")
    text = excerpt if isinstance(excerpt, str) and excerpt.strip() else page.expected
    sentence = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(sentence) > 160:
        sentence = sentence[:160].rsplit(" ", 1)[0] + "\u2026"
    return sentence or page.title


def _ascii_html(text: str) -> bytes:
    """Escaped text that reads the same in any ASCII-compatible charset."""
    return html.escape(text).encode("ascii", "xmlcharrefreplace")


def _attribute_value(match: re.Match[bytes]) -> bytes:
    return next(group for group in match.groups() if group is not None)


def _original_host(body: bytes) -> str | None:
    """The page's original host from its canonical link or og:url, without `www.`."""
    for tag in _CANONICAL.finditer(body):
        value = _CONTENT.search(tag.group())
        if value is None:
            continue
        url = html.unescape(_attribute_value(value).decode("latin-1")).strip()
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host and (url.startswith("//") or url.lower().startswith(("http:", "https:"))):
            return host.removeprefix("www.")
    return None


def _effective_base(body: bytes, page_url: str) -> str:
    """What relative links resolve against: the first `<base>`'s href, as crawlers do."""
    for skipped_or_base in _BASE_OR_SKIPPED.finditer(body):
        tag = skipped_or_base.group()
        if not tag[:5].lower().startswith(b"<base"):
            continue
        href = _HREF.search(tag)
        if href is None:
            return page_url  # the crawler looks at the first <base> only
        value = html.unescape(_attribute_value(href).decode("latin-1")).strip()
        try:
            return urljoin(page_url, value) if value else page_url
        except ValueError:
            return page_url
    return page_url


# ------------------------------------------------------------------------------ manifest


@dataclass(frozen=True)
class WebSiteManifest:
    """What is true of the site, as paths (host-independent)."""

    # Story path -> corpus page name; publication time and section of each story.
    stories: Mapping[str, str]
    published: Mapping[str, datetime]
    sections: Mapping[str, str]
    sitemap_stories: frozenset[str]
    feed_stories: frozenset[str]
    # On the home page's pagination and their section's listing.
    listed_stories: frozenset[str]
    link_only_stories: frozenset[str]
    # Home, /page/N/, sections and /SECTION/page/N/.
    listing_pages: frozenset[str]
    tag_pages: frozenset[str]
    author_pages: frozenset[str]
    # About, contact, privacy, videos and galleries.
    other_pages: frozenset[str]
    # Story path -> the stories its "Related" aside links, in order.
    related: Mapping[str, tuple[str, ...]]
    # The corpus pages' own <a>/<area> links by fate (FATES), over all stories and per
    # story path; the inserted "Related" asides are not counted.
    # Fragment-only, empty and non-http(s) hrefs (mailto:, javascript:, ...) count nowhere.
    link_fates: Mapping[str, int]
    story_link_fates: Mapping[str, Mapping[str, int]]

    @property
    def pages(self) -> frozenset[str]:
        """Every HTML page the site serves."""
        return (
            frozenset(self.stories)
            | self.listing_pages
            | self.tag_pages
            | self.author_pages
            | self.other_pages
        )

    def is_listing(self, path: str) -> bool:
        """Whether `path` is a page that lists stories (listing, tag or author page)."""
        return path in self.listing_pages or path in self.tag_pages or path in self.author_pages


def story_urls(
    manifest: WebSiteManifest, base: str, paths: Iterable[str] | None = None
) -> set[str]:
    """Absolute URLs of the given story paths (all stories by default)."""
    return {base + path for path in (manifest.stories if paths is None else paths)}


# ------------------------------------------------------------------------------ the site


@dataclass(frozen=True)
class _Story:
    page: CorpusPage
    path: str
    section: str
    published: datetime

    @property
    def headline(self) -> str:
        """The real title, padded to a headline's length (30+) with the section name."""
        title = self.page.title
        if len(title) < 30:
            title = f"{title} \u2014 {self.section.title()} section, {SITE_NAME}"
        return title


class WebSite:
    """The site built from `pages` (any sequence of CorpusPage: bundled or full corpus)."""

    def __init__(self, pages: Iterable[CorpusPage]) -> None:
        usable = usable_pages(pages)
        if not usable:
            raise ValueError("no usable corpus pages")
        order = sorted(usable, key=lambda p: (_hash("order", p.name), p.name))
        stories: list[_Story] = []
        for index, page in enumerate(order):
            published = NEWEST - STEP * index + timedelta(minutes=_hash("minute", page.name) % 50)
            section = SECTIONS[index % len(SECTIONS)]
            path = f"/{section}/{published:%Y/%m/%d}/{_slug(page.name)}/"
            stories.append(_Story(page, path, section, published))
        if len({s.path for s in stories}) != len(stories):
            raise ValueError("two corpus names give the same story slug")
        self._stories = tuple(stories)  # newest first
        count = len(stories)
        link_only = round(count * LINK_ONLY_SHARE)
        if count - link_only < 2:
            link_only = 0
        self._listed = self._stories[: count - link_only]
        self._link_only = self._stories[count - link_only :]
        self._by_path = {s.path: s for s in stories}

        self._pages = self._site_pages()
        self._route_paths = frozenset(self._pages) | {s.path for s in stories}
        self._route_paths |= {ROBOTS, SITEMAP, FEED}
        self._related = self._choose_related()
        fates: dict[str, Counter[str]] = {}
        # Rewritten story bytes, without their asides; the stories under a <base href> on
        # another host, whose aside must name our host (see routes).
        self._bodies: dict[str, bytes] = {}
        self._foreign_base: set[str] = set()
        for story in stories:
            self._bodies[story.path], fates[story.path], based_here = self._rewrite(story)
            if not based_here:
                self._foreign_base.add(story.path)

        total: Counter[str] = Counter()
        for counted in fates.values():
            total.update(counted)
        sitemap = self._stories[: count // 2]
        listed = frozenset(s.path for s in self._listed)
        self.manifest = WebSiteManifest(
            stories=MappingProxyType({s.path: s.page.name for s in stories}),
            published=MappingProxyType({s.path: s.published for s in stories}),
            sections=MappingProxyType({s.path: s.section for s in stories}),
            sitemap_stories=frozenset(s.path for s in sitemap),
            feed_stories=frozenset(s.path for s in self._listed[:FEED_STORIES]),
            listed_stories=listed,
            link_only_stories=frozenset(s.path for s in self._link_only),
            listing_pages=frozenset(self._listing_paths),
            tag_pages=frozenset(f"/tag/{tag}/" for tag in TAGS),
            author_pages=frozenset(f"/author/{name}/" for name in AUTHORS),
            other_pages=frozenset(self._other_paths),
            related=MappingProxyType(self._related),
            link_fates=MappingProxyType({fate: total[fate] for fate in FATES}),
            story_link_fates=MappingProxyType(
                {
                    path: MappingProxyType({fate: counted[fate] for fate in FATES})
                    for path, counted in fates.items()
                }
            ),
        )

    # -------------------------------------------------------------------- routes

    def routes(self, base: str) -> dict[str, Route]:
        """Every route for the site served at `base` (scheme://host:port, no slash)."""
        base = base.rstrip("/")
        routes = {path: Route(body) for path, body in self._pages.items()}
        for path, body in self._bodies.items():
            prefix = base if path in self._foreign_base else ""
            page = self._with_aside(body, self._related[path], prefix)
            routes[path] = Route(page, content_type="text/html")
        routes[ROBOTS] = Route(
            f"User-agent: *\nAllow: /\n\nSitemap: {base}{SITEMAP}\n".encode(),
            content_type="text/plain; charset=utf-8",
        )
        routes[SITEMAP] = Route(self._sitemap(base), content_type="application/xml")
        routes[FEED] = Route(self._feed(base), content_type="application/rss+xml; charset=utf-8")
        return routes

    def _sitemap(self, base: str) -> bytes:
        entries = "".join(
            f"<url><loc>{html.escape(base + s.path)}</loc>"
            f"<lastmod>{s.published.isoformat()}</lastmod></url>\n"
            for s in self._stories[: len(self._stories) // 2]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</urlset>\n"
        ).encode()

    def _feed(self, base: str) -> bytes:
        items = "".join(
            f"<item><title>{html.escape(s.page.title)}</title>"
            f"<link>{html.escape(base + s.path)}</link>"
            f'<guid isPermaLink="true">{html.escape(base + s.path)}</guid>'
            f"<pubDate>{format_datetime(s.published)}</pubDate>"
            f"<category>{s.section.title()}</category>"
            f"<description>{html.escape(_summary(s.page))}</description></item>\n"
            for s in self._listed[:FEED_STORIES]
        )
        newest = format_datetime(self._stories[0].published)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
            f"<title>{SITE_NAME}</title><link>{html.escape(base)}/</link>"
            f"<description>The latest stories from {SITE_NAME}</description>"
            f"<language>en</language><lastBuildDate>{newest}</lastBuildDate>\n"
            f"{items}</channel></rss>\n"
        ).encode()

    # -------------------------------------------------------------------- site pages

    def _site_pages(self) -> dict[str, bytes]:
        """Listings, tag and author pages, about/contact/privacy, videos and galleries."""
        pages: dict[str, bytes] = {}
        self._listing_paths: list[str] = []
        self._other_paths: list[str] = []
        home_pages = _paginate(self._listed, HOME_PER_PAGE)
        home_paths = [HOME] + [f"/page/{n}/" for n in range(2, len(home_pages) + 1)]
        for number, chunk in enumerate(home_pages, 1):
            title = "Latest news" if number == 1 else f"Latest news, page {number}"
            body = _teasers(chunk) + _pager(home_paths, number)
            pages[home_paths[number - 1]] = _document(title, body)
        self._listing_paths += home_paths
        for section in SECTIONS:
            listed = [s for s in self._listed if s.section == section]
            chunks = _paginate(listed, SECTION_PER_PAGE)
            paths = [f"/{section}/"] + [f"/{section}/page/{n}/" for n in range(2, len(chunks) + 1)]
            for number, chunk in enumerate(chunks, 1):
                title = section.title() + ("" if number == 1 else f", page {number}")
                pages[paths[number - 1]] = _document(title, _teasers(chunk) + _pager(paths, number))
            self._listing_paths += paths
        for tag in TAGS:
            chosen = self._pick(f"tag:{tag}")
            pages[f"/tag/{tag}/"] = _document(f"Stories tagged {tag}", _teasers(chosen))
        for author in AUTHORS:
            chosen = self._pick(f"author:{author}")
            name = _person(author)
            intro = f"<p>{name} writes for {SITE_NAME}.</p>\n"
            pages[f"/author/{author}/"] = _document(name, intro + _teasers(chosen))
        for path, (title, text) in _ABOUT_PAGES.items():
            pages[path] = _document(title, text)
            self._other_paths.append(path)
        for kind, count in (("video", VIDEOS), ("gallery", GALLERIES)):
            for number in range(1, count + 1):
                path = f"/{kind}/{number}/"
                pages[path] = _document(*_media_page(kind, number))
                self._other_paths.append(path)
        return pages

    def _pick(self, key: str) -> list[_Story]:
        """TAG_STORIES listed stories for a tag or author page, newest first."""
        ranked = sorted(self._listed, key=lambda s: (_hash(key, s.page.name), s.path))
        chosen = {s.path for s in ranked[:TAG_STORIES]}
        return [s for s in self._listed if s.path in chosen]

    # -------------------------------------------------------------------- story pages

    def _choose_related(self) -> dict[str, tuple[str, ...]]:
        """Each story's aside: 3 other stories. Every link-only story is in the asides of
        at least two listed stories (never only in other link-only stories)."""
        related: dict[str, list[str]] = {s.path: [] for s in self._stories}
        hosts = sorted(self._listed, key=lambda s: (_hash("host", s.page.name), s.path))
        slot = 0
        for story in self._link_only:
            placed = 0
            while placed < 2:
                host = hosts[slot % len(hosts)]
                slot += 1
                if len(related[host.path]) < RELATED and story.path not in related[host.path]:
                    related[host.path].append(story.path)
                    placed += 1
                if slot > 4 * len(hosts) * RELATED:  # cannot happen with 1/5 link-only
                    raise ValueError("too few listed stories to link every link-only story")
        for story in self._stories:
            chosen = related[story.path]
            ranked = sorted(
                (s for s in self._stories if s.path != story.path and s.path not in chosen),
                key=lambda s: (_hash("related", story.page.name, s.page.name), s.path),
            )
            chosen += [s.path for s in ranked[: RELATED - len(chosen)]]
        return {path: tuple(chosen) for path, chosen in related.items()}

    def _with_aside(self, body: bytes, related: Sequence[str], prefix: str = "") -> bytes:
        """The aside of related stories inserted before the last </body>. Its links are
        paths, or absolute URLs (`prefix` = base) where a <base href> points elsewhere."""
        items = b"".join(
            b'<li><a href="' + (prefix + path).encode("ascii") + b'">'
            + _ascii_html(self._by_path[path].page.title) + b"</a></li>"
            for path in related
        )  # fmt: skip
        aside = b'<aside class="related"><h2>Related</h2><ul>' + items + b"</ul></aside>\n"
        ends = list(_BODY_END.finditer(body))
        if not ends:
            return body + aside
        at = ends[-1].start()
        return body[:at] + aside + body[at:]

    def _rewrite(self, story: _Story) -> tuple[bytes, Counter[str], bool]:
        """The story's bytes with its same-site <a>/<area> hrefs given their fates, the
        count of links by fate, and whether its relative links resolve on our host."""
        body = story.page.html
        context = _LinkContext(
            story=story,
            base=_effective_base(body, _PLACEHOLDER + story.path),
            original_host=_original_host(body),
            others=tuple(s for s in self._stories if s.path != story.path),
        )
        fates: Counter[str] = Counter()
        out: list[bytes] = []
        done = 0
        for match in _TAG_OR_SKIPPED.finditer(body):
            tag = match.group()
            if tag[:2].lower() != b"<a":
                continue  # a comment, script, style, textarea or title: no links there
            href = _HREF.search(tag)
            if href is None:
                continue
            value = html.unescape(_attribute_value(href).decode("latin-1")).strip()
            fate, new = self._fate(context, value)
            if fate is None:
                continue
            fates[fate] += 1
            if new is None:
                continue
            escaped = html.escape(new, quote=True).encode("latin-1", "xmlcharrefreplace")
            out += [body[done : match.start() + href.start()], b'href="', escaped, b'"']
            done = match.start() + href.end()
        out.append(body[done:])
        return b"".join(out), fates, context.based_here

    def _fate(self, context: _LinkContext, value: str) -> tuple[str | None, str | None]:
        """(fate, new href or None to keep it) for one href; fate None: not a page link."""
        if not value or value.startswith("#"):
            return None, None
        try:
            parts = urlsplit(value)
            resolved = urlsplit(urljoin(context.base, value))
        except ValueError:
            return None, None
        if parts.scheme and parts.scheme.lower() not in ("http", "https"):
            return None, None  # mailto:, javascript:, android-app:, data:, ...
        if parts.scheme:
            return "offsite", None
        protocol_relative = value.startswith("//")
        if protocol_relative:
            host = (parts.hostname or "").removeprefix("www.")
            if not (context.based_here and host and host == context.original_host):
                return "offsite", None
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            resolved = urlsplit(_PLACEHOLDER + path)
        elif resolved.netloc != _OWN_NETLOC:
            return "offsite", None  # relative, but under a <base href> on another host
        # The same href on one page always gets the same fate and target.
        bucket = _hash("link", context.story.page.name, value.split("#", 1)[0])
        share, pick = bucket % 100, bucket // 100
        if share < STORY_SHARE:
            return "story", context.others[pick % len(context.others)].path
        if share < STORY_SHARE + HUB_SHARE:
            return "tag_or_author_or_section", HUB_PAGES[pick % len(HUB_PAGES)]
        if share < STORY_SHARE + HUB_SHARE + OTHER_SHARE:
            return "other_page", MEDIA_PAGES[pick % len(MEDIA_PAGES)]
        path = resolved.path or "/"
        query = f"?{resolved.query}" if resolved.query else ""
        if path in self._route_paths:
            return "dead", DEAD_PREFIX + path + query  # e.g. a logo's "/" or "?page=2"
        if protocol_relative:
            return "dead", path + query
        return "dead", None


@dataclass(frozen=True)
class _LinkContext:
    """What deciding the fate of one story's links needs."""

    story: _Story
    # What its relative links resolve against (the first <base href>, else the page).
    base: str
    original_host: str | None
    # The stories its links may lead to.
    others: tuple[_Story, ...]

    @property
    def based_here(self) -> bool:
        return urlsplit(self.base).netloc == _OWN_NETLOC


# ------------------------------------------------------------------------------ html


def _paginate(stories: Sequence[_Story], per_page: int) -> list[Sequence[_Story]]:
    pages = max(1, math.ceil(len(stories) / per_page))
    return [stories[n * per_page : (n + 1) * per_page] for n in range(pages)]


def _person(slug: str) -> str:
    return " ".join(word.title() for word in slug.split("-"))


def _nav() -> str:
    links = [(f"/{section}/", section.title()) for section in SECTIONS]
    links += [(f"/tag/{tag}/", tag.title()) for tag in NAV_TAGS]
    links += [(ABOUT, "About us"), (CONTACT, "Contact"), (PRIVACY, "Privacy")]
    return " ".join(f'<a href="{href}">{text}</a>' for href, text in links)


def _document(title: str, body: str) -> bytes:
    """A site page (listing, tag, author, about, video...) with the site's chrome."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {SITE_NAME}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:type" content="website">
<meta property="og:site_name" content="{SITE_NAME}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{FEED}">
</head>
<body>
<header class="masthead"><a class="logo" href="{HOME}">{SITE_NAME}</a>
<nav>{_nav()}</nav></header>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
<footer><span>&copy; 2026 {SITE_NAME}</span></footer>
</body></html>
""".encode()


def _teasers(stories: Iterable[_Story]) -> str:
    return "".join(
        f'<article class="teaser"><h2><a href="{s.path}">{html.escape(s.headline)}</a></h2>'
        f"<p>{html.escape(_summary(s.page))}</p>"
        f'<p class="meta">{s.section.title()} &middot; <time datetime="{s.published.isoformat()}">'
        f"{s.published:%d %B %Y}</time></p></article>\n"
        for s in stories
    )


def _pager(paths: Sequence[str], current: int) -> str:
    """Numbered pagination showing every page, as sites with few pages do."""
    if len(paths) < 2:
        return ""
    items = []
    for number, path in enumerate(paths, 1):
        if number == current:
            items.append(f'<span aria-current="page">{number}</span>')
        else:
            rel = ' rel="next"' if number == current + 1 else ""
            rel = ' rel="prev"' if number == current - 1 else rel
            items.append(f'<a href="{path}"{rel}>{number}</a>')
    return '<nav class="pagination">' + " ".join(items) + "</nav>\n"


_ABOUT_PAGES = {
    ABOUT: (
        "About us",
        f"<p>{SITE_NAME} is an independent newsroom covering world affairs, business and "
        "culture. We publish several stories a day and correct our mistakes in public.</p>",
    ),
    CONTACT: (
        "Contact",
        "<p>Tips, corrections and letters are welcome at the newsroom's desk.</p>"
        '<form method="post" action="/contact/send"><label>Message '
        '<textarea name="message"></textarea></label><button>Send</button></form>',
    ),
    PRIVACY: (
        "Privacy",
        "<p>We keep no more about our readers than we need to deliver the site, and we "
        "sell nothing we keep.</p>",
    ),
}


def _media_page(kind: str, number: int) -> tuple[str, str]:
    """A short video or gallery page: a title, a sentence, links back to sections."""
    section = SECTIONS[number % len(SECTIONS)]
    title = f"{'Video' if kind == 'video' else 'Gallery'} {number}: the week in {section}"
    sentence = (
        f"<p>Watch our reporters on the {section} desk look back at the week.</p>"
        if kind == "video"
        else f"<p>Pictures from the {section} desk's week, in {8 + number % 5} photographs.</p>"
    )
    links = " ".join(f'<a href="/{s}/">More {s} news</a>' for s in SECTIONS)
    return title, f"{sentence}\n<p>{links}</p>"


# ------------------------------------------------------------------------------ serving


@dataclass
class RunningWebSite:
    """The site served on 127.0.0.1; a context manager that stops the server."""

    site: WebSite
    server: SiteServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def manifest(self) -> WebSiteManifest:
        return self.site.manifest

    def requested_paths(self) -> list[str]:
        """Every path (with query) the server was asked for, in order."""
        return [entry.path for entry in self.server.log]

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> RunningWebSite:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_web_site(pages: Iterable[CorpusPage], port: int = 0) -> RunningWebSite:
    """Build the site from `pages` and serve it (started; stop it, or use `with`)."""
    site = WebSite(pages)
    server = SiteServer({}, port).start()
    try:
        server.set_routes(site.routes(server.url))
    except BaseException:
        server.stop()
        raise
    return RunningWebSite(site, server)


if __name__ == "__main__":
    import sys

    from tests.corpus import full_corpus_dir

    where = Path(sys.argv[1]) if len(sys.argv) > 1 else full_corpus_dir()
    built = WebSite(load_corpus_dir(where))
    m = built.manifest
    print(f"{where}: {len(m.stories)} stories, {len(m.link_only_stories)} link-only")
    print(f"listing pages {len(m.listing_pages)}, sitemap {len(m.sitemap_stories)}")
    same_site = sum(m.link_fates[f] for f in FATES if f != "offsite")
    for fate in FATES:
        share = f" ({m.link_fates[fate] / same_site:.1%} of same-site)" if fate != "offsite" else ""
        print(f"  {fate}: {m.link_fates[fate]}{share}")
