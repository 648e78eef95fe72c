"""The `newsarchive` command line: a thin layer over `storage`.

Data goes to standard output (tables on a terminal, `--format json` for scripts); logs,
warnings and errors go to standard error, so pipes stay clean. Expected failures (unknown
URL, bad query, unreachable database) end with one line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass, replace
from datetime import datetime, timedelta
from functools import wraps
from typing import IO, TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from crawler.timespec import format_duration, parse_duration, parse_moment

if TYPE_CHECKING:
    from crawler.site_leases import SiteLeases
    from crawler.sites import SiteConfig
    from crawler.workers import ExtractionPool
    from storage.archive import Archive

__all__ = ["cli", "main"]

log = logging.getLogger("newsarchive")

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = "sqlite:///archive.db"
DEFAULT_SITES = "sites.toml"

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2


class Moment(click.ParamType):  # type: ignore[type-arg]
    """A click parameter for dates and durations (see crawler.timespec)."""

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


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_json_default, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = EXIT_NOT_FOUND) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into one-line messages with the documented exit codes."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            expected = _expected_failure(exc)
            if expected is None:
                raise
            _fail(*expected)
        raise AssertionError("unreachable")

    return wrapper


def _expected_failure(exc: Exception) -> tuple[str, int] | None:
    """The message and exit code of a failure the CLI expects, or None for a bug.

    The exception types are imported only once something has failed: importing them up
    front loaded SQLAlchemy before `crawl` could start its first extraction worker.
    """
    if isinstance(exc, click.ClickException | click.exceptions.Exit | click.Abort):
        return None  # click's own: it reports them itself
    from sqlalchemy.exc import SQLAlchemyError

    from storage.archive import ArchiveMissingError, ArticleNotFoundError
    from storage.engine import DatabaseURLError, describe_error
    from storage.migrate import SchemaTooNewError
    from storage.query_syntax import QuerySyntaxError

    if isinstance(exc, ArticleNotFoundError):
        return (exc.args[0] if exc.args else "not found"), EXIT_NOT_FOUND
    if isinstance(exc, ArchiveMissingError | SchemaTooNewError):
        return str(exc), EXIT_NOT_FOUND
    if isinstance(exc, QuerySyntaxError):
        return f"bad search query: {exc}", EXIT_USAGE
    if isinstance(exc, DatabaseURLError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {describe_error(exc)}", EXIT_NOT_FOUND
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


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


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


# ---------------------------------------------------------------------------- the group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="NEWSARCHIVE_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="archive database URL: sqlite:///FILE or postgresql://HOST/DB (env NEWSARCHIVE_DB)",
)
@click.option(
    "--sites",
    envvar="NEWSARCHIVE_SITES",
    default=DEFAULT_SITES,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="site configuration file (env NEWSARCHIVE_SITES)",
)
@click.option("-v", "--verbose", count=True, help="more log output on stderr (-vv for debug)")
@click.version_option(package_name="newsarchive")
@click.pass_context
def cli(ctx: click.Context, db: str, sites: str, verbose: int) -> None:
    """Crawl news sites into a versioned archive and query it."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.obj["sites"] = sites
    ctx.obj["verbose"] = verbose


# ---------------------------------------------------------------------------- crawling


def _load_sites_file(ctx: click.Context, required: bool) -> Any:
    """The sites file, or None when it is absent and only URLs were asked for."""
    from pathlib import Path

    from crawler.sites import SitesConfigError, load_sites

    path = ctx.obj["sites"]
    if not required and not Path(path).exists():
        return None
    try:
        return load_sites(path)
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    raise AssertionError("unreachable")


def _setting_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            _fail(f"-s {pair!r}: expected NAME=VALUE", EXIT_USAGE)
        overrides[name.strip()] = value
    return overrides


