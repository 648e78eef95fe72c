"""Story URLs from the documents sites publish for machines: robots.txt, sitemaps, feeds.

Every parser here reads untrusted XML or JSON, so the XML parser never resolves entities,
never loads a DTD and never touches the network or the file system, and every list is
capped. Dates come along with URLs so a crawl can skip items older than `since`.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.analysis.web_dates import parse_web_date

__all__ = [
    "MAX_ENTRIES",
    "DiscoveredURL",
    "Listing",
    "parse_feed",
    "parse_sitemap",
    "robots_sitemaps",
]

MAX_ENTRIES = 50_000  # the sitemap protocol's own limit per file
MAX_XML_BYTES = 50 * 1024 * 1024  # the protocol's uncompressed limit


@dataclass(frozen=True, slots=True)
class DiscoveredURL:
    url: str
    # news:publication_date, lastmod, pubDate, published or updated: whatever the list gave.
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """What one sitemap or feed lists: story URLs, and (for sitemap indexes) more sitemaps."""

    kind: str  # "urlset", "sitemapindex", "rss", "atom", "jsonfeed" or "unknown"
    urls: tuple[DiscoveredURL, ...] = ()
    sitemaps: tuple[DiscoveredURL, ...] = ()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


def robots_sitemaps(body: bytes, robots_url: str) -> list[str]:
    """`Sitemap:` lines of a robots.txt, absolute, in order, each once."""
    found: dict[str, None] = {}
    for raw in body.decode("utf-8", errors="replace").splitlines():
        name, _, value = raw.partition(":")
        if name.strip().lower() == "sitemap" and value.strip():
            try:
                url = urljoin(robots_url, value.strip())
            except ValueError:
                continue
            if urlsplit(url).scheme in ("http", "https"):
                found.setdefault(url, None)
    return list(found)[:1000]


def _gunzip(body: bytes) -> bytes:
    """Decompress a gzipped sitemap file with a hard cap (a gzip bomb stops at the cap)."""
    if body[:2] != b"\x1f\x8b":
        return body
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
        try:
            while chunk := stream.read(1024 * 1024):
                out.write(chunk)
                if out.tell() > MAX_XML_BYTES:
                    raise ValueError("decompressed sitemap over 50 MiB")
        except (OSError, EOFError, zlib.error):
            pass  # a truncated file: keep what decompressed
    return out.getvalue()


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child_text(node: Any, *names: str) -> str | None:
    for child in node:
        if _local(child.tag) in names:
            text = (child.text or "").strip()
            if text:
                return text
    return None


def _find_text(node: Any, name: str) -> str | None:
    """Text of the first descendant with this local name (news:publication_date is nested)."""
    for child in node.iter():
        if _local(child.tag) == name and (child.text or "").strip():
            return str(child.text).strip()
    return None


def parse_sitemap(body: bytes, url: str) -> Listing:
    """A sitemap or sitemap index (plain or gzipped); Google News dates are read first."""
    try:
        data = _gunzip(body)
    except ValueError:
        return Listing("unknown")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return _text_sitemap(data, url)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        maps = [
            DiscoveredURL(loc, _moment(_child_text(node, "lastmod")))
            for node in root
            if _local(node.tag) == "sitemap" and (loc := _absolute(_child_text(node, "loc"), url))
        ]
        return Listing("sitemapindex", sitemaps=tuple(maps[:MAX_ENTRIES]))
    if kind == "urlset":
        entries: list[DiscoveredURL] = []
        for node in root:
            if _local(node.tag) != "url":
                continue
            loc = _absolute(_child_text(node, "loc"), url)
            if loc:
                published = _moment(_find_text(node, "publication_date")) or _moment(
                    _child_text(node, "lastmod")
                )
                entries.append(DiscoveredURL(loc, published))
                if len(entries) >= MAX_ENTRIES:
                    break
        return Listing("urlset", urls=tuple(entries))
    if kind in ("rss", "feed", "rdf"):
        return _xml_feed(root, url)
    return Listing("unknown")


def _text_sitemap(data: bytes, url: str) -> Listing:
    """The protocol's plain-text form: one full URL per line (anything else is not one)."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    urls = [
        DiscoveredURL(u)
        for line in lines
        if line.strip().lower().startswith(("http://", "https://"))
        and " " not in line.strip()
        and (u := _absolute(line.strip(), url))
    ]
    return Listing("urlset", urls=tuple(urls[:MAX_ENTRIES])) if urls else Listing("unknown")


def parse_feed(body: bytes, url: str) -> Listing:
    """RSS 2.0, RSS 1.0 (RDF), Atom or JSON Feed, told apart by content, not by header."""
    stripped = body.lstrip()[:1]
    if stripped in (b"{", b"["):
        return _json_feed(body, url)
    try:
        root = etree.fromstring(_gunzip(body), parser=_parser())
    except (etree.XMLSyntaxError, ValueError):
        return Listing("unknown")
    if root is None:
        return Listing("unknown")
    if _local(root.tag) in ("urlset", "sitemapindex"):
        return parse_sitemap(body, url)
    return _xml_feed(root, url)


def _xml_feed(root: Any, url: str) -> Listing:
    kind = _local(root.tag)
    entries: list[DiscoveredURL] = []
    if kind == "feed":
        for entry in root:
            if _local(entry.tag) != "entry":
                continue
            link = None
            for child in entry:
                if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
                    link = child.get("href")
                    break
            loc = _absolute(link, url)
            if loc:
                date = _child_text(entry, "published") or _child_text(entry, "updated")
                entries.append(DiscoveredURL(loc, _moment(date)))
        return Listing("atom", urls=tuple(entries[:MAX_ENTRIES]))
    if kind in ("rss", "rdf"):
        for item in root.iter():
            if _local(item.tag) != "item":
                continue
            loc = _absolute(_child_text(item, "link") or _guid_link(item), url)
            if loc:
                date = _child_text(item, "pubdate") or _child_text(item, "date")
                entries.append(DiscoveredURL(loc, _moment(date)))
                if len(entries) >= MAX_ENTRIES:
                    break
        return Listing("rss", urls=tuple(entries))
    return Listing("unknown")


def _guid_link(item: Any) -> str | None:
    for child in item:
        if _local(child.tag) == "guid" and child.get("isPermaLink", "true") != "false":
            return (child.text or "").strip() or None
    return None


def _json_feed(body: bytes, url: str) -> Listing:
    try:
        data = json.loads(body[:MAX_XML_BYTES])
    except (ValueError, RecursionError):
        return Listing("unknown")
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return Listing("unknown")
    entries: list[DiscoveredURL] = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        loc = _absolute(link if isinstance(link, str) else None, url)
        if loc:
            date = item.get("date_published") or item.get("date_modified")
            entries.append(DiscoveredURL(loc, _moment(date if isinstance(date, str) else None)))
    return Listing("jsonfeed", urls=tuple(entries))


def _absolute(value: str | None, base: str) -> str | None:
    if not value:
        return None
    try:
        url = urljoin(base, value.strip())
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _moment(value: str | None) -> datetime | None:
    """W3C datetime (sitemaps, Atom, JSON Feed) or RFC 822 (RSS) as UTC."""
    return parse_web_date(value) if value else None
