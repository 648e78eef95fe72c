"""The extraction worker pool: time and memory limits, crashes, start-up and shutdown."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from crawler.runtime.workers import (
    ExtractionPool,
    PageTimeoutError,
    WorkerCrashedError,
    pool_for_overrides,
)
from tests.fresh_python import run_python
from tests.process_groups import live_processes


def _crash() -> None:
    os._exit(3)


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@pytest.mark.slow
def test_worker_pool_limits_time_and_replaces_crashed_workers() -> None:
    async def scenario() -> list[object]:
        pool = ExtractionPool(workers=1, timeout=1.0)
        pool.start()
        outcomes: list[object] = []
        try:
            for call in ((_sleep, 5.0), (_crash,), (_sleep, 0.01)):
                try:
                    outcomes.append(await pool.run(*call))
                except (PageTimeoutError, WorkerCrashedError) as exc:
                    outcomes.append(type(exc))
        finally:
            pool.close()
        return outcomes

    assert asyncio.run(scenario()) == [PageTimeoutError, WorkerCrashedError, 0.01]


def _pid_after(seconds: float) -> int:
    import os
    import time

    time.sleep(seconds)
    return os.getpid()


def test_worker_pool_boots_one_worker_early_and_spreads_pages_over_all() -> None:
    """The CLI starts one worker before its own imports, the rest with the engine; pages
    then go to whichever worker is free, so two pages run side by side."""

    async def scenario() -> tuple[int, int, set[int]]:
        pool = ExtractionPool(workers=2, timeout=20.0)
        pool.boot(1)
        early = pool.booted
        pool.start()  # the crawl takes the pool: the other worker starts
        try:
            pids = await asyncio.gather(*(pool.run(_pid_after, 0.5) for _ in range(2)))
        finally:
            pool.close()
        return early, pool.booted, set(pids)

    early, after_close, pids = asyncio.run(scenario())
    assert early == 1
    assert after_close == 0  # closing stops every worker
    assert len(pids) == 2  # two pages at once ran in two workers, not one after the other


def test_closing_the_pool_from_the_event_loop_waits_for_the_workers_in_a_thread() -> None:
    """At a crawl's end the workers are stopped without holding up the event loop (the
    run's end is recorded meanwhile), and they are gone once the close returns."""

    async def scenario() -> tuple[bool, set[int]]:
        pool = ExtractionPool(workers=2, timeout=20.0)
        pool.start()
        try:
            pids = set(await asyncio.gather(*(pool.run(_pid_after, 0.3) for _ in range(2))))
            closing = asyncio.ensure_future(pool.close_async())
            await asyncio.sleep(0)  # the close starts: stops the pools, joins them elsewhere
            await asyncio.sleep(0)  # a blocking close would have finished in its first step
            loop_was_free = not closing.done()
            await closing
        finally:
            pool.close_unused()
        return loop_was_free, pids

    loop_was_free, pids = asyncio.run(scenario())
    assert loop_was_free
    assert len(pids) == 2
    assert live_processes(pids) == set()


def test_a_pool_two_crawls_share_stops_only_when_both_have_closed() -> None:
    """The CLI's pool is taken by every spider of a run; the first spider's close must not
    stop the workers another spider is still using."""

    async def scenario() -> tuple[int, int, int]:
        pool = ExtractionPool(workers=1, timeout=20.0)
        pool.start()
        pool.start()
        try:
            pid = await pool.run(_pid_after, 0.0)
            await pool.close_async()
            after_first = pool.booted
            still_served = await pool.run(_pid_after, 0.0)  # the other spider's page
            await pool.close_async()
        finally:
            pool.close_unused()
        assert still_served == pid
        return pid, after_first, pool.booted

    pid, after_first, after_second = asyncio.run(scenario())
    assert after_first == 1
    assert after_second == 0
    assert live_processes({pid}) == set()


def _pool_with_one_worker() -> tuple[ExtractionPool, int]:
    """A started pool of one worker that has handled a page, and that worker's pid."""

    async def first_page(pool: ExtractionPool) -> int:
        return await pool.run(_pid_after, 0.0)

    pool = ExtractionPool(workers=1, timeout=20.0)
    pool.start()
    try:
        return pool, asyncio.run(first_page(pool))
    except BaseException:
        pool.close()
        raise


def test_closing_without_an_event_loop_still_stops_the_workers() -> None:
    """Under another Twisted reactor Scrapy drives the close coroutine without an asyncio
    loop, so there is no thread to wait in: the workers must be stopped all the same."""

    pool, pid = _pool_with_one_worker()
    try:
        closing = pool.close_async()
        with pytest.raises(StopIteration):  # finished in one step, as Twisted drives it
            closing.send(None)
    finally:
        pool.close_unused()
    assert pool.booted == 0
    assert live_processes({pid}) == set()


def test_a_failed_join_does_not_leave_the_other_workers_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pebble stops a worker only inside `join`: one pool whose join fails must not keep
    the next pool's worker alive."""
    from crawler.runtime.workers import _join_all

    class UnjoinablePool:
        def join(self) -> None:
            raise RuntimeError("Unable to terminate")

    pool, pid = _pool_with_one_worker()
    try:
        pools = pool._detach()
        _join_all([UnjoinablePool(), *pools])
    finally:
        pool.close_unused()
    assert live_processes({pid}) == set()
    assert "did not stop cleanly: Unable to terminate" in caplog.text


