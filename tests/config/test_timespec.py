"""Dates and durations as users type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.config.timespec import parse_duration, parse_moment

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)),
     ("2w", timedelta(weeks=2)), ("5s", timedelta(seconds=5)), (" 3D ", timedelta(days=3))],
)  # fmt: skip
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta
    assert parse_moment(text, NOW) == NOW - delta


def test_dates_are_utc() -> None:
    assert parse_moment("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("2026-11-01T08:00:00+01:00") == datetime(2026, 11, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "7 days", "-1d", "2026-13-01", ""])
def test_bad_input_names_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_moment(bad)


def test_format_duration_reads_back() -> None:
    from crawler.config.timespec import format_duration

    for text in ("7d", "2w", "12h", "30m", "45s", "90m"):
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
    assert format_duration(parse_duration("14d")) == "2w"
