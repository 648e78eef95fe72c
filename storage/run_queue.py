"""Runs published to workers: the archive's record of them, which the broker only carries.

A queued run is a `crawl_runs` row before it is a broker message, so nothing the broker
loses is lost: a row still `queued` long after it was published is published again, and
whichever copy of the message a worker takes first claims the row (one atomic update
from `queued` to `running`); the others find it claimed and do nothing. A run whose
worker was lost is not resumed in place: the worker that gets the redelivered message
closes that attempt as interrupted and records the next attempt as a new run pointing at
the first, so each attempt keeps its own counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from storage.models import run_table as _runs, site_table as _sites

__all__ = [
    "ACTIVE_STATUSES",
    "Attempt",
    "active_run",
    "claim",
    "count_queued",
    "finish_if",
    "latest_attempt",
    "mark_published",
    "next_attempt",
    "queue",
    "stale_queued",
]

# A site with a run in one of these states gets no other run published.
ACTIVE_STATUSES = ("queued", "running")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of a queued run, as a worker needs to judge it."""

    id: int
    first: int  # the id of the run's first attempt (its own id for the first)
    site: str
    status: str
    attempt: int
    worker: str | None
    error: str | None
    request: dict[str, Any] | None


def queue(
    conn: Connection, site_id: int, trigger: str, request: dict[str, Any], now: datetime
) -> int:
    """Record a run as queued (published_at stays empty until the message is sent)."""
    return int(
        conn.execute(
            insert(_runs)
            .values(
                site_id=site_id,
                trigger=trigger,
                status="queued",
                started_at=now,
                counters={},
                attempt=1,
                request=request,
            )
            .returning(_runs.c.id)
        ).scalar_one()
    )


def mark_published(conn: Connection, run_ids: list[int], now: datetime) -> None:
    conn.execute(
        update(_runs)
        .where(_runs.c.id.in_(run_ids), _runs.c.status == "queued")
        .values(published_at=now)
    )


def claim(conn: Connection, run_id: int, worker: str | None, now: datetime) -> bool:
    """Take a queued run for this process: False when it is not (or no longer) queued."""
    result = conn.execute(
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.status == "queued")
        .values(status="running", started_at=now, worker=worker)
    )
    return result.rowcount == 1


def finish_if(
    conn: Connection, run_id: int, statuses: list[str], status: str, error: str, now: datetime
) -> bool:
    """End the run with `status` and `error` if it is in one of `statuses`."""
    result = conn.execute(
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.status.in_(statuses))
        .values(status=status, finished_at=now, error=error)
    )
    return result.rowcount == 1


def latest_attempt(conn: Connection, run_id: int) -> Attempt | None:
    """The newest attempt of the run that `run_id` names (any of its attempts)."""
    first = conn.execute(select(_runs.c.retry_of).where(_runs.c.id == run_id)).first()
    if first is None:
        return None
    root = first.retry_of or run_id
    row = conn.execute(
        select(_runs, _sites.c.name.label("site"))
        .join(_sites, _sites.c.id == _runs.c.site_id)
        .where(or_(_runs.c.id == root, _runs.c.retry_of == root))
        .order_by(_runs.c.attempt.desc(), _runs.c.id.desc())
        .limit(1)
    ).first()
    assert row is not None
    return Attempt(
        id=row.id,
        first=root,
        site=row.site,
        status=row.status,
        attempt=row.attempt,
        worker=row.worker,
        error=row.error,
        request=dict(row.request) if row.request is not None else None,
    )


def next_attempt(conn: Connection, previous: Attempt, now: datetime) -> int:
    """Record the attempt after `previous` as a new queued run of the same request."""
    row = conn.execute(
        select(_runs.c.site_id, _runs.c.trigger).where(_runs.c.id == previous.id)
    ).one()
    return int(
        conn.execute(
            insert(_runs)
            .values(
                site_id=row.site_id,
                trigger=row.trigger,
                status="queued",
                started_at=now,
                published_at=now,
                counters={},
                attempt=previous.attempt + 1,
                retry_of=previous.first,
                request=previous.request,
            )
            .returning(_runs.c.id)
        ).scalar_one()
    )


def stale_queued(conn: Connection, published_before: datetime) -> list[tuple[int, dict[str, Any]]]:
    """Queued runs last published before the moment, or queued before it and never
    published (their publisher died, or the broker refused them): (id, request). A run
    queued since is left alone: its publisher may be sending it right now."""
    rows = conn.execute(
        select(_runs.c.id, _runs.c.request)
        .where(
            _runs.c.status == "queued",
            or_(
                _runs.c.published_at < published_before,
                _runs.c.published_at.is_(None) & (_runs.c.started_at < published_before),
            ),
        )
        .order_by(_runs.c.id)
    ).all()
    return [(int(r.id), dict(r.request or {})) for r in rows]


def count_queued(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(_runs).where(_runs.c.status == "queued")
        ).scalar_one()
    )


def active_run(conn: Connection, site: str) -> tuple[int, str] | None:
    """A queued or running run of the site, (id, status), if there is one."""
    row = conn.execute(
        select(_runs.c.id, _runs.c.status)
        .join(_sites, _sites.c.id == _runs.c.site_id)
        .where(_sites.c.name == site, _runs.c.status.in_(ACTIVE_STATUSES))
        .order_by(_runs.c.id.desc())
        .limit(1)
    ).first()
    return (int(row.id), str(row.status)) if row is not None else None
