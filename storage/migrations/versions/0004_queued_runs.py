"""Queued runs: a run published to workers is recorded before any worker takes it.

`queued` joins the run statuses; a run records the worker that ran it, when it was last
published, its attempt number and the first attempt it retries, and the request a worker
needs to run it (the site's validated configuration and setting overrides), so the
scheduler can publish it again if the broker lost it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_STATUSES = "status IN ('running', 'succeeded', 'failed', 'interrupted')"
_NEW_STATUSES = "status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')"
_TRIGGERS = "\"trigger\" IN ('manual', 'scheduled')"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # 0001 named its check constraints through the naming convention a second time
    # (ck_crawl_runs_ck_crawl_runs_status): they are dropped by those names (the plain
    # name, which the convention expands) and made again under the models' names (op.f:
    # final). SQLite rebuilds the table, so both are redone together.
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_constraint("ck_crawl_runs_status", type_="check")
        batch.drop_constraint("ck_crawl_runs_trigger", type_="check")
        batch.create_check_constraint(op.f("ck_crawl_runs_status"), _NEW_STATUSES)
        batch.create_check_constraint(op.f("ck_crawl_runs_trigger"), _TRIGGERS)
        batch.add_column(sa.Column("worker", sa.String(200), nullable=True))
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("attempt", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("retry_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("request", _json(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_crawl_runs_retry_of_crawl_runs"), "crawl_runs", ["retry_of"], ["id"]
        )
    op.create_index("ix_crawl_runs_status", "crawl_runs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_crawl_runs_status", table_name="crawl_runs")
    op.execute("DELETE FROM crawl_runs WHERE status = 'queued'")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_constraint(op.f("fk_crawl_runs_retry_of_crawl_runs"), type_="foreignkey")
        for column in ("request", "retry_of", "attempt", "published_at", "worker"):
            batch.drop_column(column)
        batch.drop_constraint(op.f("ck_crawl_runs_status"), type_="check")
        batch.drop_constraint(op.f("ck_crawl_runs_trigger"), type_="check")
        batch.create_check_constraint("ck_crawl_runs_status", _OLD_STATUSES)
        batch.create_check_constraint("ck_crawl_runs_trigger", _TRIGGERS)
