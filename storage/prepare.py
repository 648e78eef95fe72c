"""Everything about a fetch that can be computed before touching the database.

Validation, canonical URLs, normalization, hashes, fingerprints and compression happen
here, outside the write transaction, so the database's write lock is held only for the
statements themselves; a bad record is rejected here without affecting its batch.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from storage import blobs
from storage.near_duplicates import signature
from storage.records import ExtractedArticle, FetchRecord
from storage.urls import InvalidURLError, canonicalize_url, story_key
from storage.versioning import NormalizedContent, normalize_article, normalize_line, to_utc

__all__ = ["FetchKind", "InvalidFetchError", "PreparedFetch", "clean_text", "prepare", "url_hash"]

MAX_SITE_NAME = 200
MAX_LANGUAGE = 35


class InvalidFetchError(ValueError):
    """A fetch record that cannot be archived; the message says which field is wrong."""


class FetchKind(enum.Enum):
    ARTICLE = "article"
    CHECK = "check"  # 304 Not Modified: the story was checked and has not changed
    NOT_ARTICLE = "not_article"


def url_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def clean_text(value: str | None) -> str:
    """Make extracted text storable on every database: no NUL, no lone surrogates."""
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _clean_optional(value: str | None) -> str | None:
    cleaned = clean_text(value).strip()
    return cleaned or None


def _clean_list(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for value in values:
        cleaned = normalize_line(clean_text(value))
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return out


@dataclass(slots=True)
class PreparedFetch:
    record: FetchRecord
    kind: FetchKind
    fetched_at: datetime
    # Canonical URLs that name this page's story, best first: its key and its final URL.
    candidate_urls: tuple[str, ...]
    # The URL asked for, when a redirect led elsewhere: it finds the story for lookups
    # (show, 304 checks) but never decides identity, since /latest redirects anywhere.
    redirect_urls: tuple[str, ...] = ()
    key_url: str | None = None
    content: NormalizedContent | None = None
    fields: dict[str, object] | None = None
    compressed: bytes | None = None
    # The raw body's length once the body itself is dropped (see `detach_body`).
    _body_size: int | None = None
    _sha256: str | None = None
    _signature: bytes | None = None
    _signed: bool = False

    def signature(self) -> bytes | None:
        """The body's MinHash, computed once, and only when a version is stored."""
        assert self.content is not None
        if not self._signed:
            self._signature = signature(self.content.text)
            self._signed = True
        return self._signature

    def body_sha256(self) -> str | None:
        """SHA-256 of the raw body (None without one), computed once and only if needed."""
        if self._sha256 is None and self.record.body:
            self._sha256 = blobs.sha256_hex(bytes(self.record.body))
        return self._sha256

    def ensure_compressed(self) -> bytes:
        if self.compressed is None:
            self.compressed = blobs.compress(bytes(self.record.body))
        return self.compressed

    def body_size(self) -> int:
        return self._body_size if self._body_size is not None else len(self.record.body)

    def detach_body(self) -> PreparedFetch:
        """Drop the raw body once it is hashed and compressed: all a write needs is the
        hash, the size and the compressed copy. The extraction workers do this before
        sending a page back, so the crawler process neither receives nor holds the
        uncompressed HTML, several times the size of the compressed copy.
        """
        if self.record.body and self.compressed is not None and self._sha256 is not None:
            self._body_size = len(self.record.body)
            self.record = dataclasses.replace(self.record, body=b"")
        return self

    def precompute_blob(self) -> None:
        """Hash and compress the body ahead of the transaction (threads release the GIL)."""
        self.body_sha256()
        self.ensure_compressed()

    def precompute(self) -> PreparedFetch:
        """Do all the CPU work a new version needs, e.g. in an extraction worker process.

        The crawler's workers can call `prepare(record).precompute()` and send the result
        (it pickles) to the process that writes, which then only runs SQL.
        """
        if self.kind is FetchKind.ARTICLE:
            if self.record.body:
                self.precompute_blob()
            self.signature()
        return self


def _language(value: str | None) -> str | None:
    """A language tag fits BCP 47's length; anything longer is extraction noise."""
    cleaned = _clean_optional(value)
    return cleaned if cleaned and len(cleaned) <= MAX_LANGUAGE else None


