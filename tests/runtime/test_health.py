"""Site health flags: a run compared with the site's own recent runs."""

from __future__ import annotations

from crawler.runtime.health import run_flags


def counters(seen: int = 20, pages: int = 30, no_date: int = 0, short: int = 0, errors: int = 0):
    return {
        "pages_fetched": pages,
        "pages_article": seen,
        "articles_new": 0,
        "articles_changed": 0,
        "articles_unchanged": seen,
        "quality": {"no_date": no_date, "short_text": short},
        "errors": {"http_500": errors} if errors else {},
    }


HEALTHY = [("succeeded", counters())] * 5


def test_a_normal_run_has_no_flags() -> None:
    assert run_flags(counters(), "succeeded", HEALTHY) == []
    assert run_flags(counters(), "succeeded", []) == []  # nothing to compare with yet


def test_no_articles_where_there_used_to_be_many() -> None:
    assert run_flags(counters(seen=0), "succeeded", HEALTHY) == ["no articles (usually 20)"]
    # a site that never had many is not flagged
    quiet = [("succeeded", counters(seen=2, pages=3))] * 5
    assert run_flags(counters(seen=0, pages=3), "succeeded", quiet) == []


def test_jumps_in_missing_dates_short_bodies_and_errors() -> None:
    flags = run_flags(counters(no_date=15, short=12, errors=20), "succeeded", HEALTHY)
    assert flags == [
        "missing dates 75% (usually 0%)",
        "short bodies 60% (usually 0%)",
        "errors 67% (usually 0%)",
    ]
    # a site whose pages never carry dates is its own normal
    dateless = [("succeeded", counters(no_date=20))] * 5
    assert run_flags(counters(no_date=20), "succeeded", dateless) == []


def test_a_run_of_failures() -> None:
    history = [("failed", {}), ("failed", {}), ("succeeded", counters())]
    assert "failed 3 runs in a row" in run_flags({}, "failed", history)
    assert run_flags({}, "failed", [("failed", {}), ("succeeded", counters())]) == []
