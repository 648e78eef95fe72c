"""Times as users type them: `7d`, `12h`, `2026-11-01`, `2026-11-01T08:00:00+01:00`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["format_duration", "parse_duration", "parse_moment"]

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`30m`, `12h`, `7d`, `2w` as a timedelta; ValueError with the accepted forms otherwise."""
    match = _DURATION_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30m, 12h, 7d or 2w")
    amount, unit = int(match.group(1)), match.group(2).lower()
    try:
        return timedelta(**{_UNITS[unit]: amount})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An absolute ISO 8601 date or time, or a duration meaning that long before now.

    Dates without a zone are taken as UTC.
    """
    if _DURATION_RE.match(text):
        try:
            return (now or datetime.now(UTC)) - parse_duration(text)
        except OverflowError:
            raise ValueError(f"{text!r} reaches before year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (2026-11-01, 2026-11-01T08:00) nor a duration (7d)"
        ) from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


def format_duration(value: timedelta) -> str:
    """The shortest `7d` / `12h` / `30m` / `45s` form that parse_duration reads back."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
