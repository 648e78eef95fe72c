"""What every command shares: one-line errors with the documented exit codes, output for
people and for scripts, parameter types, and opening the archive or the sites file.

Data goes to standard output (tables on a terminal, `--format json` for scripts); logs,
warnings and errors go to standard error, so pipes stay clean. Expected failures (unknown
URL, bad query, unreachable database) end with one line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from crawler.config.timespec import parse_duration, parse_moment
from crawler.running.exit_codes import EXIT_FAILURE, EXIT_USAGE

if TYPE_CHECKING:
    from storage.archive import Archive

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = "sqlite:///archive.db"
DEFAULT_SITES = "sites.toml"


class Moment(click.ParamType):  # type: ignore[type-arg]
    """A click parameter for dates and durations (see crawler.config.timespec)."""

    name = "DATE|DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MOMENT = Moment()


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A click parameter for durations: 30s, 5m, 2h."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()

# Numbers a database column can hold: beyond them SQLite's driver raises OverflowError.
MAX_SQL_INT = 2**63 - 1
# A version number (negative: counted back from the latest).
VERSION = click.IntRange(-MAX_SQL_INT, MAX_SQL_INT)
# An offset into results.
OFFSET = click.IntRange(0, MAX_SQL_INT)


def print_json(data: Any) -> None:
    from storage.json_shapes import dumps

    click.echo(dumps(data))


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into one-line messages with the documented exit codes."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            _reader_went_away()
        except Exception as exc:
            expected = _expected_failure(exc)
            if expected is None:
                raise
            fail(*expected)
        raise AssertionError("unreachable")

    return wrapper


def _reader_went_away() -> NoReturn:
    """The reader of standard output closed it (`export | head -1`): that is the reader's
    choice, not a failure. Exit 0 quietly; output still buffered goes nowhere instead of
    raising again at exit (click would otherwise exit 1)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(0)


def _expected_failure(exc: Exception) -> tuple[str, int] | None:
    """The message and exit code of a failure the CLI expects, or None for a bug.

    The exception types are imported only once something has failed: importing them up
    front loaded SQLAlchemy before `crawl` could start its first extraction worker.
    """
    if isinstance(exc, click.ClickException | click.exceptions.Exit | click.Abort):
        return None  # click's own: it reports them itself
    from sqlalchemy.exc import SQLAlchemyError

    from crawler.running.site_leases import LeaseSettingError
    from storage.archive import ArchiveMissingError, ArticleNotFoundError
    from storage.engine import DatabaseURLError, describe_error
    from storage.migrate import SchemaTooNewError
    from storage.query_syntax import QuerySyntaxError

    if isinstance(exc, ArticleNotFoundError):
        return (exc.args[0] if exc.args else "not found"), EXIT_FAILURE
    if isinstance(exc, ArchiveMissingError | SchemaTooNewError):
        return str(exc), EXIT_FAILURE
    if isinstance(exc, QuerySyntaxError):
        return f"bad search query: {exc}", EXIT_USAGE
    if isinstance(exc, LeaseSettingError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, DatabaseURLError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {describe_error(exc)}", EXIT_FAILURE
    return None


@contextmanager
def open_archive(ctx: click.Context) -> Iterator[Archive]:
    """The archive for a query command: a mistyped --db is an error, never a new file."""
    from storage.archive import Archive

    archive = Archive(ctx.obj["db"], create=False)
    try:
        yield archive
    finally:
        archive.close()


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def fmt_time(value: datetime | None) -> str:
    """A time as the archive keeps it, in UTC, labelled so (a reader in another zone, or a
    script, must not take it for local time) and with its year."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def terminal_has_color() -> bool:
    """Whether the terminal shows color: not with TERM=dumb or NO_COLOR (https://no-color.org),
    where a diff's colors would vanish and its changes with them."""
    return os.environ.get("TERM", "") != "dumb" and not os.environ.get("NO_COLOR")


def format_option(*choices: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    default = choices[0]
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="table/text for people, json for scripts",
    )


def load_sites_file(ctx: click.Context, required: bool) -> Any:
    """The sites file, or None when it is absent and only URLs were asked for."""
    from pathlib import Path

    from crawler.config.sites import SitesConfigError, load_sites

    path = ctx.obj["sites"]
    if not required and not Path(path).exists():
        return None
    try:
        return load_sites(path)
    except SitesConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    raise AssertionError("unreachable")


def setting_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"-s {pair!r}: expected NAME=VALUE", EXIT_USAGE)
        overrides[name.strip()] = value
    return overrides
