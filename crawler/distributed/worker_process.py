"""A Celery worker for site runs, in this process: `newsarchive worker`.

A site run spends its time in a child crawl, so the worker's pool is threads, each
waiting on one child: N runs at once cost N crawl processes, not 2N. One more crawl
process waits, started ahead, for the next run (crawler.running.spare_crawl), unless
--no-spare. Gossip and mingle are off (workers share nothing but the queue and the
archive).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from datetime import timedelta

from crawler.distributed import site_task
from crawler.distributed.celery_app import QUEUE, configure
from crawler.distributed.publisher import Publisher
from crawler.keys import Env
from crawler.running.spare_crawl import SpareCrawl

__all__ = ["run_worker"]


def run_worker(
    broker: str,
    db_url: str,
    *,
    concurrency: int,
    name: str | None,
    grace: timedelta,
    spare: bool = True,
) -> int:
    """Serve until a warm shutdown; the process's exit status."""
    Publisher(broker, db_url).check()  # an unreachable broker: one line, not retries forever
    app = configure(broker)
    hostname = name or socket.gethostname()
    if "@" not in hostname:
        hostname = f"newsarchive@{hostname}"
    site_task.CONTEXT.db_url = db_url
    site_task.CONTEXT.name = hostname
    site_task.CONTEXT.grace = grace
    ahead = SpareCrawl(db_url, env={Env.WORKER_NAME: hostname}) if spare else None
    site_task.CONTEXT.spare = ahead
    worker = app.Worker(
        hostname=hostname,
        concurrency=concurrency,
        pool="threads",
        queues=[QUEUE],
        loglevel="INFO",
        without_gossip=True,
        without_mingle=True,
        optimization="fair",
        quiet=True,  # no banner: stdout is for data, as in every command
    )
    # Celery writes its shutdown notices straight to file descriptor 1; logs and notices
    # belong on stderr, so for the worker's life descriptor 1 is stderr.
    saved = os.dup(1)
    os.dup2(2, 1)
    if ahead is not None:
        ahead.start()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            worker.start()
    finally:
        if ahead is not None:
            ahead.close()
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)
    if site_task.CONTEXT.stopping.is_set():
        return 0  # stopped by SIGTERM or SIGINT: Celery reports SIGINT as a failure
    return int(getattr(worker, "exitcode", 0) or 0)
