"""A crawl process started before its run: a queue worker's way to start a run at once.

A crawl spends its first second importing (Scrapy, SQLAlchemy, the database driver) and
starting an extraction worker. A local `crawl` overlaps that with nothing to wait for; a
run published to a worker would pay it after the publisher's own start-up, so a worker
keeps one crawl process started ahead: `python -m crawler crawl --queued-run-on-stdin`
imports what a crawl imports, boots an extraction worker with the project's defaults,
then reads a queued run's id from its standard input and runs it exactly as
`--queued-run N` would (same claim, lease, counters). A closed input, with no id, makes
it exit 0 having touched nothing.

The process is the same child crawl the worker would start (crawler.running.child_crawl),
started earlier; nothing about the run is decided before its id arrives.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import timedelta

from crawler.running.child_crawl import ChildCrawl, crawl_command, spawn_crawl

__all__ = [
    "ON_STDIN",
    "REFILL_DELAY",
    "SpareCrawl",
    "preload_crawl_modules",
    "read_run_id",
]

log = logging.getLogger(__name__)

# The crawl option a spare is started with.
ON_STDIN = "--queued-run-on-stdin"
# Seconds between taking the spare and starting the next one: not while the run just
# handed over starts up, on the cores its own start-up is using.
REFILL_DELAY = 3.0


class SpareCrawl:
    """At most one crawl process waiting for a run, for one worker process.

    Spares are started by one thread that lives as long as the worker: a crawl is told of
    its parent's death when the thread that started it ends (PR_SET_PDEATHSIG), so a
    spare started by a short-lived thread would be stopped as soon as that thread ended.
    """

    def __init__(self, db_url: str, env: Mapping[str, str] | None = None) -> None:
        self.db_url = db_url
        self.env = dict(env or {})
        self._lock = threading.Lock()
        self._waiting: tuple[subprocess.Popen[str], str] | None = None
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._starter = threading.Thread(target=self._keep_one, name="spare-crawl", daemon=True)

    def start(self) -> None:
        """Start the first spare now (when the worker starts), and the next ones after."""
        self._wanted.set()
        self._starter.start()

    def take(self, site: str, run_id: int, max_runtime: timedelta) -> ChildCrawl | None:
        """Hand `run_id` to the waiting crawl; None when there is none alive (the caller
        starts one as usual). The next spare starts REFILL_DELAY seconds later."""
        with self._lock:
            waiting, self._waiting = self._waiting, None
        self._wanted.set()
        if waiting is None:
            return None
        process, tag = waiting
        if process.poll() is None and _hand_over(process, run_id):
            return ChildCrawl.adopt(site, process, tag, max_runtime)
        log.warning("the spare crawl process had exited (status %s)", process.poll())
        _discard(process)
        return None

    def close(self) -> None:
        """Let the waiting crawl go (its input closed, it exits 0); start no other."""
        self._closing.set()
        self._wanted.set()
        if self._starter.is_alive():
            self._starter.join(30)
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            _discard(waiting[0])

    def _keep_one(self) -> None:
        first = True
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if not first and self._closing.wait(REFILL_DELAY):
                return
            if self._closing.is_set():
                return
            first = False
            with self._lock:
                if self._waiting is not None:
                    continue
            command = crawl_command(self.db_url, [ON_STDIN], {})
            try:
                started = spawn_crawl(command, self.env, stdin=subprocess.PIPE)
            except OSError as exc:
                log.warning("could not start a spare crawl process: %s", exc)
                continue
            with self._lock:
                self._waiting = started


def _hand_over(process: subprocess.Popen[str], run_id: int) -> bool:
    assert process.stdin is not None
    try:
        process.stdin.write(f"{run_id}\n")
        process.stdin.close()
    except (BrokenPipeError, OSError):
        return False
    return True


def _discard(process: subprocess.Popen[str]) -> None:
    """Close a spare's input (it exits 0) and collect it; kill one that lingers."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


# ------------------------------------------------------------------ in the spare itself


def preload_crawl_modules(db_url: str) -> None:
    """Import what a crawl imports before its first request, without installing Twisted's
    reactor (the crawl installs the one its settings name)."""
    import importlib

    from crawler import speedups
    from storage.engine import dialect_module, normalize_db_url

    for module in (
        "storage.archive",
        "crawler.running.runner",
        "crawler.running.site_leases",
        "crawler.runtime.settings",
        "scrapy.crawler",
        "spiders.base",
    ):
        importlib.import_module(module)
    speedups.import_without_stack_source("scrapy.core.downloader.handlers.http11")
    try:
        url = normalize_db_url(db_url)
        dialect_module(url.get_backend_name())
        url.get_dialect().import_dbapi()
    except Exception:  # a bad URL is the crawl's to report, in one line
        return


def read_run_id() -> int | None:
    """The run id the worker writes; None when the input closes without one."""
    line = sys.stdin.readline().strip()
    if not line:
        return None
    try:
        run_id = int(line)
    except ValueError:
        return None
    return run_id if run_id > 0 else None
