"""The frontier's memory between runs, read from the archive when a crawl opens and
written when it closes (storage.discovery_memory holds the tables)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from crawler.runtime.frontier import Frontier

__all__ = ["load_frontier", "save_frontier"]

log = logging.getLogger(__name__)


async def load_frontier(
    db_url: str, site: str, mode: str, max_depth: int, recheck_after: timedelta
) -> Frontier:
    """A frontier that starts with what earlier runs learned about the site."""
    from storage.archive import Archive

    def load() -> Frontier:
        with Archive(db_url, migrate=False) as archive:
            shapes, urls = archive.load_discovery_memory(site, datetime.now(UTC) - recheck_after)
        return Frontier(mode, max_depth, shapes, urls)

    return await asyncio.to_thread(load)


async def save_frontier(db_url: str, site: str, frontier: Frontier, *, complete: bool) -> None:
    """Store what this run learned. Listings are remembered (and so asked for conditionally
    next time) only after a complete run: a listing whose links a cut-short run never
    followed must not answer 304 next time and hide them."""
    from storage.archive import Archive

    shapes, urls, stories = frontier.to_remember()
    if not complete:
        urls = [u for u in urls if u.verdict != "listing"]

    def save() -> None:
        with Archive(db_url, migrate=False) as archive:
            archive.remember_discovery(site, shapes, urls, stories)

    await asyncio.to_thread(save)