@cli.command()
@click.argument("targets", nargs=-1, required=True, metavar="SITE|URL...")
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="override a Scrapy setting for this run (highest priority, as scrapy crawl -s)",
)
@click.option("--max-pages", type=click.IntRange(1), help="stop requesting pages after N")
@click.option(
    "--since", type=MOMENT, help="skip sitemap/feed items older than this (2d, 2026-11-01)"
)
@click.option("--max-depth", type=click.IntRange(0, 50), help="link-following depth for this run")
@click.option(
    "--wait", is_flag=True, help="if a site is being crawled (e.g. by the scheduler), wait for it"
)
@format_option("text", "json")
@click.pass_context
@handle_errors
def crawl(
    ctx: click.Context,
    targets: tuple[str, ...],
    settings: tuple[str, ...],
    max_pages: int | None,
    since: datetime | None,
    max_depth: int | None,
    wait: bool,
    fmt: str,
) -> None:
    """Crawl sites from the sites file, or bare URLs (an ad-hoc site on that one host).

    Exit status 0 when every run finished, even with page-level errors (they are
    counted); 1 when a run failed (e.g. the database), 2 for bad arguments or config, 3 when
    a site is already being crawled (by the scheduler or another command; see --wait).
    """
    from crawler.sites import SitesConfigError, resolve_targets
    from crawler.workers import pool_for_overrides

    needs_file = any("://" not in target for target in targets)
    sites = _load_sites_file(ctx, required=needs_file)
    try:
        configs = resolve_targets(targets, sites)
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    overrides = _setting_overrides(settings)
    # One extraction worker starts first thing, on the core this process's imports (Scrapy,
    # SQLAlchemy: most of the start-up) leave idle, so the first page is analysed the
    # moment it arrives; the others start with the engine.
    pool = pool_for_overrides(overrides)
    if pool is not None:
        pool.boot(1)
    try:
        _crawl(ctx, configs, overrides, max_pages, since, max_depth, wait, fmt, pool)
    finally:
        if pool is not None:
            pool.close_unused()


def _crawl(
    ctx: click.Context,
    configs: list[SiteConfig],
    overrides: dict[str, str],
    max_pages: int | None,
    since: datetime | None,
    max_depth: int | None,
    wait: bool,
    fmt: str,
    pool: ExtractionPool | None,
) -> None:
    from crawler.runner import build_settings, run_crawls, summary_line
    from crawler.site_leases import EXIT_BUSY, SiteBusyError, SiteLeases
    from crawler.sites import SitesConfigError
    from storage.archive import Archive

    if max_depth is not None:
        configs = [replace(c, max_depth=max_depth) for c in configs]
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        _fail("the same site is named twice", EXIT_USAGE)
    verbose = ctx.obj.get("verbose", 0)
    try:
        scrapy_settings = build_settings(
            ctx.obj["db"],
            overrides,
            sites_path=ctx.obj["sites"],
            max_pages=max_pages,
            log_level=("WARNING", "INFO", "DEBUG")[min(verbose, 2)],
        )
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    # Open (and migrate) the archive once up front: a bad --db fails here, in one line.
    Archive(ctx.obj["db"]).close()
    leases = SiteLeases(ctx.obj["db"], names)
    try:
        leases.acquire(
            wait=wait,
            on_wait=lambda busy: click.echo(f"waiting: {busy}", err=True),
        )
    except SiteBusyError as exc:
        _fail(f"{exc}; try again later or use --wait", EXIT_BUSY)
    try:
        _interrupt_orphaned_runs(ctx.obj["db"], names, leases.holder)
        results = run_crawls(
            configs, scrapy_settings, since=since, progress=sys.stderr.isatty(), pool=pool
        )
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    finally:
        _release_leases(leases)
    for result in results:
        click.echo(summary_line(result), err=True)
    for result in results:
        if result.error:
            click.echo(f"error: {result.site}: {result.error}", err=True)
    if fmt == "json":
        _print_json(
            [
                {
                    "site": r.site,
                    "run_id": r.run_id,
                    "status": r.status,
                    "reason": r.reason,
                    "error": r.error,
                    "counters": r.counters,
                }
                for r in results
            ]
        )
    ctx.obj["exit_at_once"] = True
    if any(r.status != "succeeded" for r in results):
        sys.exit(EXIT_NOT_FOUND)


