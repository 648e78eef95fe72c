"""Live counters on a terminal: a Rich table on stderr, refreshed from the crawlers' stats."""

from __future__ import annotations

import sys
from typing import Any

from crawler.keys import Counter, stat
from crawler.runtime.counters import crawler_stats

__all__ = ["LiveCounters"]


class LiveCounters:
    """A Rich table on stderr, refreshed from the crawlers' stats twice a second."""

    COLUMNS = (
        ("pages", Counter.PAGES_FETCHED),
        ("new", Counter.ARTICLES_NEW),
        ("changed", Counter.ARTICLES_CHANGED),
        ("unchanged", Counter.ARTICLES_UNCHANGED),
        ("not articles", Counter.NOT_ARTICLE),
    )

    def __init__(self, crawlers: list[tuple[str, Any]]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.crawlers = crawlers
        self.live = Live(console=Console(file=sys.stderr), refresh_per_second=4, transient=False)
        self._loop: Any = None

    def start(self) -> None:
        from twisted.internet import task

        self.live.start()
        self._loop = task.LoopingCall(self.refresh)
        self._loop.start(0.5)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.refresh()
        self.live.stop()

    def refresh(self) -> None:
        from rich.table import Table

        table = Table(title="newsarchive crawl", title_justify="left")
        table.add_column("site")
        for title, _ in self.COLUMNS:
            table.add_column(title, justify="right")
        table.add_column("errors", justify="right")
        for name, crawler in self.crawlers:
            stats = crawler_stats(crawler)
            errors = sum(
                v
                for k, v in stats.items()
                if k.startswith(stat(Counter.error(""))) and isinstance(v, int)
            )
            table.add_row(
                name,
                *(f"{stats.get(stat(key), 0):,}" for _, key in self.COLUMNS),
                f"{errors:,}",
            )
        self.live.update(table)
