"""Migrations: an empty database upgrades to the models' schema, on both databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from storage.engine import build_engine
from storage.migrate import current_revision, script_location, upgrade
from storage.migrations import HEAD_REVISION
from storage.models import metadata
from storage.sqlite_schema import schema_statements, snapshot

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


def _sqlite_master(engine: Engine) -> list[tuple[str, ...]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY name"
        ).all()
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    return [tuple(row) for row in rows] + [("alembic_version", version)]


def test_a_new_sqlite_archive_from_the_snapshot_equals_a_migrated_one(tmp_path: Path) -> None:
    migrated = build_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    created = build_engine(f"sqlite:///{tmp_path / 'created.db'}")
    try:
        assert upgrade(migrated, from_snapshot=False) is None
        with migrated.connect() as conn:
            recorded = schema_statements(conn)
        assert recorded == list(snapshot()[1]), (
            "storage/migrations/sqlite_head.json is out of date: "
            "run `.venv/bin/python -m storage.schema_snapshot`"
        )
        assert snapshot()[0] == HEAD_REVISION
        assert upgrade(created) is None
        assert _sqlite_master(created) == _sqlite_master(migrated)
        assert upgrade(created) == HEAD_REVISION  # and it is at head for Alembic too
    finally:
        migrated.dispose()
        created.dispose()


def test_creating_a_new_sqlite_archive_does_not_load_alembic(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from storage.archive import Archive\n"
        f"Archive('sqlite:///{tmp_path / 'new.db'}').close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_database_with_tables_of_its_own_is_migrated_by_alembic(tmp_path: Path) -> None:
    """The snapshot is only for empty files: anything else goes through the migrations."""
    engine = build_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        assert upgrade(engine) is None
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            assert {"notes", "articles", "site_leases"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_queued_runs_migrate_down_and_up_again(db_url: str) -> None:
    """0004 (queued runs) downgrades to 0003, dropping queued runs, and upgrades again."""
    from storage import Archive
    from tests.storage.downgrades import downgrade

    with Archive(db_url) as archive:
        archive.queue_run("demo", "scheduled", {"site": "demo"})
        finished = archive.start_run("demo", "manual")
        archive.finish_run(finished, "succeeded", {})
    engine = build_engine(db_url)
    try:
        downgrade(engine, "0003")
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0003"
            )
            rows = conn.exec_driver_sql("SELECT id, status FROM crawl_runs").all()
        assert [tuple(r) for r in rows] == [(finished, "succeeded")]
        assert upgrade(engine) == "0003"
    finally:
        engine.dispose()
    with Archive(db_url) as archive:
        again = archive.queue_run("demo", "scheduled", {"site": "demo"})
        assert archive.claim_run(again, "w1")