def _interrupt_orphaned_runs(db_url: str, sites: list[str], holder: str) -> None:
    """Runs of these sites left `running` by a crawl that died (SIGKILL, OOM killer, power
    cut) are marked interrupted, now that this crawl holds the sites' leases: no live
    crawl can own them, and without this they would stay `running` for good unless a
    scheduling service happened to start."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.archive import Archive
    from storage.engine import describe_error

    try:
        with Archive(db_url, migrate=False) as archive:
            for run_id, site in archive.interrupt_orphaned_runs(sites, holder=holder):
                log.warning("run %s of %s had no live crawl: marked interrupted", run_id, site)
    except SQLAlchemyError as exc:  # housekeeping: the crawl itself may still go on
        log.warning("could not close the runs of dead crawls: %s", describe_error(exc))


def _release_leases(leases: SiteLeases) -> None:
    """Give the sites' leases back. One that cannot be (the database stopped taking writes:
    a full disk) lapses by itself within its time to live, and must not hide how the
    crawl went behind a database error."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.engine import describe_error

    try:
        leases.release()
    except SQLAlchemyError as exc:
        log.warning(
            "could not release the crawl leases (they lapse within %s): %s",
            format_duration(leases.ttl),
            describe_error(exc),
        )


@cli.command("sites")
@format_option("table", "json")
@click.pass_context
def sites_command(ctx: click.Context, fmt: str) -> None:
    """The sites configured in the sites file, validated."""
    configs = _load_sites_file(ctx, required=True)
    if fmt == "json":
        _print_json(
            [
                {
                    "name": c.name,
                    "start_urls": list(c.start_urls),
                    "feeds": list(c.feeds),
                    "sitemaps": list(c.sitemaps),
                    "domains": list(c.domains),
                    "allow": list(c.allow),
                    "deny": list(c.deny),
                    "max_depth": c.max_depth,
                    "since": format_duration(c.since) if c.since else None,
                    "schedule": c.schedule,
                    "spider": c.spider,
                    "settings": dict(c.settings),
                }
                for c in configs.values()
            ]
        )
        return
    if not configs:
        click.echo("no sites configured", err=True)
        return
    from rich.table import Table

    table = Table()
    for column in ("site", "start URLs", "feeds", "sitemaps", "depth", "since", "schedule"):
        table.add_column(column)
    table.add_column("spider")
    for c in configs.values():
        table.add_row(
            c.name,
            "\n".join(c.start_urls),
            "\n".join(c.feeds) or "auto",
            "\n".join(c.sitemaps) or "robots.txt",
            str(c.max_depth),
            format_duration(c.since) if c.since else "-",
            c.schedule or "-",
            c.spider,
        )
    _console().print(table)


# ---------------------------------------------------------------------------- search


@cli.command()
@click.argument("query")
@click.option("--site", help="only this site")
@click.option("--since", type=MOMENT, help="from this date, or this long ago (7d)")
@click.option("--until", type=MOMENT, help="before this date")
@click.option(
    "--date-field",
    type=click.Choice(["published", "first-seen"]),
    default="published",
    show_default=True,
    help="which date --since/--until compare",
)
@click.option("--language", help="language code, e.g. en or pt-BR")
@click.option("--author", help="authors containing this text (case-insensitive)")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--collapse", is_flag=True, help="one result per group of near-duplicates")
@format_option("table", "json")
@click.pass_context
@handle_errors
def search(
    ctx: click.Context,
    query: str,
    site: str | None,
    since: datetime | None,
    until: datetime | None,
    date_field: str,
    language: str | None,
    author: str | None,
    limit: int,
    offset: int,
    collapse: bool,
    fmt: str,
) -> None:
    """Full-text search over the latest version of every article.

    QUERY: words (all must appear), "a phrase", OR, -excluded, prefix*.
    """
    from storage.fulltext import SearchFilters

    filters = SearchFilters(
        site=site,
        since=since,
        until=until,
        date_field="published" if date_field == "published" else "first_seen",
        language=language,
        author=author,
    )
    with open_archive(ctx) as archive:
        hits = archive.search(
            query, filters, limit=limit, offset=offset, collapse_duplicates=collapse
        )
    if fmt == "json":
        _print_json(
            [
                {
                    "id": h.article_id,
                    "url": h.url,
                    "site": h.site,
                    "title": h.title,
                    "published": h.published,
                    "first_seen": h.first_seen,
                    "language": h.language,
                    "authors": h.authors,
                    "snippet": h.snippet,
                    "score": h.score,
                    "duplicate_group": h.duplicate_group,
                    "version": h.version,
                }
                for h in hits
            ]
        )
        return
    if not hits:
        click.echo("no results", err=True)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True)
    for column in ("id", "published", "site", "title / snippet", "score"):
        table.add_column(column)
    for h in hits:
        cell = Text(h.title + "\n", style="bold")
        cell.append_text(_marked(h.snippet))
        cell.append("\n" + h.url, style="dim")
        table.add_row(str(h.article_id), _fmt_time(h.published), h.site, cell, f"{h.score:.3g}")
    _console().print(table)


