"""Initial schema: sites, articles, URL aliases, snapshots, blobs, crawl runs, search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("name", name="uq_sites_name"),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("codec", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("counters", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_crawl_runs_site_id_sites"),
        sa.CheckConstraint("trigger IN ('manual', 'scheduled')", name="ck_crawl_runs_trigger"),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'interrupted')",
            name="ck_crawl_runs_status",
        ),
    )
    op.create_index("ix_crawl_runs_site_started", "crawl_runs", ["site_id", "started_at"])
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("first_url", sa.Text(), nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        _ts("last_checked"),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("latest_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_group", sa.Integer(), nullable=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_articles_site_id_sites"),
        sa.UniqueConstraint("url_hash", name="uq_articles_url_hash"),
    )
    for column in (
        "site_id",
        "first_seen",
        "latest_snapshot_id",
        "duplicate_group",
    ):
        op.create_index(f"ix_articles_{column}", "articles", [column])
    op.create_table(
        "article_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "article_id", name="pk_article_bands"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_bands_article_id_articles"
        ),
    )
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"])
    op.create_table(
        "article_urls",
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("redirect", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("url_hash", name="pk_article_urls"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_urls_article_id_articles"
        ),
    )
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("fetched_at"),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("authors", _json(), nullable=False),
        _ts("published", nullable=True),
        _ts("modified", nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("field_hashes", _json(), nullable=False),
        sa.Column("changed_fields", _json(), nullable=False),
        sa.Column("sources", _json(), nullable=False),
        sa.Column("blob_sha256", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_snapshots_article_id_articles"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_snapshots_run_id_crawl_runs"
        ),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name="fk_snapshots_blob_sha256_blobs"
        ),
        sa.UniqueConstraint("article_id", "version", name="uq_snapshots_article_version"),
    )
    op.create_index("ix_snapshots_published", "snapshots", ["published"])
    op.create_index("ix_snapshots_run_id", "snapshots", ["run_id"])
    op.create_index("ix_snapshots_language", "snapshots", ["language"])
    op.create_index("ix_snapshots_blob_sha256", "snapshots", ["blob_sha256"])

    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5 index over snapshots: the text is stored once (in
        # snapshots); the index holds only the latest snapshot of each article. Porter
        # stemming matches PostgreSQL's English configuration (strike finds strikes).
        op.execute(
            "CREATE VIRTUAL TABLE snapshot_fts USING fts5("
            "title, text, authors, content='snapshots', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    else:
        op.add_column("articles", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
        op.create_index(
            "ix_articles_search_vector",
            "articles",
            ["search_vector"],
            postgresql_using="gin",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE snapshot_fts")
    for table in (
        "snapshots",
        "article_urls",
        "article_bands",
        "articles",
        "crawl_runs",
        "blobs",
        "sites",
    ):
        op.drop_table(table)
