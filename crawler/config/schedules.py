"""Schedules as sites.toml writes them: `every 30m` or a 5-field cron expression.

Parsed into APScheduler 3 triggers, in UTC. Cron's day-of-week numbers are translated
(cron counts 0 = Sunday, APScheduler 3 counts 0 = Monday), so `0 6 * * 1-5` means
weekdays as every crontab user expects.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from crawler.config.timespec import parse_duration

__all__ = ["parse_schedule", "schedule_interval"]

_EVERY = re.compile(r"^\s*every\s+(\S+)\s*$", re.IGNORECASE)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
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
    if day != "*" and weekday != "*":
        # cron runs when EITHER matches, APScheduler only when BOTH do: refuse the ambiguity.
        raise ValueError(
            f"{text!r}: restrict the day of the month or the day of the week, not both"
        )
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
    """A cron day-of-week field as an explicit list of day names.

    Cron counts 0 (or 7) = Sunday and APScheduler 3 counts 0 = Monday; names mean the same
    in both. Ranges, steps and lists are expanded here (`0-4`, `1-5/2`, `*/2`), because a
    translated range can wrap (sun-thu) and APScheduler drops steps on names.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1 or (step_text and not step_text.isdigit()):
            raise ValueError(f"day of week {item!r}: bad step")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _day_number(start), _day_number(end)
            if last == 0 and first > 0:
                last = 7  # 5-7 or fri-sun: up to Sunday
        else:
            first = last = _day_number(base)
            if step_text:
                last = 6
        if first > last:
            raise ValueError(f"day of week {item!r}: range runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_DAYS[day] for day in sorted(days))


def _day_number(text: str) -> int:
    text = text.strip().lower()
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"day of week {number} is not 0-7")
        return number
    if text[:3] in _DAYS:
        return _DAYS.index(text[:3])
    raise ValueError(f"day of week {text!r} is neither 0-7 nor a day name")