def _marked(snippet: str) -> Any:
    """Render <mark>…</mark> spans of a snippet as highlighted Rich text."""
    from rich.text import Text

    from storage.fulltext import MARK_END, MARK_START

    out = Text()
    rest = snippet
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        marked, _, rest = after.partition(MARK_END)
        out.append(before)
        out.append(marked, style="bold yellow")
    out.append(rest)
    return out


# ---------------------------------------------------------------------------- show


def _safe_for_terminal(data: bytes) -> str:
    """Archived HTML decoded for a terminal with control characters made visible.

    A hostile page can carry escape sequences that retitle, recolour or rewrite a
    terminal; only newline and tab pass through.
    """
    text = data.decode("utf-8", "replace")
    return "".join(
        ch
        if ch in "\n\t" or (ch.isprintable() and ch != "\x7f")
        else f"\\x{ord(ch):02x}"
        if ord(ch) < 256
        else f"\\u{ord(ch):04x}"
        for ch in text
    )


@cli.command()
@click.argument("ref", metavar="URL|ID")
@click.option(
    "--version", "version", type=int, help="version number (default: latest; -1: previous)"
)
@click.option("--html", is_flag=True, help="print the archived raw HTML of that version")
@format_option("text", "json")
@click.pass_context
@handle_errors
def show(ctx: click.Context, ref: str, version: int | None, html: bool, fmt: str) -> None:
    """Show an article (any URL it was seen under, or its id)."""
    with open_archive(ctx) as archive:
        article = archive.article(ref)
        snapshot = archive.snapshot(article.id, version)
        if html:
            body = archive.raw_html(article.id, snapshot.version)
            if not body:
                _fail(f"no HTML stored for version {snapshot.version}")
            if _stdout_is_terminal():
                click.echo(_safe_for_terminal(body))
            else:
                sys.stdout.buffer.write(body)
                sys.stdout.buffer.flush()
            return
    if fmt == "json":
        data = asdict(snapshot)
        data.update(
            id=article.id,
            site=article.site,
            canonical_url=article.canonical_url,
            first_seen=article.first_seen,
            last_seen=article.last_seen,
            last_checked=article.last_checked,
            versions=article.versions,
            duplicate_group=article.duplicate_group,
            aliases=article.aliases,
        )
        _print_json(data)
        return
    console = _console()
    console.print(f"[bold]{_esc(snapshot.title)}[/bold]")
    meta = [
        ("id", str(article.id)),
        ("url", article.canonical_url),
        ("site", article.site),
        ("authors", ", ".join(snapshot.authors) or "-"),
        ("published", _fmt_time(snapshot.published)),
        ("modified", _fmt_time(snapshot.modified)),
        ("language", snapshot.language or "-"),
        ("version", f"{snapshot.version} of {article.versions}"),
        ("fetched", _fmt_time(snapshot.fetched_at)),
        ("first seen", _fmt_time(article.first_seen)),
        ("last seen", _fmt_time(article.last_seen)),
    ]
    for key, value in meta:
        console.print(f"[dim]{key:>10}[/dim] {_esc(value)}")
    console.print()
    console.print(_esc(snapshot.text), soft_wrap=True)


def _esc(value: str) -> str:
    from rich.markup import escape

    return escape(value)


# ---------------------------------------------------------------------------- history


