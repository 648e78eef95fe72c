"""`newsarchive crawl`: crawl sites from the sites file, or bare URLs, in this process."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from crawler import speedups
from crawler.cli.common import (
    MOMENT,
    fail,
    format_option,
    handle_errors,
    load_sites_file,
    print_json,
    setting_overrides,
)
from crawler.config.timespec import format_duration
from crawler.keys import DISCOVERY_MODES, Counter
from crawler.running.exit_codes import EXIT_BUSY, EXIT_FAILURE, EXIT_USAGE

if TYPE_CHECKING:
    from crawler.config.sites import SiteConfig
    from crawler.running.runner import CrawlResult
    from crawler.running.site_leases import SiteLeases
    from crawler.runtime.workers import ExtractionPool

log = logging.getLogger("newsarchive")


@click.command()
@click.argument("targets", nargs=-1, metavar="SITE|URL...")
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="override a Scrapy setting for this run (highest priority, as scrapy crawl -s)",
)
@click.option("--max-pages", type=click.IntRange(1), help="stop requesting pages after N")
@click.option(
    "--since", type=MOMENT, help="skip sitemap/feed items older than this (2d, 2026-11-01)"
)
@click.option("--max-depth", type=click.IntRange(0, 50), help="link-following depth for this run")
@click.option(
    "--discovery",
    type=click.Choice(DISCOVERY_MODES),
    help="fresh: fetch stories, learn the site's URL shapes (default); full: follow every "
    "same-site link to the depth limit (backfill); overrides sites.toml",
)
@click.option(
    "--wait", is_flag=True, help="if a site is being crawled (e.g. by the scheduler), wait for it"
)
@click.option(
    "--queue",
    "to_queue",
    is_flag=True,
    help="publish the runs to the broker's workers (--broker), wait for them and report as a "
    "local crawl would",
)
@click.option("--no-wait", is_flag=True, help="with --queue: print the run ids and return")
@click.option(
    "--queued-run",
    type=click.IntRange(1),
    hidden=True,
    help="run this queued run (how a queue worker runs one; docs/deploy.md)",
)
@click.option(
    "--queued-run-on-stdin",
    "run_on_stdin",
    is_flag=True,
    hidden=True,
    help="start up, then run the queued run whose id comes on stdin (a worker's spare)",
)
@format_option("text", "json")
@click.pass_context
@handle_errors
def crawl(
    ctx: click.Context,
    targets: tuple[str, ...],
    settings: tuple[str, ...],
    max_pages: int | None,
    since: datetime | None,
    max_depth: int | None,
    discovery: str | None,
    wait: bool,
    to_queue: bool,
    no_wait: bool,
    queued_run: int | None,
    run_on_stdin: bool,
    fmt: str,
) -> None:
    """Crawl sites from the sites file, or bare URLs (an ad-hoc site on that one host).

    Exit status 0 when every run finished, even with page-level errors (they are
    counted); 1 when a run failed (e.g. the database), 2 for bad arguments or config, 3 when
    a site is already being crawled (by the scheduler or another command; see --wait).
    """
    from crawler.config.sites import SitesConfigError, resolve_targets
    from crawler.running.child_crawl import stop_once_on_hangup
    from crawler.runtime.workers import pool_for_overrides

    stop_once_on_hangup()
    spare_pool = None
    if run_on_stdin:
        if targets or queued_run is not None:
            fail("--queued-run-on-stdin takes no SITE|URL nor --queued-run", EXIT_USAGE)
        spare_pool, queued_run = _wait_for_run(ctx.obj["db"])
    overrides = setting_overrides(settings)
    if queued_run is not None:
        if targets:
            fail("--queued-run takes no SITE|URL: the run names its site", EXIT_USAGE)
        configs, overrides = _queued_site(ctx.obj["db"], queued_run, overrides)
    elif not targets:
        fail("missing SITE|URL...: name a site of the sites file, or a URL", EXIT_USAGE)
    else:
        needs_file = any("://" not in target for target in targets)
        sites = load_sites_file(ctx, required=needs_file)
        try:
            configs = resolve_targets(targets, sites)
        except SitesConfigError as exc:
            fail(str(exc), EXIT_USAGE)
    if discovery is not None:
        configs = [replace(c, discovery=discovery) for c in configs]
    if max_depth is not None:
        configs = [replace(c, max_depth=max_depth) for c in configs]
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        fail("the same site is named twice", EXIT_USAGE)
    if no_wait and not to_queue:
        fail("--no-wait goes with --queue", EXIT_USAGE)
    if to_queue:
        _publish(ctx, configs, overrides, max_pages, since, wait, no_wait, fmt)
        return
    # One extraction worker starts now, on the core this process's imports (Scrapy,
    # SQLAlchemy: most of the start-up) leave idle; the others start with the engine.
    pool = pool_for_overrides(overrides)
    if spare_pool is not None:
        if pool is not None and pool.spec == spare_pool.spec:
            pool = spare_pool
        else:
            spare_pool.close_unused()
    if pool is not None and speedups.boot_a_worker_first():
        pool.boot(1)
    try:
        _crawl(ctx, configs, overrides, max_pages, since, wait, fmt, pool, queued_run)
    finally:
        if pool is not None:
            pool.close_unused()


def _wait_for_run(db_url: str) -> tuple[ExtractionPool | None, int]:
    """A worker's spare crawl (crawler.running.spare_crawl): start up as a crawl does,
    then take the queued run whose id comes on stdin; exit 0 if none comes."""
    from crawler.running.spare_crawl import preload_crawl_modules, read_run_id
    from crawler.runtime.workers import pool_for_overrides

    pool = pool_for_overrides({})
    if pool is not None and speedups.boot_a_worker_first():
        pool.boot(1)
    preload_crawl_modules(db_url)
    run_id = read_run_id()
    if run_id is None:
        if pool is not None:
            pool.close_unused()
        sys.exit(0)
    return pool, run_id


def _crawl(
    ctx: click.Context,
    configs: list[SiteConfig],
    overrides: dict[str, str],
    max_pages: int | None,
    since: datetime | None,
    wait: bool,
    fmt: str,
    pool: ExtractionPool | None,
    queued_run: int | None = None,
) -> None:
    from crawler.config.sites import SitesConfigError
    from crawler.running.runner import build_settings, run_crawls
    from crawler.running.site_leases import SiteBusyError, SiteLeases
    from storage.archive import Archive

    names = [c.name for c in configs]
    verbose = ctx.obj.get("verbose", 0)
    try:
        scrapy_settings = build_settings(
            ctx.obj["db"],
            overrides,
            sites_path=ctx.obj["sites"],
            max_pages=max_pages,
            log_level=("WARNING", "INFO", "DEBUG")[min(verbose, 2)],
        )
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    # Open (and migrate) the archive once up front: a bad --db fails here, in one line.
    Archive(ctx.obj["db"]).close()
    leases = SiteLeases(ctx.obj["db"], names)
    try:
        leases.acquire(
            wait=wait,
            on_wait=lambda busy: click.echo(f"waiting: {busy}", err=True),
        )
    except SiteBusyError as exc:
        fail(f"{exc}; try again later or use --wait", EXIT_BUSY)
    try:
        _interrupt_orphaned_runs(ctx.obj["db"], names, leases.holder)
        if queued_run is not None:
            _claim(ctx.obj["db"], queued_run, leases.holder)
        results = run_crawls(
            configs, scrapy_settings, since=since, progress=sys.stderr.isatty(), pool=pool
        )
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    finally:
        _release_leases(leases)
    ctx.obj["exit_at_once"] = True
    _report(results, fmt)


def _publish(
    ctx: click.Context,
    configs: list[SiteConfig],
    overrides: dict[str, str],
    max_pages: int | None,
    since: datetime | None,
    wait: bool,
    no_wait: bool,
    fmt: str,
) -> None:
    """`crawl --queue`: the runs go to the workers; the exit status is a local crawl's."""
    from crawler.config.sites import SitesConfigError, check_setting_value
    from crawler.distributed.publisher import BrokerError, Publisher
    from crawler.distributed.waiting import wait_for_runs
    from crawler.keys import Setting
    from crawler.running.runner import CrawlResult
    from storage.archive import Archive

    broker = ctx.obj.get("broker")
    if not broker:
        fail("--queue needs a broker: give --broker URL or set NEWSARCHIVE_BROKER", EXIT_USAGE)
    if since is not None or wait:
        fail("--since and --wait are for local crawls, not with --queue", EXIT_USAGE)
    try:  # bad -s values fail here with exit 2, as a local crawl's do, not on a worker
        for name, value in overrides.items():
            check_setting_value(name, value, f"-s {name}")
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    # Not build_settings: the worker's crawl builds Scrapy's settings, and importing
    # Scrapy here, on every publish's start-up path, is needed only for -s values.
    if max_pages is not None:
        overrides = {**overrides, Setting.MAX_PAGES: str(max_pages)}
    Archive(ctx.obj["db"]).close()  # a bad --db fails here, in one line
    publisher = Publisher(broker, ctx.obj["db"])
    try:
        publisher.check()
        run_ids = publisher.publish(configs, "manual", overrides)
    except BrokerError as exc:
        fail(str(exc), EXIT_FAILURE)
    ctx.obj["exit_at_once"] = True
    if no_wait:
        if fmt == "json":
            print_json(
                [{"site": c.name, "run_id": r} for c, r in zip(configs, run_ids, strict=True)]
            )
        else:
            for config, run_id in zip(configs, run_ids, strict=True):
                click.echo(f"{run_id}\t{config.name}")
        return

    def progress(run: Any) -> None:
        where = f" on {run.worker}" if run.worker else ""
        attempt = f" (attempt {run.attempt})" if run.attempt > 1 else ""
        click.echo(f"run {run.id} {run.site}: {run.status}{where}{attempt}", err=True)

    ended = wait_for_runs(ctx.obj["db"], run_ids, on_change=progress)
    results = [CrawlResult(r.site, r.id, r.status, r.counters, error=r.error) for r in ended]
    _report(results, fmt)


