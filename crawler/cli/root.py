"""The `newsarchive` group: the options every command shares (`--db`, `--sites`, `--broker`,
`-v`)."""

from __future__ import annotations

import logging
import sys

import click

from crawler.cli.common import DEFAULT_DB, DEFAULT_SITES, fail
from crawler.keys import Env
from crawler.running.exit_codes import EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar=Env.DB,
    default=DEFAULT_DB,
    show_default=True,
    help="archive database URL: sqlite:///FILE or postgresql://HOST/DB (env NEWSARCHIVE_DB)",
)
@click.option(
    "--sites",
    envvar=Env.SITES,
    default=DEFAULT_SITES,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="site configuration file (env NEWSARCHIVE_SITES)",
)
@click.option(
    "--broker",
    envvar=Env.BROKER,
    default=None,
    metavar="URL",
    help="Celery broker of queued runs, e.g. redis://HOST:6379/0 (env NEWSARCHIVE_BROKER): "
    "`schedule run` publishes runs to `worker`s instead of crawling here",
)
@click.option("-v", "--verbose", count=True, help="more log output on stderr (-vv for debug)")
@click.version_option(package_name="newsarchive")
@click.pass_context
def cli(ctx: click.Context, db: str, sites: str, broker: str | None, verbose: int) -> None:
    """Crawl news sites into a versioned archive and query it."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.ensure_object(dict)
    if in_memory_sqlite(db):
        fail(
            f"--db {db}: an in-memory SQLite database is gone when the command ends; "
            "give sqlite:///FILE or postgresql://HOST/DB",
            EXIT_USAGE,
        )
    ctx.obj["db"] = db
    ctx.obj["sites"] = sites
    ctx.obj["broker"] = broker or None
    ctx.obj["verbose"] = verbose


def in_memory_sqlite(url: str) -> bool:
    """Whether `url` names an in-memory SQLite database (`sqlite://`, `:memory:`,
    `mode=memory`): an archive there would vanish with the command. Read from the text,
    so that commands which never open the archive do not import SQLAlchemy."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not scheme.lower().startswith("sqlite"):
        return False
    path = rest[1:] if rest.startswith("/") else rest
    return path.split("?", 1)[0] in ("", ":memory:") or "mode=memory" in rest