@cli.command()
@click.argument("ref", metavar="URL|ID")
@format_option("table", "json")
@click.pass_context
@handle_errors
def history(ctx: click.Context, ref: str, fmt: str) -> None:
    """List the versions of an article and what changed in each."""
    with open_archive(ctx) as archive:
        versions = archive.history(ref)
    if fmt == "json":
        _print_json(
            [
                {
                    "version": v.version,
                    "fetched_at": v.fetched_at,
                    "content_hash": v.content_hash,
                    "changed_fields": v.changed_fields,
                    "title": v.title,
                    "url": v.url,
                }
                for v in versions
            ]
        )
        return
    from rich.table import Table

    table = Table()
    for column in ("version", "fetched", "changed", "title", "hash"):
        table.add_column(column)
    for v in versions:
        changed = ", ".join(v.changed_fields) if v.version > 1 else "(first)"
        table.add_row(
            str(v.version), _fmt_time(v.fetched_at), changed, v.title, v.content_hash[:12]
        )
    _console().print(table)


# ---------------------------------------------------------------------------- diff


@cli.command()
@click.argument("ref", metavar="URL|ID")
@click.option("--from", "from_version", type=int, help="older version (default: the previous one)")
@click.option("--to", "to_version", type=int, help="newer version (default: the latest)")
@format_option("text", "json")
@click.pass_context
@handle_errors
def diff(
    ctx: click.Context, ref: str, from_version: int | None, to_version: int | None, fmt: str
) -> None:
    """Word-level differences between two versions of an article.

    On a terminal removed words are red and struck through, added words green; otherwise
    removed words print as [-word-] and added words as {+word+}.
    """
    from storage.textdiff import diff_snapshots, render_plain

    with open_archive(ctx) as archive:
        newer = archive.snapshot(ref, to_version)
        older_version = from_version if from_version is not None else newer.version - 1
        if from_version is None and older_version < 1:
            _fail(
                f"version {newer.version} of article {newer.article_id} is its first: "
                "nothing earlier to compare"
            )
        older = archive.snapshot(ref, older_version)
    diffs = [d for d in diff_snapshots(older, newer) if d.changed]
    if fmt == "json":
        _print_json(
            {
                "article_id": newer.article_id,
                "from": older.version,
                "to": newer.version,
                "fields": [
                    {
                        "field": d.field,
                        "segments": [{"op": s.op, "text": s.text} for s in d.segments],
                    }
                    for d in diffs
                ],
            }
        )
        return
    header = f"version {older.version} -> {newer.version}"
    if not diffs:
        click.echo(f"{header}: no differences in the versioned fields")
        return
    if not _stdout_is_terminal():
        click.echo(header)
        for d in diffs:
            click.echo(f"--- {d.field}")
            click.echo(render_plain(d.segments))
        return
    from rich.text import Text

    console = _console()
    console.print(header, style="bold")
    styles = {"equal": "", "delete": "red strike", "insert": "green underline"}
    for d in diffs:
        console.print(f"--- {d.field}", style="dim")
        out = Text()
        for segment in d.segments:
            out.append(segment.text, style=styles[segment.op])
        console.print(out, soft_wrap=True)


# ---------------------------------------------------------------------------- export


@cli.command()
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
    """Stream the archive as JSON Lines, CSV, Parquet or WARC."""
    from storage.export import export as run_export

    binary = fmt in ("parquet", "warc")
    if output is None and binary and _stdout_is_terminal():
        _fail(f"{fmt} is binary: use --output FILE or redirect stdout", EXIT_USAGE)
    with open_archive(ctx) as archive:
        if output is None:
            count = run_export(
                archive, fmt, sys.stdout.buffer, all_versions=all_versions, site=site, since=since
            )
            sys.stdout.buffer.flush()
        else:
            out: IO[bytes]
            try:
                out = open(output, "wb")  # noqa: SIM115 - closed below; errors reported first
            except OSError as exc:
                _fail(f"cannot write {output}: {exc.strerror}", EXIT_USAGE)
            with out:
                count = run_export(
                    archive, fmt, out, all_versions=all_versions, site=site, since=since
                )
    unit = "versions" if all_versions else "articles"
    click.echo(f"exported {count} {unit} as {fmt}", err=True)


