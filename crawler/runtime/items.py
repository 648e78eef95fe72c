"""What the spider hands the pipeline, and what the pipeline hands Scrapy's feed exports.

The spider yields ArchivedFetch: a plain dataclass around storage's PreparedFetch, so the
pipeline never re-parses or re-extracts and storage never sees a Scrapy object. It holds
raw bytes, a zstd copy and a MinHash, which no feed format can write, so once the
pipeline has queued a fetch for the archive it passes on `feed_item(...)` instead: the
article as a JSON-ready dict with the keys of `newsarchive export` (those the archive
assigns on writing, such as `version`, are not known yet and left out). That is what
`scrapy crawl news -a site=... -o items.jsonl` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from storage.export_rows import EXPORT_KEYS
from storage.prepare import PreparedFetch

__all__ = ["FEED_KEYS", "NOT_MODIFIED", "ArchivedFetch", "feed_item"]

# Why a 304 check is not passed on to feed exports (Scrapy's DropItem reason).
NOT_MODIFIED: Final = "not modified since the archived version (304)"

# What the archive decides on writing (identity, versions, duplicates, the blob).
_ASSIGNED_ON_WRITE: Final = frozenset(
    ("first_seen", "last_seen", "version", "versions", "duplicate_group", "changed_fields",
     "article_id", "blob_sha256")
)  # fmt: skip
FEED_KEYS: Final = tuple(key for key in EXPORT_KEYS if key not in _ASSIGNED_ON_WRITE)


@dataclass(slots=True)
class ArchivedFetch:
    """One fetch to record: an extracted article, or a 304 check of a known story."""

    url: str
    prepared: PreparedFetch


def feed_item(item: ArchivedFetch) -> dict[str, Any] | None:
    """The fetched article for feed exports; None for a 304 check (no article in it)."""
    prepared = item.prepared
    fields = prepared.fields
    if fields is None:
        return None
    record = prepared.record
    values = {
        **{key: fields.get(key) for key in FEED_KEYS},
        "url": record.final_url,
        "canonical_url": prepared.key_url or record.final_url,
        "site": record.site,
        "fetched_at": prepared.fetched_at,
        "http_status": record.status,
        "content_hash": prepared.content.content_hash if prepared.content else None,
    }
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
