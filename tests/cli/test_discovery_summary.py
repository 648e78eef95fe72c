"""What a run's discovery cost, as the crawl summary and `runs` print it."""

from __future__ import annotations

from crawler.cli.crawl import discovery_summary
from crawler.cli.runs import _run_summary


def test_requests_per_story_and_the_rules_that_skipped_links() -> None:
    counters = {
        "requests": 104,
        "requests_per_story": 1.33,
        "skipped": {"unexplored": 4109, "shape_dropped": 10, "known_gone": 0},
    }
    assert discovery_summary(counters) == (
        "104 requests (1.33 per story), 4119 skipped (shape_dropped=10, unexplored=4109)"
    )
    table = _run_summary({"pages_fetched": 101, **counters})
    assert "requests 104 (1.33 per story)" in table
    assert "skipped 4,119 (unexplored 4109, shape_dropped 10)" in table
    assert "known_gone" not in table  # nothing skipped by that rule: not shown


def test_a_run_that_archived_nothing_has_no_cost_per_story_and_nothing_skipped() -> None:
    assert discovery_summary({"requests": 3, "skipped": {"unexplored": 0}}) == "3 requests"
    assert "skipped" not in _run_summary({"pages_fetched": 0, "skipped": {"unexplored": 0}})
