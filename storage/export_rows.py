"""Export records: the contract's keys, read in id-ordered chunks (constant memory).

Keyset pagination (`WHERE id > last ORDER BY id LIMIT n`) keeps every chunk an index range
scan however far into the archive the export is, and holds no cursor open between chunks,
so an export never blocks writers for its whole duration.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from storage.models import (
    article_table as _articles,
    site_table as _sites,
    snapshot_table as _snapshots,
)

__all__ = ["EXPORT_KEYS", "iter_rows"]


EXPORT_KEYS = (
    "url",
    "canonical_url",
    "site",
    "title",
    "text",
    "authors",
    "published",
    "modified",
    "language",
    "description",
    "image",
    "tags",
    "first_seen",
    "last_seen",
    "version",
    "versions",
    "content_hash",
    "duplicate_group",
    "fetched_at",
    "changed_fields",
    "http_status",
    "article_id",
    "blob_sha256",
)


def iter_rows(
    engine: Engine,
    *,
    all_versions: bool,
    site: str | None,
    since: datetime | None,
    chunk: int = 500,
    http_headers: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield one dict per article (latest version) or per snapshot, with EXPORT_KEYS, and
    the stored response headers as `http_headers` if asked (the WARC export's)."""
    s, a = _snapshots, _articles
    join_on = (s.c.article_id == a.c.id) if all_versions else (s.c.id == a.c.latest_snapshot_id)
    key = s.c.id if all_versions else a.c.id
    base = (
        select(
            key.label("_key"),
            s.c.final_url.label("url"),
            a.c.canonical_url,
            _sites.c.name.label("site"),
            s.c.title,
            s.c.text,
            s.c.authors,
            s.c.published,
            s.c.modified,
            s.c.language,
            s.c.description,
            s.c.image,
            s.c.tags,
            a.c.first_seen,
            a.c.last_seen,
            s.c.version,
            a.c.latest_version.label("versions"),
            s.c.content_hash,
            a.c.duplicate_group,
            s.c.fetched_at,
            s.c.changed_fields,
            s.c.http_status,
            a.c.id.label("article_id"),
            s.c.blob_sha256,
            s.c.http_headers,
        )
        .select_from(a.join(s, join_on).join(_sites, _sites.c.id == a.c.site_id))
        .order_by(key)
        .limit(chunk)
    )
    if site:
        base = base.where(_sites.c.name == site)
    if since:
        base = base.where(s.c.fetched_at >= since)
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(base.where(key > last)).mappings().all()
        if not rows:
            return
        for row in rows:
            record = {k: row[k] for k in EXPORT_KEYS}
            record["authors"] = list(record["authors"] or [])
            record["tags"] = list(record["tags"] or [])
            record["changed_fields"] = list(record["changed_fields"] or [])
            if http_headers:
                record["http_headers"] = row["http_headers"]
            yield record
        last = rows[-1]["_key"]
