"""robots.txt, sitemaps and feeds: what they list, with dates, and nothing they smuggle in."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

from crawler.analysis.listings import MAX_ENTRIES, parse_feed, parse_sitemap, robots_sitemaps

BASE = "http://127.0.0.1:8000"


def test_robots_sitemaps() -> None:
    body = (
        b"User-agent: *\nDisallow: /private/\n"
        b"Sitemap: /sitemap_index.xml\nsitemap:   https://127.0.0.1:8000/news.xml  \n"
        b"Sitemap: ftp://x/y.xml\nSitemap: /sitemap_index.xml\n"
    )
    assert robots_sitemaps(body, BASE + "/robots.txt") == [
        BASE + "/sitemap_index.xml",
        "https://127.0.0.1:8000/news.xml",
    ]


def test_sitemap_index_and_gzipped_urlset() -> None:
    index = f"""<?xml version="1.0" encoding="UTF-8"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>{BASE}/s1.xml.gz</loc><lastmod>2026-11-01</lastmod></sitemap>
      <sitemap><loc>/s2.xml</loc></sitemap>
    </sitemapindex>""".encode()
    listing = parse_sitemap(index, BASE + "/sitemap_index.xml")
    assert listing.kind == "sitemapindex"
    assert [s.url for s in listing.sitemaps] == [BASE + "/s1.xml.gz", BASE + "/s2.xml"]
    assert listing.sitemaps[0].published == datetime(2026, 11, 1, tzinfo=UTC)
    urlset = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>{BASE}/a.html</loc><lastmod>2026-11-02T10:00:00+01:00</lastmod></url>
      <url><loc> {BASE}/b.html </loc></url>
      <url><loc>javascript:alert(1)</loc></url>
    </urlset>""".encode()
    listing = parse_sitemap(gzip.compress(urlset), BASE + "/s1.xml.gz")
    assert listing.kind == "urlset"
    assert [u.url for u in listing.urls] == [BASE + "/a.html", BASE + "/b.html"]
    assert listing.urls[0].published == datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_google_news_sitemap_uses_publication_date() -> None:
    body = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>{BASE}/n.html</loc><lastmod>2026-11-20</lastmod>
        <news:news><news:publication><news:name>T</news:name></news:publication>
        <news:publication_date>2026-11-03T08:00:00Z</news:publication_date></news:news>
      </url></urlset>""".encode()
    (entry,) = parse_sitemap(body, BASE + "/news.xml").urls
    assert entry.published == datetime(2026, 11, 3, 8, tzinfo=UTC)


def test_rss_atom_and_json_feeds() -> None:
    rss = f"""<rss version="2.0"><channel><title>T</title>
      <item><link>{BASE}/a.html?utm_source=rss</link>
        <pubDate>Tue, 03 Nov 2026 08:00:00 GMT</pubDate></item>
      <item><guid>{BASE}/b.html</guid></item>
      <item><guid isPermaLink="false">tag:x,1</guid></item>
    </channel></rss>""".encode()
    listing = parse_feed(rss, BASE + "/feed.xml")
    assert listing.kind == "rss"
    assert [u.url for u in listing.urls] == [BASE + "/a.html?utm_source=rss", BASE + "/b.html"]
    assert listing.urls[0].published == datetime(2026, 11, 3, 8, tzinfo=UTC)
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom">
      <entry><link rel="alternate" href="/c.html"/><link rel="replies" href="/c/comments"/>
        <published>2026-11-04T00:00:00Z</published></entry>
      <entry><link href="/d.html"/><updated>2026-11-05T00:00:00Z</updated></entry>
    </feed>"""
    listing = parse_feed(atom, BASE + "/atom.xml")
    assert listing.kind == "atom"
    assert [u.url for u in listing.urls] == [BASE + "/c.html", BASE + "/d.html"]
    assert listing.urls[1].published == datetime(2026, 11, 5, tzinfo=UTC)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "url": "/e.html", "date_published": "2026-11-06T00:00:00Z"},
            {"id": "2"},
        ],
    }
    listing = parse_feed(json.dumps(feed).encode(), BASE + "/feed.json")
    assert listing.kind == "jsonfeed"
    assert [u.url for u in listing.urls] == [BASE + "/e.html"]


def test_rdf_feed_and_a_sitemap_served_as_feed() -> None:
    rdf = f"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <item><link>{BASE}/r.html</link><dc:date>2026-11-07</dc:date></item></rdf:RDF>""".encode()
    (entry,) = parse_feed(rdf, BASE + "/rdf").urls
    assert entry.url == BASE + "/r.html" and entry.published == datetime(2026, 11, 7, tzinfo=UTC)
    sitemap = b"<urlset><url><loc>/s.html</loc></url></urlset>"
    assert parse_feed(sitemap, BASE + "/x").urls[0].url == BASE + "/s.html"


def test_malformed_documents_are_unknown_not_errors() -> None:
    for body in (b"", b"<html><body>not a feed</body></html>", b"{not json", b"\x1f\x8bxx"):
        assert parse_feed(body, BASE).kind == "unknown"
        assert parse_sitemap(body, BASE).urls == ()
    # recover=True keeps what precedes the breakage
    broken = f"<urlset><url><loc>{BASE}/ok.html</loc></url><url><loc>".encode()
    assert [u.url for u in parse_sitemap(broken, BASE).urls] == [BASE + "/ok.html"]


def test_plain_text_sitemap() -> None:
    body = f"{BASE}/t1.html\n/relative.html\n\n{BASE}/t2.html\n".encode()
    assert [u.url for u in parse_sitemap(body, BASE + "/sitemap.txt").urls] == [
        BASE + "/t1.html",
        BASE + "/t2.html",
    ]


def test_external_entities_are_never_resolved() -> None:
    body = b"""<?xml version="1.0"?>
    <!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <urlset><url><loc>http://127.0.0.1/&xxe;</loc></url></urlset>"""
    urls = [u.url for u in parse_sitemap(body, BASE).urls]
    assert all("root:" not in url for url in urls)


def test_entity_expansion_is_not_performed() -> None:
    lol = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' if i else '<!ENTITY lol0 "lol">'
        for i in range(10)
    )
    body = f"""<?xml version="1.0"?><!DOCTYPE rss [{lol}]>
    <rss><channel><item><link>{BASE}/&lol9;</link></item></channel></rss>""".encode()
    listing = parse_feed(body, BASE)
    assert all(len(u.url) < 1000 for u in listing.urls)


def test_entries_are_capped() -> None:
    rows = "".join(f"<url><loc>{BASE}/{i}.html</loc></url>" for i in range(MAX_ENTRIES + 5))
    listing = parse_sitemap(f"<urlset>{rows}</urlset>".encode(), BASE)
    assert len(listing.urls) == MAX_ENTRIES


def test_out_of_range_dates_do_not_lose_the_sitemap() -> None:
    body = f"""<urlset>
      <url><loc>{BASE}/bad.html</loc><lastmod>0001-01-01T00:00:00+01:00</lastmod></url>
      <url><loc>{BASE}/worse.html</loc><lastmod>9999-12-31T23:59:59-05:00</lastmod></url>
      <url><loc>{BASE}/ok.html</loc><lastmod>2026-11-01</lastmod></url>
    </urlset>""".encode()
    urls = parse_sitemap(body, BASE).urls
    assert [u.url for u in urls] == [BASE + "/bad.html", BASE + "/worse.html", BASE + "/ok.html"]
    assert urls[0].published is None and urls[2].published is not None
