"""Invented stories recorded straight into an archive: fixtures for the query commands.

The CLI tests need an archive with known edits and duplicates without running a crawl. The
fixture is a sequence of fetches, as a crawler would record them: the same story three
times (a headline edit, then a correction), and one wire story on two sites. Each fetch gets
a small HTML page built from its fields, so `show --html` and WARC export have real bodies.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.archive import Archive
from storage.records import ExtractedArticle, FetchRecord

__all__ = ["load_demo"]


def _page(entry: dict[str, Any]) -> bytes:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in entry["paragraphs"])
    title = html.escape(entry["title"])
    return (
        f'<!doctype html><html lang="{entry["language"]}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article><h1>{title}</h1>"
        f'<p class="byline">{html.escape(", ".join(entry["authors"]))}</p>'
        f"{paragraphs}</article></body></html>"
    ).encode()


def _article(entry: dict[str, Any]) -> ExtractedArticle:
    def when(key: str) -> datetime | None:
        value = entry.get(key)
        return datetime.fromisoformat(value) if value else None

    return ExtractedArticle(
        title=entry["title"],
        text="\n".join(entry["paragraphs"]),
        authors=tuple(entry["authors"]),
        published=when("published"),
        modified=when("modified"),
        language=entry["language"],
        sources={"title": "demo fixture"},
    )


def load_demo(archive: Archive) -> dict[str, int]:
    """Record every fixture fetch, one manual run per site; returns outcome counts."""
    data = json.loads((Path(__file__).parent / "data" / "demo_stories.json").read_text("utf-8"))
    counts: dict[str, int] = {}
    per_run: dict[int, dict[str, int]] = {}
    start = datetime.now(UTC) - timedelta(hours=len(data["fetches"]))
    runs: dict[str, int] = {}
    for step, entry in enumerate(data["fetches"]):
        site = entry["site"]
        if site not in runs:
            runs[site] = archive.start_run(site, "manual")
        result = archive.record_fetch(
            FetchRecord(
                site=site,
                url=entry["url"],
                final_url=entry["url"],
                status=200,
                body=_page(entry),
                article=_article(entry),
                fetched_at=start + timedelta(hours=step),
                run_id=runs[site],
            )
        )
        for tally in (counts, per_run.setdefault(runs[site], {})):
            tally[result.outcome.value] = tally.get(result.outcome.value, 0) + 1
    for run_id in runs.values():
        archive.finish_run(run_id, "succeeded", counters=per_run.get(run_id, {}))
    return counts
