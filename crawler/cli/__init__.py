"""The `newsarchive` command line: a thin layer over `storage`, `crawler.running` and the
scheduler, one module per command group.

Nothing imports this package but `python -m crawler` and the `newsarchive` entry point
(`make lint` checks it): the command line is the top of the house, never a library.
"""

from __future__ import annotations

import sys
from typing import Any

from crawler import speedups
from crawler.cli import (
    articles,
    crawl,
    db,
    export,
    runs,
    schedule,
    search,
    serve,
    sites,
    worker,
)
from crawler.cli.root import cli

__all__ = ["cli", "main"]

for command in (
    crawl.crawl,
    sites.sites_command,
    search.search,
    articles.show,
    articles.history,
    articles.diff,
    export.export,
    runs.stats,
    runs.runs,
    schedule.schedule,
    db.db,
    worker.worker,
    serve.serve,
):
    cli.add_command(command)


def main() -> None:
    obj: dict[str, Any] = {}
    try:
        cli(obj=obj)
    except SystemExit as exc:
        if not obj.get("exit_at_once"):
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
        speedups.exit_at_once(code)
