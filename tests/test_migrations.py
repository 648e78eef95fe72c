"""Migrations: an empty database upgrades to the models' schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.engine import build_engine
from storage.migrate import current_revision, script_location, upgrade
from storage.migrations import HEAD_REVISION
from storage.models import metadata

# Search objects exist only in migrations because they differ per database.
_DIALECT_ONLY = {"snapshot_fts", "search_vector", "ix_articles_search_vector"}


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (name in _DIALECT_ONLY or (name or "").startswith("snapshot_fts_"))


def test_head_constant_matches_the_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", script_location())
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_upgrade_from_empty_matches_models_and_is_idempotent(db_url: str) -> None:
    engine = build_engine(db_url)
    try:
        assert upgrade(engine) is None  # it was empty
        assert upgrade(engine) == HEAD_REVISION  # nothing left to do
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            context = MigrationContext.configure(
                conn, opts={"include_object": _include, "compare_type": False}
            )
            assert compare_metadata(context, metadata) == []
            tables = set(inspect(conn).get_table_names())
        assert {"sites", "articles", "article_urls", "snapshots", "blobs", "crawl_runs"} <= tables
    finally:
        engine.dispose()