def _report(results: list[CrawlResult], fmt: str) -> None:
    """The summary lines, errors and JSON of finished runs; exit 1 if one did not succeed."""
    for result in results:
        click.echo(summary_line(result), err=True)
    for result in results:
        if result.error:
            click.echo(f"error: {result.site}: {result.error}", err=True)
    if fmt == "json":
        print_json(
            [
                {
                    "site": r.site,
                    "run_id": r.run_id,
                    "status": r.status,
                    "reason": r.reason,
                    "error": r.error,
                    "counters": r.counters,
                }
                for r in results
            ]
        )
    if any(r.status != "succeeded" for r in results):
        sys.exit(EXIT_FAILURE)


def _queued_site(
    db_url: str, run_id: int, overrides: dict[str, str]
) -> tuple[list[SiteConfig], dict[str, str]]:
    """The site and settings of a queued run, read from the archive (a worker's crawl)."""
    from crawler.config.sites import SitesConfigError
    from crawler.distributed.run_request import read_request
    from crawler.keys import Setting
    from storage.archive import Archive

    with Archive(db_url) as archive:
        attempt = archive.latest_attempt(run_id)
    if attempt is None or attempt.id != run_id:
        fail(f"run {run_id}: no such queued run in this archive", EXIT_USAGE)
    if attempt.status != "queued":
        fail(f"run {run_id} is {attempt.status}, not queued", EXIT_BUSY)
    try:
        request = read_request(attempt.request)
    except SitesConfigError as exc:
        fail(f"run {run_id}: {exc}", EXIT_USAGE)
    return [request.site], {**request.settings, **overrides, Setting.RUN_ID: str(run_id)}


