"""Tables of the archive (SQLAlchemy Core).

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
    Column,
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
    text,
)
from sqlalchemy.types import TypeEngine

__all__ = [
    "JSONDocument",
    "UTCDateTime",
    "alias_table",
    "article_table",
    "band_table",
    "blob_table",
    "lease_table",
    "metadata",
    "run_table",
    "shape_table",
    "site_table",
    "snapshot_table",
    "url_verdict_table",
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


class JSONDocument(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL.

    The PostgreSQL type is looked up only when a PostgreSQL connection asks for it:
    importing `sqlalchemy.dialects.postgresql` imports every PostgreSQL driver SQLAlchemy
    knows, start-up time an SQLite archive does not need to pay.
    """

    impl = JSON()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


# Plain Core tables, not ORM models: every query and write is a Core statement, and
# importing sqlalchemy.orm only slowed `newsarchive crawl`'s start-up (docs/benchmarks.md).
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _when(name: str, *, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable, index=index)


def _json(name: str) -> Column[Any]:
    return Column(name, JSONDocument(), nullable=False)


# A configured (or ad-hoc) site; articles and runs belong to one.
site_table = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    _when("created_at"),
)

# A raw page body, stored once per distinct SHA-256 of its bytes.
blob_table = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("codec", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# One story, keyed by the hash of its canonical URL (URLs can exceed index limits).
article_table = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("url_hash", String(64), nullable=False, unique=True),
    Column("canonical_url", Text, nullable=False),
    Column("first_url", Text, nullable=False),
    _when("first_seen", index=True),
    _when("last_seen"),
    _when("last_checked"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("latest_version", Integer, nullable=False, default=0),
    Column("latest_snapshot_id", Integer, index=True),
    Column("duplicate_group", Integer, index=True),
    Column("minhash", LargeBinary),
    # What extracted the story's latest fetch that had an article, changed or not: a new
    # version made by another extractor is a re-extraction (storage.versioning).
    Column("last_extractor", Text),
)

# LSH band keys of each article's latest body: articles sharing a key are candidates for
# one duplicate group (storage.near_duplicates).
band_table = Table(
    "article_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column("article_id", ForeignKey("articles.id"), primary_key=True, index=True),
)

# Every canonicalized URL a story was fetched or declared under, so any variant finds it.
# `redirect` marks a URL that redirected to the story: it finds the story but never
# decides which story a later fetch belongs to, and follows the newest redirect target.
alias_table = Table(
    "article_urls",
    metadata,
    Column("url_hash", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("article_id", ForeignKey("articles.id"), nullable=False, index=True),
    Column("redirect", Boolean, nullable=False, default=False),
)

# One distinct version of a story: the extracted fields and the HTML they came from.
snapshot_table = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", ForeignKey("articles.id"), nullable=False),
    Column("version", Integer, nullable=False),
    _when("fetched_at"),
    Column("run_id", ForeignKey("crawl_runs.id"), index=True),
    Column("url", Text, nullable=False),
    Column("final_url", Text, nullable=False),
    Column("http_status", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    _json("authors"),
    _when("published", nullable=True),
    _when("modified", nullable=True),
    Column("language", String(35), index=True),
    Column("description", Text),
    Column("image", Text),
    _json("tags"),
    Column("site_name", Text),
    Column("content_hash", String(64), nullable=False),
    _json("field_hashes"),
    _json("changed_fields"),
    _json("sources"),
    Column("blob_sha256", ForeignKey("blobs.sha256"), index=True),
    # What extracted this version (FetchRecord.extractor), and why it exists: "edit" (the
    # story changed), "re-extraction" (extracted differently from the version before);
    # null for a first version. The response headers as (name, value) pairs.
    Column("extractor", Text),
    Column("cause", String(16)),
    Column("http_headers", JSONDocument()),
    UniqueConstraint("article_id", "version", name="uq_snapshots_article_version"),
    Index("ix_snapshots_published", "published"),
    Index("ix_snapshots_fetched_at", "fetched_at"),
)

# One crawl of one site, manual or scheduled, with its counters.
run_table = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    _when("started_at"),
    _when("finished_at", nullable=True),
    _json("counters"),
    Column("error", Text),
    # Which worker ran it (`newsarchive worker --name`, or the crawling process's holder).
    Column("worker", String(200)),
    # A queued run: when it was last published to the broker (published again if a lost
    # message leaves it queued); `started_at` is when it was queued until a worker takes it.
    _when("published_at", nullable=True),
    # 1 for a run as published; a worker that finds an attempt cut short (its worker was
    # lost) records the next attempt as a new run retrying the first.
    Column("attempt", Integer, nullable=False, server_default=text("1")),
    Column("retry_of", ForeignKey("crawl_runs.id")),
    # What a worker needs to run it: the site's configuration and setting overrides.
    Column("request", JSONDocument()),
    CheckConstraint("trigger IN ('manual', 'scheduled')", name="trigger"),
    CheckConstraint(
        "status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')", name="status"
    ),
    Index("ix_crawl_runs_site_started", "site_id", "started_at"),
    Index("ix_crawl_runs_status", "status"),
)

# Who is crawling a site right now: one holder at a time, until the lease expires. Keyed
# by site name, not by `sites.id`, because a lease is taken before a site's first run
# creates its row. A holder renews its lease while it runs; a holder that dies stops
# renewing, and the lease lapses after its time to live.
lease_table = Table(
    "site_leases",
    metadata,
    Column("site", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    _when("acquired_at"),
    _when("expires_at"),
)

# What the crawler learned about a site's URL shapes (crawler.analysis.shape_book): how
# many pages of each path template were articles, listings, neither, or gone (404/410).
# Keyed by site name like the leases: discovery memory belongs to the crawl, not to the
# archived stories.
shape_table = Table(
    "site_url_shapes",
    metadata,
    Column("site", String(200), primary_key=True),
    Column("shape", String(400), primary_key=True),
    Column("articles", Integer, nullable=False),
    Column("listings", Integer, nullable=False),
    Column("others", Integer, nullable=False),
    Column("gone", Integer, nullable=False),
    _when("updated_at"),
)

# URLs the crawler decided and need not fetch again soon: pages that are not stories and
# pages that answered 404/410 (until checked_at + the site's recheck_after), and listings
# (kept with their validators, so the next run asks for them conditionally). Keyed by a
# 16-byte hash of the canonical URL, which keeps the primary key small on both databases.
url_verdict_table = Table(
    "site_url_verdicts",
    metadata,
    Column("site", String(200), primary_key=True),
    Column("url_key", LargeBinary(16), primary_key=True),
    Column("url", Text, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    # A listing's links to stories and listings, one per line: what a 304 stands for.
    Column("links", Text),
    _when("checked_at"),
    CheckConstraint("verdict IN ('not_story', 'gone', 'listing')", name="verdict"),
    Index("ix_site_url_verdicts_site_checked", "site", "checked_at"),
)
