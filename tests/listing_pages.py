"""Listing and site pages built from the corpus's own headlines and summaries.

Real home, section, tag and author pages are made of the same material as the corpus
articles (their headlines and excerpts), so the article decision is tested against
listing pages whose words are as real as the articles'.
"""

from __future__ import annotations

import html

from tests.corpus import bundled_pages

NAV = (
    '<header><nav><a href="/">Home</a> <a href="/world/">World</a> '
    '<a href="/business/">Business</a> <a href="/about/">About us</a> '
    '<a href="/contact/">Contact</a></nav></header>'
)


def teasers(count: int = 20, offset: int = 0) -> list[tuple[str, str, str]]:
    """(slug, headline, summary) of corpus pages that have both."""
    found = [
        (page.name, str(page.metadata["title"]), str(page.metadata["excerpt"]))
        for page in bundled_pages()
        if page.metadata.get("title") and page.metadata.get("excerpt")
    ]
    return found[offset : offset + count]


def listing_page(
    title: str, *, cards: bool = True, og_website: bool = True, count: int = 20, offset: int = 0
) -> bytes:
    """A section/home page: teaser headlines with one-paragraph summaries."""
    items = []
    for slug, headline, summary in teasers(count, offset):
        link = f'<a href="/news/2026/11/{slug}-story.html">{html.escape(headline)}</a>'
        inner = f"<h2>{link}</h2><p>{html.escape(summary)}</p>"
        items.append(
            f'<article class="teaser">{inner}</article>' if cards else f"<div>{inner}</div>"
        )
    head = f"<title>{html.escape(title)}</title>"
    if og_website:
        head += '<meta property="og:type" content="website">'
    body = f"{NAV}<main><h1>{html.escape(title)}</h1>{''.join(items)}</main>"
    body += '<footer><a href="/?page=2" rel="next">Older stories</a></footer>'
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def site_page(title: str, paragraphs: list[str], form: bool = False) -> bytes:
    """About/contact-style pages: some prose, maybe a form, no story markup."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if form:
        body += (
            '<form action="/contact/send" method="post"><label>Name <input name="n"></label>'
            '<label>Message <textarea name="m"></textarea></label><button>Send</button></form>'
        )
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body>{NAV}<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    ).encode()
