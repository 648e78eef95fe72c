"""Retry-After as seconds or an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.runtime.retry_after import retry_after_seconds


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("Fri, 27 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None
