"""Pages that sitemaps and feeds list, handed to Scrapy a window at a time.

A news sitemap can list 50,000 stories. Yielded from the sitemap's callback, every one of
them becomes a Request in Scrapy's in-memory scheduler at once, with its meta, its headers
and, on a recrawl, its conditional headers: the largest memory cost of a crawl, and one that
grows with the site (docs/benchmarks.md, "Scale"). The feed keeps a listed page as its URL
until there is room for it, and lets at most `window` of them be requested and not yet
finished, which is plenty to keep every download slot busy.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Listed", "ListedWindow"]


@dataclass(frozen=True, slots=True)
class Listed:
    """A page a sitemap or feed listed: what its request will be made from."""

    url: str
    depth: int
    source: str


class ListedWindow:
    def __init__(self, window: int) -> None:
        self.window = max(1, window)
        self._waiting: deque[Listed] = deque()
        self._in_flight = 0
        # The most listed pages requested and unfinished at once: stays at `window` however
        # long the sitemap, which is the point (the tests read it from the run's counters).
        self.peak = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, page: Listed) -> None:
        self._waiting.append(page)

    def release(self) -> list[Listed]:
        """The pages to request now: as many as the window has room for."""
        released: list[Listed] = []
        while self._waiting and self._in_flight < self.window:
            released.append(self._waiting.popleft())
            self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)
        return released

    def finished(self) -> None:
        """A released page was handled (archived, failed, refused or dropped)."""
        self._in_flight = max(0, self._in_flight - 1)

    def nothing_in_flight(self) -> None:
        """Scrapy is idle, so no released page is still on its way: forget any that ended
        where the spider could not see (a middleware dropping a request silently)."""
        self._in_flight = 0
