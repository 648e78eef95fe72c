"""Log lines for scraped items that name the page, not the item.

Scrapy's default logs each item's repr, a whole article's text, so `-vv` would write
megabytes. One line per archived fetch is enough.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult

__all__ = ["ArchiveLogFormatter"]


class ArchiveLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        url = item.get("url", "?") if isinstance(item, dict) else getattr(item, "url", "?")
        return {
            "level": logging.DEBUG,
            "msg": "to the archive: %(url)s",
            "args": {"url": url},
        }
