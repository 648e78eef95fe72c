"""The versioned article archive: models, migrations, the write path and the query API."""

from storage.archive import Archive, ArticleNotFoundError
from storage.fulltext import SearchFilters, SearchHit
from storage.prepare import InvalidFetchError
from storage.query_syntax import QuerySyntaxError
from storage.records import ExtractedArticle, FetchRecord, Outcome, RecordResult

__all__ = [
    "Archive",
    "ArticleNotFoundError",
    "ExtractedArticle",
    "FetchRecord",
    "InvalidFetchError",
    "Outcome",
    "QuerySyntaxError",
    "RecordResult",
    "SearchFilters",
    "SearchHit",
]
