"""Discovery memory: the URL shapes learned per site and the URLs not worth fetching again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_url_shapes",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("shape", sa.String(400), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("others", sa.Integer(), nullable=False),
        sa.Column("gone", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", "shape", name="pk_site_url_shapes"),
    )
    op.create_table(
        "site_url_verdicts",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("url_key", sa.LargeBinary(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("links", sa.Text()),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", "url_key", name="pk_site_url_verdicts"),
        sa.CheckConstraint(
            "verdict IN ('not_story', 'gone', 'listing')", name="ck_site_url_verdicts_verdict"
        ),
    )
    op.create_index(
        "ix_site_url_verdicts_site_checked", "site_url_verdicts", ["site", "checked_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_site_url_verdicts_site_checked", table_name="site_url_verdicts")
    op.drop_table("site_url_verdicts")
    op.drop_table("site_url_shapes")
