"""Tables of the archive (SQLAlchemy 2 typed models).

One row per site, one per story (article), one per distinct version of a story
(snapshot), one per distinct raw page body (blob, content-addressed), one per crawl run.
Alembic migrations in `storage/migrations` create these; a test checks that models and
migrations agree. Full-text index objects (SQLite FTS5 table, PostgreSQL tsvector column)
live only in the migrations because they differ by database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Article",
    "ArticleBand",
    "ArticleURL",
    "Base",
    "Blob",
    "CrawlRun",
    "Site",
    "Snapshot",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database.

    SQLite has no time zones: values are stored as naive UTC and come back aware, so
    comparisons and exports never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONValue = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - read by SQLAlchemy, never mutated
        datetime: UTCDateTime(),
        dict[str, Any]: JSONValue,
        list[str]: JSONValue,
    }


class Site(Base):
    """A configured (or ad-hoc) site; articles and runs belong to one."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class Blob(Base):
    """A raw page body, stored once per distinct SHA-256 of its bytes."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    codec: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Article(Base):
    """One story, keyed by the hash of its canonical URL (URLs can exceed index limits)."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    canonical_url: Mapped[str] = mapped_column(Text)
    first_url: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(index=True)
    last_seen: Mapped[datetime]
    last_checked: Mapped[datetime]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    latest_snapshot_id: Mapped[int | None] = mapped_column(Integer, index=True)
    duplicate_group: Mapped[int | None] = mapped_column(Integer, index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)


class ArticleBand(Base):
    """LSH band keys of each article's latest body: articles sharing a key are candidates
    for one duplicate group (storage.fingerprint)."""

    __tablename__ = "article_bands"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True, index=True)


class ArticleURL(Base):
    """Every canonicalized URL a story was fetched or declared under, so any variant finds it."""

    __tablename__ = "article_urls"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    # True for a URL that redirected to the story: it finds the story but never decides
    # which story a later fetch belongs to, and follows the newest redirect target.
    redirect: Mapped[bool] = mapped_column(Boolean, default=False)


class Snapshot(Base):
    """One distinct version of a story: the extracted fields and the HTML they came from."""

    __tablename__ = "snapshots"
    __table_args__ = (
        UniqueConstraint("article_id", "version", name="uq_snapshots_article_version"),
        Index("ix_snapshots_published", "published"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    version: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]]
    published: Mapped[datetime | None]
    modified: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(35), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]]
    site_name: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    field_hashes: Mapped[dict[str, Any]]
    changed_fields: Mapped[list[str]]
    sources: Mapped[dict[str, Any]]
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)


class CrawlRun(Base):
    """One crawl of one site, manual or scheduled, with its counters."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint("trigger IN ('manual', 'scheduled')", name="trigger"),
        CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'interrupted')", name="status"
        ),
        Index("ix_crawl_runs_site_started", "site_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counters: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)


class SiteLease(Base):
    """Who is crawling a site right now: one holder at a time, until the lease expires.

    Keyed by site name, not by `sites.id`, because a lease is taken before a site's first
    run creates its row. A holder renews its lease while it runs; a holder that dies stops
    renewing, and the lease lapses after its time to live.
    """

    __tablename__ = "site_leases"

    site: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# The Core tables behind the models, typed once for the write path and the queries, which
# use Core statements (cheaper than ORM objects on the hot path).
article_table: Table = Article.__table__  # type: ignore[assignment]
alias_table: Table = ArticleURL.__table__  # type: ignore[assignment]
band_table: Table = ArticleBand.__table__  # type: ignore[assignment]
blob_table: Table = Blob.__table__  # type: ignore[assignment]
run_table: Table = CrawlRun.__table__  # type: ignore[assignment]
site_table: Table = Site.__table__  # type: ignore[assignment]
snapshot_table: Table = Snapshot.__table__  # type: ignore[assignment]
lease_table: Table = SiteLease.__table__  # type: ignore[assignment]
