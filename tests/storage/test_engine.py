"""Engine rules for concurrent writers: WAL, write lock taken up front, retries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Archive
from storage.engine import DatabaseURLError, normalize_db_url, writer


def test_sqlite_uses_wal_and_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(f"sqlite:///{path}") as archive:
        with archive.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
        with writer(archive.engine).begin():
            # Nothing written yet, but another writer must already be shut out...
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # ...while readers go on (WAL).
            assert other.execute("SELECT count(*) FROM articles").fetchone() == (0,)
            other.close()


def test_database_urls() -> None:
    assert normalize_db_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_db_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(DatabaseURLError, match="unsupported"):
        normalize_db_url("mysql://u@h/db")
    with pytest.raises(DatabaseURLError, match="invalid"):
        normalize_db_url("not a url")
