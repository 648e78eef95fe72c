"""Bring an archive's schema up to date, safely when several processes open it at once.

Opening an archive migrates it, so users never run a separate step. The common case (already
current) costs one small query and never imports Alembic; neither does creating a new
SQLite archive (storage.sqlite_schema). Migrations run in one transaction
that holds the database's write lock (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL), so concurrent openers wait for each other and an interrupted migration rolls
back and can simply be run again.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from storage.engine import writer
from storage.migrations import HEAD_REVISION
from storage.retries import with_retries

__all__ = ["SchemaTooNewError", "current_revision", "script_location", "upgrade"]

_PG_MIGRATION_LOCK = 0x6E657773  # "news": one advisory lock key for all migrating processes


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer newsarchive than this one."""


def script_location() -> str:
    """The migration scripts' directory, for Alembic, which reads them as files.

    Installed normally they are files already. Deployed inside a zipped egg (Scrapyd runs
    projects so) they are not, so they are copied once per process into a temporary
    directory, removed when the process exits.
    """
    scripts = resources.files("storage.migrations")
    if isinstance(scripts, Path):
        return str(scripts)
    return _copied_out()


@cache
def _copied_out() -> str:
    scripts = resources.files("storage.migrations")
    directory = tempfile.mkdtemp(prefix="newsarchive-migrations-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    _copy_tree(scripts, Path(directory))
    return directory


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                (target / entry.name).mkdir()
                _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head", *, from_snapshot: bool = True) -> str | None:
    """Upgrade to `revision`; returns the revision the database was at before.

    An empty SQLite database going to head is created from the schema snapshot
    (storage.sqlite_schema) without loading Alembic, unless `from_snapshot` is False.
    """
    with engine.connect() as conn:
        before = current_revision(conn)
        conn.rollback()
    if before == HEAD_REVISION and revision == "head":
        return before
    if before is None and revision == "head" and from_snapshot and engine.dialect.name == "sqlite":
        from storage.sqlite_schema import create_at_head

        def create() -> bool:
            with writer(engine).begin() as conn:
                return create_at_head(conn, HEAD_REVISION)

        if with_retries(create, what="migration"):
            return None

    def run() -> str | None:
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        config = Config()
        config.set_main_option("script_location", script_location())
        with writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            start = current_revision(conn)
            if start is not None:
                try:
                    ScriptDirectory.from_config(config).get_revision(start)
                except CommandError:
                    raise SchemaTooNewError(
                        f"the archive's schema (revision {start}) is newer than this "
                        f"newsarchive knows (up to {HEAD_REVISION}): upgrade newsarchive"
                    ) from None
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            return start

    return with_retries(run, what="migration")