def test_a_booted_worker_has_rehearsed_the_analysis() -> None:
    """A worker analyses a built-in article while it starts, so its first real page does
    not pay for what a first analysis loads: the public suffix list (for short host names
    and IP addresses with a port) above all."""

    probe = (
        "import tld.utils\n"
        "from crawler.runtime.workers import _warm_up\n"
        "assert not tld.utils.tld_names, 'loaded before the rehearsal'\n"
        "_warm_up()\n"
        "print(sum(len(names) for names in tld.utils.tld_names.values()))\n"
    )
    done = run_python(probe)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 1000, done.stdout
    assert "rehearsal failed" not in done.stderr


@pytest.mark.parametrize("breakage", ["analysis raises", "analysis cannot be imported"])
def test_a_failed_rehearsal_only_logs(breakage: str) -> None:
    """A worker whose start raised would exit and be restarted by pebble in a loop while
    pages wait for it: a rehearsal that fails, however, must only log."""

    breaking = {
        "analysis raises": (
            "import crawler.analysis.page\n"
            "def broken(*args, **kwargs):\n"
            "    raise ValueError('no analysis today')\n"
            "crawler.analysis.page.analyze_page = broken\n"
        ),
        "analysis cannot be imported": "import sys\nsys.modules['crawler.analysis.page'] = None\n",
    }[breakage]
    probe = (
        breaking + "from crawler.runtime.workers import _warm_up\n_warm_up()\nprint('started')\n"
    )
    done = run_python(probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
    assert "the extraction worker's rehearsal failed" in done.stderr


@pytest.mark.slow
def test_a_hanging_page_holds_up_no_other_page() -> None:
    """Pages wait for a free worker, not behind a page that hangs until its time limit
    in the worker they happened to be given."""

    async def scenario() -> list[str]:
        pool = ExtractionPool(workers=2, timeout=4.0)
        pool.start()
        finished: list[str] = []

        async def page(name: str, seconds: float) -> None:
            try:
                await pool.run(_sleep, seconds)
                finished.append(name)
            except PageTimeoutError:
                finished.append(f"{name} timed out")

        try:
            hanging = asyncio.ensure_future(page("hanging", 60.0))
            await asyncio.sleep(0.5)  # it has a worker to itself
            await asyncio.gather(*(page(f"quick {n}", 0.2) for n in range(4)), hanging)
        finally:
            pool.close()
        return finished

    finished = asyncio.run(scenario())
    assert finished[-1] == "hanging timed out"
    assert sorted(finished[:-1]) == [f"quick {n}" for n in range(4)]


def test_pool_settings_are_read_from_the_command_line_before_scrapy() -> None:
    from crawler.runtime.settings import (
        NEWSARCHIVE_PAGE_TIMEOUT,
        NEWSARCHIVE_WORKER_MEMORY,
        NEWSARCHIVE_WORKERS,
    )

    default = pool_for_overrides({})
    assert default is not None
    assert (default.timeout, default.memory_mb) == (
        NEWSARCHIVE_PAGE_TIMEOUT,
        NEWSARCHIVE_WORKER_MEMORY,
    )
    assert default.workers == (NEWSARCHIVE_WORKERS or os.cpu_count())
    overrides = {"NEWSARCHIVE_WORKERS": "3", "NEWSARCHIVE_PAGE_TIMEOUT": "5"}
    set_ = pool_for_overrides({**overrides, "NEWSARCHIVE_WORKER_MEMORY": "0"})
    assert set_ is not None
    assert (set_.workers, set_.timeout, set_.memory_mb) == (3, 5.0, 0)
    assert set_.booted == 0  # nothing starts until asked
    # a value that does not parse starts nothing early; the settings check names the key
    assert pool_for_overrides({"NEWSARCHIVE_WORKERS": "many"}) is None


def _allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def test_worker_memory_is_bounded_and_the_pool_survives() -> None:
    async def scenario() -> list[object]:
        pool = ExtractionPool(workers=1, timeout=20.0, memory_mb=1024)
        pool.start()
        outcomes: list[object] = []
        try:
            for megabytes in (3000, 10):
                try:
                    outcomes.append(await pool.run(_allocate, megabytes))
                except MemoryError:
                    outcomes.append(MemoryError)
                except WorkerCrashedError:
                    outcomes.append(WorkerCrashedError)
        finally:
            pool.close()
        return outcomes

    first, second = asyncio.run(scenario())
    assert first in (MemoryError, WorkerCrashedError)  # refused, not granted 3 GB
    assert second == 10 * 1024 * 1024  # and the pool still works


def test_workers_send_back_no_raw_body_and_the_archive_keeps_it(tmp_path: Path) -> None:
    """A worker drops a page's uncompressed body once it is hashed and compressed, so the
    crawler process never receives it; the archive still stores the exact bytes and
    their size."""
    from sqlalchemy import text

    from crawler.analysis.page import FetchedPage, PageRules, analyze_page
    from crawler.demo.newspaper import SITE_DIR
    from storage import Archive

    url = "http://127.0.0.1:8000/local/2026/11/comet-lights-up-sky-over-harbor.html"
    body = (SITE_DIR / "local/2026/11/comet-lights-up-sky-over-harbor.html").read_bytes()
    body = body.replace(b"{{BASE}}", b"http://127.0.0.1:8000")
    analysis = analyze_page(FetchedPage("t", url, url, 200, body, "text/html"), PageRules())
    assert analysis.kind == "article" and analysis.prepared is not None
    assert analysis.prepared.record.body == b""
    assert analysis.prepared.body_size() == len(body)
    with Archive(f"sqlite:///{tmp_path / 'a.db'}") as archive:
        (result,) = archive.record_fetches([analysis.prepared])
        assert result.outcome.value == "new_article"
        assert archive.raw_html(url) == body
        with archive.engine.connect() as conn:
            assert conn.execute(text("SELECT size FROM blobs")).scalar() == len(body)
