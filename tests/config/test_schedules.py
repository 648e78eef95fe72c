"""Schedule strings: intervals and cron expressions, with cron's day numbering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.config.schedules import parse_schedule, schedule_interval


def test_intervals() -> None:
    for text, seconds in (
        ("every 5s", 5),
        ("every 30m", 1800),
        ("every 2h", 7200),
        ("Every 1d", 86400),
    ):
        trigger = parse_schedule(text)
        assert trigger.interval == timedelta(seconds=seconds)
    assert schedule_interval("*/30 * * * *") is None


def test_cron_uses_crontab_weekdays() -> None:
    trigger = parse_schedule("0 6 * * 1-5")  # weekdays at 06:00 UTC
    friday = datetime(2026, 11, 27, 7, 1, tzinfo=UTC)  # a Friday, after 06:00
    assert trigger.get_next_fire_time(None, friday) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    sunday = parse_schedule("30 12 * * 0")
    assert sunday.get_next_fire_time(None, friday).weekday() == 6  # Sunday
    every = parse_schedule("*/30 * * * *")
    assert every.get_next_fire_time(None, friday) == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("weekdays", "fires_on"),
    [
        ("0-4", {6, 0, 1, 2, 3}),  # Sunday to Thursday
        ("*/2", {6, 1, 3, 5}),  # cron: Sun, Tue, Thu, Sat
        ("1-5/2", {0, 2, 4}),  # Mon, Wed, Fri
        ("5-7", {4, 5, 6}),  # Fri to Sun
        ("sat,sun", {5, 6}),
        ("7", {6}),
    ],
)
def test_cron_weekday_fields(weekdays: str, fires_on: set[int]) -> None:
    trigger = parse_schedule(f"0 12 * * {weekdays}")
    moment, seen = datetime(2026, 11, 23, 0, 0, tzinfo=UTC), set()  # a Monday
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment)
        seen.add(moment.weekday())
        moment += timedelta(minutes=1)
    assert seen == fires_on


@pytest.mark.parametrize(
    "text",
    ["every", "every soon", "every 0s", "* * * *", "61 * * * *", "0 0 * * 9", "hourly",
     "0 0 1 * 1", "0 0 * * 5-2", "0 0 * * */0"],
)  # fmt: skip
def test_invalid_schedules_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_schedule(text)
    assert "\n" not in str(info.value)
