"""`newsarchive search`: full-text search over the latest version of every article."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from crawler.cli.common import (
    MOMENT,
    OFFSET,
    fmt_time,
    format_option,
    handle_errors,
    open_archive,
    print_json,
)


@click.command()
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
@click.option("--offset", type=OFFSET, default=0)
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
        from storage.json_shapes import search_hit_json

        print_json([search_hit_json(h) for h in hits])
        return
    if not hits:
        click.echo("no results", err=True)
        return
    from rich.text import Text

    from crawler.cli.tables import OutputTable

    table = OutputTable(("id", "published", "site", "title / snippet", "score"), lines=True)
    if not table.for_terminal:  # a column each, for cut and awk
        table = OutputTable(("id", "published", "site", "title", "snippet", "url", "score"))
    for h in hits:
        if not table.for_terminal:
            snippet = _marked(h.snippet).plain
            row = (h.title, snippet, h.url)
            table.add_row(str(h.article_id), fmt_time(h.published), h.site, *row, f"{h.score:.3g}")
            continue
        cell = Text(h.title + "\n", style="bold")
        cell.append_text(_marked(h.snippet))
        cell.append("\n" + h.url, style="dim")
        table.add_row(str(h.article_id), fmt_time(h.published), h.site, cell, f"{h.score:.3g}")
    table.print()


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
