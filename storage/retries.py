"""The one retry policy for database work: a whole transaction, again, when it may succeed.

What is retried is what a second attempt can fix: a conflict with another writer (SQLite's
"database is locked", PostgreSQL's serialization failures and deadlocks) and a lost
connection (a server restart, a failover, a dropped network link: the pool opens a new
one). A connection the server refuses is retried too once this process has reached the
database (`reconnect`): then it is an outage to ride out, where before it is a mistyped
`--db` to report at once. A full disk, a read-only database or a bad statement fails at
once, so a caller reports it in one line instead of waiting. The crawler's pipeline and
the scheduler's job store rely on this policy rather than loops of their own around it.

tenacity runs the loop: exponential waits with full jitter (writers that collided do not
collide again in step), at most MAX_ATTEMPTS attempts within MAX_SECONDS, counted from the
first attempt and including the attempts themselves (an SQLite attempt waits up to its
busy timeout, 30 s, for a writer that holds the lock), and a warning per retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["MAX_ATTEMPTS", "MAX_SECONDS", "is_transient", "with_retries"]

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 30
# Long enough to ride out a PostgreSQL restart or failover.
MAX_SECONDS = 60.0
FIRST_WAIT = 0.05
LONGEST_WAIT = 5.0

# PostgreSQL SQLSTATEs a new attempt can succeed after: serialization_failure,
# deadlock_detected, admin_shutdown, crash_shutdown, cannot_connect_now; and the
# connection exceptions of class 08 but a protocol violation.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_NOT_A_SQLSTATE = object()


def is_transient(exc: BaseException, *, reconnect: bool = False) -> bool:
    """True for failures that a retry of the whole transaction can resolve; with
    `reconnect`, a connection the server refuses or drops is one."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True  # the connection died; the pool replaces it
    sqlstate = getattr(exc.orig, "sqlstate", _NOT_A_SQLSTATE)
    if isinstance(sqlstate, str) and (
        sqlstate in _RETRYABLE_SQLSTATES or (sqlstate.startswith("08") and sqlstate != "08P01")
    ):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if sqlstate is None:
        # psycopg's own failure, before any server answered: no connection (refused,
        # reset, a name that does not resolve).
        return reconnect
    message = str(exc.orig if exc.orig is not None else exc).lower()
    return "locked" in message or "busy" in message


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        reason = getattr(failure, "orig", None) or failure
        lines = str(reason).strip().splitlines()
        log.warning(
            "%s failed (%s); retry %d of at most %d",
            what,
            lines[0] if lines else type(reason).__name__,
            state.attempt_number,
            MAX_ATTEMPTS - 1,
        )

    return before_sleep


def with_retries(work: Callable[[], T], *, what: str = "write", reconnect: bool = False) -> T:
    """Run `work` (one whole transaction), again while it fails transiently; the last
    failure is raised as it was."""
    retrying = Retrying(
        retry=retry_if_exception(lambda exc: is_transient(exc, reconnect=reconnect)),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(MAX_SECONDS),
        wait=wait_random_exponential(multiplier=FIRST_WAIT, max=LONGEST_WAIT),
        before_sleep=_log_retry(what),
        reraise=True,
    )
    return retrying(work)
