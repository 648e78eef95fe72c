"""A pool of extraction worker processes the reactor awaits without ever blocking.

Parsing and extraction take 10-30 ms of pure Python per page; done on the reactor thread
they would stall every download. pebble's process pool gives what a crawler of untrusted
pages needs beyond concurrent.futures: a time limit per task that kills the stuck worker,
and a replacement for a worker that died (a segfault in lxml, the OOM killer), so one bad
page never ends the crawl.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from crawler.analysis import FetchedPage

__all__ = [
    "DEFAULT_PAGE_TIMEOUT",
    "DEFAULT_WORKERS",
    "DEFAULT_WORKER_MEMORY_MB",
    "ExtractionPool",
    "PageTimeoutError",
    "WorkerCrashedError",
    "pool_for_overrides",
    "pool_from_settings",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Workers are recycled after this many pages to cap memory growth from lxml and caches.
MAX_TASKS_PER_WORKER = 2000
# How often pebble's threads look at their pool (see ExtractionPool.boot).
POOL_POLL_SECONDS = 0.02


class PageTimeoutError(Exception):
    """A page took longer than the time limit; its worker was killed and replaced."""


class WorkerCrashedError(Exception):
    """The worker process died while handling a page; a new one took its place."""


# Libraries that log a warning for every page they find little text on: noise in a crawl.
_QUIET_LOGGERS = ("trafilatura", "htmldate", "justext", "courlan", "charset_normalizer")


def _warm_up(memory_mb: int = 0) -> None:
    """Bound the worker's memory, then import and rehearse the analysis before the first page.

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
    _rehearse()


# A small article for `_rehearse`: a dated story with a byline, links and a few paragraphs.
# Its host's name is short, like bbc.co.uk's or cnn.com's: for those (and for IP
# addresses with a port) courlan's quick pattern fails and it loads the public suffix list.
# Its date is in the past on any clock a crawl runs on: htmldate refuses future dates.
_REHEARSAL_URL = "https://www.abc.example/2020/01/02/rehearsal.html"
_REHEARSAL_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Rehearsal</title>"
    "<meta name='author' content='A. Writer'>"
    "<meta property='article:published_time' content='2020-01-02T08:00:00Z'></head>"
    "<body><header><a href='/'>Home</a> <a href='/world/'>World</a></header>"
    "<article><h1>Rehearsal</h1>"
    + "".join(
        f"<p>Paragraph {n} of a story that only exists to warm the extractor up before "
        "the first real page, with enough words to count as running text.</p>"
        for n in range(8)
    )
    + "</article></body></html>"
).encode()


def rehearsal_page() -> FetchedPage:
    """The built-in article a worker analyses while it starts (`_rehearse`)."""
    from datetime import UTC, datetime

    from crawler.analysis import FetchedPage

    return FetchedPage(
        site="rehearsal",
        url=_REHEARSAL_URL,
        final_url=_REHEARSAL_URL,
        status=200,
        body=_REHEARSAL_PAGE,
        content_type="text/html; charset=utf-8",
        etag=None,
        last_modified=None,
        fetched_at=datetime.now(UTC),
    )


def _rehearse() -> None:
    """Analyse one small built-in article, so the worker's first real page costs what
    every other page costs.

    Importing is not all of the start: the first analysis also loads the public suffix
    list (courlan's `tld`, 30 ms, for hosts such as cnn.com) and compiles trafilatura's
    and htmldate's regexes.
    Done here, on a core the crawler's start-up leaves idle, instead of while a recrawl
    waits for its home page's links. A failure only logs: the real pages will tell, and
    a worker whose initializer raised would exit and be restarted by pebble forever,
    while pages waited for it without a time limit.
    """
    try:
        from crawler.analysis import PageRules, analyze_page

        analyze_page(rehearsal_page(), PageRules())
    except Exception:
        log.exception("the extraction worker's rehearsal failed")


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


# Defaults of the pool's settings (NEWSARCHIVE_WORKERS, NEWSARCHIVE_PAGE_TIMEOUT,
# NEWSARCHIVE_WORKER_MEMORY), kept here so the CLI can start a worker before it imports
# Scrapy to read crawler.settings.
DEFAULT_WORKERS = 0  # one per core
DEFAULT_PAGE_TIMEOUT = 30.0
DEFAULT_WORKER_MEMORY_MB = 2048


