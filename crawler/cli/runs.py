"""`newsarchive stats` and `runs`: what the archive holds and how its crawls went."""

from __future__ import annotations

from typing import Any

import click

from crawler.cli.common import (
    fmt_time,
    format_option,
    handle_errors,
    open_archive,
    print_json,
)


@click.command()
@format_option("table", "json")
@click.pass_context
@handle_errors
def stats(ctx: click.Context, fmt: str) -> None:
    """Counts of articles, versions, sites, runs, duplicates and stored HTML; health flags."""
    with open_archive(ctx) as archive:
        data = archive.stats()
        # The health flags of each site's latest run (crawler.runtime.health).
        latest = {site: archive.runs(site=site, limit=1) for site in data["per_site"]}
        data["flags"] = {
            site: flags
            for site, runs in latest.items()
            if runs and (flags := list(runs[0].counters.get("flags", [])))
        }
        # What discovery costs and remembers per site: the latest run's requests per story
        # and skipped links, the learned URL shapes and remembered URLs (crawler.runtime
        # .frontier).
        memory = archive.discovery_counts()
        data["discovery"] = {
            site: {
                "requests_per_story": runs[0].counters.get("requests_per_story") if runs else None,
                "skipped": runs[0].counters.get("skipped", {}) if runs else {},
                **memory.get(site, {"shapes": 0, "remembered_urls": {}}),
            }
            for site, runs in latest.items()
        }
    if fmt == "json":
        print_json(data)
        return
    from crawler.cli.tables import Column, OutputTable

    raw, stored = data["raw_html_bytes"], data["stored_html_bytes"]
    ratio = f" ({stored / raw:.1%} of {raw:,} raw bytes)" if raw else ""
    table = OutputTable(("what", Column("value", justify="right")), header=False)
    for key in ("articles", "snapshots", "sites", "runs", "duplicate_groups", "blobs"):
        table.add_row(key.replace("_", " "), f"{data[key]:,}")
    table.add_row("stored HTML", f"{stored:,} bytes{ratio}")
    table.add_row("first seen", fmt_time(data["first_seen"]))
    table.add_row("last seen", fmt_time(data["last_seen"]))
    for site, count in data["per_site"].items():
        table.add_row(f"  site {site}", f"{count:,}")
    for site, found in data["discovery"].items():
        remembered = sum(found["remembered_urls"].values())
        per_story = found["requests_per_story"]
        table.add_row(
            f"  discovery {site}",
            (f"{per_story} requests per story, " if per_story else "")
            + f"{found['shapes']:,} shapes, {remembered:,} URLs remembered",
        )
    for site, flags in data["flags"].items():
        table.add_row(f"  ⚠ {site}", "; ".join(flags))
    table.print()


@click.command()
@click.option("--site", help="only this site")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "succeeded", "failed", "interrupted"]),
    help="only runs in this state (queued: published, no worker has taken them yet)",
)
@format_option("table", "json")
@click.pass_context
@handle_errors
def runs(ctx: click.Context, site: str | None, limit: int, status: str | None, fmt: str) -> None:
    """Recent crawl runs, newest first, with their counters and the worker that ran them."""
    with open_archive(ctx) as archive:
        found = archive.runs(site=site, limit=limit, status=status)
    if fmt == "json":
        from storage.json_shapes import run_json

        print_json([run_json(r) for r in found])
        return
    if not found:
        click.echo("no runs recorded", err=True)
        return
    from crawler.cli.tables import Column, OutputTable

    table = OutputTable(
        (
            Column("id", no_wrap=True),
            Column("site", max_width=18),
            *(Column(name, no_wrap=True) for name in ("status", "started", "took", "worker")),
            Column("counters", ratio=1),
        )
    )
    for r in found:
        counters = _run_summary(r.counters)
        took = (
            f"{(r.finished_at - r.started_at).total_seconds():.0f} s"
            if r.finished_at and r.started_at
            else "-"
        )
        attempt = f"\nattempt {r.attempt} of {r.retry_of}" if r.retry_of else ""
        table.add_row(
            str(r.id),
            r.site,
            f"{r.status}\n{r.trigger}{attempt}",
            fmt_time(r.started_at),
            took,
            r.worker or "-",
            "; ".join(filter(None, [counters, r.error or ""])),
        )
    table.print()


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
    if counters.get("requests"):
        per_story = counters.get("requests_per_story")
        parts.append(
            f"requests {counters['requests']:,}"
            + (f" ({per_story} per story)" if per_story else "")
        )
    skipped = {k: v for k, v in counters.get("skipped", {}).items() if isinstance(v, int) and v}
    if skipped:
        top = sorted(skipped.items(), key=lambda item: (-item[1], item[0]))[:3]
        parts.append(
            f"skipped {sum(skipped.values()):,} (" + ", ".join(f"{k} {v}" for k, v in top) + ")"
        )
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
