"""Dates as pages, feeds and sitemaps write them: ISO 8601, W3C datetime and RSS's RFC 822.

They come from untrusted input, so a date that is not one, or one out of range, is None,
never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_web_date"]


def parse_web_date(text: str, *, rfc822: bool = True) -> datetime | None:
    """A date as pages, feeds and sitemaps write it, as UTC; None when it is not one.

    ISO 8601 / W3C datetime (a trailing Z included), and RFC 822 as RSS writes it unless
    `rfc822` is off. Dates without a zone are taken as UTC. Out-of-range dates (year 1
    with a positive offset) are None, never an exception: they come from untrusted input.
    """
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        if not rfc822:
            return None
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        return None
