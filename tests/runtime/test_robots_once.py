"""The robots.txt middleware that shares its download with the spider.

It hooks two steps of Scrapy's own RobotsTxtMiddleware; if a Scrapy upgrade renames or
reshapes them, these tests fail instead of the crawl silently losing robots.txt sitemaps
(the end-to-end side is in tests/running/test_discovery.py).
"""

from __future__ import annotations

import inspect

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

from crawler.runtime.robots_once import SharedRobotsTxtMiddleware


def test_the_hooked_steps_exist_in_scrapys_middleware_with_the_expected_shape() -> None:
    parse = RobotsTxtMiddleware._parse_robots
    assert inspect.iscoroutinefunction(parse)
    assert list(inspect.signature(parse).parameters) == ["self", "response", "netloc", "request"]
    error = RobotsTxtMiddleware._robots_error
    assert list(inspect.signature(error).parameters) == ["self", "exc", "netloc"]
    assert issubclass(SharedRobotsTxtMiddleware, RobotsTxtMiddleware)
