"""Site leases in the archive database: the one place that says a site is being crawled.

A lease is taken with one atomic statement (insert, or take over a row whose lease has
expired or is already ours), so two processes (the scheduler's child and a manual crawl,
on one machine or on several sharing PostgreSQL) can never both hold it. It works the same
on SQLite, whose writes are serialized anyway, and needs no server-side locks that would
die with a connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from storage.engine import dialect_module
from storage.models import lease_table as _leases

__all__ = ["Lease", "acquire", "current", "release", "renew"]


@dataclass(frozen=True)
class Lease:
    site: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _now(conn: Connection) -> Any:
    """The database server's clock on PostgreSQL, so machines whose clocks disagree cannot
    take each other's live leases; SQLite is one machine, whose clock is the clock."""
    if conn.dialect.name == "postgresql":
        return func.now()
    return datetime.now(UTC)


def acquire(
    conn: Connection, site: str, holder: str, ttl: timedelta, *, replacing: str | None = None
) -> bool:
    """Take the site's lease for `holder` unless someone else holds an unexpired one.

    `replacing` names a holder the caller knows to be dead (a process of its own machine
    that no longer exists): its lease is taken over at once, and only if it still holds
    it, so a holder that renewed or released meanwhile is never displaced by mistake.
    """
    now = _now(conn)
    takeable = (_leases.c.expires_at < now) | (_leases.c.holder == holder)
    if replacing is not None:
        takeable = takeable | (_leases.c.holder == replacing)
    insert = dialect_module(conn.dialect.name).insert
    statement = insert(_leases).values(
        site=site, holder=holder, acquired_at=now, expires_at=now + ttl
    )
    take_over = statement.on_conflict_do_update(
        index_elements=[_leases.c.site],
        set_={
            "holder": statement.excluded.holder,
            "acquired_at": statement.excluded.acquired_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=takeable,
    )
    return conn.execute(take_over.returning(_leases.c.holder)).first() is not None


def renew(conn: Connection, site: str, holder: str, ttl: timedelta) -> bool:
    """Extend our lease; False when it lapsed and someone else took it."""
    result = conn.execute(
        update(_leases)
        .where(_leases.c.site == site, _leases.c.holder == holder)
        .values(expires_at=_now(conn) + ttl)
    )
    return result.rowcount == 1


def release(conn: Connection, site: str, holder: str) -> None:
    conn.execute(delete(_leases).where(_leases.c.site == site, _leases.c.holder == holder))


def current(conn: Connection, site: str) -> Lease | None:
    """The unexpired lease on a site, if any."""
    row = conn.execute(
        select(_leases).where(_leases.c.site == site, _leases.c.expires_at >= _now(conn))
    ).first()
    if row is None:
        return None
    return Lease(row.site, row.holder, row.acquired_at, row.expires_at)
