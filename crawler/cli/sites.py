"""`newsarchive sites`: the sites file, validated and listed."""

from __future__ import annotations

import click

from crawler.cli.common import format_option, load_sites_file, print_json
from crawler.config.timespec import format_duration


@click.command("sites")
@format_option("table", "json")
@click.pass_context
def sites_command(ctx: click.Context, fmt: str) -> None:
    """The sites configured in the sites file, validated."""
    configs = load_sites_file(ctx, required=True)
    if fmt == "json":
        print_json(
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
    from crawler.cli.tables import OutputTable

    table = OutputTable(
        ("site", "start URLs", "feeds", "sitemaps", "depth", "since", "schedule", "spider")
    )
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
    table.print()
