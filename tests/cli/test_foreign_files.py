"""A --db that is not an archive is never touched: not switched to WAL, not given the
archive's schema, not created by a command that only reads (issue 18)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.e2e


def newsarchive(
    db: Path, *args: str, sites: Path | None = None
) -> subprocess.CompletedProcess[str]:
    extra = ["--sites", str(sites)] if sites else []
    return subprocess.run(
        [str(BIN / "newsarchive"), "--db", f"sqlite:///{db}", *extra, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def state(db: Path) -> tuple[str, list[str], bytes]:
    with sqlite3.connect(db) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
    conn.close()
    return mode, tables, db.read_bytes()


@pytest.mark.parametrize(
    "args", [("crawl", "http://127.0.0.1:9/"), ("db", "upgrade"), ("stats",), ("serve",)]
)
def test_another_program_s_database_is_left_untouched(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    db = tmp_path / "notes.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.close()
    before = state(db)
    done = newsarchive(db, *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        f"error: {db} is an SQLite database of something else (tables notes): not an archive, "
        "left untouched (check --db)"
    )
    assert state(db) == before  # same journal mode, tables and bytes
    assert not (tmp_path / "notes.db-wal").exists()


def test_a_file_that_is_no_database_is_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "report.txt"
    db.write_text("quarterly figures\n" * 100)
    done = newsarchive(db, "crawl", "http://127.0.0.1:9/")
    assert done.returncode == 1
    assert "is not an SQLite database" in done.stderr.strip().splitlines()[-1]
    assert db.read_text() == "quarterly figures\n" * 100


def test_schedule_list_and_trigger_do_not_create_an_archive(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.demo]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "every 1h"\n')
    mistyped = tmp_path / "archvie.db"
    for args in (("schedule", "list"), ("schedule", "trigger", "demo")):
        done = newsarchive(mistyped, *args, sites=sites)
        assert done.returncode == 1, (args, done.stderr)
        assert done.stderr.strip() == f"error: no archive at {mistyped} (check --db)"
        assert not mistyped.exists()
