"""Site runs through Celery workers: real Redis (a private redis-server), real worker and
scheduler processes, the demo site on 127.0.0.1, SQLite and PostgreSQL archives."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.siteserver import SiteServer
from storage import Archive
from tests.distributed.queue_processes import (
    BIN,
    QUICK,
    all_runs,
    scheduler,
    spare_crawls,
    wait_for,
    worker,
    write_sites,
)
from tests.redis_server import RedisServer

pytestmark = pytest.mark.e2e

# A demo crawl of about 6 s (a request every 0.3 s), to be interrupted in the middle.
HALF_SLOW = (
    "{ DOWNLOAD_DELAY = 0.3, DOWNLOAD_DELAY_JITTER = 0, CONCURRENT_REQUESTS = 1, "
    "AUTOTHROTTLE_ENABLED = false }"
)
# Short enough for a test to see a lost run redelivered; every max_runtime below is shorter.
VISIBILITY = {"NEWSARCHIVE_BROKER_VISIBILITY": "14", "NEWSARCHIVE_LEASE_TTL": "4"}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_sites() -> Iterator[list[SiteServer]]:
    """Three copies of the demo newspaper, each its own site (host:port)."""
    from crawler.demo.newspaper import demo_routes

    servers = []
    try:
        for _ in range(3):
            server = SiteServer({}).start()
            server.set_routes(demo_routes(server.url, day=1))
            servers.append(server)
        yield servers
    finally:
        for server in servers:
            server.stop()


def newsarchive(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [str(BIN / "newsarchive"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **VISIBILITY, **(env or {})},
    )


def publish_slow_run(db: str, redis: RedisServer, site: SiteServer, tmp_path: Path) -> int:
    """`crawl --queue --no-wait` of a demo crawl of about 6 s; the run's id."""
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[sites.demo]\nstart_urls = ["{site.url}/"]\nmax_runtime = "12s"\nsettings = {HALF_SLOW}\n'
    )
    published = newsarchive(
        "--db", db, "--broker", redis.url, "--sites", str(sites), "crawl", "--queue",
        "--no-wait", "demo",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    return int(published.stdout.split("\t")[0])


def test_crawl_queue_runs_on_a_worker_and_reports_like_a_local_crawl(
    redis: RedisServer, pg_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db_url = pg_url
    sites = write_sites(tmp_path / "sites.toml", {"demo": demo_sites[0].url}, "0 0 1 1 *", QUICK)
    one = worker(db_url, redis.url, "w1", tmp_path, env=VISIBILITY)
    try:
        done = newsarchive(
            "--db", db_url, "--broker", redis.url, "--sites", str(sites),
            "crawl", "--queue", "demo", "--format", "json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (result,) = json.loads(done.stdout)
        assert result["status"] == "succeeded" and result["counters"]["articles_new"] == 8
        assert "succeeded on newsarchive@w1" in done.stderr
        assert f"run {result['run_id']} demo: succeeded; " in done.stderr  # the summary line
        queued = newsarchive(
            "--db", db_url, "--broker", redis.url, "--sites", str(sites),
            "crawl", "--queue", "--no-wait", "demo",
        )  # fmt: skip
        assert queued.returncode == 0, queued.stderr
        run_id = int(queued.stdout.split("\t")[0])
        assert queued.stdout.strip() == f"{run_id}\tdemo"
        assert wait_for(lambda: all_runs(db_url)[-1].status == "succeeded", 60)
        # Celery's own tools see the worker through the project's app.
        pinged = subprocess.run(
            [str(BIN / "celery"), "-A", "crawler.distributed.celery_app", "inspect", "ping",
             "-t", "5"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "NEWSARCHIVE_BROKER": redis.url},
        )  # fmt: skip
        assert pinged.returncode == 0, pinged.stderr
        assert "newsarchive@w1: OK" in pinged.stdout
    finally:
        assert one.stop(signal.SIGINT) == 0  # Ctrl-C is a clean stop too
    assert "Warm shutdown" not in one.log.with_suffix(".out").read_text()
    # the first run went to the crawl process the worker had started ahead; the worker's
    # stop let its next one go
    assert f"run {result['run_id']} of demo starting in the crawl process started ahead" in (
        one.text()
    )
    assert spare_crawls(db_url) == []
    first, second = all_runs(db_url)
    assert first.worker == second.worker == "newsarchive@w1"
    assert second.counters["articles_unchanged"] == 8  # the same archive, found again
    listing = newsarchive("--db", db_url, "runs")
    assert "newsarchive@w1" in listing.stdout


@pytest.mark.postgres
def test_two_workers_and_a_scheduler_run_every_scheduled_run_once(
    redis: RedisServer, pg_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db_url = pg_url  # the many-machines set-up: one PostgreSQL archive
    names = {f"site{i}": server.url for i, server in enumerate(demo_sites)}
    sites = write_sites(tmp_path / "sites.toml", names, "every 2s", QUICK)
    workers = [worker(db_url, redis.url, f"w{i}", tmp_path, env=VISIBILITY) for i in (1, 2)]
    service = scheduler(db_url, redis.url, sites, tmp_path / "scheduler.log", env=VISIBILITY)
    try:
        assert wait_for(
            lambda: all(
                sum(r.status == "succeeded" for r in all_runs(db_url, name)) >= 2 for name in names
            ),
            90,
        ), service.text()[-3000:]
    finally:
        assert service.stop() == 0
        for one in workers:
            assert one.stop() == 0
    published = len(re.findall(r"run \d+ of \S+ published$", service.text(), re.M))
    runs = all_runs(db_url)
    assert {r.site for r in runs} == set(names)
    # Every published run ran once, on one of the two workers, and nothing is left over.
    assert len(runs) == published
    assert all(r.attempt == 1 and r.retry_of is None for r in runs)
    assert {r.status for r in runs} <= {"succeeded", "queued"}
    finished = [r for r in runs if r.status == "succeeded"]
    assert {r.worker for r in finished} <= {"newsarchive@w1", "newsarchive@w2"}
    for name in names:  # runs of one site never overlap
        mine = [r for r in finished if r.site == name]
        for earlier, later in itertools.pairwise(mine):
            assert earlier.finished_at is not None and earlier.finished_at <= later.started_at
    with Archive(db_url) as archive:
        assert archive.stats()["articles"] == 8 * len(names)


def test_a_killed_worker_s_run_is_redelivered_and_completes_on_the_other(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db = sqlite_url
    first = worker(db, redis.url, "w1", tmp_path, env=VISIBILITY)
    run_id = publish_slow_run(db, redis, demo_sites[0], tmp_path)
    assert wait_for(lambda: all_runs(db)[0].status == "running", 30)
    assert wait_for(lambda: len(demo_sites[0].log) >= 4, 30)  # in the middle of the crawl
    second = worker(db, redis.url, "w2", tmp_path, env=VISIBILITY)
    try:
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        assert wait_for(lambda: all_runs(db)[0].status == "interrupted", 20), all_runs(db)
        # Redis hands the unacknowledged run to the other worker after its visibility
        # timeout; that worker closes the lost attempt and runs the next one.
        assert wait_for(lambda: all_runs(db)[-1].status == "succeeded", 120), second.text()
    finally:
        first.kill()
        assert second.stop() == 0
    lost, retried = all_runs(db)
    assert lost.id == run_id and lost.status == "interrupted" and lost.worker == "newsarchive@w1"
    assert retried.retry_of == run_id and retried.attempt == 2
    assert retried.worker == "newsarchive@w2"
    with Archive(db) as archive:
        assert archive.stats()["articles"] == 8  # nothing lost, nothing twice
        assert archive.lease("demo") is None
    new = lost.counters.get("articles_new", 0) + retried.counters["articles_new"]
    assert new == 8


def test_runs_queued_when_redis_lost_them_still_happen(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db = sqlite_url
    names = {"site0": demo_sites[0].url, "site1": demo_sites[1].url}
    sites = write_sites(tmp_path / "sites.toml", names, "0 0 1 1 *", QUICK)
    env = {**VISIBILITY}
    service = scheduler(
        db, redis.url, sites, tmp_path / "scheduler.log", "--requeue-after", "2s", env=env
    )
    try:
        service.wait_for_line("next run")
        for name in names:
            triggered = newsarchive("--db", db, "--sites", str(sites), "schedule", "trigger", name)
            assert triggered.returncode == 0, triggered.stderr
        sent = r"run \d+ of \S+ published$"
        assert wait_for(lambda: len(re.findall(sent, service.text(), re.M)) == 2, 30)
        assert all(r.status == "queued" for r in all_runs(db))  # no worker yet
        redis.stop()  # the messages are gone with it: Redis keeps nothing on disk here
        redis.start()
        workers = [worker(db, redis.url, "w1", tmp_path, env=env)]
        assert wait_for(lambda: all(r.status == "succeeded" for r in all_runs(db)), 90), (
            service.text()[-3000:]
        )
    finally:
        code = service.stop()
    for one in workers:
        assert one.stop() == 0
    assert code == 0
    assert "published again" in service.text()
    assert len(all_runs(db)) == 2  # the same two runs, not new ones


def test_the_standby_scheduler_takes_over_and_nothing_runs_twice(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db = sqlite_url
    sites = write_sites(tmp_path / "sites.toml", {"demo": demo_sites[0].url}, "every 3s", QUICK)
    one = worker(db, redis.url, "w1", tmp_path, env=VISIBILITY)
    active = scheduler(db, redis.url, sites, tmp_path / "active.log", env=VISIBILITY)
    active.wait_for_line("next run")
    standby = scheduler(db, redis.url, sites, tmp_path / "standby.log", env=VISIBILITY)
    try:
        standby.wait_for_line("standby: the active scheduling service is")
        assert wait_for(lambda: len(all_runs(db)) >= 2, 60)
        active.process.send_signal(signal.SIGKILL)
        active.process.wait(10)
        killed_at = len(all_runs(db))
        standby.wait_for_line("taking over as the active scheduling service", 30)
        assert wait_for(lambda: len(all_runs(db)) >= killed_at + 2, 60), standby.text()
    finally:
        active.kill()
        assert standby.stop() == 0
        assert one.stop() == 0
    runs = all_runs(db)
    published = len(re.findall(r"run \d+ of \S+ published$", active.text() + standby.text(), re.M))
    assert len(runs) == published
    assert all(r.attempt == 1 for r in runs)
    finished = [r for r in runs if r.finished_at is not None]
    for earlier, later in itertools.pairwise(finished):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at


def test_an_unreachable_broker_is_one_line_and_exit_1(tmp_path: Path, sqlite_url: str) -> None:
    from tests.redis_server import free_port

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    sites = write_sites(tmp_path / "sites.toml", {"demo": "http://127.0.0.1:9"}, "every 1m", QUICK)
    for args in (
        ["crawl", "--queue", "demo"],
        ["worker"],
        ["schedule", "run"],
    ):
        done = newsarchive(
            "--db", sqlite_url, "--broker", nowhere, "--sites", str(sites), *args, timeout=60
        )  # fmt: skip
        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert lines[-1].startswith(f"error: broker redis://127.0.0.1:{nowhere.split(':')[2]}")
        assert "Traceback" not in done.stderr
    # bad -s values are refused before the broker is asked, as a local crawl refuses them
    for setting, expected in (
        (
            "NEWSARCHIVE_WORKERS=some",
            "-s NEWSARCHIVE_WORKERS: expected a whole number, got 'some'",
        ),
        ("ROBOTSTXT_OBEY=maybe", "-s ROBOTSTXT_OBEY: expected true or false, got 'maybe'"),
    ):
        refused = newsarchive(
            "--db", sqlite_url, "--broker", nowhere, "crawl", "--queue", "-s", setting,
            "http://127.0.0.1:9/",
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip() == f"error: {expected}"
    bad = newsarchive(
        "--db", sqlite_url, "--broker", nowhere, "worker",
        env={"NEWSARCHIVE_BROKER_VISIBILITY": "soon"},
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "error: NEWSARCHIVE_BROKER_VISIBILITY='soon': expected a number of seconds"
    )


def test_an_invalid_request_fails_its_run_alone(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    from crawler.distributed.celery_app import QUEUE, TASK_NAME, publishing_app

    db = sqlite_url
    with Archive(db) as archive:
        bad = archive.queue_run("demo", "manual", {"site": "demo", "table": {"max_depth": -1}})
    app = publishing_app(redis.url)
    app.send_task(TASK_NAME, args=(bad, {"site": "demo", "table": {"max_depth": -1}}), queue=QUEUE)
    sites = write_sites(tmp_path / "sites.toml", {"demo": demo_sites[0].url}, "0 0 1 1 *", QUICK)
    one = worker(db, redis.url, "w1", tmp_path, env=VISIBILITY)
    try:
        assert wait_for(lambda: all_runs(db)[0].status == "failed", 30), one.text()
        good = newsarchive(
            "--db", db, "--broker", redis.url, "--sites", str(sites), "crawl", "--queue", "demo"
        )  # fmt: skip
        assert good.returncode == 0, good.stderr
    finally:
        assert one.stop() == 0
    failed, succeeded = all_runs(db)
    assert failed.error is not None and failed.error.startswith("invalid run request: ")
    assert "start_urls" in failed.error
    assert succeeded.status == "succeeded"


def test_a_stopped_worker_hands_its_run_back_and_exits_0(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    db = sqlite_url
    first = worker(db, redis.url, "w1", tmp_path, "--grace", "1s", env=VISIBILITY)
    publish_slow_run(db, redis, demo_sites[0], tmp_path)
    assert wait_for(lambda: len(demo_sites[0].log) >= 4, 30)  # in the middle of the crawl
    second = worker(db, redis.url, "w2", tmp_path, env=VISIBILITY)
    try:
        assert first.stop(signal.SIGTERM, timeout=40) == 0
        assert "handed back: the worker is stopping" in first.text()
        # Handed back at once, not after the visibility timeout.
        assert wait_for(lambda: all_runs(db)[-1].status == "succeeded", 20), second.text()
    finally:
        assert second.stop() == 0
    handed, finished = all_runs(db)
    assert handed.status == "interrupted" and handed.worker == "newsarchive@w1"
    assert finished.retry_of == handed.id and finished.worker == "newsarchive@w2"
    with Archive(db) as archive:
        assert archive.stats()["articles"] == 8


def test_a_run_its_crawl_refuses_after_claiming_it_ends_failed(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    """A worker without the site's spider (older code, say) claims the run, then its crawl
    refuses the configuration: the run ends failed and `crawl --queue` returns, instead
    of a run left `running` that blocks its site for good."""
    db = sqlite_url
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[sites.demo]\nstart_urls = ["{demo_sites[0].url}/"]\nmax_runtime = "12s"\n'
        'spider = "no_such_spider"\n'
    )
    one = worker(db, redis.url, "w1", tmp_path, env=VISIBILITY)
    try:
        done = newsarchive(
            "--db", db, "--broker", redis.url, "--sites", str(sites), "crawl", "--queue", "demo"
        )  # fmt: skip
    finally:
        assert one.stop() == 0
    assert done.returncode == 1, done.stderr
    (run,) = all_runs(db)
    assert run.status == "failed" and run.worker == "newsarchive@w1"
    assert "exited with status 2" in (run.error or "")
    with Archive(db) as archive:
        assert archive.active_run("demo") is None  # the next scheduled run can be published


def test_a_run_whose_machine_died_does_not_block_its_site(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    """A worker machine lost with its crawl leaves a run `running` with no lease; the
    scheduler closes it within seconds, and the site's next run is published, rather than
    the site waiting hours for the broker to redeliver the lost message."""
    db = sqlite_url
    sites = write_sites(tmp_path / "sites.toml", {"demo": demo_sites[0].url}, "every 2s", QUICK)
    one = worker(db, redis.url, "w1", tmp_path, env=VISIBILITY)
    service = scheduler(db, redis.url, sites, tmp_path / "scheduler.log", env=VISIBILITY)
    try:
        assert wait_for(lambda: any(r.status == "succeeded" for r in all_runs(db)), 60)
        # The service is running when the machine dies: a run with a worker, no lease.
        with Archive(db) as archive:
            assert wait_for(lambda: archive.active_run("demo") is None, 30)
            ghost = archive.queue_run("demo", "scheduled", {"site": "demo"})
            assert archive.claim_run(ghost, "newsarchive@lost-machine")
        assert wait_for(
            lambda: any(r.id > ghost and r.status == "succeeded" for r in all_runs(db)), 60
        ), service.text()[-3000:]
    finally:
        assert service.stop() == 0
        assert one.stop() == 0
    lost = next(r for r in all_runs(db) if r.id == ghost)
    assert lost.status == "interrupted"
    assert f"run {ghost} of demo had no live crawl: marked interrupted" in service.text()


def test_a_run_goes_to_a_new_crawl_process_when_the_spare_one_died(
    redis: RedisServer, sqlite_url: str, demo_sites: list[SiteServer], tmp_path: Path
) -> None:
    sites = write_sites(tmp_path / "sites.toml", {"demo": demo_sites[0].url}, "0 0 1 1 *", QUICK)
    one = worker(sqlite_url, redis.url, "w1", tmp_path, env=VISIBILITY)
    try:
        assert wait_for(lambda: len(spare_crawls(sqlite_url)) == 1, 30)
        (spare,) = spare_crawls(sqlite_url)
        os.kill(spare, signal.SIGKILL)
        done = newsarchive(
            "--db", sqlite_url, "--broker", redis.url, "--sites", str(sites),
            "crawl", "--queue", "demo",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "starting in a new crawl process" in one.text()
        assert "the spare crawl process had exited" in one.text()
        # and the worker starts another one for the next run
        assert wait_for(lambda: len(spare_crawls(sqlite_url)) == 1, 30)
    finally:
        assert one.stop() == 0
    assert spare_crawls(sqlite_url) == []
    (run,) = all_runs(sqlite_url)
    assert run.status == "succeeded" and run.counters["articles_new"] == 8