# ---------------------------------------------------------------------------- stats, runs


@cli.command()
@format_option("table", "json")
@click.pass_context
@handle_errors
def stats(ctx: click.Context, fmt: str) -> None:
    """Counts of articles, versions, sites, runs, duplicates and stored HTML; health flags."""
    with open_archive(ctx) as archive:
        data = archive.stats()
        # The health flags of each site's latest run (crawler.health).
        data["flags"] = {
            site: flags
            for site in data["per_site"]
            if (latest := archive.runs(site=site, limit=1))
            and (flags := list(latest[0].counters.get("flags", [])))
        }
    if fmt == "json":
        _print_json(data)
        return
    from rich.table import Table

    raw, stored = data["raw_html_bytes"], data["stored_html_bytes"]
    ratio = f" ({stored / raw:.1%} of {raw:,} raw bytes)" if raw else ""
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("articles", "snapshots", "sites", "runs", "duplicate_groups", "blobs"):
        table.add_row(key.replace("_", " "), f"{data[key]:,}")
    table.add_row("stored HTML", f"{stored:,} bytes{ratio}")
    table.add_row("first seen", _fmt_time(data["first_seen"]))
    table.add_row("last seen", _fmt_time(data["last_seen"]))
    for site, count in data["per_site"].items():
        table.add_row(f"  site {site}", f"{count:,}")
    for site, flags in data["flags"].items():
        table.add_row(f"  ⚠ {site}", "; ".join(flags))
    _console().print(table)


@cli.command()
@click.option("--site", help="only this site")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@format_option("table", "json")
@click.pass_context
@handle_errors
def runs(ctx: click.Context, site: str | None, limit: int, fmt: str) -> None:
    """Recent crawl runs, newest first, with their counters."""
    with open_archive(ctx) as archive:
        found = archive.runs(site=site, limit=limit)
    if fmt == "json":
        _print_json(
            [
                {
                    "id": r.id,
                    "site": r.site,
                    "trigger": r.trigger,
                    "status": r.status,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "counters": r.counters,
                    "error": r.error,
                }
                for r in found
            ]
        )
        return
    if not found:
        click.echo("no runs recorded", err=True)
        return
    from rich.table import Table

    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("site", overflow="ellipsis", max_width=18)
    for column in ("status", "started", "took"):
        table.add_column(column, no_wrap=True)
    table.add_column("counters", ratio=1)
    for r in found:
        counters = _run_summary(r.counters)
        took = (
            f"{(r.finished_at - r.started_at).total_seconds():.0f} s"
            if r.finished_at and r.started_at
            else "-"
        )
        table.add_row(
            str(r.id),
            r.site,
            f"{r.status}\n{r.trigger}",
            r.started_at.strftime("%m-%d %H:%M") if r.started_at else "-",
            took,
            "; ".join(filter(None, [counters, r.error or ""])),
        )
    _console().print(table)


_SUMMARY_KEYS = (
    ("pages_fetched", "pages"),
    ("articles_new", "new"),
    ("articles_changed", "changed"),
    ("articles_unchanged", "unchanged"),
    ("not_article", "not articles"),
)


def _run_summary(counters: dict[str, Any]) -> str:
    """The counters people scan first; `runs --format json` has all of them."""
    if "pages_fetched" not in counters:
        return ", ".join(f"{k}={v}" for k, v in _flat_counters(counters))
    parts = [f"{label} {counters.get(key, 0):,}" for key, label in _SUMMARY_KEYS]
    errors = counters.get("errors", {})
    total = sum(v for v in errors.values() if isinstance(v, int))
    if total:
        worst = sorted(errors.items(), key=lambda item: -item[1])[:3]
        parts.append(f"errors {total:,} (" + ", ".join(f"{k} {v}" for k, v in worst) + ")")
    summary = ", ".join(parts)
    flags = counters.get("flags") or []
    return summary + "".join(f"\n⚠ {flag}" for flag in flags)


