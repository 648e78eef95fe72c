"""Load the bundled demo stories into an archive (`make demo` until the crawler lands).

The fixture is a sequence of fetches, as a crawler would record them: the same story three
times (a headline edit, then a correction), and one wire story on two sites. Each fetch gets
a small HTML page built from its fields, so `show --html` and WARC export have real bodies.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from storage.archive import Archive
from storage.records import ExtractedArticle, FetchRecord, Outcome

__all__ = ["load_demo"]

log = logging.getLogger(__name__)


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
    data = json.loads(resources.files("crawler").joinpath("demo/stories.json").read_text("utf-8"))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", default="sqlite:///demo.db", help="archive database URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with Archive(args.db) as archive:
        counts = load_demo(archive)
    summary = ", ".join(f"{Outcome(k).value}={v}" for k, v in sorted(counts.items()))
    print(f"loaded demo stories into {args.db}: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
