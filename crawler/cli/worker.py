"""`newsarchive worker`: run queued site runs from the broker (docs/deploy.md)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta

import click

from crawler.cli.common import DURATION, fail, handle_errors
from crawler.running.exit_codes import EXIT_FAILURE, EXIT_USAGE


@click.command()
@click.option(
    "--concurrency", "-c", type=click.IntRange(1, 512), default=None,
    help="site runs at once (default: the number of cores)",
)  # fmt: skip
@click.option("--name", "-n", help="this worker's name, recorded with its runs (default: HOST)")
@click.option(
    "--grace", type=DURATION, default="30s", show_default=True,
    help="on SIGTERM/SIGINT, how long running crawls get to finish before they are handed back",
)  # fmt: skip
@click.option(
    "--spare/--no-spare", default=True, show_default=True,
    help="keep one crawl process started ahead, so a run starts the moment it arrives "
    "(--no-spare saves that process's memory)",
)  # fmt: skip
@click.pass_context
@handle_errors
def worker(
    ctx: click.Context, concurrency: int | None, name: str | None, grace: timedelta, spare: bool
) -> None:
    """Run queued site runs from the broker until SIGTERM or SIGINT (logs to stderr).

    Each run is the same child crawl a single machine runs, writing to this worker's
    --db (the scheduler's archive). SIGTERM or SIGINT: no new runs; running crawls get
    --grace to finish, then are stopped and handed back to the queue; exit 0.
    """
    from crawler.distributed.publisher import BrokerError
    from crawler.distributed.worker_process import run_worker
    from storage.archive import Archive

    broker = ctx.obj.get("broker")
    if not broker:
        fail("no broker: give --broker URL or set NEWSARCHIVE_BROKER", EXIT_USAGE)
    if ctx.obj.get("verbose", 0) == 0:
        logging.getLogger("newsarchive").setLevel(logging.INFO)
    Archive(ctx.obj["db"]).close()  # a bad --db fails now, in one line
    try:
        code = run_worker(
            broker,
            ctx.obj["db"],
            concurrency=concurrency or os.cpu_count() or 1,
            name=name,
            grace=grace,
            spare=spare,
        )
    except BrokerError as exc:
        fail(str(exc), EXIT_FAILURE)
    sys.exit(code)
