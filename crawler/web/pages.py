"""What each page shows, as JSON-ready data: the HTML page renders it, `/api/...` returns
it as it is. Keys are the command line's `--format json` keys (storage.json_shapes)."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.config.timespec import parse_moment
from storage.archive import Archive, ArticleNotFoundError
from storage.fulltext import SearchFilters
from storage.json_shapes import (
    article_json,
    change_json,
    diff_json,
    facets_json,
    run_json,
    search_hit_json,
    site_json,
    story_json,
    version_json,
)
from storage.textdiff import diff_snapshots

__all__ = [
    "PAGE_SIZE",
    "BadRequest",
    "article_page",
    "changes_page",
    "diff_page",
    "overview_page",
    "runs_page",
    "search_page",
    "site_page",
    "sites_page",
    "version_page",
]

PAGE_SIZE = 20
MAX_PAGE = 500
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "interrupted")


class BadRequest(ValueError):
    """A parameter the page cannot take (answered 400 with the message)."""


@dataclass(frozen=True)
class SearchForm:
    """The search parameters, as the CLI's `search` options."""

    q: str
    site: str | None
    since: datetime | None
    until: datetime | None
    date_field: str
    language: str | None
    author: str | None
    collapse: bool
    page: int

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> SearchForm:
        def text(name: str) -> str | None:
            value = params.get(name, "").strip()
            return value or None

        def moment(name: str) -> datetime | None:
            value = text(name)
            if value is None:
                return None
            try:
                return parse_moment(value)
            except ValueError as exc:
                raise BadRequest(f"{name}: {exc}") from None

        date_field = params.get("date", "published")
        if date_field not in ("published", "first_seen"):
            raise BadRequest("date: expected published or first_seen")
        return cls(
            q=params.get("q", "").strip(),
            site=text("site"),
            since=moment("since"),
            until=moment("until"),
            date_field=date_field,
            language=text("language"),
            author=text("author"),
            collapse=params.get("collapse", "") in ("1", "true", "on"),
            page=_int(params.get("page"), "page", 1, MAX_PAGE, default=1),
        )

    def filters(self) -> SearchFilters:
        return SearchFilters(
            site=self.site,
            since=self.since,
            until=self.until,
            date_field="published" if self.date_field == "published" else "first_seen",
            language=self.language,
            author=self.author,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The form as query parameters (for links to other pages and facets)."""
        values: dict[str, Any] = {
            "q": self.q,
            "site": self.site,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "date": None if self.date_field == "published" else self.date_field,
            "language": self.language,
            "author": self.author,
            "collapse": "1" if self.collapse else None,
            "page": None if self.page == 1 else str(self.page),
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _int(value: str | None, name: str, low: int, high: int, *, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}: expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise BadRequest(f"{name}: expected {low} to {high}, got {number}")
    return number


def overview_page(archive: Archive) -> dict[str, Any]:
    return {
        "counts": archive.counts(),
        "stories": [story_json(s) for s in archive.recent_stories(limit=10)],
        "changes": [change_json(c) for c in archive.recent_changes(limit=10)],
        "sites": [site_json(s) for s in archive.site_summaries()],
    }


def search_page(archive: Archive, form: SearchForm) -> dict[str, Any]:
    if not form.q:
        return {"query": "", "results": [], "facets": None, "page": 1, "pages": 0}
    filters = form.filters()
    offset = (form.page - 1) * PAGE_SIZE
    # The counts and the page's hits are two queries of about the same cost: run at once,
    # each on its own connection (both databases read in parallel, without the GIL).
    with ThreadPoolExecutor(1) as counter:
        counting = counter.submit(archive.search_facets, form.q, filters)
        hits = archive.search(
            form.q, filters, limit=PAGE_SIZE, offset=offset, collapse_duplicates=form.collapse
        )
        facets = counting.result()
    pages = max(1, -(-facets.total // PAGE_SIZE)) if facets.total else 1
    return {
        "query": form.q,
        "results": [search_hit_json(h) for h in hits],
        "facets": facets_json(facets),
        "page": form.page,
        # With --collapse, copies count in the facets but not among the results.
        "pages": min(pages, MAX_PAGE),
    }


def article_page(archive: Archive, ref: int) -> dict[str, Any]:
    article = archive.article(ref)
    snapshot = archive.snapshot(article.id)
    return {
        "article": article_json(article, snapshot),
        "versions": [version_json(v) for v in archive.history(article.id)],
        "copies": [story_json(s) for s in archive.copies_of(article)],
    }


def version_page(archive: Archive, ref: int, version: int) -> dict[str, Any]:
    article = archive.article(ref)
    if version < 1:
        raise ArticleNotFoundError(f"article {article.id} has no version {version}")
    snapshot = archive.snapshot(article.id, version)
    return {"article": article_json(article, snapshot)}


def diff_page(archive: Archive, ref: int, params: Mapping[str, str]) -> dict[str, Any]:
    article = archive.article(ref)
    if article.versions < 2:
        raise BadRequest(f"article {article.id} has one version: nothing to compare")
    newer_version = _int(params.get("to"), "to", 1, article.versions, default=article.versions)
    older_version = _int(
        params.get("from"), "from", 1, article.versions, default=max(1, newer_version - 1)
    )
    if older_version >= newer_version:
        raise BadRequest(f"from ({older_version}) must be older than to ({newer_version})")
    older = archive.snapshot(article.id, older_version)
    newer = archive.snapshot(article.id, newer_version)
    diffs = [d for d in diff_snapshots(older, newer) if d.changed]
    data = diff_json(article.id, older.version, newer.version, diffs)
    data.update(
        title=newer.title,
        previous_title=older.title,
        site=article.site,
        versions=article.versions,
        fetched={"from": older.fetched_at, "to": newer.fetched_at},
    )
    return data


def changes_page(archive: Archive, params: Mapping[str, str]) -> dict[str, Any]:
    site = params.get("site") or None
    page = _int(params.get("page"), "page", 1, MAX_PAGE, default=1)
    changes = archive.recent_changes(site=site, limit=50, offset=(page - 1) * 50)
    # Headline changes first, each part newest first.
    ordered = sorted(changes, key=lambda c: not c.headline_changed)
    return {"site": site, "page": page, "changes": [change_json(c) for c in ordered]}


def sites_page(archive: Archive) -> dict[str, Any]:
    return {"sites": [site_json(s) for s in archive.site_summaries()]}


def site_page(archive: Archive, name: str) -> dict[str, Any]:
    found = archive.site_summaries(name)
    if not found:
        raise ArticleNotFoundError(f"no site {name!r} in this archive")
    runs = archive.runs(site=name, limit=30)
    return {
        "site": site_json(found[0]),
        "stories_per_day": [
            {"day": day.isoformat(), "stories": count}
            for day, count in archive.stories_per_day(name, 30)
        ],
        "runs": [run_json(r) for r in runs],
        "stories": [story_json(s) for s in archive.recent_stories(site=name, limit=10)],
    }


def runs_page(archive: Archive, params: Mapping[str, str]) -> dict[str, Any]:
    site = params.get("site") or None
    status = params.get("status") or None
    if status is not None and status not in RUN_STATUSES:
        raise BadRequest(f"status: expected one of {', '.join(RUN_STATUSES)}")
    limit = _int(params.get("limit"), "limit", 1, 1000, default=50)
    runs = archive.runs(site=site, limit=limit, status=status)
    return {"site": site, "status": status, "runs": [run_json(r) for r in runs]}
