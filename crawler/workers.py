"""A pool of extraction worker processes the reactor awaits without ever blocking.

Parsing and extraction take 10-30 ms of pure Python per page; done on the reactor thread
they would stall every download. pebble's process pool gives what a crawler of untrusted
pages needs beyond concurrent.futures: a time limit per task that kills the stuck worker,
and a replacement for a worker that died (a segfault in lxml, the OOM killer), so one bad
page never ends the crawl.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ExtractionPool", "PageTimeoutError", "WorkerCrashedError"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Workers are recycled after this many pages to cap memory growth from lxml and caches.
MAX_TASKS_PER_WORKER = 2000


class PageTimeoutError(Exception):
    """A page took longer than the time limit; its worker was killed and replaced."""


class WorkerCrashedError(Exception):
    """The worker process died while handling a page; a new one took its place."""


# Libraries that log a warning for every page they find little text on: noise in a crawl.
_QUIET_LOGGERS = ("trafilatura", "htmldate", "justext", "courlan", "charset_normalizer")


def _warm_up(memory_mb: int = 0) -> None:
    """Bound the worker's memory, then import the heavy modules before the first page.

    With an address-space limit, a page that would need gigabytes (a pathological DOM)
    fails with MemoryError in its worker, which is counted and replaced, instead of
    pushing the whole machine into swap or the OOM killer.
    """
    if memory_mb > 0:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    import trafilatura  # noqa: F401

    import crawler.analysis  # noqa: F401


def _run_and_trim(function: Callable[..., T], *args: Any) -> T:
    """Run one task, then hand the freed heap back to the system.

    A page's parse trees are freed when it is done, but glibc keeps the pages, so each
    worker's resident memory stays at the high-water mark of the largest page it has seen.
    malloc_trim returns them (about a millisecond), which keeps the crawl's summed
    resident memory near its working set.
    """
    try:
        return function(*args)
    finally:
        _malloc_trim()(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int]:
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return lambda _pad: 0
    return trim


class ExtractionPool:
    def __init__(self, workers: int = 0, timeout: float = 30.0, memory_mb: int = 0) -> None:
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._pool: Any = None
        # Crawls sharing this pool (several sites in one command): the last one stops it.
        self._users = 0

    def start(self) -> None:
        """Take the pool for one crawl (the workers start now unless `boot` ran)."""
        self._users += 1
        self.boot()

    def boot(self) -> None:
        """Start the worker processes now, without waiting for the first page.

        pebble spawns its workers at the first task, so the first page would wait for a
        worker's start (about 0.3 s). Booting them while the crawler itself starts up
        overlaps the two: the main process uses one core, the workers the other.
        """
        from pebble import ProcessPool

        if self._pool is not None:
            return
        # Workers are started fresh (not forked) because the crawler process runs threads
        # (the reactor's thread pool, database writes) that a fork would copy mid-flight.
        self._pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=MAX_TASKS_PER_WORKER,
            initializer=_warm_up,
            initargs=(self.memory_mb,),
            context=multiprocessing.get_context("spawn"),
        )
        self._pool.schedule(os.getpid)  # the first task makes pebble start the workers

    def close_unused(self) -> None:
        """Stop a booted pool that no crawl took (the crawl never started)."""
        if self._users == 0 and self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` in a worker; raises PageTimeoutError or WorkerCrashedError."""
        from pebble import ProcessExpired

        if self._pool is None:
            raise RuntimeError("the extraction pool is not started")
        future = self._pool.schedule(_run_and_trim, args=(function, *args), timeout=self.timeout)
        try:
            result: T = await asyncio.wrap_future(future)
            return result
        except concurrent.futures.TimeoutError:
            raise PageTimeoutError(f"over {self.timeout:g} s") from None
        except ProcessExpired as exc:
            raise WorkerCrashedError(f"worker exit code {exc.exitcode}") from None

    def close(self) -> None:
        """Stop the workers at once: at spider close no page is waiting for them, and a
        graceful join could block the reactor behind a page that is still running."""
        self._users = max(0, self._users - 1)
        if self._pool is not None and self._users == 0:
            self._pool.stop()
            self._pool.join()
            self._pool = None
