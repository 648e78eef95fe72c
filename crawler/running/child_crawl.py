"""One site run as a child process: how the scheduling service and a queue worker run it.

Twisted's reactor cannot be restarted in one process, so every run is a fresh
`python -m crawler crawl ...` with its own leases, counters and health flags; both the
local service (scheduler.py) and a Celery worker (crawler.distributed) start, watch and
stop it through this one class, so a worker machine runs exactly the crawl a single
machine runs.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crawler.keys import Env

__all__ = [
    "PARENT_DEATH_SIGNAL",
    "STOP_TIMEOUT",
    "ChildCrawl",
    "crawl_command",
    "spawn_crawl",
    "stop_once_on_hangup",
]

log = logging.getLogger(__name__)

# After SIGTERM, how long a child gets to record its run as interrupted before SIGKILL.
STOP_TIMEOUT = 15.0
# What a child gets when its parent dies. Not SIGTERM: Linux sends the parent-death
# signal again each time the child is handed to another thread of the dying parent, and
# a crawl takes a second SIGTERM as "stop now, unclean" (its last batch lost). A SIGHUP
# handler (stop_once_on_hangup) turns the first into one graceful stop.
PARENT_DEATH_SIGNAL = signal.SIGHUP


def crawl_command(
    db_url: str,
    args: Sequence[str],
    settings: Mapping[str, str],
    *,
    sites_path: str | None = None,
) -> list[str]:
    """`python -m crawler --db DB [--sites FILE] crawl ARGS -s K=V...`, this interpreter."""
    command = [sys.executable, "-m", "crawler", "--db", db_url]
    if sites_path is not None:
        command += ["--sites", sites_path]
    command += ["crawl", *args]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    return command


@dataclass
class ChildCrawl:
    site: str
    process: subprocess.Popen[str]
    started: datetime
    deadline: float
    # The child's own lease holder name (its PID and a tag chosen here), so a crawl that
    # outlives its parent is never judged dead by another crawl of this machine, and the
    # parent can free the lease of a child that died.
    holder: str
    stopping: bool = False

    @classmethod
    def start(
        cls,
        site: str,
        command: list[str],
        max_runtime: timedelta,
        env: Mapping[str, str] | None = None,
    ) -> ChildCrawl:
        process, tag = spawn_crawl(command, env)
        return cls.adopt(site, process, tag, max_runtime)

    @classmethod
    def adopt(
        cls, site: str, process: subprocess.Popen[str], tag: str, max_runtime: timedelta
    ) -> ChildCrawl:
        """Watch a crawl process started by spawn_crawl (now, or ahead of its run: a
        spare); its run time counts from now."""
        # Imported here: `crawl` installs stop_once_on_hangup from this module before it
        # boots its first extraction worker, and must not load SQLAlchemy for it.
        from crawler.running.site_leases import holder_name

        return cls(
            site,
            process,
            datetime.now(UTC),
            time.monotonic() + max_runtime.total_seconds(),
            holder_name(tag=tag, pid=process.pid),
        )

    def relay_log(self, logger: logging.Logger) -> int:
        """Copy the child's log lines into `logger` until it exits; its exit status."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            logger.info("%s", line.rstrip())
        return self.process.wait()

    def running(self) -> bool:
        return self.process.poll() is None

    def past_deadline(self) -> bool:
        return time.monotonic() > self.deadline

    def stop(self, hurry: Callable[[], bool] = lambda: False) -> None:
        """SIGTERM (the crawl records its run as interrupted), SIGKILL if it lingers past
        STOP_TIMEOUT or once `hurry()` says so (a second signal to the parent)."""
        process = self.process
        if process.poll() is not None:
            return
        if not hurry():
            process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline and not hurry():
                try:
                    process.wait(0.2)
                    return
                except subprocess.TimeoutExpired:
                    continue
        process.kill()
        process.wait()

    def record_abnormal_exit(self, db_url: str, status: int) -> None:
        """A child that died without recording its end (killed, crashed): record it, and
        free its lease now instead of after the lease's time to live."""
        from storage.archive import Archive

        reason = f"the crawl process ended abnormally (status {status})"
        try:
            with Archive(db_url) as archive:
                archive.release_lease(self.site, self.holder)
                for run in archive.runs(site=self.site, limit=5):
                    if run.status == "running" and run.started_at >= self.started:
                        archive.finish_run(run.id, "interrupted", run.counters, reason)
        except Exception as exc:
            log.error("could not record the end of %s's run: %s", self.site, exc)


def spawn_crawl(
    command: list[str], env: Mapping[str, str] | None = None, *, stdin: int = subprocess.DEVNULL
) -> tuple[subprocess.Popen[str], str]:
    """Start a crawl process: its log on a pipe, told of its parent's death, in a session
    of its own; with the lease tag its holder name is made of."""
    tag = uuid.uuid4().hex[:6]
    process = subprocess.Popen(
        command,
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a Ctrl-C on the parent's terminal is the parent's to relay
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - one prctl call, no locks
        env={**os.environ, "PYTHONUNBUFFERED": "1", Env.LEASE_TAG: tag, **(env or {})},
    )
    return process, tag


def stop_once_on_hangup() -> None:
    """SIGHUP (a parent's death, a closed terminal) stops the crawl as one SIGTERM would,
    however many arrive: the run is recorded as interrupted, its last batch written."""
    hung_up = False

    def on_hangup(signum: int, frame: object) -> None:
        nonlocal hung_up
        if not hung_up:
            hung_up = True
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGHUP, on_hangup)


def _die_with_parent() -> None:
    """Linux: a crawl whose parent was killed is told (PARENT_DEATH_SIGNAL) instead of
    running on unseen."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, PARENT_DEATH_SIGNAL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
