"""The run's status and counters, from Scrapy's stats."""

from __future__ import annotations

import pytest

from crawler.runtime.counters import collect_counters, run_status


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("finished", "succeeded"),
        ("closespider_timeout", "succeeded"),
        ("shutdown", "interrupted"),
        ("cancelled", "interrupted"),
        ("database_error", "failed"),
        ("closespider_errorcount", "failed"),
    ],
)
def test_run_status_from_close_reason(reason: str, status: str) -> None:
    assert run_status(reason) == status
    assert run_status(reason, {"pages_fetched": 3, "errors": {"timeout": 1}}) == status


def test_a_run_that_fetched_nothing_failed() -> None:
    assert run_status("finished", {"pages_fetched": 0, "errors": {"connection": 1}}) == "failed"
    # every request refused (off the site, robots.txt): it archived nothing
    assert run_status("finished", {"pages_fetched": 0}) == "failed"
    assert run_status("shutdown", {"pages_fetched": 0}) == "interrupted"
    assert run_status("finished", {"pages_fetched": 1}) == "succeeded"


def test_counters_nest_by_group_and_skip_non_numbers() -> None:
    stats = {
        "newsarchive/pages_fetched": 10,
        "newsarchive/errors/http_500": 2,
        "newsarchive/errors/timeout": 1,
        "newsarchive/run_id": 7,
        "newsarchive/run_status": "succeeded",
        "downloader/request_count": 12,
    }
    assert collect_counters(stats) == {
        "pages_fetched": 10,
        "articles_new": 0,
        "articles_changed": 0,
        "articles_unchanged": 0,
        "checked_304": 0,
        "not_article": 0,
        "errors": {"http_500": 2, "timeout": 1},
        "requests": 12,
    }


def test_requests_per_story_counts_every_request_against_the_stories_archived_or_checked() -> None:
    stats = {
        "downloader/request_count": 25,
        "newsarchive/articles_new": 12,
        "newsarchive/articles_unchanged": 8,
        "newsarchive/skipped/known_not_story": 3,
    }
    counters = collect_counters(stats)
    assert counters["requests"] == 25
    assert counters["requests_per_story"] == 1.25
    assert counters["skipped"] == {"known_not_story": 3}
    assert "requests_per_story" not in collect_counters({"downloader/request_count": 5})


def test_robots_refusals_come_from_scrapys_own_count() -> None:
    """Scrapy's robots.txt middleware counts what it refuses and raises a plain
    IgnoreRequest; the run reports that count as blocked.robots."""
    stats = {"robotstxt/forbidden": 3, "newsarchive/blocked/offsite": 1}
    assert collect_counters(stats)["blocked"] == {"robots": 3, "offsite": 1}
