"""A brand-new SQLite archive, created from a snapshot of the migrated schema.

Creating an archive through Alembic was a large part of a first crawl's start-up
(docs/benchmarks.md, "What each change bought"): Alembic's import pulls in the DDL modules
of every database, Mako and the PostgreSQL drivers, for a schema that comes out the same
every time. A database with no tables at all therefore gets the statements the migrations
leave in `sqlite_master` (recorded in `migrations/sqlite_head.json`) and the head revision,
in one write transaction, so a crash midway leaves it empty. Every other database (older,
partly created by something else, PostgreSQL) is migrated by Alembic as before.

tests/storage/test_migrations.py checks that the snapshot equals what the migrations create;
after adding a migration, rewrite it with `python -m storage.schema_snapshot`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["SNAPSHOT", "create_at_head", "schema_statements", "snapshot"]

# Where `python -m storage.schema_snapshot` writes it, in a source checkout. Read through
# importlib.resources, which also reads it from inside a zipped egg (Scrapyd).
SNAPSHOT = Path(__file__).with_name("migrations") / "sqlite_head.json"


def schema_statements(conn: Connection) -> list[str]:
    """The statements that recreate this database's schema, in creation order.

    Indexes SQLite makes itself (no SQL) and the shadow tables of virtual tables (FTS5
    creates them with the virtual table) are left out.
    """
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).all()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    return [sql for name, sql in rows if not any(name.startswith(f"{table}_") for table in virtual)]


@cache
def snapshot() -> tuple[str, tuple[str, ...]]:
    """The recorded revision and its statements."""
    packaged = resources.files("storage.migrations").joinpath(SNAPSHOT.name)
    recorded = json.loads(packaged.read_text(encoding="utf-8"))
    return recorded["revision"], tuple(recorded["statements"])


def create_at_head(conn: Connection, head: str) -> bool:
    """Create the schema at `head` in the caller's write transaction if the database is
    empty and the snapshot is of `head`; False (nothing done) otherwise."""
    revision, statements = snapshot()
    if revision != head:
        return False
    if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
        return False
    for statement in statements:
        conn.exec_driver_sql(statement)
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})
    return True
