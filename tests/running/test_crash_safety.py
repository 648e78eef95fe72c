"""Crash safety: SIGKILL at any moment, a full disk, a read-only database, a killed migration.

Each test names the defence it proves and how it would fail without it. The crawls run
`newsarchive crawl` as a subprocess with one transaction per fetch
(NEWSARCHIVE_BATCH_SIZE=1), so a kill from outside lands among writes; tests/crash_child.py
kills processes at exact statements where "any moment" must be shown deterministically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import inspect, text

from crawler.demo.newspaper import STORY_PATHS, demo_routes
from crawler.demo.siteserver import Route, SiteServer
from storage import Archive, blobs
from storage.engine import build_engine
from storage.migrate import current_revision, upgrade
from storage.migrations import HEAD_REVISION
from tests import REPO
from tests.crash_child import EDITED_STORY, NEW_STORY, story
from tests.process_groups import live_members

pytestmark = pytest.mark.e2e

ROOT = REPO
BIN = Path(sys.executable).parent
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")
ONE_FETCH_PER_TRANSACTION = ("-s", "NEWSARCHIVE_BATCH_SIZE=1")
STORIES = len(STORY_PATHS[1])
# Held back by the server until the test lets it go, so a crawl to be killed is still
# running however slow the machine is.
HELD_STORY = "/world/2026/11/mackerel-quota-talks-stall.html"
# Every crawl here leaves (or takes over) a lease that lapses 2 s after its holder dies.
CRAWL_ENV = {**os.environ, "NEWSARCHIVE_LEASE_TTL": "2"}


def _error_lines(stderr: str) -> list[str]:
    """The `error:` lines, without SQLite's extended error name (which varies by version);
    and no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    return [
        re.sub(r" \(SQLITE_[A-Z_]+\)$", "", line)
        for line in stderr.splitlines()
        if line.startswith("error:")
    ]


def _crawl_args(db: str, url: str, *extra: str) -> list[str]:
    return [str(BIN / "newsarchive"), "--db", db, "crawl", url + "/", *FAST,
            *ONE_FETCH_PER_TRANSACTION, "--format", "json", *extra]  # fmt: skip


def _crawl(db: str, url: str, *extra: str, limit: int | None = None) -> Any:
    """Run a crawl to its end; `limit` caps the size of any file it writes (RLIMIT_FSIZE)."""

    def cap_file_size() -> None:
        # Python ignores SIGXFSZ, so a write past the cap fails with EFBIG instead.
        assert limit is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        _crawl_args(db, url, *extra),
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap_file_size if limit is not None else None,
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# ------------------------------------------------------------- what "consistent" means


def _assert_consistent(path: Path) -> dict[str, int]:
    """No half-written anything, checked on the file as a dead process left it.

    In this schema a write is half done when a story has no snapshot or points at one that
    is not its latest, versions have gaps, a snapshot's page body is missing or damaged, a
    story cannot be found by its own URL, its near-duplicate bands are missing, or the
    full-text index does not hold exactly each story's latest snapshot. Returns the row
    counts, to compare with a clean crawl.
    """
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        bad_versions = conn.execute(
            """SELECT a.id FROM articles a LEFT JOIN snapshots s ON s.id = a.latest_snapshot_id
               WHERE s.id IS NULL OR s.article_id != a.id OR s.version != a.latest_version
                  OR a.latest_version != (SELECT count(*) FROM snapshots x
                                          WHERE x.article_id = a.id)
                  OR a.latest_version != (SELECT max(version) FROM snapshots x
                                          WHERE x.article_id = a.id)"""
        ).fetchall()
        assert bad_versions == [], "stories whose snapshots are half written"
        no_body = conn.execute(
            "SELECT s.id FROM snapshots s LEFT JOIN blobs b ON b.sha256 = s.blob_sha256 "
            "WHERE b.sha256 IS NULL"
        ).fetchall()
        assert no_body == [], "snapshots without their page body"
        for sha, size, codec, data in conn.execute("SELECT sha256, size, codec, data FROM blobs"):
            body = blobs.decompress(codec, data)
            assert len(body) == size and hashlib.sha256(body).hexdigest() == sha
        unfindable = conn.execute(
            "SELECT a.id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_urls u "
            "WHERE u.article_id = a.id AND u.url_hash = a.url_hash AND NOT u.redirect)"
        ).fetchall()
        assert unfindable == [], "stories without their URL"
        no_bands = conn.execute(
            "SELECT a.id FROM articles a WHERE a.minhash IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM article_bands b WHERE b.article_id = a.id)"
        ).fetchall()
        assert no_bands == [], "stories without their duplicate-detection bands"
        duplicates = conn.execute(
            "SELECT canonical_url FROM articles GROUP BY canonical_url HAVING count(*) > 1"
        ).fetchall()
        assert duplicates == []
        # The FTS5 index is external-content: its own check, then exactly the latest
        # snapshots (its check alone does not see a missing or extra document).
        conn.execute("INSERT INTO snapshot_fts(snapshot_fts) VALUES('integrity-check')")
        conn.execute(
            "CREATE VIRTUAL TABLE temp.indexed USING fts5vocab(main, 'snapshot_fts', 'instance')"
        )
        indexed = {row[0] for row in conn.execute("SELECT DISTINCT doc FROM temp.indexed")}
        latest = {row[0] for row in conn.execute("SELECT latest_snapshot_id FROM articles")}
        assert indexed == latest, "full-text index out of step with the stories"
        tables = ("sites", "articles", "snapshots", "blobs", "article_urls", "article_bands")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


