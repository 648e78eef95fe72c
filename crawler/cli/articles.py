"""`newsarchive show`, `history` and `diff`: one article, its versions, what changed."""

from __future__ import annotations

import sys

import click

from crawler.cli.common import (
    VERSION,
    console,
    fail,
    fmt_time,
    format_option,
    handle_errors,
    open_archive,
    print_json,
    stdout_is_terminal,
    terminal_has_color,
)


def safe_for_terminal(data: bytes) -> str:
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


@click.command()
@click.argument("ref", metavar="URL|ID")
@click.option(
    "--version", "version", type=VERSION, help="version number (default: latest; -1: previous)"
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
                fail(f"no HTML stored for version {snapshot.version}")
            if stdout_is_terminal():
                click.echo(safe_for_terminal(body))
            else:
                sys.stdout.buffer.write(body)
                sys.stdout.buffer.flush()
            return
    if fmt == "json":
        from storage.json_shapes import article_json

        print_json(article_json(article, snapshot))
        return
    out = console()
    out.print(f"[bold]{_esc(snapshot.title)}[/bold]")
    meta = [
        ("id", str(article.id)),
        ("url", article.canonical_url),
        ("site", article.site),
        ("authors", ", ".join(snapshot.authors) or "-"),
        ("published", fmt_time(snapshot.published)),
        ("modified", fmt_time(snapshot.modified)),
        ("language", snapshot.language or "-"),
        ("version", f"{snapshot.version} of {article.versions}"),
        ("fetched", fmt_time(snapshot.fetched_at)),
        ("first seen", fmt_time(article.first_seen)),
        ("last seen", fmt_time(article.last_seen)),
    ]
    for key, value in meta:
        out.print(f"[dim]{key:>10}[/dim] {_esc(value)}")
    out.print()
    out.print(_esc(snapshot.text), soft_wrap=True)


def _esc(value: str) -> str:
    from rich.markup import escape

    return escape(value)


@click.command()
@click.argument("ref", metavar="URL|ID")
@format_option("table", "json")
@click.pass_context
@handle_errors
def history(ctx: click.Context, ref: str, fmt: str) -> None:
    """List the versions of an article and what changed in each."""
    with open_archive(ctx) as archive:
        versions = archive.history(ref)
    if fmt == "json":
        from storage.json_shapes import version_json

        print_json([version_json(v) for v in versions])
        return
    from crawler.cli.tables import OutputTable

    table = OutputTable(("version", "fetched", "changed", "title", "hash"))
    for v in versions:
        changed = ", ".join(v.changed_fields) if v.version > 1 else "(first)"
        if v.cause == "re-extraction":
            changed += " (re-extraction)"
        table.add_row(str(v.version), fmt_time(v.fetched_at), changed, v.title, v.content_hash[:12])
    table.print()


@click.command()
@click.argument("ref", metavar="URL|ID")
@click.option(
    "--from", "from_version", type=VERSION, help="older version (default: the previous one)"
)
@click.option("--to", "to_version", type=VERSION, help="newer version (default: the latest)")
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
    from storage.textdiff import NothingToCompareError, render_plain

    with open_archive(ctx) as archive:
        try:
            compared = archive.diff(ref, from_version, to_version)
        except NothingToCompareError as exc:
            fail(str(exc))
    older, newer, diffs = compared.older, compared.newer, list(compared.changed)
    if fmt == "json":
        from storage.json_shapes import diff_json

        print_json(diff_json(newer.article_id, older.version, newer.version, diffs))
        return
    header = f"version {older.version} -> {newer.version}"
    if not diffs:
        click.echo(f"{header}: no differences in the versioned fields")
        return
    if not stdout_is_terminal() or not terminal_has_color():
        click.echo(header)
        for d in diffs:
            click.echo(f"--- {d.field}")
            click.echo(render_plain(d.segments))
        return
    from rich.text import Text

    out = console()
    out.print(header, style="bold")
    styles = {"equal": "", "delete": "red strike", "insert": "green underline"}
    for d in diffs:
        out.print(f"--- {d.field}", style="dim")
        text = Text()
        for segment in d.segments:
            text.append(segment.text, style=styles[segment.op])
        out.print(text, soft_wrap=True)
