"""Conditional requests: validators keyed by canonical URL."""

from __future__ import annotations

from crawler.runtime.conditional_requests import validator_key


def test_validator_keys_follow_the_canonical_url() -> None:
    key = validator_key("http://127.0.0.1:8000/news/a.html")
    assert key is not None and len(key) == 8
    assert validator_key("http://127.0.0.1:8000/news/a.html?utm_campaign=x#top") == key
    assert validator_key("not a url at all") is None