class ExtractionPool:
    """Extraction workers, each in a pebble pool of its own, started one at a time or all.

    One pool per worker (instead of one pool of N) is what lets the CLI start the first
    worker at its very beginning, on the core its own imports leave idle, and the others
    only when the engine starts: booting every worker at once would take both cores from
    the crawler's start-up. A page goes to whichever worker is free first.
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        timeout: float = DEFAULT_PAGE_TIMEOUT,
        memory_mb: int = 0,
    ) -> None:
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._pools: list[Any] = []
        # Whether each worker has a page; pages waiting for a free worker, in order.
        self._busy: list[bool] = []
        self._waiting: collections.deque[asyncio.Future[int]] = collections.deque()
        # Crawls sharing this pool (several sites in one command): the last one stops it.
        self._users = 0

    def start(self) -> None:
        """Take the pool for one crawl (its workers start now unless `boot` ran)."""
        self._users += 1
        self.boot()

    def boot(self, count: int | None = None) -> None:
        """Start `count` workers (all by default) now, without waiting for the first page.

        pebble starts a worker at its first task, so the first page would wait for a
        worker's start (imports: 0.3-0.5 s). Booting them while the crawler itself starts up
        overlaps the two.
        """
        import pebble
        from pebble import ProcessPool

        # pebble's manager threads poll every `sleep_unit`; stopping a pool waits out the
        # current poll (0.1 s by default, about 85 ms at each crawl's end). At 0.02 s the
        # polls of an idle worker's pool cost 0.06% of a core and the stop about 20 ms.
        # The constant is process-wide; nothing else in this process uses pebble, and the
        # workers themselves wait on their pipe without polling.
        pebble.CONSTS.sleep_unit = POOL_POLL_SECONDS
        wanted = self.workers if count is None else min(count, self.workers)
        while len(self._pools) < wanted:
            # Workers are started fresh (not forked) because the crawler process runs
            # threads (the reactor's thread pool, database writes) that a fork would copy
            # mid-flight.
            pool = ProcessPool(
                max_workers=1,
                max_tasks=MAX_TASKS_PER_WORKER,
                initializer=_warm_up,
                initargs=(self.memory_mb,),
                context=multiprocessing.get_context("spawn"),
            )
            pool.schedule(os.getpid)  # the first task makes pebble start the worker
            self._pools.append(pool)
            self._busy.append(True)
            self._release(len(self._busy) - 1)  # to a page already waiting, if any

    @property
    def booted(self) -> int:
        """Workers started so far."""
        return len(self._pools)

    def close_unused(self) -> None:
        """Stop booted workers that no crawl took (the crawl never started)."""
        if self._users == 0:
            self._stop()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` in a worker; raises PageTimeoutError or WorkerCrashedError.

        A page goes to a worker only once that worker is free: queued behind a page that
        hangs until its time limit, it would wait 30 s while the other worker idles.
        """
        from pebble import ProcessExpired

        if not self._pools:
            raise RuntimeError("the extraction pool is not started")
        pools = self._pools
        index = await self._free_worker()
        try:
            future = pools[index].schedule(
                _run_and_trim, args=(function, *args), timeout=self.timeout
            )
            result: T = await asyncio.wrap_future(future)
            return result
        except concurrent.futures.TimeoutError:
            raise PageTimeoutError(f"over {self.timeout:g} s") from None
        except ProcessExpired as exc:
            raise WorkerCrashedError(f"worker exit code {exc.exitcode}") from None
        finally:
            if pools is self._pools:  # not stopped (and restarted) meanwhile
                self._release(index)

    async def _free_worker(self) -> int:
        """Take a free worker, or wait (first come, first served) to be handed one."""
        if not self._waiting:
            for index, taken in enumerate(self._busy):
                if not taken:
                    self._busy[index] = True
                    return index
        turn: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release(turn.result())  # handed a worker it will not use
            raise

    def _release(self, index: int) -> None:
        """Hand the worker to the longest-waiting page, or mark it free."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(index)
                return
        self._busy[index] = False

    def close(self) -> None:
        """Stop the workers at once: at spider close no page is waiting for them, and a
        graceful join could block the reactor behind a page that is still running."""
        if self._leave():
            self._stop()

    async def close_async(self) -> None:
        """`close` for the event loop: the workers are stopped at once, but waited for in
        a thread.

        Waiting means joining pebble's manager threads, which poll every
        `POOL_POLL_SECONDS`: on the reactor thread that wait held up the end of the run
        (recording it, releasing the leases) by 50-120 ms at pebble's default 0.1 s, a
        tenth of a recrawl of an unchanged site. Without a running asyncio loop (another
        Twisted reactor) there is no thread to wait in, so it waits like `close`.
        """
        if not self._leave():
            return
        pools = self._detach()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            _join_all(pools)
            return
        await asyncio.to_thread(_join_all, pools)

    def _leave(self) -> bool:
        """One crawl is done with the pool; True when it was the last one using it."""
        self._users = max(0, self._users - 1)
        return self._users == 0

    def _stop(self) -> None:
        _join_all(self._detach())

    def _detach(self) -> list[Any]:
        """Stop every worker's pool and forget it; the caller joins what is returned."""
        pools, self._pools, self._busy = self._pools, [], []
        for pool in pools:
            pool.stop()
        for turn in self._waiting:
            turn.cancel()
        self._waiting.clear()
        return pools


def _join_all(pools: list[Any]) -> None:
    """Join every stopped pool, each on its own: pebble terminates a stopped pool's worker
    only inside `join`, so one failed join must not leave the other workers running."""
    for pool in pools:
        try:
            pool.join()
        except Exception as exc:
            log.warning("an extraction worker did not stop cleanly: %s", exc)


def pool_from_settings(settings: Any) -> ExtractionPool:
    """The pool Scrapy settings ask for (a crawl, or `scrapy crawl` without the CLI)."""
    return ExtractionPool(
        settings.getint("NEWSARCHIVE_WORKERS"),
        settings.getfloat("NEWSARCHIVE_PAGE_TIMEOUT"),
        settings.getint("NEWSARCHIVE_WORKER_MEMORY"),
    )


def pool_for_overrides(overrides: Mapping[str, str]) -> ExtractionPool | None:
    """The pool `newsarchive crawl` will use, known before Scrapy's settings are loaded.

    The pool's settings are the project defaults and `-s` (a site's own `settings` cannot
    size a pool its command shares), so the CLI can start a worker first thing. None when
    a value does not parse: the settings check then reports it, naming the key.
    """
    try:
        return ExtractionPool(
            int(overrides.get("NEWSARCHIVE_WORKERS", DEFAULT_WORKERS)),
            float(overrides.get("NEWSARCHIVE_PAGE_TIMEOUT", DEFAULT_PAGE_TIMEOUT)),
            int(overrides.get("NEWSARCHIVE_WORKER_MEMORY", DEFAULT_WORKER_MEMORY_MB)),
        )
    except ValueError:
        return None
