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
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from crawler.schedules import parse_schedule
from crawler.sites import SiteConfig, SitesConfigError, load_sites

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_RUNTIME",
    "EXIT_BUSY",
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
DEFAULT_MAX_RUNTIME = timedelta(hours=2)
DEFAULT_MISFIRE_GRACE = timedelta(minutes=5)
# How often the service looks at the job store for jobs changed by another process
# (`newsarchive schedule trigger`).
POLL_SECONDS = 2.0
# The exit status of `newsarchive crawl` when the site's lease is held elsewhere.
EXIT_BUSY = 3
# After SIGTERM, how long a child gets to record its run as interrupted before SIGKILL.
STOP_TIMEOUT = 15.0


def job_id(site: str) -> str:
    return JOB_PREFIX + site


def open_scheduler(db_url: str, *, misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE) -> Any:
    """An APScheduler BackgroundScheduler on the archive database (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from storage.engine import build_engine

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=build_engine(db_url), tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=32)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(misfire_grace.total_seconds()),
        },
        timezone=UTC,
    )


@dataclass
class _Child:
    site: str
    process: subprocess.Popen[str]
    started: datetime
    deadline: float


@dataclass
class SchedulerService:
    """The long-running service behind `newsarchive schedule run`."""

    db_url: str
    sites_path: str
    grace: timedelta = DEFAULT_GRACE
    misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE
    settings: Mapping[str, str] = field(default_factory=dict)
    sites: dict[str, SiteConfig] = field(default_factory=dict)
    _children: dict[str, _Child] = field(default_factory=dict)
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

        An unchanged schedule keeps its stored job (and so its next run time); a changed
        one is rescheduled; a site no longer scheduled loses its job.
        """
        done: dict[str, str] = {}
        stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
        for name, site in scheduled.items():
            trigger = parse_schedule(site.schedule or "")
            job = stored.pop(job_id(name), None)
            if job is not None and str(job.trigger) == str(trigger):
                done[name] = "kept"
                continue
            scheduler.add_job(
                "scheduler:run_site",
                trigger=trigger,
                args=[name],
                id=job_id(name),
                name=name,
                replace_existing=True,
            )
            done[name] = "changed" if job is not None else "added"
        for job in stored.values():
            scheduler.remove_job(job.id)
            done[job.id.removeprefix(JOB_PREFIX)] = "removed"
        return done

    # ---------------------------------------------------------------- running

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit status of the service."""
        scheduled = self.load()
        from storage.archive import Archive

        Archive(self.db_url).close()  # create or upgrade the archive before the job store
        self.scheduler = open_scheduler(self.db_url, misfire_grace=self.misfire_grace)
        _services.append(self)
        self.scheduler.start(paused=True)
        for name, what in sorted(self.reconcile(self.scheduler, scheduled).items()):
            log.info("schedule of %s: %s", name, what)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.scheduler.resume()
        for job in self.scheduler.get_jobs():
            log.info("%s: next run %s", job.name, job.next_run_time)
        try:
            while not self._stopping.wait(POLL_SECONDS):
                self.scheduler.wakeup()  # notice jobs another process made due
                self._enforce_deadlines()
        finally:
            self._shut_down()
            _services.remove(self)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals == 1:
            log.warning(
                "stopping: no new runs; running crawls get %ds to finish (signal again to stop "
                "now)",
                self.grace.total_seconds(),
            )
            self._stopping.set()
        else:
            log.warning("stopping now")
            self._terminate_all(at_once=True)

    def _shut_down(self) -> None:
        self.scheduler.pause()
        deadline = time.monotonic() + self.grace.total_seconds()
        while self._running() and time.monotonic() < deadline and self._signals < 2:
            time.sleep(0.2)
        if self._running():
            self._terminate_all(at_once=self._signals >= 2)
        self.scheduler.shutdown(wait=True)

    def _running(self) -> list[_Child]:
        with self._lock:
            return [c for c in self._children.values() if c.process.poll() is None]

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for child in self._running():
            if now > child.deadline:
                log.warning("run of %s exceeded its max_runtime: stopping it", child.site)
                self._stop_child(child, at_once=False)

    def _terminate_all(self, at_once: bool) -> None:
        threads = [
            threading.Thread(target=self._stop_child, args=(child, at_once))
            for child in self._running()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _stop_child(self, child: _Child, at_once: bool) -> None:
        """SIGTERM (the crawl records its run as interrupted), then SIGKILL if needed."""
        process = child.process
        if process.poll() is not None:
            return
        if not at_once:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                pass
        process.kill()
        process.wait()
        self._mark_interrupted(child, "stopped by the scheduler")

    def _mark_interrupted(self, child: _Child, reason: str) -> None:
        """A killed child could not record its own end; record it for it."""
        from storage.archive import Archive

        try:
            with Archive(self.db_url) as archive:
                for run in archive.runs(site=child.site, limit=5):
                    if run.status == "running" and run.started_at >= child.started:
                        archive.finish_run(run.id, "interrupted", run.counters, reason)
        except Exception as exc:
            log.error("could not mark the run of %s interrupted: %s", child.site, exc)

    # ---------------------------------------------------------------- one run

    def run_site(self, name: str) -> None:
        if self._stopping.is_set():
            return
        site = self.sites.get(name)
        if site is None:
            log.warning("no site %s in %s any more: skipped", name, self.sites_path)
            return
        command = [
            sys.executable, "-m", "crawler",
            "--db", self.db_url, "--sites", self.sites_path,
            "crawl", name, "-s", "NEWSARCHIVE_TRIGGER=scheduled",
        ]  # fmt: skip
        for key, value in self.settings.items():
            command += ["-s", f"{key}={value}"]
        max_runtime = site.max_runtime or DEFAULT_MAX_RUNTIME
        log.info("run of %s starting", name)
        with self._lock:
            if self._stopping.is_set():
                return
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # a Ctrl-C on the service's terminal is ours to relay
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            child = _Child(
                name, process, datetime.now(UTC), time.monotonic() + max_runtime.total_seconds()
            )
            self._children[name] = child
        child_log = logging.getLogger(f"newsarchive.scheduler.{name}")
        assert process.stderr is not None
        for line in process.stderr:
            child_log.info("%s", line.rstrip())
        status = process.wait()
        with self._lock:
            self._children.pop(name, None)
        if status == EXIT_BUSY:
            log.warning("run of %s skipped: the site is being crawled elsewhere", name)
        elif status == 0:
            log.info("run of %s finished", name)
        else:
            log.warning("run of %s ended with status %s", name, status)


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
    with Archive(db_url) as archive, _job_store(db_url) as store:
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
                }
            )
    return rows


def _job_state(job: Any, site: SiteConfig) -> str:
    if job is not None:
        return "scheduled"
    return "pending: start the service" if site.schedule else "no schedule"


def _lease_holder(archive: Any, site: str) -> str | None:
    lease = archive.lease(site)
    return lease.holder if lease else None


def trigger_site(db_url: str, sites_path: str, name: str) -> datetime:
    """Make a site's job due now; the running service starts it within POLL_SECONDS."""
    sites = load_sites(sites_path)
    if name not in sites:
        raise SitesConfigError(f"{name!r}: not a site in {sites_path}")
    with _job_store(db_url) as store:
        job = store.lookup_job(job_id(name))
        if job is None:
            raise SitesConfigError(
                f"{name!r} has no scheduled job yet: give it a schedule and (re)start "
                "`newsarchive schedule run`"
            )
        now = datetime.now(UTC)
        job.next_run_time = now
        store.update_job(job)
        return now


@contextmanager
def _job_store(db_url: str) -> Iterator[Any]:
    """The stored jobs, read and written without running a scheduler in this process
    (a second scheduler would run due jobs itself, the service's work)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from storage.archive import Archive
    from storage.engine import build_engine

    Archive(db_url).close()  # an archive, migrated, before its job table is touched
    engine = build_engine(db_url)
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    store.start(BackgroundScheduler(timezone=UTC), "default")
    try:
        yield store
    finally:
        store.shutdown()
        engine.dispose()
