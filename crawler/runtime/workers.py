"""A pool of extraction worker processes the reactor awaits without ever blocking.

Parsing and extraction are pure Python, page after page; done on the reactor thread they
would stall every download. pebble's process pool gives what a crawler of untrusted
pages needs beyond concurrent.futures: a time limit per task that kills the stuck worker,
and a replacement for a worker that died (a segfault in lxml, the OOM killer), so one bad
page never ends the crawl.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from crawler import speedups
from crawler.keys import Setting

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
    speedups.rehearse(_rehearse_analysis)


def _run_and_trim(function: Callable[..., T], *args: Any) -> T:
    """Run one task, then give the heap it freed back to the system (speedups.trim_heap)."""
    try:
        return function(*args)
    finally:
        speedups.trim_heap()


def _rehearse_analysis() -> None:
    from crawler.analysis.rehearsal import rehearse

    rehearse()


# Defaults of the pool's settings (NEWSARCHIVE_WORKERS, NEWSARCHIVE_PAGE_TIMEOUT,
# NEWSARCHIVE_WORKER_MEMORY), kept here so the CLI can start a worker before it imports
# Scrapy to read crawler.runtime.settings.
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

    @property
    def spec(self) -> tuple[int, float, int]:
        """What makes two pools interchangeable: workers, page timeout, memory limit."""
        return self.workers, self.timeout, self.memory_mb

    def start(self) -> None:
        """Take the pool for one crawl (its workers start now unless `boot` ran)."""
        self._users += 1
        self.boot()

    def boot(self, count: int | None = None) -> None:
        """Start `count` workers (all by default) now, without waiting for the first page.

        pebble starts a worker at its first task, so the first page would wait for a
        worker's start (its imports). Booting them while the crawler itself starts up
        overlaps the two.
        """
        import pebble
        from pebble import ProcessPool

        speedups.poll_pebble_often(pebble.CONSTS)
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
        hangs until its time limit, it would wait that long while the other worker idles.
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

        Waiting means joining pebble's manager threads, which poll their pool: on the
        reactor thread that wait held up the end of the run (recording it, releasing the
        leases). Without a running asyncio loop (another Twisted reactor) there is no
        thread to wait in, so it waits like `close`.
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
        settings.getint(Setting.WORKERS),
        settings.getfloat(Setting.PAGE_TIMEOUT),
        settings.getint(Setting.WORKER_MEMORY),
    )


def pool_for_overrides(overrides: Mapping[str, str]) -> ExtractionPool | None:
    """The pool `newsarchive crawl` will use, known before Scrapy's settings are loaded.

    The pool's settings are the project defaults, the environment and `-s` (a site's own
    `settings` cannot size a pool its command shares), so the CLI can start a worker
    first thing. None when a value does not parse: the settings check then reports it,
    naming the key.
    """

    def value(name: str, default: float) -> str:
        return overrides.get(name) or os.environ.get(name, "").strip() or str(default)

    try:
        return ExtractionPool(
            int(value(Setting.WORKERS, DEFAULT_WORKERS)),
            float(value(Setting.PAGE_TIMEOUT, DEFAULT_PAGE_TIMEOUT)),
            int(value(Setting.WORKER_MEMORY, DEFAULT_WORKER_MEMORY_MB)),
        )
    except ValueError:
        return None
