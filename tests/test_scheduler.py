"""The scheduling service against the demo site on 127.0.0.1, with schedules of seconds."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.demo.siteserver import SiteServer
from scheduler import SchedulerService, open_scheduler
from storage import Archive
from tests.polling import wait_for

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
QUICK = "{ DOWNLOAD_DELAY = 0, AUTOTHROTTLE_ENABLED = false }"
# One request a second, one at a time: a crawl of the demo site takes about 20 s.
SLOW = (
    "{ DOWNLOAD_DELAY = 1, DOWNLOAD_DELAY_JITTER = 0, CONCURRENT_REQUESTS = 1, "
    "AUTOTHROTTLE_ENABLED = false }"
)


def write_sites(tmp_path: Path, url: str, schedule: str, settings: str = QUICK) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(
        f'[sites.demo]\nstart_urls = ["{url}/"]\nschedule = "{schedule}"\nsettings = {settings}\n'
    )
    return path


def service(db: str, sites: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "schedule", "run", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def trigger(db: str, sites: Path) -> subprocess.CompletedProcess[str]:
    """`schedule trigger demo`: make the site's job due now."""
    return subprocess.run(
        [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "schedule",
         "trigger", "demo"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def runs(db: str, site: str = "demo"):
    with Archive(db) as archive:
        return list(reversed(archive.runs(site=site, limit=100)))


def test_runs_on_schedule_and_never_overlap(demo: SiteServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "every 2s")
    process = service(db, sites)
    try:
        assert wait_for(lambda: len([r for r in runs(db) if r.finished_at]) >= 2, 45)
    finally:
        code, err = stop(process)
    assert code == 0, err
    done = [r for r in runs(db) if r.finished_at]
    assert all(r.trigger == "scheduled" and r.status == "succeeded" for r in done), done
    assert done[0].counters["articles_new"] == 8
    assert done[1].counters["checked_304"] == 8  # the second run is a cheap recheck
    for earlier, later in itertools.pairwise(done):
        assert earlier.finished_at <= later.started_at  # one at a time
    assert "run of demo finished" in err and "run 1 demo: succeeded" in err


def test_a_long_run_is_not_overlapped_and_sigterm_interrupts_it(
    demo: SiteServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "every 1s", SLOW)
    process = service(db, sites, "--grace", "2s")
    try:
        assert wait_for(lambda: bool(runs(db)), 20)
        time.sleep(4)  # four intervals pass while the first run is still crawling
        assert len(runs(db)) == 1
        # A manual crawl of the same site is refused while the scheduled one runs ...
        manual = subprocess.run(
            [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "crawl", "demo"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert manual.returncode == 3 and "is being crawled" in manual.stderr
        # ... and one that waits starts once the scheduled run is over.
        waiting = subprocess.Popen(
            [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "crawl", "demo",
             "--wait", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=16"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1)
    finally:
        started = time.monotonic()
        code, err = stop(process)
    assert code == 0, err
    assert time.monotonic() - started < 2 + 15 + 5  # grace, then the child's own stop
    _, waited = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, waited
    assert "waiting: site demo is being crawled" in waited
    all_runs = runs(db)
    assert [(r.trigger, r.status) for r in all_runs] == [
        ("scheduled", "interrupted"),
        ("manual", "succeeded"),
    ]
    assert all_runs[0].finished_at <= all_runs[1].started_at
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_restart_keeps_jobs_and_coalesces_missed_runs(demo: SiteServer, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from scheduler import _stored_jobs

    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "every 1h")
    process = service(db, sites)
    try:
        assert wait_for(lambda: any(r.finished_at for r in runs(db)), 30)  # a new site runs
    finally:
        code, err = stop(process)
    assert code == 0 and "schedule of demo: added" in err
    before = len(runs(db))
    # The service was down for three hours: three run times were missed.
    with _stored_jobs(db) as store:
        job = store.lookup_job("site:demo")
        job.next_run_time = datetime.now(UTC) - timedelta(hours=3, seconds=-30)
        store.update_job(job)
    process = service(db, sites, "--misfire-grace", "4h")
    try:
        assert wait_for(lambda: len(runs(db)) > before, 20)
        # Coalesced: one catch-up run. Without coalescing the three missed run times would
        # run back to back, the next right after the first (a crawl takes 1-3 s); the next
        # regular run is an hour away.
        assert wait_for(lambda: all(r.finished_at for r in runs(db)), 20)
        time.sleep(6)
        after = runs(db)
    finally:
        code, err = stop(process)
    assert code == 0 and "schedule of demo: kept" in err
    assert len(after) == before + 1


def test_trigger_runs_a_site_now(demo: SiteServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "0 0 1 1 *")  # once a year
    process = service(db, sites)
    try:
        time.sleep(3)
        assert runs(db) == []
        result = trigger(db, sites)
        assert result.returncode == 0, result.stderr
        assert wait_for(lambda: any(r.finished_at for r in runs(db)), 30)
        listed = subprocess.run(
            [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "schedule", "list",
             "--format", "json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        stop(process)
    import json

    (row,) = json.loads(listed.stdout)
    assert row["site"] == "demo" and row["schedule"] == "0 0 1 1 *"
    assert row["next_run"].startswith(f"{time.gmtime().tm_year + 1}-01-01")
    assert row["last_status"] == "succeeded" and row["last_trigger"] == "scheduled"


def test_reconcile_adds_keeps_changes_and_removes_jobs(tmp_path: Path, db_url: str) -> None:
    db = db_url  # the job store lives in the archive database: SQLite and PostgreSQL
    Archive(db).close()
    sites = tmp_path / "sites.toml"
    body = '[sites.{n}]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "{s}"\n'
    sites.write_text(body.format(n="a", s="every 5m") + body.format(n="b", s="every 1h"))
    svc = SchedulerService(db, str(sites))
    scheduler = open_scheduler(db)
    scheduler.start(paused=True)
    try:
        assert svc.reconcile(scheduler, svc.load()) == {"a": "added", "b": "added"}
        sites.write_text(body.format(n="a", s="every 5m") + body.format(n="c", s="*/10 * * * *"))
        sites.write_text(
            body.format(n="a", s="every 5m")
            + body.format(n="c", s="*/10 * * * *")
            + '[sites.d]\nstart_urls = ["http://127.0.0.1:9/"]\n'
        )
        assert svc.reconcile(scheduler, svc.load()) == {"a": "kept", "c": "added", "b": "removed"}
        sites.write_text(body.format(n="a", s="every 10m") + body.format(n="c", s="*/10 * * * *"))
        assert svc.reconcile(scheduler, svc.load()) == {"a": "changed", "c": "kept"}
        job = scheduler.get_job("site:a")
        # stored by reference with a plain argument: nothing pickled can go stale
        assert job.func_ref == "scheduler:run_site" and job.args == ("a",)
        assert job.coalesce is True and job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
    # a second scheduler on the same database sees the stored jobs (a restart)
    again = open_scheduler(db)
    again.start(paused=True)
    try:
        assert sorted(job.id for job in again.get_jobs()) == ["site:a", "site:c"]
    finally:
        again.shutdown(wait=False)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "hourly"\n',
         "sites.demo.schedule: 'hourly'"),
        ('[defaults]\nschedule = "every 0s"\n[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\n',
         "sites.demo.schedule"),
        ('[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\n', "no site has a schedule"),
    ],
)  # fmt: skip
def test_invalid_schedules_stop_the_service_at_start(
    tmp_path: Path, body: str, message: str
) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(body)
    result = subprocess.run(
        [str(BIN / "newsarchive"), "--db", f"sqlite:///{tmp_path / 'a.db'}", "--sites",
         str(sites), "schedule", "run"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_defaults_schedule_applies_to_sites_without_one(tmp_path: Path) -> None:
    from crawler.config.sites import load_sites

    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[defaults]\nschedule = "every 30m"\nmax_runtime = "10m"\n'
        '[sites.a]\nstart_urls = ["http://127.0.0.1:9/"]\n'
        '[sites.b]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "0 6 * * 1-5"\n'
    )
    loaded = load_sites(sites)
    assert loaded["a"].schedule == "every 30m" and loaded["b"].schedule == "0 6 * * 1-5"
    assert loaded["a"].max_runtime is not None and loaded["a"].max_runtime.total_seconds() == 600


def test_job_function_outside_a_service_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    from scheduler import run_site

    run_site("demo")
    assert "outside a running scheduler service" in caplog.text
    assert os.environ.get("NEWSARCHIVE_NOT_SET") is None


def test_a_run_past_its_max_runtime_is_stopped(demo: SiteServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[sites.demo]\nstart_urls = ["{demo.url}/"]\nschedule = "0 0 1 1 *"\n'
        f'max_runtime = "3s"\nsettings = {SLOW}\n'
    )
    process = service(db, sites)
    try:
        time.sleep(2)
        assert trigger(db, sites).returncode == 0
        assert wait_for(lambda: any(r.finished_at for r in runs(db)), 40)
    finally:
        code, err = stop(process)
    assert code == 0
    (run,) = runs(db)
    assert run.status == "interrupted" and run.trigger == "scheduled"
    assert (run.finished_at - run.started_at).total_seconds() < 3 + 2 + 15
    assert "exceeded its max_runtime" in err


def test_one_service_per_database_and_orphaned_runs_are_closed(
    demo: SiteServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "0 0 1 1 *")
    with Archive(db) as archive:  # a crawl that died without recording its end
        orphan = archive.start_run("demo", "scheduled")
    first = service(db, sites)
    try:
        assert wait_for(lambda: runs(db)[0].status == "interrupted", 20)
        second = subprocess.run(
            [str(BIN / "newsarchive"), "--db", db, "--sites", str(sites), "schedule", "run"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert "a scheduling service already runs on this database" in second.stderr
        triggered = trigger(db, sites)
        assert "the service (" in triggered.stderr
    finally:
        code, err = stop(first)
    assert code == 0
    assert f"run {orphan} of demo had no live crawl: marked interrupted" in err
    assert "no scheduling service runs on this database" in trigger(db, sites).stderr


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_killed_crawl_is_marked_interrupted_and_frees_its_site(
    demo: SiteServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "0 0 1 1 *", SLOW)
    process = service(db, sites)
    try:
        time.sleep(2)
        assert trigger(db, sites).returncode == 0
        assert wait_for(lambda: bool(runs(db)), 20)
        (child,) = _children_of(process.pid)
        os.kill(child, signal.SIGKILL)  # the OOM killer, say
        assert wait_for(lambda: runs(db)[0].status == "interrupted", 20)
        with Archive(db) as archive:
            assert archive.lease("demo") is None  # free now, not after the lease's TTL
    finally:
        code, err = stop(process)
    assert code == 0 and "ended with status -9" in err
    assert "ended abnormally" in (runs(db)[0].error or "")


def test_a_site_held_by_a_dead_crawl_of_this_machine_runs_at_once(
    demo: SiteServer, tmp_path: Path
) -> None:
    """Issue 18, item 3: a crawl that died holding its site (exit 1 in a database outage
    left its run `running` and its lease live) must not keep the site from its next run
    until the lease expires: the service takes the lease over and closes the old run."""
    from datetime import timedelta

    from crawler.running.site_leases import holder_name

    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "0 0 1 1 *")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with Archive(db) as archive:
        left = archive.start_run("demo", "scheduled")
        holder = holder_name(tag="dead01", pid=gone.pid)
        assert archive.acquire_lease("demo", holder, timedelta(hours=1))
    process = service(db, sites)
    try:
        time.sleep(2)
        assert trigger(db, sites).returncode == 0
        assert wait_for(lambda: len(runs(db)) == 2 and runs(db)[1].status == "succeeded", 30)
    finally:
        code, err = stop(process)
    assert code == 0, err
    old, new = runs(db)
    assert old.id == left and old.status == "interrupted"
    assert new.trigger == "scheduled" and new.status == "succeeded"
    assert "skipped: being crawled" not in err and "taken over" in err


def test_a_stop_while_jobs_fall_due_logs_no_traceback(demo: SiteServer, tmp_path: Path) -> None:
    """Issue 18, item 4: jobs that fall due while a stop waits for running crawls are not
    run, and say nothing (APScheduler logged a traceback for each)."""
    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "every 1s", SLOW)
    process = service(db, sites, "--grace", "3s")
    try:
        assert wait_for(lambda: bool(runs(db)), 30)
        time.sleep(1)
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert "Traceback" not in err and "Error submitting" not in err, err
    assert len(runs(db)) == 1


def test_a_service_restarted_right_after_a_sigkill_starts_at_once(
    demo: SiteServer, tmp_path: Path
) -> None:
    """Issue 18, item 3: the killed service's lease names a process of this machine that no
    longer exists; its successor takes it at once instead of being refused for its TTL."""
    from scheduler import SERVICE_LEASE

    db = f"sqlite:///{tmp_path / 'a.db'}"
    sites = write_sites(tmp_path, demo.url, "0 0 1 1 *")
    first = service(db, sites)

    def leased() -> bool:
        with Archive(db) as archive:
            return archive.lease(SERVICE_LEASE) is not None

    assert wait_for(leased, 30)
    first.kill()
    first.communicate(timeout=30)
    second = service(db, sites)
    try:
        time.sleep(3)
        assert second.poll() is None  # serving, not refused
    finally:
        code, err = stop(second)
    assert code == 0, err
    assert "already runs" not in err and "no longer exists" in err
