"""Snapshots by the time they were fetched: the archive's latest edits (the web app's
/changes page and feed) are read newest first without scanning every version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_snapshots_fetched_at", "snapshots", ["fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_fetched_at", table_name="snapshots")
