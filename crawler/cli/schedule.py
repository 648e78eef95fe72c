"""`newsarchive schedule run|list|trigger`: the scheduling service and its jobs."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

import click

from crawler.cli.common import (
    DURATION,
    fail,
    fmt_time,
    format_option,
    handle_errors,
    print_json,
    setting_overrides,
)
from crawler.running.exit_codes import EXIT_FAILURE, EXIT_USAGE


@click.group()
def schedule() -> None:
    """The scheduling service: run it, see what it will do, make a site run now."""


@schedule.command("run")
@click.option(
    "--grace", type=DURATION, default="30s", show_default=True,
    help="on SIGTERM/SIGINT, how long running crawls get to finish",
)  # fmt: skip
@click.option(
    "--misfire-grace", type=DURATION, default="5m", show_default=True,
    help="a run missed by less than this (service down, machine asleep) still runs, once",
)  # fmt: skip
@click.option(
    "-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="a setting passed to every scheduled crawl (as crawl -s)",
)  # fmt: skip
@click.option(
    "--requeue-after", type=DURATION, default="10m", show_default=True,
    help="with --broker: a run still queued this long after it was published is published "
    "again (the broker may have lost it)",
)  # fmt: skip
@click.pass_context
@handle_errors
def schedule_run(
    ctx: click.Context,
    grace: timedelta,
    misfire_grace: timedelta,
    settings: tuple[str, ...],
    requeue_after: timedelta,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT (logs to stderr).

    With --broker (or NEWSARCHIVE_BROKER) due runs are published to `newsarchive worker`s
    instead of crawled here, and a second service on the same archive waits as a standby
    that takes over when the active one stops.
    """
    from crawler.config.sites import SitesConfigError
    from crawler.distributed.publisher import BrokerError
    from scheduler import SchedulerService, ServiceBusyError

    if ctx.obj.get("verbose", 0) == 0:
        logging.getLogger("newsarchive").setLevel(logging.INFO)
    service = SchedulerService(
        ctx.obj["db"],
        ctx.obj["sites"],
        grace=grace,
        misfire_grace=misfire_grace,
        settings=setting_overrides(settings),
        broker=ctx.obj.get("broker"),
        requeue_after=requeue_after,
    )
    try:
        code = service.run()
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except BrokerError as exc:
        fail(str(exc), EXIT_FAILURE)
    except ServiceBusyError as exc:
        fail(str(exc), EXIT_FAILURE)
    sys.exit(code)


@schedule.command("list")
@format_option("table", "json")
@click.pass_context
@handle_errors
def schedule_list(ctx: click.Context, fmt: str) -> None:
    """Each site: schedule, next run, last run and its status, health flags."""
    from crawler.config.sites import SitesConfigError
    from scheduler import schedule_status

    try:
        rows = schedule_status(ctx.obj["db"], ctx.obj["sites"])
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if fmt == "json":
        print_json(rows)
        return
    from crawler.cli.tables import OutputTable

    table = OutputTable(("site", "schedule", "next run", "last run", "status", "flags"))
    for row in rows:
        status = row["last_status"] or "-"
        active = row["active_run"]
        if active and active["status"] == "queued":
            status += f" (run {active['id']} queued)"
        elif active and active["worker"]:
            status += f" (running on {active['worker']})"
        elif row["lease"]:
            status += " (crawling now)"
        table.add_row(
            row["site"],
            row["schedule"] or "-",
            fmt_time(row["next_run"]) if row["next_run"] else row["job"],
            fmt_time(row["last_run"]),
            status,
            ", ".join(row["flags"]) or "-",
        )
    table.print()


@schedule.command("trigger")
@click.argument("site")
@click.pass_context
@handle_errors
def schedule_trigger(ctx: click.Context, site: str) -> None:
    """Make SITE's scheduled job due now: the running service starts it (no overlap)."""
    from crawler.config.sites import SitesConfigError
    from scheduler import POLL_SECONDS, trigger_site

    try:
        service = trigger_site(ctx.obj["db"], ctx.obj["sites"], site)
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if service is None:
        click.echo(
            f"{site}: due now, but no scheduling service runs on this database: it runs "
            "when `newsarchive schedule run` starts (within its --misfire-grace)",
            err=True,
        )
    else:
        click.echo(
            f"{site}: due now; the service ({service}) starts it within {POLL_SECONDS:g} s "
            "(unless it is being crawled already)",
            err=True,
        )
