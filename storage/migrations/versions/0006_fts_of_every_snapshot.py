"""SQLite: the full-text index covers every snapshot, spelled as data tools expect.

The FTS5 table was an external-content index of `snapshots` holding only each article's
latest snapshot. Two standard tools broke on it: Datasette (and sqlite-utils) find an
FTS table by the spelling `content="snapshots"`, and ours said `content='snapshots'`;
and FTS5's own `rebuild` (what `sqlite-utils rebuild-fts` runs) indexes every row of the
content table, after which old versions turned up in searches as if current. Now the
index holds every snapshot, which is exactly what a rebuild makes, so a rebuild changes
nothing; searches keep to each article's latest snapshot by joining on it
(storage/fulltext.py). PostgreSQL's index (a tsvector on articles) is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _create_index(content: str) -> None:
    op.execute("DROP TABLE snapshot_fts")
    op.execute(
        f"CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, text, authors, content={content}, "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _create_index('"snapshots"')
        op.execute("INSERT INTO snapshot_fts(snapshot_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _create_index("'snapshots'")  # and, as before, only each article's latest
        op.execute(
            "INSERT INTO snapshot_fts(rowid, title, text, authors) "
            "SELECT s.id, s.title, s.text, s.authors FROM snapshots s "
            "JOIN articles a ON a.latest_snapshot_id = s.id"
        )
