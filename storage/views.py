"""Read-only values the query API returns (no ORM objects escape storage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ArticleView", "RunView", "SnapshotView", "VersionInfo"]


@dataclass(frozen=True, slots=True)
class SnapshotView:
    article_id: int
    version: int
    fetched_at: datetime
    url: str
    final_url: str
    http_status: int
    title: str
    text: str
    authors: list[str]
    published: datetime | None
    modified: datetime | None
    language: str | None
    description: str | None
    image: str | None
    tags: list[str]
    site_name: str | None
    content_hash: str
    changed_fields: list[str]
    sources: dict[str, str]
    blob_sha256: str | None
    # What extracted it, and why it exists ("edit", "re-extraction"; None for version 1 or
    # unknown); the response headers as (name, value) pairs, if they were recorded.
    extractor: str | None = None
    cause: str | None = None
    http_headers: list[tuple[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: int
    site: str
    canonical_url: str
    first_url: str
    first_seen: datetime
    last_seen: datetime
    last_checked: datetime
    versions: int
    duplicate_group: int | None
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    fetched_at: datetime
    content_hash: str
    changed_fields: list[str]
    title: str
    url: str
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    site: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counters: dict[str, Any]
    error: str | None
    # Queued runs: the worker that ran it, the attempt number, the first attempt retried.
    worker: str | None = None
    attempt: int = 1
    retry_of: int | None = None
