"""Log lines for scraped items that name the page, not the item.

Scrapy's default logs each item's repr; ours carry the raw HTML, its zstd copy and a
MinHash, so `-vv` would write megabytes of bytes. One line per archived fetch is enough.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult

__all__ = ["ArchiveLogFormatter"]


class ArchiveLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        prepared = getattr(item, "prepared", None)
        kind = getattr(getattr(prepared, "kind", None), "value", "item")
        return {
            "level": logging.DEBUG,
            "msg": "to the archive (%(kind)s): %(url)s",
            "args": {"kind": kind, "url": getattr(item, "url", "?")},
        }
