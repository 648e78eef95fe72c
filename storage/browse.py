"""Reading the archive without a search term: the newest stories, the latest edits, each
site's stories per day, the other copies of a story. What the web app's pages list
(crawler.web); every query is bounded by a limit and served by an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from storage.fulltext import SearchFilters, filter_sql, typed_text
from storage.models import (
    article_table as _articles,
    run_table as _runs,
    site_table as _sites,
    snapshot_table as _snapshots,
)
from storage.versioning import RE_EXTRACTION

__all__ = [
    "Change",
    "SiteSummary",
    "StorySummary",
    "copies_of",
    "counts",
    "list_stories",
    "recent_changes",
    "recent_stories",
    "site_summaries",
    "stories_per_day",
]


@dataclass(frozen=True, slots=True)
class StorySummary:
    id: int
    site: str
    url: str
    title: str
    first_seen: datetime
    published: datetime | None
    language: str | None
    versions: int


@dataclass(frozen=True, slots=True)
class Change:
    """A version after the first: what changed, and the headline before and after."""

    id: int
    site: str
    url: str
    version: int
    fetched_at: datetime
    changed_fields: list[str]
    title: str
    previous_title: str

    @property
    def headline_changed(self) -> bool:
        return "title" in self.changed_fields


def _stories() -> Any:
    """Stories with their latest version's title, date and language."""
    return (
        select(
            _articles.c.id,
            _sites.c.name.label("site"),
            _articles.c.canonical_url,
            _snapshots.c.title,
            _articles.c.first_seen,
            _snapshots.c.published,
            _snapshots.c.language,
            _articles.c.latest_version,
        )
        .join(_sites, _sites.c.id == _articles.c.site_id)
        .join(_snapshots, _snapshots.c.id == _articles.c.latest_snapshot_id)
    )


def _story(row: Any) -> StorySummary:
    return StorySummary(
        row.id,
        row.site,
        row.canonical_url,
        row.title,
        row.first_seen,
        row.published,
        row.language,
        row.latest_version,
    )