def _flat_counters(counters: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested counters (errors.timeout) as sorted dotted pairs for a table cell."""
    flat: list[tuple[str, Any]] = []
    for key, value in sorted(counters.items()):
        if isinstance(value, dict):
            flat.extend(_flat_counters(value, f"{prefix}{key}."))
        else:
            flat.append((f"{prefix}{key}", value))
    return flat


# ---------------------------------------------------------------------------- schedule


@cli.group()
def schedule() -> None:
    """The scheduling service: run it, see what it will do, make a site run now."""


@schedule.command("run")
@click.option(
    "--grace", type=DURATION, default="30s", show_default=True,
    help="on SIGTERM/SIGINT, how long running crawls get to finish",
)  # fmt: skip
@click.option(
    "--misfire-grace", type=DURATION, default="5m", show_default=True,
    help="a run missed by less than this (service down, machine asleep) still runs, once",
)  # fmt: skip
@click.option(
    "-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="a setting passed to every scheduled crawl (as crawl -s)",
)  # fmt: skip
@click.pass_context
@handle_errors
def schedule_run(
    ctx: click.Context, grace: timedelta, misfire_grace: timedelta, settings: tuple[str, ...]
) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT (logs to stderr)."""
    from crawler.sites import SitesConfigError
    from scheduler import SchedulerService, ServiceBusyError

    if ctx.obj.get("verbose", 0) == 0:
        logging.getLogger("newsarchive").setLevel(logging.INFO)
    service = SchedulerService(
        ctx.obj["db"],
        ctx.obj["sites"],
        grace=grace,
        misfire_grace=misfire_grace,
        settings=_setting_overrides(settings),
    )
    try:
        code = service.run()
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    except ServiceBusyError as exc:
        _fail(str(exc), EXIT_NOT_FOUND)
    sys.exit(code)


@schedule.command("list")
@format_option("table", "json")
@click.pass_context
@handle_errors
def schedule_list(ctx: click.Context, fmt: str) -> None:
    """Each site: schedule, next run, last run and its status, health flags."""
    from crawler.sites import SitesConfigError
    from scheduler import schedule_status

    try:
        rows = schedule_status(ctx.obj["db"], ctx.obj["sites"])
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    if fmt == "json":
        _print_json(rows)
        return
    from rich.table import Table

    table = Table()
    for column in ("site", "schedule", "next run", "last run", "status", "flags"):
        table.add_column(column)
    for row in rows:
        status = row["last_status"] or "-"
        if row["lease"]:
            status += " (crawling now)"
        table.add_row(
            row["site"],
            row["schedule"] or "-",
            _fmt_time(row["next_run"]) if row["next_run"] else row["job"],
            _fmt_time(row["last_run"]),
            status,
            ", ".join(row["flags"]) or "-",
        )
    _console().print(table)


@schedule.command("trigger")
@click.argument("site")
@click.pass_context
@handle_errors
def schedule_trigger(ctx: click.Context, site: str) -> None:
    """Make SITE's scheduled job due now: the running service starts it (no overlap)."""
    from crawler.sites import SitesConfigError
    from scheduler import POLL_SECONDS, trigger_site

    try:
        service = trigger_site(ctx.obj["db"], ctx.obj["sites"], site)
    except SitesConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    if service is None:
        click.echo(
            f"{site}: due now, but no scheduling service runs on this database: it runs "
            "when `newsarchive schedule run` starts (within its --misfire-grace)",
            err=True,
        )
    else:
        click.echo(
            f"{site}: due now; the service ({service}) starts it within {POLL_SECONDS:g} s "
            "(unless it is being crawled already)",
            err=True,
        )


# ---------------------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
@handle_errors
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations (opening an archive also does this)."""
    from storage.engine import build_engine
    from storage.migrate import current_revision, upgrade

    engine = build_engine(ctx.obj["db"])
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


def main() -> None:
    obj: dict[str, Any] = {}
    try:
        cli(obj=obj)
    except SystemExit as exc:
        if not obj.get("exit_at_once"):
            raise
        # A finished crawl has written, closed and flushed everything; what is left is the
        # interpreter's teardown of Scrapy, Twisted and SQLAlchemy (0.2-0.3 s), which a
        # scheduled or scripted crawl would otherwise pay on every run.
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