def _claim(db_url: str, run_id: int, holder: str) -> None:
    """Queued -> running, now that this crawl holds the site's lease; a copy of the same
    message that another worker got first leaves nothing to do here."""
    import os

    from crawler.keys import Env
    from storage.archive import Archive

    with Archive(db_url, migrate=False) as archive:
        claimed = archive.claim_run(run_id, os.environ.get(Env.WORKER_NAME) or holder)
    if not claimed:
        fail(f"run {run_id} was taken by another process", EXIT_BUSY)


def _interrupt_orphaned_runs(db_url: str, sites: list[str], holder: str) -> None:
    """Runs of these sites left `running` by a crawl that died (SIGKILL, OOM killer, power
    cut) are marked interrupted, now that this crawl holds the sites' leases: no live
    crawl can own them, and without this they would stay `running` for good unless a
    scheduling service happened to start."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.archive import Archive
    from storage.engine import describe_error

    try:
        with Archive(db_url, migrate=False) as archive:
            for run_id, site in archive.interrupt_orphaned_runs(sites, holder=holder):
                log.warning("run %s of %s had no live crawl: marked interrupted", run_id, site)
    except SQLAlchemyError as exc:  # housekeeping: the crawl itself may still go on
        log.warning("could not close the runs of dead crawls: %s", describe_error(exc))


def _release_leases(leases: SiteLeases) -> None:
    """Give the sites' leases back. One that cannot be (the database stopped taking writes:
    a full disk) lapses by itself within its time to live, and must not hide how the
    crawl went behind a database error."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.engine import describe_error

    try:
        leases.release()
    except SQLAlchemyError as exc:
        log.warning(
            "could not release the crawl leases (they lapse within %s): %s",
            format_duration(leases.ttl),
            describe_error(exc),
        )


def summary_line(result: CrawlResult) -> str:
    """One line per run for logs and pipes: the counters people look at first."""
    c = result.counters
    errors = sum(c.get(Counter.ERRORS, {}).values())
    return (
        f"run {result.run_id} {result.site}: {result.status}; "
        f"{c.get(Counter.PAGES_FETCHED, 0)} pages, "
        f"{c.get(Counter.ARTICLES_NEW, 0)} new, {c.get(Counter.ARTICLES_CHANGED, 0)} changed, "
        f"{c.get(Counter.ARTICLES_UNCHANGED, 0)} unchanged "
        f"({c.get(Counter.CHECKED_304, 0)} by 304), "
        + (
            f"{c[Counter.ARTICLES_REEXTRACTED]} re-extracted, "
            if c.get(Counter.ARTICLES_REEXTRACTED)
            else ""
        )
        + f"{c.get(Counter.NOT_ARTICLE, 0)} not articles, {errors} errors"
        + (f" {_flat(c.get(Counter.ERRORS, {}))}" if errors else "")
        + f"; {discovery_summary(c)}"
        + "".join(f"; WARNING: {flag}" for flag in c.get("flags", []))
    )


def discovery_summary(counters: Mapping[str, Any]) -> str:
    """What discovery cost: requests, requests per story, links left out by each rule."""
    requests = counters.get(Counter.REQUESTS, 0)
    per_story = counters.get(Counter.REQUESTS_PER_STORY)
    skipped = {k: v for k, v in counters.get(Counter.SKIPPED, {}).items() if v}
    text = f"{requests} requests" + (f" ({per_story} per story)" if per_story else "")
    if skipped:
        text += f", {sum(skipped.values())} skipped {_flat(skipped)}"
    return text


def _flat(values: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in sorted(values.items())) + ")"
