"""The versioned article archive: models, migrations, the write path and the query API.

The names below are imported on first use (PEP 562), so a process that needs only the
light modules (the extraction workers use `storage.records`, `storage.prepare` and
`storage.urls`) never loads SQLAlchemy and the models, the larger part of a worker's
start-up time and memory (docs/benchmarks.md, "What each change bought").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.archive import Archive, ArchiveMissingError, ArticleNotFoundError
    from storage.browse import Change, SiteSummary, StorySummary
    from storage.fulltext import SearchFacets, SearchFilters, SearchHit
    from storage.prepare import InvalidFetchError
    from storage.query_syntax import QuerySyntaxError
    from storage.records import ExtractedArticle, FetchRecord, Outcome, RecordResult
    from storage.textdiff import FieldDiff, NothingToCompareError, VersionDiff
    from storage.views import ArticleView, RunView, SnapshotView, VersionInfo

_HOMES = {
    "Archive": "storage.archive",
    "ArchiveMissingError": "storage.archive",
    "ArticleNotFoundError": "storage.archive",
    "Change": "storage.browse",
    "SiteSummary": "storage.browse",
    "StorySummary": "storage.browse",
    "SearchFacets": "storage.fulltext",
    "SearchFilters": "storage.fulltext",
    "SearchHit": "storage.fulltext",
    "FieldDiff": "storage.textdiff",
    "NothingToCompareError": "storage.textdiff",
    "VersionDiff": "storage.textdiff",
    "ArticleView": "storage.views",
    "RunView": "storage.views",
    "SnapshotView": "storage.views",
    "VersionInfo": "storage.views",
    "InvalidFetchError": "storage.prepare",
    "QuerySyntaxError": "storage.query_syntax",
    "ExtractedArticle": "storage.records",
    "FetchRecord": "storage.records",
    "Outcome": "storage.records",
    "RecordResult": "storage.records",
}

__all__ = [
    "Archive",
    "ArchiveMissingError",
    "ArticleNotFoundError",
    "ArticleView",
    "Change",
    "ExtractedArticle",
    "FetchRecord",
    "FieldDiff",
    "InvalidFetchError",
    "NothingToCompareError",
    "Outcome",
    "QuerySyntaxError",
    "RecordResult",
    "RunView",
    "SearchFacets",
    "SearchFilters",
    "SearchHit",
    "SiteSummary",
    "SnapshotView",
    "StorySummary",
    "VersionDiff",
    "VersionInfo",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