def recent_stories(
    conn: Connection, *, site: str | None = None, limit: int = 20, offset: int = 0
) -> list[StorySummary]:
    """Stories by when they were first archived, newest first."""
    query = (
        _stories()
        .order_by(_articles.c.first_seen.desc(), _articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if site is not None:
        query = query.where(_sites.c.name == site)
    return [_story(r) for r in conn.execute(query)]


def list_stories(
    conn: Connection, filters: SearchFilters, *, limit: int = 100, offset: int = 0
) -> list[StorySummary]:
    """Stories matching `filters` (no search term), newest first by the filters' date
    field; stories without that date last."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    where = filter_sql(filters, conn.dialect.name, params)
    order = "s.published" if filters.date_field == "published" else "a.first_seen"
    sql = (
        "SELECT a.id, si.name AS site, a.canonical_url, s.title, a.first_seen, s.published, "
        "s.language, a.latest_version FROM articles a "
        "JOIN snapshots s ON s.id = a.latest_snapshot_id JOIN sites si ON si.id = a.site_id"
        + "".join(f" {'AND' if n else 'WHERE'} {w}" for n, w in enumerate(where))
        + f" ORDER BY {order} IS NULL, {order} DESC, a.id DESC LIMIT :limit OFFSET :offset"
    )
    return [_story(row) for row in conn.execute(typed_text(sql, params), params)]


def recent_changes(
    conn: Connection, *, site: str | None = None, limit: int = 50, offset: int = 0
) -> list[Change]:
    """Versions after the first that are edits (not re-extractions), newest first, with the
    headline of the version before."""
    previous = _snapshots.alias("previous")
    query = (
        select(
            _snapshots.c.article_id,
            _sites.c.name.label("site"),
            _articles.c.canonical_url,
            _snapshots.c.version,
            _snapshots.c.fetched_at,
            _snapshots.c.changed_fields,
            _snapshots.c.title,
            previous.c.title.label("previous_title"),
        )
        .join(_articles, _articles.c.id == _snapshots.c.article_id)
        .join(_sites, _sites.c.id == _articles.c.site_id)
        .join(
            previous,
            and_(
                previous.c.article_id == _snapshots.c.article_id,
                previous.c.version == _snapshots.c.version - 1,
            ),
        )
        # A re-extraction is newsarchive's own doing, not the publisher's edit.
        .where(_snapshots.c.version > 1, _snapshots.c.cause.is_distinct_from(RE_EXTRACTION))
        .order_by(_snapshots.c.fetched_at.desc(), _snapshots.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if site is not None:
        query = query.where(_sites.c.name == site)
    return [
        Change(
            r.article_id,
            r.site,
            r.canonical_url,
            r.version,
            r.fetched_at,
            list(r.changed_fields or []),
            r.title,
            r.previous_title,
        )
        for r in conn.execute(query)
    ]


def stories_per_day(conn: Connection, site: str, days: int, today: date) -> list[tuple[date, int]]:
    """New stories of `site` on each of the last `days` days (UTC), oldest first, zeros
    included."""
    start = today - timedelta(days=days - 1)
    since = datetime(start.year, start.month, start.day)
    if conn.dialect.name == "sqlite":
        day: Any = func.substr(_articles.c.first_seen, 1, 10)
    else:
        day = func.to_char(func.timezone("UTC", _articles.c.first_seen), "YYYY-MM-DD")
    rows = conn.execute(
        select(day.label("day"), func.count().label("n"))
        .select_from(_articles.join(_sites, _sites.c.id == _articles.c.site_id))
        .where(_sites.c.name == site, _articles.c.first_seen >= since)
        .group_by(day)
    ).all()
    counts = {str(r.day): int(r.n) for r in rows}
    return [
        (start + timedelta(days=n), counts.get((start + timedelta(days=n)).isoformat(), 0))
        for n in range(days)
    ]


def copies_of(conn: Connection, article_id: int, group: int | None) -> list[StorySummary]:
    """The other stories of a near-duplicate group (the same story on other URLs)."""
    if group is None:
        return []
    query = (
        _stories()
        .where(_articles.c.duplicate_group == group, _articles.c.id != article_id)
        .order_by(_articles.c.first_seen)
        .limit(50)
    )
    return [_story(r) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """A site's stories and its latest run (what the overview and /sites list)."""

    name: str
    articles: int
    last_run_id: int | None
    last_run_status: str | None
    last_run_started: datetime | None
    last_run_counters: dict[str, Any]

    @property
    def flags(self) -> list[str]:
        """The health flags of the latest run (crawler.runtime.health)."""
        return [str(flag) for flag in self.last_run_counters.get("flags") or []]


def counts(conn: Connection) -> dict[str, int]:
    """Stories, versions, sites and runs in the archive."""
    return {
        name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for name, table in (
            ("articles", _articles),
            ("snapshots", _snapshots),
            ("sites", _sites),
            ("runs", _runs),
        )
    }


def site_summaries(conn: Connection, site: str | None = None) -> list[SiteSummary]:
    """Every site (or one) by name, with its number of stories and its latest run."""
    per_site = (
        select(_articles.c.site_id, func.count().label("articles"))
        .group_by(_articles.c.site_id)
        .subquery()
    )
    latest = (
        select(_runs.c.site_id, func.max(_runs.c.id).label("run_id"))
        .where(_runs.c.status != "queued")
        .group_by(_runs.c.site_id)
        .subquery()
    )
    query = (
        select(
            _sites.c.name,
            func.coalesce(per_site.c.articles, 0).label("articles"),
            _runs.c.id,
            _runs.c.status,
            _runs.c.started_at,
            _runs.c.counters,
        )
        .select_from(
            _sites.outerjoin(per_site, per_site.c.site_id == _sites.c.id)
            .outerjoin(latest, latest.c.site_id == _sites.c.id)
            .outerjoin(_runs, _runs.c.id == latest.c.run_id)
        )
        .order_by(_sites.c.name)
    )
    if site is not None:
        query = query.where(_sites.c.name == site)
    return [
        SiteSummary(r.name, int(r.articles), r.id, r.status, r.started_at, dict(r.counters or {}))
        for r in conn.execute(query)
    ]
