"""Site health: does this run look like the site's recent runs, or did something break?

A site redesign silently breaks extraction: the crawl still "succeeds", but finds no
articles, or bodies come out empty, or dates go missing. Comparing each run's counters
with the site's own recent runs catches that the day it happens. A flag needs both an
absolute level and a change from the site's usual, so a site that never has dates is not
flagged every run.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["HISTORY", "run_flags"]

# Runs of the site compared against (the most recent finished ones).
HISTORY = 5
MIN_PAGES = 5


def _seen(counters: Mapping[str, Any]) -> int:
    return sum(
        int(counters.get(k, 0))
        for k in ("articles_new", "articles_changed", "articles_unchanged", "articles_reextracted")
    )


def _share(counters: Mapping[str, Any], group: str, key: str, of: str) -> float | None:
    total = int(counters.get(of, 0))
    if total < MIN_PAGES:
        return None
    value = counters.get(group, {}).get(key, 0) if group else counters.get(key, 0)
    return int(value) / total


def _error_share(counters: Mapping[str, Any]) -> float | None:
    pages = int(counters.get("pages_fetched", 0))
    if pages < MIN_PAGES:
        return None
    return sum(int(v) for v in counters.get("errors", {}).values()) / pages


def run_flags(
    counters: Mapping[str, Any], status: str, history: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[str]:
    """Regressions of this run against `history`: (status, counters) of earlier runs, newest
    first."""
    flags: list[str] = []
    finished = [c for s, c in history[:HISTORY] if s == "succeeded"]
    if status != "succeeded":
        finished = []  # a failed or interrupted run is judged by the run of failures only
    if finished:
        usual = statistics.median(_seen(c) for c in finished)
        if usual >= MIN_PAGES and _seen(counters) == 0:
            flags.append(f"no articles (usually {usual:g})")
    for label, share in (
        ("missing dates", lambda c: _share(c, "quality", "no_date", "pages_article")),
        ("short bodies", lambda c: _share(c, "quality", "short_text", "pages_article")),
        ("errors", _error_share),
    ):
        now = share(counters)
        before = [v for c in finished if (v := share(c)) is not None]
        if now is None or not before:
            continue
        usual_share = statistics.median(before)
        if now >= 0.5 and usual_share <= 0.2:
            flags.append(f"{label} {now:.0%} (usually {usual_share:.0%})")
    statuses = [status] + [s for s, _ in history[:2]]
    if len(statuses) == 3 and all(s == "failed" for s in statuses):
        flags.append("failed 3 runs in a row")
    return flags
