"""Processes that SIGKILL themselves at chosen moments (tests/running/test_crash_safety.py).

A kill from outside lands wherever the victim happens to be; these land at exact places,
so a test can say which moment it covered:

    python -m tests.crash_child migrate URL START   # SIGKILL after the first DDL operation
                                                    # of the migration following START
    python -m tests.crash_child writes URL          # SIGKILL after each SQL statement of
                                                    # one batch write, in turn

Each prints JSON lines on stdout for the test to read.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text

from storage import Archive, ExtractedArticle, FetchRecord
from storage.engine import build_engine
from storage.migrate import upgrade

SITE = "crash"
NEW_STORY = "https://crash.example/news/2026/11/new-story.html"
EDITED_STORY = "https://crash.example/news/2026/11/edited-story.html"
COUNTED = ("sites", "articles", "snapshots", "blobs", "article_urls", "article_bands")


def _say(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def story(url: str, edition: str) -> FetchRecord:
    """A fetch of a story in a given edition (a different title and body per edition)."""
    body = f"The harbor story at {url}, {edition} edition. " * 40
    return FetchRecord(
        site=SITE,
        url=url,
        final_url=url,
        status=200,
        body=f"<html><body><h1>{edition}</h1><p>{body}</p></body></html>".encode(),
        article=ExtractedArticle(
            title=f"Harbor story ({edition})",
            text=body,
            authors=("Desk",),
            published=datetime(2026, 11, 2, tzinfo=UTC),
            language="en",
        ),
    )


def batch() -> list[FetchRecord]:
    """One new story and a new version of a stored one: inserts and updates of every kind."""
    return [story(NEW_STORY, "first"), story(EDITED_STORY, "second")]


def state(url: str) -> dict[str, Any]:
    """What the archive holds, and whether its parts agree with each other."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            found: dict[str, Any] = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in COUNTED
            }
            found["versions"] = sorted(
                conn.execute(text("SELECT canonical_url, latest_version FROM articles")).all()
            )
            latest = set(conn.execute(text("SELECT latest_snapshot_id FROM articles")).scalars())
            if conn.dialect.name == "sqlite":
                found["integrity"] = conn.execute(text("PRAGMA integrity_check")).scalar_one()
                conn.execute(
                    text(
                        "CREATE VIRTUAL TABLE temp.indexed USING "
                        "fts5vocab(main, 'snapshot_fts', 'instance')"
                    )
                )
                indexed = set(conn.execute(text("SELECT DISTINCT doc FROM temp.indexed")).scalars())
                # SQLite indexes every snapshot (searches join the latest).
                latest = set(conn.execute(text("SELECT id FROM snapshots")).scalars())
            else:
                found["integrity"] = "ok"
                indexed = set(
                    conn.execute(
                        text(
                            "SELECT latest_snapshot_id FROM articles "
                            "WHERE search_vector IS NOT NULL"
                        )
                    ).scalars()
                )
            found["index_is_whole"] = indexed == latest
            conn.rollback()
    finally:
        engine.dispose()
    found["versions"] = [list(row) for row in found["versions"]]
    return found


def _write_and_die_after(url: str, k: int) -> None:
    archive = Archive(url, migrate=False)
    seen = 0

    def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            _say(k=k, statement=" ".join(statement.split())[:80])
            _die()

    event.listen(archive.engine, "after_cursor_execute", after)
    archive.record_fetches(batch())
    os._exit(0)


def kill_each_write(url: str) -> None:
    """For k = 1, 2, ...: a forked process writes `batch()` and SIGKILLs itself right after
    the k-th SQL statement it runs; this process then reports the archive's state. Ends
    with the first write that completes before its k-th statement."""
    k = 1
    while True:
        pid = os.fork()
        if pid == 0:  # the writer: no connection is inherited, it opens its own
            try:
                _write_and_die_after(url, k)
            except BaseException:
                traceback.print_exc()
            os._exit(1)  # never back into this loop
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if not killed and os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"the writer failed at k={k} (status {status})")
        _say(k=k, killed=killed, state=state(url))
        if not killed:
            return
        k += 1


def migrate_and_die(url: str, start: str) -> None:
    """Bring the database to `start` ("none": leave it empty), then upgrade to head with
    every Alembic operation wrapped: right after the first one has run (inside the
    migration's transaction, as the printed check shows), the process SIGKILLs itself."""
    from alembic.operations.base import AbstractOperations
    from alembic.operations.ops import CreateTableOp

    engine = build_engine(url)
    if start not in ("none", "snapshot"):
        upgrade(engine, start)
    with engine.connect() as conn:
        _say(tables_before=sorted(inspect(conn).get_table_names()))
    if start == "snapshot":
        _create_from_snapshot_and_die(engine)
        return
    original = AbstractOperations.invoke

    def invoke(self: AbstractOperations, operation: Any) -> Any:
        result = original(self, operation)
        created = None
        if isinstance(operation, CreateTableOp):
            created = inspect(self.get_bind()).has_table(operation.table_name)
        _say(operation=type(operation).__name__, table=getattr(operation, "table_name", None),
             visible_inside=created)  # fmt: skip
        _die()
        return result

    AbstractOperations.invoke = invoke  # type: ignore[method-assign]
    upgrade(engine, from_snapshot=False)
    _say(survived=True)


def _create_from_snapshot_and_die(engine: Any) -> None:
    """Create a new SQLite archive from the schema snapshot, SIGKILLed right after its
    first CREATE TABLE (checked to be in place inside the transaction)."""
    from sqlalchemy.engine import Connection

    original = Connection.exec_driver_sql

    def execute(self: Connection, statement: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, statement, *args, **kwargs)
        if statement.startswith("CREATE TABLE "):
            table = statement.split()[2]
            _say(operation="snapshot", table=table, visible_inside=inspect(self).has_table(table))
            _die()
        return result

    Connection.exec_driver_sql = execute  # type: ignore[method-assign]
    upgrade(engine)
    _say(survived=True)


def main(argv: list[str]) -> None:
    command, url, *rest = argv
    if command == "migrate":
        migrate_and_die(url, rest[0])
    elif command == "writes":
        kill_each_write(url)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
