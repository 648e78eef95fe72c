"""`newsarchive export`: the archive as JSON Lines, CSV, Parquet or WARC, streamed."""

from __future__ import annotations

import signal
import sys
from datetime import datetime
from types import FrameType
from typing import IO, NoReturn

import click

from crawler.cli.common import (
    MOMENT,
    fail,
    handle_errors,
    open_archive,
    stdout_is_terminal,
)
from crawler.running.exit_codes import EXIT_FAILURE, EXIT_USAGE


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet", "warc"]),
    default="jsonl",
    show_default=True,
)
@click.option("--all-versions", is_flag=True, help="one record per version instead of per article")
@click.option("--site", help="only this site")
@click.option("--since", type=MOMENT, help="only versions recorded since this date or duration")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="file (default: stdout)"
)
@click.pass_context
@handle_errors
def export(
    ctx: click.Context,
    fmt: str,
    all_versions: bool,
    site: str | None,
    since: datetime | None,
    output: str | None,
) -> None:
    """Stream the archive as JSON Lines, CSV, Parquet or WARC.

    With --output the file appears only once it is complete: an export that fails (a full
    disk) leaves no partial file and an earlier file of that name as it was.
    """
    from storage.export import export as run_export

    binary = fmt in ("parquet", "warc")
    if output is None and binary and stdout_is_terminal():
        fail(f"{fmt} is binary: use --output FILE or redirect stdout", EXIT_USAGE)
    from crawler.cli.output_file import CannotCreateError, write_whole

    def write(out: IO[bytes]) -> int:
        return run_export(archive, fmt, out, all_versions=all_versions, site=site, since=since)

    with open_archive(ctx) as archive:
        if output is None:
            try:
                count = write(sys.stdout.buffer)
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:  # a full disk behind a redirection
                fail(f"cannot write standard output: {exc.strerror}", EXIT_FAILURE)
        else:
            # SIGTERM ends the export through Python, so the temporary file is removed.
            previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
            try:
                count = write_whole(output, write)
            except CannotCreateError as exc:
                fail(f"cannot write {output}: {exc.strerror}", EXIT_USAGE)
            except OSError as exc:
                fail(f"cannot write {output}: {exc.strerror}; nothing was written", EXIT_FAILURE)
            finally:
                signal.signal(signal.SIGTERM, previous)
    unit = "versions" if all_versions else "articles"
    click.echo(f"exported {count} {unit} as {fmt}", err=True)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    sys.exit(128 + signum)