def _clean_article(article: ExtractedArticle) -> ExtractedArticle:
    """The article with every string storable, before anything is hashed or written."""
    return dataclasses.replace(
        article,
        title=clean_text(article.title).strip(),
        text=clean_text(article.text).strip(),
        authors=tuple(_clean_list(article.authors)),
        language=_language(article.language),
        description=_clean_optional(article.description),
        image=_clean_optional(article.image),
        tags=tuple(_clean_list(article.tags)),
        site_name=_clean_optional(article.site_name),
        canonical_url=_clean_optional(article.canonical_url),
        sources={clean_text(str(k)): clean_text(str(v)) for k, v in article.sources.items()},
    )


def _fields(article: ExtractedArticle) -> dict[str, object]:
    return {
        "title": article.title or "",
        "text": article.text,
        "authors": list(article.authors),
        "published": to_utc(article.published),
        "modified": to_utc(article.modified),
        "language": article.language,
        "description": article.description,
        "image": article.image,
        "tags": list(article.tags),
        "site_name": article.site_name,
        "sources": dict(article.sources),
    }


def _with_storable_validators(record: FetchRecord) -> FetchRecord:
    """ETag and Last-Modified are header bytes echoed back verbatim in the next request.
    One with a NUL (PostgreSQL rejects the whole row, losing the story) or a lone
    surrogate (no database encodes it) is dropped: the next fetch is then simply
    unconditional, which is always safe."""
    etag = record.etag if _storable(record.etag) else None
    last_modified = record.last_modified if _storable(record.last_modified) else None
    if etag == record.etag and last_modified == record.last_modified:
        return record
    return dataclasses.replace(record, etag=etag, last_modified=last_modified)


# Response headers kept per version: enough for any real response, bounded against a
# hostile server's thousands of headers.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16_384


def _with_storable_headers(record: FetchRecord) -> FetchRecord:
    """The headers as stored with a version (for WARC): in order, at most MAX_HEADERS pairs
    and MAX_HEADER_BYTES, a pair with a NUL (PostgreSQL's JSON refuses it) left out, lone
    surrogates replaced. Bounded here, in the extraction worker, not in the archive's write
    transaction."""
    kept: list[tuple[str, str]] = []
    size = 0
    for name, value in record.headers[:MAX_HEADERS]:
        size += len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            break
        if "\x00" not in name + value:
            kept.append((name, value.encode("utf-8", "replace").decode("utf-8")))
    if kept == list(record.headers):
        return record
    return dataclasses.replace(record, headers=tuple(kept))


def _storable(value: object) -> bool:
    """Whether every database can keep the value exactly as given."""
    if not isinstance(value, str):
        return value is None
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prepare(record: FetchRecord) -> PreparedFetch:
    """Validate and precompute one fetch; raises InvalidFetchError naming the bad field."""
    site = (record.site or "").strip()
    if not site or len(site) > MAX_SITE_NAME:
        raise InvalidFetchError(f"site: expected a name of 1-{MAX_SITE_NAME} characters")
    try:
        fetched = canonicalize_url(record.url)
    except InvalidURLError as exc:
        raise InvalidFetchError(f"url: {exc}") from None
    try:
        final = canonicalize_url(record.final_url or record.url)
    except InvalidURLError as exc:
        raise InvalidFetchError(f"final_url: {exc}") from None
    if not isinstance(record.body, bytes | bytearray | memoryview):
        raise InvalidFetchError("body: expected bytes")
    record = _with_storable_headers(_with_storable_validators(record))
    fetched_at = to_utc(record.fetched_at) or datetime.now(UTC)
    redirects = (fetched,) if fetched != final else ()

    if record.status == 304:
        return PreparedFetch(record, FetchKind.CHECK, fetched_at, (final,), redirects)
    if record.article is None or not 200 <= record.status < 300:
        return PreparedFetch(record, FetchKind.NOT_ARTICLE, fetched_at, (final,), redirects)
    for name in ("authors", "tags"):
        values = getattr(record.article, name)
        if isinstance(values, str | bytes) or not all(isinstance(v, str) for v in values):
            raise InvalidFetchError(f"article.{name}: expected a sequence of strings")
    article = _clean_article(record.article)
    fields = _fields(article)
    content = normalize_article(article)
    if not content.title and not content.text:
        return PreparedFetch(record, FetchKind.NOT_ARTICLE, fetched_at, (final,), redirects)
    key = story_key(final, article.canonical_url)
    return PreparedFetch(
        record=record,
        kind=FetchKind.ARTICLE,
        fetched_at=fetched_at,
        candidate_urls=tuple(dict.fromkeys((key, final))),
        redirect_urls=redirects,
        key_url=key,
        content=content,
        fields=fields,
    )
