"""Each snapshot's extractor, why it exists (an edit or a re-extraction), and the response
headers it came with; each article's latest extractor (issue 18, archive fidelity).

A trafilatura upgrade, another spider or other options change what is extracted from an
unchanged page; without knowing what extracted each version, every such difference was
recorded as the publisher's edit. And a WARC written from the archive needs the
response's own headers (its charset, its dates), which were not kept. Versions archived
before this revision have none of the three (null): their cause stays unknown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import JSONDocument

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("extractor", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cause", sa.String(16), nullable=True))
        batch.add_column(sa.Column("http_headers", JSONDocument(), nullable=True))
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("last_extractor", sa.Text(), nullable=True))
    # Every later version of an archive made before: its cause is "edit", as it was shown.
    op.execute("UPDATE snapshots SET cause = 'edit' WHERE version > 1")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `articles` would break the foreign
    # keys that point at it, and one of `snapshots` the full-text index's rowids.
    for table, column in (
        ("articles", "last_extractor"),
        ("snapshots", "http_headers"),
        ("snapshots", "cause"),
        ("snapshots", "extractor"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
