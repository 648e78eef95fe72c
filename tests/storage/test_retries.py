"""The one retry policy for database work: what a new attempt can fix is retried, with
backoff and within bounds; nothing else is, and nothing retries on top of it."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from storage import retries
from storage.engine import build_engine
from storage.retries import MAX_ATTEMPTS, is_transient, with_retries


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "FIRST_WAIT", 0.0001)
    monkeypatch.setattr(retries, "LONGEST_WAIT", 0.001)


class _PgError(Exception):
    """A driver error carrying a PostgreSQL SQLSTATE, as psycopg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _locked() -> OperationalError:
    return OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))


def test_transient_lock_errors_are_retried() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        return "done"

    assert with_retries(flaky) == "done"
    assert len(calls) == 3


@pytest.mark.parametrize(
    "error",
    [
        _locked(),
        OperationalError("COMMIT", {}, _PgError("40001")),  # serialization failure
        DBAPIError("UPDATE", {}, _PgError("40P01")),  # deadlock
        OperationalError("SELECT", {}, _PgError("57P01")),  # the server is shutting down
        OperationalError("SELECT", {}, _PgError("08006")),  # connection failure
        OperationalError("SELECT", {}, Exception("gone"), connection_invalidated=True),
    ],
    ids=["sqlite-locked", "serialization", "deadlock", "admin-shutdown", "08006", "invalidated"],
)
def test_what_a_new_attempt_can_fix_is_transient(error: DBAPIError) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
        OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error")),
        OperationalError(
            "INSERT", {}, sqlite3.OperationalError("attempt to write a readonly database")
        ),
        OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")),
        IntegrityError("INSERT", {}, _PgError("23505")),
        OperationalError("SELECT", {}, _PgError("08P01")),  # a protocol violation
        ValueError("not a database error"),
    ],
    ids=["full", "io", "read-only", "schema", "unique", "protocol", "other"],
)
def test_what_a_new_attempt_cannot_fix_fails_at_once(error: Exception) -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        with_retries(broken)
    assert len(calls) == 1


def test_a_lasting_conflict_is_given_up_after_the_attempts_and_raised_as_it_was() -> None:
    calls = []

    def locked() -> None:
        calls.append(1)
        raise _locked()

    with pytest.raises(OperationalError, match="database is locked"):
        with_retries(locked)
    assert len(calls) == MAX_ATTEMPTS


def _connect_to_nothing() -> None:
    """A real refused connection: nothing listens on port 1 of this machine."""
    engine = build_engine("postgresql://postgres@127.0.0.1:1/test")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def test_a_refused_connection_is_an_outage_only_once_the_database_has_answered() -> None:
    """A command pointed at a database that is not there fails at once (a mistyped --db);
    a crawl or the scheduler, which reached it before, rides out its restart."""
    calls: list[int] = []

    def connect() -> None:
        calls.append(1)
        _connect_to_nothing()

    with pytest.raises(OperationalError):
        with_retries(connect)
    assert len(calls) == 1
    with pytest.raises(OperationalError):
        with_retries(connect, reconnect=True)
    assert len(calls) == 1 + MAX_ATTEMPTS
