"""The scheduling service: every configured site crawled on its own schedule, unattended.

APScheduler 3 keeps the jobs in the archive database (SQLAlchemy job store), so next run
times and misfires survive restarts. A job names a top-level function by import path
(`scheduler:run_site`) with the site's name as its only argument: nothing pickled can go
stale when the code changes. At start the stored jobs are reconciled with sites.toml.

Each run is a child process (`newsarchive crawl SITE`, trigger `scheduled`), because
Twisted's reactor cannot be restarted in one process; its log lines are relayed into the
service log. No overlap: APScheduler runs at most one instance of a site's job, and the
site lease in the database (taken by the child) also keeps a manual `newsarchive crawl`
out, and this service's run out while a manual crawl holds it.

SIGTERM or SIGINT: no new runs start, running crawls get a grace period to finish, then are
stopped (their runs are marked interrupted), and the service exits 0. A second signal
stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from crawler.config.schedules import parse_schedule
from crawler.config.sites import DEFAULT_MAX_RUNTIME, SiteConfig, SitesConfigError, load_sites
from crawler.config.timespec import format_duration
from crawler.running.child_crawl import ChildCrawl, crawl_command
from crawler.running.exit_codes import EXIT_BUSY

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_RUNTIME",
    "JOB_PREFIX",
    "SchedulerService",
    "job_id",
    "open_scheduler",
    "run_site",
]

log = logging.getLogger("newsarchive.scheduler")

JOB_PREFIX = "site:"
JOB_TABLE = "scheduler_jobs"
DEFAULT_GRACE = timedelta(seconds=30)
DEFAULT_MISFIRE_GRACE = timedelta(minutes=5)
# With a broker: a run still queued this long after it was published is published again
# (the broker may have lost it: a Redis restart without persistence).
DEFAULT_REQUEUE_AFTER = timedelta(minutes=10)
# How often a standby service tries to take over, and the active one looks for lost runs.
STANDBY_POLL = 1.0
REQUEUE_CHECK_SECONDS = 10.0
# How often the service looks at the job store for jobs changed by another process
# (`newsarchive schedule trigger`).
POLL_SECONDS = 2.0
# The lease that makes one database have one scheduling service (not a valid site name).
SERVICE_LEASE = "__scheduler__"


class ServiceBusyError(RuntimeError):
    """Another scheduling service already runs on this database."""


def job_id(site: str) -> str:
    return JOB_PREFIX + site


def _job_store(engine: Any) -> Any:
    """APScheduler's SQLAlchemy job store, its calls retried by the archive's policy.

    APScheduler 3 does not catch a failed job-store write in its scheduling thread: one
    "database is locked" or a PostgreSQL failover would end scheduling for good while the
    process looks healthy. Each call is retried like every other database transaction
    (storage.retries).
    """
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from storage.retries import with_retries

    def retrying(method: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            # The service has opened the archive already: a refused connection is an outage.
            return with_retries(
                lambda: method(self, *args, **kwargs), what="job store", reconnect=True
            )

        return call

    names = ("lookup_job", "get_due_jobs", "get_next_run_time", "get_all_jobs", "add_job",
             "update_job", "remove_job")  # fmt: skip
    store_class = type(
        "RetryingJobStore",
        (SQLAlchemyJobStore,),
        {name: retrying(getattr(SQLAlchemyJobStore, name)) for name in names},
    )
    return store_class(engine=engine, tablename=JOB_TABLE)


def _quiet_at_shutdown(base: type[Any]) -> type[Any]:
    """APScheduler 3's scheduler, without a job submitted while it shuts down.

    `shutdown()` marks the scheduler stopped, shuts its executors down, then wakes its
    thread to let it end; the thread, woken, processes the jobs that fell due meanwhile
    (a stop waits up to --grace for running crawls: jobs do fall due) before it checks the
    state, and each is a logged traceback, "cannot schedule new futures after shutdown".
    Paused, it would have skipped them; stopped must too.
    """
    from apscheduler.schedulers.base import STATE_STOPPED

    class QuietAtShutdown(base):  # type: ignore[misc]
        def _process_jobs(self) -> float | None:
            if self.state == STATE_STOPPED:
                return None
            result: float | None = super()._process_jobs()
            return result

    return QuietAtShutdown


def open_scheduler(db_url: str, *, misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE) -> Any:
    """An APScheduler BackgroundScheduler on the archive database (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    from storage.engine import build_engine

    return _quiet_at_shutdown(BackgroundScheduler)(
        jobstores={"default": _job_store(build_engine(db_url))},
        executors={"default": ThreadPoolExecutor(max_workers=32)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(misfire_grace.total_seconds()),
        },
        timezone=UTC,
    )


@dataclass
class SchedulerService:
    """The long-running service behind `newsarchive schedule run`."""

    db_url: str
    sites_path: str
    grace: timedelta = DEFAULT_GRACE
    misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE
    settings: Mapping[str, str] = field(default_factory=dict)
    # With a broker, due runs are published to workers (crawler.distributed) instead of
    # run here, and a second service waits as a standby instead of exiting.
    broker: str | None = None
    requeue_after: timedelta = DEFAULT_REQUEUE_AFTER
    sites: dict[str, SiteConfig] = field(default_factory=dict)
    publisher: Any = None
    _children: dict[str, ChildCrawl] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _signals: int = 0
    scheduler: Any = None

    # ---------------------------------------------------------------- set-up

    def load(self) -> dict[str, SiteConfig]:
        """Read sites.toml; every schedule is validated there (sites.NAME.schedule: ...)."""
        self.sites = load_sites(self.sites_path)
        scheduled = {n: s for n, s in self.sites.items() if s.schedule}
        if not scheduled:
            raise SitesConfigError(
                f'{self.sites_path}: no site has a schedule (set schedule = "every 30m" per '
                "site or in [defaults])"
            )
        return scheduled

    def reconcile(self, scheduler: Any, scheduled: Mapping[str, SiteConfig]) -> dict[str, str]:
        """Make the stored jobs match sites.toml; what happened to each site, by name.

        An unchanged schedule keeps its stored job (and so its next run time) but takes
        this start's job options (misfire grace); a changed one is rescheduled; a site no
        longer scheduled loses its job. A new interval site runs at once rather than
        after its first interval.
        """
        from apscheduler.triggers.interval import IntervalTrigger

        options = {
            "misfire_grace_time": int(self.misfire_grace.total_seconds()),
            "coalesce": True,
            "max_instances": 1,
        }
        done: dict[str, str] = {}
        stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
        for name, site in scheduled.items():
            trigger = parse_schedule(site.schedule or "")
            job = stored.pop(job_id(name), None)
            if job is not None and str(job.trigger) == str(trigger):
                scheduler.modify_job(job.id, func="scheduler:run_site", args=[name], **options)
                done[name] = "kept"
                continue
            extra = {}
            if job is None and isinstance(trigger, IntervalTrigger):
                extra["next_run_time"] = datetime.now(UTC)
            scheduler.add_job(
                "scheduler:run_site",
                trigger=trigger,
                args=[name],
                id=job_id(name),
                name=name,
                replace_existing=True,
                **options,
                **extra,
            )
            done[name] = "changed" if job is not None else "added"
        for job in stored.values():
            scheduler.remove_job(job.id)
            done[job.id.removeprefix(JOB_PREFIX)] = "removed"
        return done

    # ---------------------------------------------------------------- running

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit status of the service."""
        from crawler.running.site_leases import SiteBusyError, SiteLeases
        from storage.archive import Archive

        scheduled = self.load()
        Archive(self.db_url).close()  # created or upgraded before the job store
        if self.broker is not None:
            from crawler.distributed.publisher import Publisher

            self.publisher = Publisher(self.broker, self.db_url)
            self.publisher.check()
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        # One service per database: a second one would reconcile away the first one's
        # jobs and fire every job twice. With a broker it waits as a standby.
        service_lease = SiteLeases(self.db_url, [SERVICE_LEASE], on_lost=self._lease_lost)
        announced = False
        while True:
            try:
                service_lease.acquire()
                break
            except SiteBusyError as exc:
                holder = exc.lease.holder if exc.lease else "another process"
                if self.broker is None:
                    raise ServiceBusyError(
                        f"a scheduling service already runs on this database ({holder})"
                    ) from None
                if not announced:
                    log.info("standby: the active scheduling service is %s", holder)
                    announced = True
            if self._stopping.wait(STANDBY_POLL):
                return 0
        if announced:
            log.warning("taking over as the active scheduling service")
        with Archive(self.db_url) as archive:
            for run_id, site in archive.interrupt_orphaned_runs():
                log.warning("run %s of %s had no live crawl: marked interrupted", run_id, site)
        self.scheduler = open_scheduler(self.db_url, misfire_grace=self.misfire_grace)
        _services.append(self)
        code = 0
        try:
            self.scheduler.start(paused=True)
            for name, what in sorted(self.reconcile(self.scheduler, scheduled).items()):
                log.info("schedule of %s: %s", name, what)
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            self.scheduler.resume()
            for job in self.scheduler.get_jobs():
                log.info("%s: next run %s", job.name, job.next_run_time)
            next_requeue = time.monotonic()
            while not self._stopping.wait(POLL_SECONDS):
                # APScheduler offers no public probe of its thread; it dies on errors the
                # job store's retries could not absorb.
                if not self.scheduler._thread.is_alive():
                    log.error("the scheduling thread died: stopping so the service restarts")
                    code = 1
                    self._stopping.set()
                    break
                self.scheduler.wakeup()  # notice jobs another process made due
                self._enforce_deadlines()
                if self.publisher is not None and time.monotonic() >= next_requeue:
                    every = min(REQUEUE_CHECK_SECONDS, self.requeue_after.total_seconds() / 2)
                    next_requeue = time.monotonic() + every
                    self._republish_lost_runs()
        finally:
            self._shut_down()
            _services.remove(self)
            service_lease.release()
        return code

    def _republish_lost_runs(self) -> None:
        """Broker mode, every few seconds: close runs whose crawl died with its machine
        (`running`, no live lease), so their sites get their next runs instead of waiting
        for the broker's redelivery; and publish again the runs the broker lost."""
        from crawler.distributed.publisher import BrokerError
        from storage.archive import Archive

        try:
            with Archive(self.db_url) as archive:
                for run_id, site in archive.interrupt_orphaned_runs():
                    log.warning("run %s of %s had no live crawl: marked interrupted", run_id, site)
            for run_id in self.publisher.republish_stale(self.requeue_after):
                log.warning(
                    "run %s was still queued %s after it was published: published again",
                    run_id,
                    format_duration(self.requeue_after),
                )
        except BrokerError as exc:
            log.error("could not publish queued runs again: %s", exc)
        except Exception as exc:  # the database: tried again next round
            log.error("could not look for lost runs: %s", exc)

    def _lease_lost(self, site: str) -> None:
        log.error("lost the scheduling service lease: stopping")
        self._stopping.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Only flags: the main loop acts (a handler taking locks could deadlock)."""
        self._signals += 1
        self._stopping.set()

    def _shut_down(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        if self._running():
            if self._signals <= 1:
                log.warning(
                    "stopping: no new runs; running crawls get %ds to finish (signal again "
                    "to stop now)",
                    self.grace.total_seconds(),
                )
            deadline = time.monotonic() + self.grace.total_seconds()
            while self._running() and time.monotonic() < deadline and self._signals < 2:
                time.sleep(0.2)
            if self._signals >= 2:
                log.warning("stopping now")
            self._terminate_all()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def _running(self) -> list[ChildCrawl]:
        with self._lock:
            return [c for c in self._children.values() if c.process.poll() is None]

    def _enforce_deadlines(self) -> None:
        for child in self._running():
            if child.past_deadline() and not child.stopping:
                log.warning("run of %s exceeded its max_runtime: stopping it", child.site)
                child.stopping = True
                threading.Thread(target=self._stop_child, args=(child,), daemon=True).start()

    def _terminate_all(self) -> None:
        threads = [
            threading.Thread(target=self._stop_child, args=(child,)) for child in self._running()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _stop_child(self, child: ChildCrawl) -> None:
        """SIGTERM, SIGKILL if it lingers or a second signal came; run_site then records
        the end of a killed child."""
        child.stop(hurry=lambda: self._signals >= 2)

    # ---------------------------------------------------------------- one run

    def run_site(self, name: str) -> None:
        from crawler.running.site_leases import holder_is_gone
        from storage.archive import Archive

        if self._stopping.is_set():
            return
        site = self.sites.get(name)
        if site is None:
            log.warning("no site %s in %s any more: skipped", name, self.sites_path)
            return
        with Archive(self.db_url) as archive:  # cheap check before starting a process
            lease = archive.lease(name)
            if lease is not None and holder_is_gone(lease.holder):
                # A crawl of this machine that died holding it (exit 1 in a database
                # outage, a kill): taken over now, not after its TTL, and its run closed.
                log.warning(
                    "site %s: %s, a process of this machine that no longer exists, held it: "
                    "taken over",
                    name,
                    lease.holder,
                )
                archive.release_lease(name, lease.holder)
                for run_id, _ in archive.interrupt_orphaned_runs([name]):
                    log.warning("run %s of %s had no live crawl: marked interrupted", run_id, name)
                lease = None
            active = archive.active_run(name)
        if lease is not None:
            log.warning("run of %s skipped: being crawled by %s", name, lease.holder)
            return
        if self.publisher is not None:
            self._publish(site, active)
            return
        command = crawl_command(
            self.db_url,
            [name, "-s", "NEWSARCHIVE_TRIGGER=scheduled"],
            self.settings,
            sites_path=self.sites_path,
        )
        log.info("run of %s starting", name)
        with self._lock:
            if self._stopping.is_set():
                return
            child = ChildCrawl.start(name, command, site.run_limit)
            self._children[name] = child
        status = child.relay_log(logging.getLogger(f"newsarchive.scheduler.{name}"))
        with self._lock:
            self._children.pop(name, None)
        if status == EXIT_BUSY:
            log.warning("run of %s skipped: the site is being crawled elsewhere", name)
        elif status == 0:
            log.info("run of %s finished", name)
        else:
            log.warning("run of %s ended with status %s", name, status)
            # Even at 1 (a failure the crawl records itself) the crawl may not have been
            # able to: a database outage. Only a run still `running` is closed, and only
            # the lease this child held is freed.
            child.record_abnormal_exit(self.db_url, status)

    def _publish(self, site: SiteConfig, active: tuple[int, str] | None) -> None:
        """Broker mode: record the run as queued and send it; never a second run of a
        site whose run is still queued or running (the archive is the record)."""
        from crawler.distributed.publisher import BrokerError

        if active is not None:
            log.warning("run of %s skipped: run %s is %s", site.name, *active)
            return
        try:
            (run_id,) = self.publisher.publish([site], "scheduled", self.settings)
        except BrokerError as exc:
            # The run is recorded as queued: the next look for lost runs sends it again.
            log.error("run of %s queued but not published: %s", site.name, exc)
            return
        log.info("run %s of %s published", run_id, site.name)


# The service running in this process: APScheduler calls run_site by its import path with
# the site's name only, so the function finds its service here.
_services: list[SchedulerService] = []


def run_site(name: str) -> None:
    """The job function of every site (stored as `scheduler:run_site`, args `[name]`)."""
    service = _services[-1] if _services else None
    if service is None:
        log.error("run_site(%r) called outside a running scheduler service", name)
        return
    service.run_site(name)


def schedule_status(db_url: str, sites_path: str) -> list[dict[str, Any]]:
    """One row per site of sites.toml: schedule, next run (job store), last run and flags."""
    from storage.archive import Archive

    sites = load_sites(sites_path)
    with Archive(db_url, create=False) as archive, _stored_jobs(db_url) as store:
        jobs = {job.id: job for job in store.get_all_jobs()}
        rows = []
        for name, site in sites.items():
            job = jobs.get(job_id(name))
            last = archive.runs(site=name, limit=1)
            rows.append(
                {
                    "site": name,
                    "schedule": site.schedule,
                    "next_run": job.next_run_time if job else None,
                    "job": _job_state(job, site),
                    "last_run": last[0].started_at if last else None,
                    "last_status": last[0].status if last else None,
                    "last_trigger": last[0].trigger if last else None,
                    "flags": list(last[0].counters.get("flags", [])) if last else [],
                    "lease": _lease_holder(archive, name),
                    "active_run": _active_run(archive, name),
                }
            )
    return rows


def _job_state(job: Any, site: SiteConfig) -> str:
    if job is not None:
        return "scheduled"
    return "pending: start the service" if site.schedule else "no schedule"


def _active_run(archive: Any, site: str) -> dict[str, Any] | None:
    """The site's queued or running run: its id, state and worker (where it runs now)."""
    active = archive.active_run(site)
    if active is None:
        return None
    run = archive.run(active[0])
    return {"id": run.id, "status": run.status, "worker": run.worker} if run else None


def _lease_holder(archive: Any, site: str) -> str | None:
    lease = archive.lease(site)
    return lease.holder if lease else None


def trigger_site(db_url: str, sites_path: str, name: str) -> str | None:
    """Make a site's job due now; the running service starts it within POLL_SECONDS.

    Returns the holder of the service lease (the service that will run it), if any.
    """
    sites = load_sites(sites_path)
    if name not in sites:
        raise SitesConfigError(f"{name!r}: not a site in {sites_path}")
    with _stored_jobs(db_url) as store:
        job = store.lookup_job(job_id(name))
        if job is None:
            raise SitesConfigError(
                f"{name!r} has no scheduled job yet: give it a schedule and (re)start "
                "`newsarchive schedule run`"
            )
        job.next_run_time = datetime.now(UTC)
        store.update_job(job)
    from storage.archive import Archive

    with Archive(db_url, create=False) as archive:
        lease = archive.lease(SERVICE_LEASE)
    return lease.holder if lease else None


@contextmanager
def _stored_jobs(db_url: str) -> Iterator[Any]:
    """The stored jobs, read and written without running a scheduler in this process
    (a second scheduler would run due jobs itself, the service's work)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from storage.archive import Archive
    from storage.engine import build_engine

    # An archive, migrated, before its job table is touched; a mistyped --db is an
    # error, not a new archive (list and trigger only read and nudge the service's).
    Archive(db_url, create=False).close()
    engine = build_engine(db_url)
    store = _job_store(engine)
    store.start(BackgroundScheduler(timezone=UTC), "default")
    try:
        yield store
    finally:
        store.shutdown()
        engine.dispose()
