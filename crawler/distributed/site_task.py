"""The Celery task of a site run: judge the run's record, then run the same child crawl as
the local scheduling service (crawler.running.child_crawl).

A message can arrive more than once (the broker redelivers a run whose worker died; the
scheduler publishes again a run a lost message left queued), so the task first reads
the run's newest attempt in the archive and acts on it:

| newest attempt | what the task does |
| --- | --- |
| queued | runs it; its crawl claims it once it holds the lease: two copies never both run |
| running, its site's lease alive | nothing: it runs elsewhere |
| running, no lease | its worker was lost: closes it as interrupted, runs the next attempt |
| interrupted, not final | the same (a worker died or handed it back at shutdown) |
| interrupted final, succeeded, failed | nothing |

After its crawl, the task records what the crawl could not (a refused configuration as
failed, a crawl's death as interrupted), always conditionally on the run's state, and
runs the next attempt itself when the crawl was cut short: a message ends with its run
over, or handed back. A run stops for good after MAX_ATTEMPTS attempts, when it exceeds
its `max_runtime`, or when its site is being crawled by someone else (those are
"final").
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crawler.config.sites import SitesConfigError
from crawler.config.timespec import format_duration
from crawler.distributed.celery_app import TASK_NAME, app
from crawler.distributed.run_request import read_request
from crawler.keys import Env
from crawler.running.child_crawl import ChildCrawl, crawl_command
from crawler.running.exit_codes import EXIT_BUSY
from crawler.running.spare_crawl import SpareCrawl

__all__ = [
    "DEFAULT_GRACE",
    "FINAL_MARKS",
    "MAX_ATTEMPTS",
    "WorkerContext",
    "execute_run",
    "run_is_over",
    "run_site",
]

log = logging.getLogger("newsarchive.worker")

MAX_ATTEMPTS = 3
DEFAULT_GRACE = timedelta(seconds=30)
# Errors of interrupted runs that must not be attempted again.
NOT_RUN = "not run: "
OVER_TIME = "max_runtime: "
FINAL_MARKS = (NOT_RUN, OVER_TIME)


@dataclass
class WorkerContext:
    """What the worker process knows that a message does not: its archive, its name, how
    long a running crawl may finish after the worker was asked to stop."""

    db_url: str = field(default_factory=lambda: os.environ.get(Env.DB, "sqlite:///archive.db"))
    name: str | None = None
    grace: timedelta = DEFAULT_GRACE
    stopping: threading.Event = field(default_factory=threading.Event)
    # A crawl process started ahead of its run (`newsarchive worker` keeps one).
    spare: SpareCrawl | None = None


# Set by `newsarchive worker`; a worker started by `celery -A ... worker` uses the defaults.
CONTEXT = WorkerContext()


class HandedBack(Exception):
    """The worker stopped before the run finished: the run goes back to the queue."""


@app.task(name=TASK_NAME, bind=True)
def run_site(self: Any, run_id: int, request: Any) -> str:
    """A queued run, by its id in the archive and its request (crawler.distributed)."""
    from celery.exceptions import Reject

    worker = CONTEXT.name or getattr(self.request, "hostname", None) or "worker"
    try:
        return execute_run(CONTEXT, run_id, request, worker)
    except HandedBack:
        raise Reject("the worker is stopping", requeue=True) from None


def execute_run(context: WorkerContext, run_id: int, document: Any, worker: str) -> str:
    """Run (or not) the queued run `run_id`; a word on what happened, for the log."""
    from storage.archive import Archive

    with Archive(context.db_url) as archive:
        attempt = archive.latest_attempt(run_id)
        if attempt is None:
            log.error(
                "run %s is not in this worker's archive (%s): is --db the scheduler's?",
                run_id,
                context.db_url,
            )
            return "unknown run"
        try:
            request = read_request(document)
        except SitesConfigError as exc:
            log.error("run %s: invalid request: %s", run_id, exc)
            archive.finish_run_if(attempt.id, ["queued"], "failed", f"invalid run request: {exc}")
            return "invalid"
        target = _attempt_to_run(archive, attempt)
    outcome = "nothing to do"
    site = request.site
    max_runtime = site.run_limit
    while target is not None:
        child = context.spare.take(site.name, target, max_runtime) if context.spare else None
        how = "in the crawl process started ahead"
        if child is None:
            command = crawl_command(context.db_url, ["--queued-run", str(target)], {})
            env = {Env.WORKER_NAME: worker}
            child = ChildCrawl.start(site.name, command, max_runtime, env=env)
            how = "in a new crawl process"
        log.info(
            "run %s of %s starting %s (attempt of run %s)", target, site.name, how, attempt.first
        )
        status = _supervise(child, context, target, max_runtime)
        _after_exit(context.db_url, child, target, status)
        outcome = f"status {status}"
        if context.stopping.is_set():
            if status != 0 and _retryable(context.db_url, target):
                log.warning("run %s of %s handed back: the worker is stopping", target, site.name)
                raise HandedBack
            break
        # An attempt cut short here (its crawl crashed or lost its lease) is attempted
        # again now: this message is the run's only one, and is acknowledged on return.
        with Archive(context.db_url) as archive:
            latest = archive.latest_attempt(target)
            target = None
            if latest is not None and latest.status == "interrupted" and not run_is_over(latest):
                target = _attempt_to_run(archive, latest)
    return outcome


def run_is_over(attempt: Any) -> bool:
    """Whether this newest attempt ends its run: nothing more will be attempted."""
    if attempt.status in ("succeeded", "failed"):
        return True
    if attempt.status == "interrupted":
        final = (attempt.error or "").startswith(FINAL_MARKS)
        return final or attempt.attempt >= MAX_ATTEMPTS
    return False


def _attempt_to_run(archive: Any, attempt: Any) -> int | None:
    """The id of the attempt to run now, recording a new one if needed; None: nothing."""
    if attempt.status == "queued":
        return int(attempt.id)
    if attempt.status == "running":
        lease = archive.lease(attempt.site)
        if lease is not None:
            log.info("run %s of %s runs already (%s)", attempt.id, attempt.site, lease.holder)
            return None
        reason = "its worker was lost"
    elif attempt.status == "interrupted" and not (attempt.error or "").startswith(FINAL_MARKS):
        reason = attempt.error or "interrupted"
    else:
        return None
    if attempt.attempt >= MAX_ATTEMPTS:
        log.warning("run %s of %s: %d attempts, no more", attempt.first, attempt.site, MAX_ATTEMPTS)
        if attempt.status == "running":
            archive.finish_run(attempt.id, "interrupted", {}, f"{reason}; no attempt left")
        return None
    return int(archive.retry_run(attempt, reason))


def _supervise(
    child: ChildCrawl, context: WorkerContext, run_id: int, max_runtime: timedelta
) -> int:
    """Relay the child's log until it exits; stop it past its max_runtime, or once the
    worker has been stopping for longer than its grace period."""
    relay = threading.Thread(
        target=child.relay_log,
        args=(logging.getLogger(f"newsarchive.worker.{child.site}"),),
        daemon=True,
    )
    relay.start()
    stop_at: float | None = None
    while child.running():
        relay.join(0.2)
        if child.past_deadline() and not child.stopping:
            log.warning("run %s of %s exceeded its max_runtime: stopping it", run_id, child.site)
            child.stopping = True
            child.stop()
            _mark_over_time(context.db_url, run_id, max_runtime)
        elif context.stopping.is_set() and not child.stopping:
            import time

            now = time.monotonic()
            stop_at = stop_at or now + context.grace.total_seconds()
            if now >= stop_at:
                child.stopping = True
                child.stop()
    relay.join(5)
    return child.process.wait()


def _mark_over_time(db_url: str, run_id: int, max_runtime: timedelta) -> None:
    """Mark the run its crawl recorded as interrupted (or has not yet) as final: stopped
    at its max_runtime. A crawl that finished at the deadline keeps its own end."""
    from storage.archive import Archive

    error = f"{OVER_TIME}stopped after {format_duration(max_runtime)}"
    with Archive(db_url) as archive:
        archive.finish_run_if(run_id, ["running", "interrupted"], "interrupted", error)


# How long a duplicate's crawl, refused because the site's lease is taken, waits before
# judging who holds it: the crawl that took the lease for this very run claims it within
# a second or two of taking it.
BUSY_RECHECK_SECONDS = 5.0


def _after_exit(db_url: str, child: ChildCrawl, run_id: int, status: int) -> None:
    """Record what a child could not: its death, a run it refused, a site crawled by
    someone else. Every write is conditional on the run's state, so it never overwrites
    the end a crawl recorded, nor a run another worker has claimed meanwhile."""
    import time

    from storage.archive import Archive

    if status in (0, 1):
        return
    if status == EXIT_BUSY:
        # Another copy of this run's message may be running it: its crawl holds the lease
        # and claims the run in a moment. Only a run still queued after that is refused.
        time.sleep(BUSY_RECHECK_SECONDS)
        with Archive(db_url) as archive:
            lease = archive.lease(child.site)
            who = f" by {lease.holder}" if lease else " by another process"
            error = f"{NOT_RUN}the site was being crawled{who}"
            if archive.finish_run_if(run_id, ["queued"], "interrupted", error):
                log.warning("run %s of %s %s", run_id, child.site, error)
        return
    if status > 0:  # refused its configuration (2), or failed before recording its end
        reason = f"the crawl process exited with status {status} (see the worker's log)"
        with Archive(db_url) as archive:
            archive.finish_run_if(run_id, ["queued", "running"], "failed", reason)
        return
    child.record_abnormal_exit(db_url, status)


def _retryable(db_url: str, run_id: int) -> bool:
    from storage.archive import Archive

    with Archive(db_url) as archive:
        run = archive.run(run_id)
    return (
        run is not None
        and run.status in ("queued", "running", "interrupted")
        and not (run.error or "").startswith(FINAL_MARKS)
    )


def _on_worker_shutting_down(**_: Any) -> None:
    """Celery's warm shutdown waits for running tasks: ours finish within the grace
    period, or stop their crawl and hand the run back."""
    CONTEXT.stopping.set()


def _connect_signals() -> None:
    from celery.signals import worker_shutting_down

    worker_shutting_down.connect(_on_worker_shutting_down, weak=False)


_connect_signals()
