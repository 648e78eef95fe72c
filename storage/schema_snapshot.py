"""`python -m storage.schema_snapshot`: record the migrated SQLite schema (after adding a
migration), from which storage.sqlite_schema creates new archives without Alembic.

A tool apart from the module it feeds, because it runs the migrations: the module that
creates archives must not import the one that migrates them.
"""

from __future__ import annotations

import json
import sys
import tempfile

from storage.engine import build_engine
from storage.migrate import upgrade
from storage.migrations import HEAD_REVISION
from storage.sqlite_schema import SNAPSHOT, schema_statements

__all__ = ["write_snapshot"]


def write_snapshot() -> None:
    """Migrate a scratch database with Alembic and record its schema."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(f"sqlite:///{tmp}/schema.db")
        try:
            upgrade(engine, from_snapshot=False)
            with engine.connect() as conn:
                statements = schema_statements(conn)
        finally:
            engine.dispose()
    SNAPSHOT.write_text(
        json.dumps({"revision": HEAD_REVISION, "statements": statements}, indent=1) + "\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"wrote {SNAPSHOT} ({len(statements)} statements, {HEAD_REVISION})\n")


if __name__ == "__main__":
    write_snapshot()
