"""The one retry policy for database work: a whole transaction, again, when it may succeed.

What is retried is what a second attempt can fix: a conflict with another writer (SQLite's
"database is locked", PostgreSQL's serialization failures and deadlocks) and a lost
connection (a server restart, a failover, a dropped network link: the pool opens a new
one). A full disk, a read-only database or a bad statement fails at once, so a caller
reports it in one line instead of waiting. The crawler's pipeline and the scheduler's job
store use this policy too, rather than loops of their own around it.

tenacity runs the loop: exponential waits with full jitter (writers that collided do not
collide again in step), a cap on attempts and on the total time, and a warning per retry.
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

MAX_ATTEMPTS = 10
# Long enough for a PostgreSQL failover or restart; SQLite's busy timeout waits on top of it
# inside each attempt.
MAX_SECONDS = 60.0
FIRST_WAIT = 0.05
LONGEST_WAIT = 5.0

# PostgreSQL SQLSTATEs a new attempt can succeed after: serialization_failure,
# deadlock_detected, admin_shutdown, crash_shutdown, cannot_connect_now.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})


def is_transient(exc: BaseException) -> bool:
    """True for failures that a retry of the whole transaction can resolve."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True  # the connection died; the pool replaces it
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate in _RETRYABLE_SQLSTATES or sqlstate.startswith("08")  # connection exception
    ):
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return "locked" in message or "busy" in message
    return False


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        reason = getattr(failure, "orig", None) or failure
        log.warning(
            "%s failed (%s); retry %d of %d",
            what,
            str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__,
            state.attempt_number,
            MAX_ATTEMPTS - 1,
        )

    return before_sleep


def with_retries(work: Callable[[], T], *, what: str = "write") -> T:
    """Run `work` (one whole transaction), again while it fails transiently; the last
    failure is raised as it was."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(MAX_SECONDS),
        wait=wait_random_exponential(multiplier=FIRST_WAIT, max=LONGEST_WAIT),
        before_sleep=_log_retry(what),
        reraise=True,
    )
    return retrying(work)
