"""`newsarchive db upgrade`: schema migrations on demand."""

from __future__ import annotations

import click

from crawler.cli.common import fail, handle_errors


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
@handle_errors
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations (opening an archive also does this)."""
    from storage.archive import foreign_sqlite
    from storage.engine import build_engine
    from storage.migrate import current_revision, upgrade

    engine = build_engine(ctx.obj["db"])
    foreign = foreign_sqlite(engine)
    if foreign is not None:
        engine.dispose()
        fail(f"{foreign}: not an archive, left untouched (check --db)")
    try:
        before = upgrade(engine)
        with engine.connect() as conn:
            after = current_revision(conn)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database is up to date (revision {after})")
    else:
        click.echo(f"upgraded database from revision {before or 'empty'} to {after}")
