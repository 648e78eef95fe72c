"""Engines tuned for many concurrent writers (the retry policy is storage.retries).

SQLite allows one writer at a time: every connection runs in WAL mode with a busy timeout,
write transactions start with BEGIN IMMEDIATE (so two writers never deadlock upgrading
read locks) and a busy writer is waited for. PostgreSQL conflicts are resolved by unique
constraints and upserts.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

__all__ = [
    "DatabaseURLError",
    "build_engine",
    "describe_error",
    "dialect_module",
    "normalize_db_url",
]

BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "newsarchive_write"


class DatabaseURLError(ValueError):
    """A --db value that names no database we can open."""


def normalize_db_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseURLError(
            f"invalid database URL {url!r}: expected sqlite:///FILE or postgresql://HOST/DB"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {parsed.get_backend_name()!r} in {url!r}: "
            "use sqlite:///FILE or postgresql://HOST/DB"
        )
    return parsed


def dialect_module(name: str) -> Any:
    """SQLAlchemy's module for this database, for its INSERT ... ON CONFLICT.

    Imported on first use: `sqlalchemy.dialects.postgresql` imports every PostgreSQL
    driver SQLAlchemy knows, start-up time an SQLite archive does not need to pay.
    """
    return importlib.import_module(
        "sqlalchemy.dialects.postgresql" if name == "postgresql" else "sqlalchemy.dialects.sqlite"
    )


def build_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for the archive; nothing is connected until first use. `read_only`: the
    database refuses every write made through it (the web app's)."""
    parsed = normalize_db_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only)
    engine = create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=4)
    if read_only:

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            # A session setting, not a connect option: a URL's own `options` are kept.
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()

    return engine


def sqlite_uri_path(path: Path) -> str:
    """`path` as the path of an SQLite `file:` URI (absolute; `?` `#` `%` escaped)."""
    return quote(str(path.resolve()))


def _sqlite_engine(url: URL, read_only: bool = False) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if read_only and not memory:
        # SQLite's own read-only mode: the file is opened for reading only.
        url = url.set(
            database=f"file:{sqlite_uri_path(Path(str(url.database)))}",
            query={"mode": "ro", "uri": "true"},
        )
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
        poolclass=None if memory else NullPool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if read_only:
            cursor.execute("PRAGMA query_only=1")
        elif not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The driver runs in autocommit mode, so SQLAlchemy's begin is ours to spell:
        # writers take the write lock up front, readers take none.
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, marking its transactions as writes (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def describe_error(exc: BaseException) -> str:
    """One line for an operator: the database's own message, plus SQLite's error name.

    SQLAlchemy's text of an error spans lines (the SQL, its parameters, a web link); a
    failed crawl must say in one line what went wrong. SQLite's extended name tells a
    full disk (SQLITE_FULL) from a failing write (SQLITE_IOERR_WRITE, which is also what
    a file-size limit gives) or a read-only file (SQLITE_READONLY).
    """
    reason: BaseException = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    message = lines[0] if lines else type(reason).__name__
    name = getattr(reason, "sqlite_errorname", None)
    if isinstance(name, str) and name not in message:
        message += f" ({name})"
    return message
