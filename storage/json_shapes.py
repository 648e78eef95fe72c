"""The archive's values as JSON-ready dicts: one spelling of every key, shared by the
command line's `--format json` and the web app's `/api/...` routes, so a script can move
from one to the other without renaming a field. Most are a view's own fields
(`dataclasses.asdict`), so a field added to a view reaches both at once."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI's JSON output of every command imports this module
    from storage.browse import Change, SiteSummary, StorySummary
    from storage.fulltext import SearchFacets, SearchHit
    from storage.textdiff import FieldDiff
    from storage.views import ArticleView, RunView, SnapshotView, VersionInfo

__all__ = [
    "article_json",
    "change_json",
    "diff_json",
    "dumps",
    "facets_json",
    "json_default",
    "run_json",
    "search_hit_json",
    "site_json",
    "story_json",
    "version_json",
]


def json_default(value: Any) -> Any:
    """Times as ISO 8601 strings, dataclasses as dicts."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = 2) -> str:
    return json.dumps(data, default=json_default, ensure_ascii=False, indent=indent)


def search_hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.article_id,
        "url": hit.url,
        "site": hit.site,
        "title": hit.title,
        "published": hit.published,
        "first_seen": hit.first_seen,
        "language": hit.language,
        "authors": hit.authors,
        "snippet": hit.snippet,
        "score": hit.score,
        "duplicate_group": hit.duplicate_group,
        "version": hit.version,
    }


def article_json(article: ArticleView, snapshot: SnapshotView) -> dict[str, Any]:
    """A version of a story with the story's own fields (`show --format json`).

    Not the response headers: they hold what the site set for the crawler (cookies) and
    are for the WARC export only (docs/SECURITY.md)."""
    data = asdict(snapshot)
    del data["http_headers"]
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
    return data


def version_json(version: VersionInfo) -> dict[str, Any]:
    return asdict(version)


def diff_json(article_id: int, older: int, newer: int, diffs: list[FieldDiff]) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "from": older,
        "to": newer,
        "fields": [
            {"field": d.field, "segments": [{"op": s.op, "text": s.text} for s in d.segments]}
            for d in diffs
        ],
    }


def run_json(run: RunView) -> dict[str, Any]:
    return asdict(run)


def story_json(story: StorySummary) -> dict[str, Any]:
    return asdict(story)


def change_json(change: Change) -> dict[str, Any]:
    return {**asdict(change), "headline_changed": change.headline_changed}


def site_json(site: SiteSummary) -> dict[str, Any]:
    return {
        "name": site.name,
        "articles": site.articles,
        "last_run": None
        if site.last_run_id is None
        else {
            "id": site.last_run_id,
            "status": site.last_run_status,
            "started_at": site.last_run_started,
            "counters": site.last_run_counters,
        },
        "flags": site.flags,
    }


def facets_json(facets: SearchFacets) -> dict[str, Any]:
    return {
        "total": facets.total,
        "capped": facets.capped,
        "sites": facets.sites,
        "languages": facets.languages,
    }
