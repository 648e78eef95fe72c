"""Request fingerprints: one per story, whatever tracking parameters a link carries."""

from __future__ import annotations

from scrapy import Request

from crawler.runtime.request_fingerprints import CanonicalRequestFingerprinter


def test_tracking_parameters_and_fragments_share_one_fingerprint() -> None:
    fingerprint = CanonicalRequestFingerprinter().fingerprint
    base = fingerprint(Request("https://Example.com:443/a/story.html"))
    for variant in (
        "https://example.com/a/story.html?utm_source=rss&utm_medium=feed",
        "https://example.com/a/story.html#comments",
        "https://EXAMPLE.com/a/story.html?fbclid=xyz",
    ):
        assert fingerprint(Request(variant)) == base, variant
    assert fingerprint(Request("https://example.com/a/story.html?page=2")) != base
    assert fingerprint(Request("https://example.com/a/other.html")) != base
    assert fingerprint(Request("https://example.com/a/story.html", method="POST")) != base
