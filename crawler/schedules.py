"""Schedules as sites.toml writes them: `every 30m` or a 5-field cron expression.

Parsed into APScheduler 3 triggers, in UTC. Cron's day-of-week numbers are translated
(cron counts 0 = Sunday, APScheduler 3 counts 0 = Monday), so `0 6 * * 1-5` means
weekdays as every crontab user expects.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from crawler.timespec import parse_duration

__all__ = ["parse_schedule", "schedule_interval"]

_EVERY = re.compile(r"^\s*every\s+(\S+)\s*$", re.IGNORECASE)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMBER_NOT_STEP = re.compile(r"(?<![/\d])\d+")
# Below this an interval is a mistake rather than a schedule (and would hammer a site).
MIN_INTERVAL = timedelta(seconds=1)


def schedule_interval(text: str) -> timedelta | None:
    """The interval of an `every ...` schedule, None for a cron expression."""
    match = _EVERY.match(text)
    if not match:
        return None
    try:
        return parse_duration(match.group(1))
    except ValueError:
        raise ValueError(
            f"{text!r}: expected 'every' and a duration such as every 30m, every 2h, every 1d"
        ) from None


def parse_schedule(text: str) -> Any:
    """An APScheduler trigger for a schedule; ValueError naming the accepted forms."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    interval = schedule_interval(text)
    if interval is not None:
        if interval < MIN_INTERVAL:
            raise ValueError(f"{text!r}: an interval must be at least 1 s")
        return IntervalTrigger(seconds=interval.total_seconds(), timezone="UTC")
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"{text!r} is neither 'every <duration>' (every 30m) nor a 5-field cron "
            "expression (*/30 * * * *)"
        )
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_cron_weekdays(weekday),
            timezone="UTC",
        )
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _cron_weekdays(field: str) -> str:
    """Cron day numbers (0 or 7 = Sunday) as names, which mean the same in APScheduler."""

    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"day of week {number} is not 0-7")
        return _DAYS[number % 7]

    return _NUMBER_NOT_STEP.sub(name, field)