# ------------------------------------------------------------- SIGKILL during a crawl


def _held(route: Route, gate: threading.Event) -> Route:
    """The same page, answered only once `gate` is set."""

    def answer(request: BaseHTTPRequestHandler) -> None:
        gate.wait(timeout=120)
        try:
            request.send_response(200)
            request.send_header("Content-Type", route.content_type)
            request.send_header("Content-Length", str(len(route.body)))
            request.end_headers()
            request.wfile.write(route.body)
        except OSError:
            pass  # the crawler that asked was killed meanwhile

    return Route(handler=answer)


@pytest.fixture
def held_demo(demo: SiteServer) -> Iterator[tuple[SiteServer, threading.Event]]:
    gate = threading.Event()
    gate.set()
    routes = demo_routes(demo.url, day=1)
    routes[HELD_STORY] = _held(routes[HELD_STORY], gate)
    demo.set_routes(routes)
    try:
        yield demo, gate
    finally:
        gate.set()


def _progress(path: Path) -> tuple[int, int]:
    """(runs, snapshots), read without writing or locking; (0, 0) before the schema exists."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            runs = conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
            snapshots = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    except sqlite3.Error:
        return 0, 0
    return runs, snapshots


def _kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path) -> None:
    """SIGKILL the crawl's whole process group (extraction workers too) once `ready`."""
    deadline = time.monotonic() + 90
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the crawl ended before the kill: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail("the crawl never reached the moment of the kill")
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (alive := live_members(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"processes of the killed crawl survived: {alive}"


def test_sigkill_at_any_moment_of_a_crawl_leaves_a_consistent_archive(
    held_demo: tuple[SiteServer, threading.Event], tmp_path: Path
) -> None:
    """Kill `newsarchive crawl` (and its workers) with SIGKILL three times, early, midway
    and late in its writes, rerunning it each time, then let a last run finish.

    Defences: one transaction per batch in WAL mode (a dead writer's uncommitted frames
    are ignored, nothing it committed is lost); a story already stored is found again by
    its URL and content hash, so a rerun stores nothing twice; the next crawl marking the
    dead run `interrupted` (crawler.cli.crawl._interrupt_orphaned_runs), at once since the
    dead crawl's lease is taken over (crawler.running.site_leases). Without the first, a
    kill between the snapshot insert and the story update leaves a half-written story
    (_assert_consistent fails; test_sigkill_after_any_statement_of_a_write_loses_nothing
    makes that deterministic); without the second, the final counts differ from the clean
    crawl's; without the last, the killed runs stay `running` for ever (checked).
    """
    demo, gate = held_demo
    clean = tmp_path / "clean.db"
    result = _crawl(f"sqlite:///{clean}", demo.url)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = _assert_consistent(clean)
    assert expected["articles"] == expected["snapshots"] == STORIES

    path = tmp_path / "killed.db"
    db = f"sqlite:///{path}"
    gate.clear()  # from now on the held story keeps every crawl alive until it is killed
    killed_at: list[int] = []
    # Kill once the run has started and the archive holds this many snapshots (or at once,
    # if an earlier run already wrote that many); the held story caps them at STORIES - 1.
    for target in (1, 4, STORIES - 1):
        runs_before = _progress(path)[0]
        log = tmp_path / f"crawl-{target}.log"
        with log.open("wb") as sink:
            # No --wait: the killed crawl's lease is taken at once (its process is gone).
            process = subprocess.Popen(
                _crawl_args(db, demo.url),
                env=CRAWL_ENV,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )

        def ready(runs_before: int = runs_before, target: int = target) -> bool:
            runs, snapshots = _progress(path)
            return runs > runs_before and snapshots >= target

        _kill_when(process, ready, log)
        counts = _assert_consistent(path)
        killed_at.append(counts["snapshots"])
        statuses = [s for (s,) in _rows(path, "SELECT status FROM crawl_runs ORDER BY id")]
        # The run just killed could not record its end; earlier ones were marked by the
        # crawl that followed them.
        assert statuses == ["interrupted"] * (len(statuses) - 1) + ["running"]
    assert killed_at[0] < STORIES - 1, killed_at  # at least one kill came mid-crawl

    gate.set()
    result = _crawl(db, demo.url)
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert run["counters"]["articles_new"] == STORIES - killed_at[-1]
    assert run["counters"]["articles_changed"] == 0
    assert "had no live crawl: marked interrupted" in result.stderr

    assert _assert_consistent(path) == expected  # every story once, nothing doubled
    assert _rows(path, "SELECT canonical_url, latest_version FROM articles ORDER BY 1") == _rows(
        clean, "SELECT canonical_url, latest_version FROM articles ORDER BY 1"
    )
    runs = _rows(path, "SELECT status, finished_at IS NOT NULL, error FROM crawl_runs ORDER BY id")
    assert runs == [(
        "interrupted", 1, "its crawl process ended without recording it"
    )] * 3 + [("succeeded", 1, None)]  # fmt: skip
    assert _rows(path, "SELECT * FROM site_leases") == []


def test_only_runs_without_a_live_crawl_are_marked_interrupted(archive: Archive) -> None:
    """What the next crawl marks after a kill, on both databases.

    Defence: Archive.interrupt_orphaned_runs marks a `running` run only when no other
    process holds its site's lease, only on the sites asked about, and only while the
    run is still `running` (a run that ended meanwhile keeps what its process recorded).
    Without the lease check a live crawl's run would be marked; without the status
    condition a finished one would be overwritten.
    """
    dead, alive, other, finished = (
        archive.start_run(site) for site in ("dead", "alive", "other", "dead")
    )
    archive.finish_run(finished, "succeeded", {})
    assert archive.acquire_lease("dead", "this-crawl", timedelta(minutes=1))
    assert archive.acquire_lease("alive", "another-crawl", timedelta(minutes=1))
    sites = ["dead", "alive"]
    assert archive.interrupt_orphaned_runs(sites, holder="this-crawl") == [(dead, "dead")]
    assert archive.interrupt_orphaned_runs(sites, holder="this-crawl") == []
    status = {run.id: (run.status, run.error) for run in archive.runs()}
    assert status[dead] == ("interrupted", "its crawl process ended without recording it")
    assert status[alive] == status[other] == ("running", None)
    assert status[finished] == ("succeeded", None)


def test_sigkill_after_any_statement_of_a_write_loses_nothing(db_url: str) -> None:
    """A batch (a new story and a new version of a stored one) is written by a process
    that SIGKILLs itself right after its 1st SQL statement, then its 2nd, and so on to
    the last before COMMIT; then once without a kill.

    Defence: the whole batch is one transaction (storage.Archive._transaction; BEGIN
    IMMEDIATE on SQLite). After every kill the archive must be exactly as before, and
    whole afterwards. Without it (statements committed one by one, or a commit per
    record), the kill after `INSERT INTO snapshots` leaves a snapshot no story points
    to, and the state differs from the one before.
    """
    with Archive(db_url) as archive:
        archive.record_fetch(story(EDITED_STORY, "first"))
    result = subprocess.run(
        [sys.executable, "-m", "tests.crash_child", "writes", db_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    statements = [line["statement"] for line in lines if "statement" in line]
    reports = [line for line in lines if "state" in line]
    *killed, finished = reports
    assert all(report["killed"] for report in killed) and not finished["killed"]
    # the kills landed inside the write, after the story's rows were changed
    assert any(s.startswith("INSERT INTO snapshots") for s in statements)
    assert any("snapshot_fts" in s or "search_vector" in s for s in statements)
    before = {
        "sites": 1, "articles": 1, "snapshots": 1, "blobs": 1, "article_urls": 1,
        "article_bands": 8, "versions": [[EDITED_STORY, 1]], "integrity": "ok",
        "index_is_whole": True,
    }  # fmt: skip
    for report in killed:
        assert report["state"] == before, (statements[report["k"] - 1], report["state"])
    assert len(killed) == len(statements) >= 20
    after = finished["state"]
    assert after["versions"] == [[EDITED_STORY, 2], [NEW_STORY, 1]]
    assert after["snapshots"] == 3 and after["articles"] == 2
    assert after["integrity"] == "ok" and after["index_is_whole"]


# ------------------------------------------------------------- a full disk


def _migrated_size(tmp_path: Path) -> int:
    scratch = tmp_path / "scratch.db"
    Archive(f"sqlite:///{scratch}").close()
    return scratch.stat().st_size


def test_a_full_disk_fails_the_crawl_in_one_line_without_corruption(
    demo: SiteServer, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE makes every file write past a size fail (EFBIG), as a full disk does:
    first so small that the archive cannot even be created, then so that it is created
    and migrated but fills up mid-crawl. Then, with room again, a rerun completes.

    Defences: atomic batches (nothing half written when a write fails); the pipeline
    stopping the crawl at the first write that fails for good (a full disk is not worth
    retrying: storage.retries) and recording the run `failed`; one
    line on stderr naming the cause, with exit status 1 (crawler.cli.handle_errors, and
    the `error:` line for a run the archive stopped); a lease that cannot be released
    left to lapse rather than turned into the command's error. Without the `error:`
    line the cause is only in log lines among retry warnings (the test finds no error
    line); without the last, a failed release replaces the run's outcome by a bare
    "database error" (seen before the fix, one crawl in a few).
    """
    path = tmp_path / "full.db"
    db = f"sqlite:///{path}"
    # Room for SQLite's 32 KiB shared-memory file, not for the migration's WAL.
    result = _crawl(db, demo.url, limit=64 * 1024)
    assert result.returncode == 1
    assert _error_lines(result.stderr) == ["error: database error: disk I/O error"], result.stderr
    assert demo.log == []  # nothing fetched for an archive that cannot be written
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    for leftover in tmp_path.glob("full.db*"):
        leftover.unlink()
    # Room for the schema and a story or two, not for the whole crawl (about 100 KiB
    # more). The cap applies to the WAL as well: with 40 KiB, a crawl that wrote its
    # stories into the WAL and never checkpointed fitted there (one run in eight under
    # load, once a new archive's schema no longer passed through Alembic's larger WAL).
    limit = _migrated_size(tmp_path) + 24 * 1024
    result = _crawl(db, demo.url, limit=limit)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = _errors(result.stderr)
    site = demo.url.removeprefix("http://")
    assert line.startswith(f"error: {site}: archive write failed: disk I/O error"), result.stderr
    (run,) = json.loads(result.stdout)
    # The pipeline stops the crawl at the first failed write; with these tests' 2 s
    # leases, failing lease renewals may stop it first (as a lost lease would).
    assert run["status"] == "failed" and run["reason"] in ("database_error", "shutdown")
    assert run["counters"]["errors"]["not_written"] >= 1
    stored = _assert_consistent(path)["articles"]
    assert stored < STORIES and stored == run["counters"]["articles_new"]

    result = _crawl(db, demo.url, "--wait")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _assert_consistent(path)["articles"] == STORIES
    statuses = [s for (s,) in _rows(path, "SELECT status FROM crawl_runs ORDER BY id")]
    # The first run records its failure unless the disk was too full even for that; then
    # the rerun marks it interrupted. Either way it is not left `running`.
    assert statuses[0] in ("failed", "interrupted") and statuses[1:] == ["succeeded"]


# ------------------------------------------------------------- a read-only database


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_only_sqlite_archive_is_refused_in_one_line(
    demo: SiteServer, tmp_path: Path
) -> None:
    """An archive at the current schema opened through SQLite's read-only mode
    (`sqlite:///file:/abs/path.db?mode=ro&uri=true`; as root, chmod would not stop us).

    Defences: the first write (the site lease) fails and crawler.cli.handle_errors turns
    it into one line and exit 1 before any page is fetched; a `scrapy crawl` on it stops
    at the start of its run with one error line (crawler.runtime.pipeline.ArchivePipeline
    .open_spider), not a traceback; query commands work on the read-only archive
    (storage.archive._sqlite_file reads the path out of the `file:` URI). Without them:
    a traceback, or "no archive at file:..." for `stats`.
    """
    path = tmp_path / "archive.db"
    with Archive(f"sqlite:///{path}") as archive:
        archive.record_fetch(story(EDITED_STORY, "first"))
    before = _digest(path)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"

    result = _crawl(read_only, demo.url)
    assert result.returncode == 1
    assert _error_lines(result.stderr) == [
        "error: database error: attempt to write a readonly database"
    ], result.stderr
    assert demo.log == []

    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.demo]\nstart_urls = ["{demo.url}/"]\n')
    scrapy = subprocess.run(
        [str(BIN / "scrapy"), "crawl", "news", "-a", "site=demo",
         "-s", f"NEWSARCHIVE_DB={read_only}", "-s", f"NEWSARCHIVE_SITES={sites}",
         "-s", "LOG_LEVEL=WARNING", *FAST],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in scrapy.stderr, scrapy.stderr[-3000:]
    assert "could not start the crawl run: attempt to write a readonly database" in scrapy.stderr
    assert demo.log == []

    stats = subprocess.run(
        [str(BIN / "newsarchive"), "--db", read_only, "stats", "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["articles"] == 1

    assert _digest(path) == before
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM crawl_runs").fetchone() == (0,)


def _with_options(url: str, extra: str) -> str:
    """The URL with `extra` added to its libpq `options` (the conftest's search_path)."""
    parts = urlsplit(url)
    options = parse_qs(parts.query).get("options", [""])[0]
    return parts._replace(query="options=" + quote(f"{options} {extra}".strip())).geturl()


def test_a_read_only_postgresql_database_is_refused_in_one_line(
    demo: SiteServer, pg_url: str
) -> None:
    """A role whose transactions are read-only (`default_transaction_read_only=on`, here
    per connection, as a read-only replica or `ALTER ROLE ... SET` would make them).

    Defence: crawler.cli.handle_errors (one line, exit 1, before any fetch). Without it a
    traceback; and nothing may be written, not even a lease.
    """
    with Archive(pg_url) as archive:
        archive.record_fetch(story(EDITED_STORY, "first"))
    read_only = _with_options(pg_url, "-cdefault_transaction_read_only=on")
    result = _crawl(read_only, demo.url)
    assert result.returncode == 1
    assert _error_lines(result.stderr) == [
        "error: database error: cannot execute INSERT in a read-only transaction"
    ], result.stderr
    assert demo.log == []
    with Archive(pg_url, create=False) as archive:
        assert archive.runs() == [] and archive.stats()["articles"] == 1
        with archive.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM site_leases")).scalar_one() == 0


# ------------------------------------------------------------- an interrupted migration


@pytest.mark.parametrize("start", ["none", "0001", "snapshot"])
def test_an_interrupted_migration_is_safe_to_rerun(db_url: str, start: str) -> None:
    """A process upgrading the schema SIGKILLs itself right after the first operation of
    the next migration (CREATE TABLE sites from an empty database; CREATE TABLE
    site_leases from 0001; on SQLite also CREATE TABLE alembic_version, the first
    statement of a new archive created from the schema snapshot), which it has checked is
    in place inside its transaction.

    Defence: storage.migrate runs a whole upgrade in one transaction (BEGIN IMMEDIATE on
    SQLite, transactional DDL on both). The database must be left exactly at the old
    revision, with no half-created table, and reopening it must migrate to head. Without
    it the table survives while alembic_version says the old revision, and the rerun
    fails with "table ... already exists".
    """
    if start == "snapshot" and not db_url.startswith("sqlite"):
        pytest.skip("new PostgreSQL archives are always created by Alembic")
    result = subprocess.run(
        [sys.executable, "-m", "tests.crash_child", "migrate", db_url, start],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    first, operation = (json.loads(line) for line in result.stdout.splitlines())
    expected = {
        "none": ("CreateTableOp", "sites"),
        "0001": ("CreateTableOp", "site_leases"),
        "snapshot": ("snapshot", "alembic_version"),
    }[start]
    assert operation == {"operation": expected[0], "table": expected[1], "visible_inside": True}
    engine = build_engine(db_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == (start if start == "0001" else None)
            assert sorted(inspect(conn).get_table_names()) == first["tables_before"]
            if conn.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        with Archive(db_url) as archive:  # opening migrates, as every command does
            archive.record_fetch(story(EDITED_STORY, "first"))
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            assert inspect(conn).has_table("site_leases")
        assert upgrade(engine) == HEAD_REVISION
    finally:
        engine.dispose()
