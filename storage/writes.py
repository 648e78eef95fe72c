"""The write path: recording prepared fetches inside one transaction.

Races are settled by the database, never by check-then-insert: sites, blobs and URL aliases
are inserted with ON CONFLICT DO NOTHING; the article row is upserted (PostgreSQL's
ON CONFLICT DO UPDATE locks it, SQLite's BEGIN IMMEDIATE serializes writers), so the
latest-version read that follows is the truth until commit and two writers can never both
add version N+1.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage import blobs
from storage.content import changed_fields
from storage.fingerprint import THRESHOLD, band_keys, similarity
from storage.fulltext import index_snapshot
from storage.models import Article, ArticleBand, ArticleURL, Blob, Site, Snapshot
from storage.prepare import FetchKind, PreparedFetch, url_hash
from storage.records import Outcome, RecordResult

__all__ = ["SiteCache", "write_prepared"]

# A band key shared by this many articles is boilerplate, not a story; cap the comparisons.
_MAX_CANDIDATES = 200

_articles: Table = Article.__table__  # type: ignore[assignment]
_aliases: Table = ArticleURL.__table__  # type: ignore[assignment]
_bands: Table = ArticleBand.__table__  # type: ignore[assignment]
_blobs: Table = Blob.__table__  # type: ignore[assignment]
_sites: Table = Site.__table__  # type: ignore[assignment]
_snapshots: Table = Snapshot.__table__  # type: ignore[assignment]


def _insert(conn: Connection, table: Table) -> Any:
    """A dialect-specific INSERT that supports ON CONFLICT."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


class SiteCache:
    """Site ids by name; ids are only remembered once the transaction that made them commits."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.pending: dict[str, int] = {}

    def site_id(self, conn: Connection, name: str, now: Any) -> int:
        found = self.known.get(name) or self.pending.get(name)
        if found is not None:
            return found
        conn.execute(
            _insert(conn, _sites)
            .values(name=name, created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        site_id = conn.execute(select(_sites.c.id).where(_sites.c.name == name)).scalar_one()
        self.pending[name] = site_id
        return int(site_id)

    def commit(self) -> None:
        self.known.update(self.pending)
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()


def _find_article(conn: Connection, candidate_urls: tuple[str, ...]) -> int | None:
    """The story any of these canonical URLs already belongs to, preferring the first."""
    hashes = [url_hash(u) for u in candidate_urls]
    rows = conn.execute(
        select(_aliases.c.url_hash, _aliases.c.article_id).where(_aliases.c.url_hash.in_(hashes))
    ).all()
    by_hash = {row.url_hash: row.article_id for row in rows}
    for h in hashes:
        if h in by_hash:
            return int(by_hash[h])
    return None


def _add_aliases(conn: Connection, article_id: int, urls: tuple[str, ...]) -> None:
    conn.execute(
        _insert(conn, _aliases).on_conflict_do_nothing(index_elements=["url_hash"]),
        [{"url_hash": url_hash(u), "url": u, "article_id": article_id} for u in urls],
    )


def _record_check(conn: Connection, item: PreparedFetch) -> RecordResult:
    article_id = _find_article(conn, item.candidate_urls)
    if article_id is None:
        return RecordResult(Outcome.NOT_ARTICLE)
    row = conn.execute(
        update(_articles)
        .where(_articles.c.id == article_id)
        .values(last_seen=item.fetched_at, last_checked=item.fetched_at)
        .returning(_articles.c.latest_version, _articles.c.canonical_url)
    ).one()
    return RecordResult(
        Outcome.UNCHANGED, article_id, row.latest_version, canonical_url=row.canonical_url
    )


def _lock_article(conn: Connection, item: PreparedFetch, site_id: int) -> Any:
    """Create or touch the story's row, locking it; returns (id, latest_version, latest id)."""
    record = item.record
    touch = {
        "last_seen": item.fetched_at,
        "last_checked": item.fetched_at,
        "etag": record.etag,
        "last_modified": record.last_modified,
    }
    returning = (
        _articles.c.id,
        _articles.c.latest_version,
        _articles.c.latest_snapshot_id,
        _articles.c.canonical_url,
    )
    existing = _find_article(conn, item.candidate_urls)
    if existing is not None:
        return conn.execute(
            update(_articles)
            .where(_articles.c.id == existing)
            .values(**touch)
            .returning(*returning)
        ).one()
    assert item.key_url is not None
    statement = _insert(conn, _articles).values(
        site_id=site_id,
        url_hash=url_hash(item.key_url),
        canonical_url=item.key_url,
        first_url=record.url,
        first_seen=item.fetched_at,
        latest_version=0,
        **touch,
    )
    statement = statement.on_conflict_do_update(index_elements=["url_hash"], set_=touch)
    return conn.execute(statement.returning(*returning)).one()


def _duplicate_group(conn: Connection, article_id: int, sig: bytes | None) -> int:
    """Join the group of the most similar other article above THRESHOLD, else be alone.

    Band rows are replaced first so the article's own keys reflect its newest body.
    """
    conn.execute(delete(_bands).where(_bands.c.article_id == article_id))
    if sig is None:
        return article_id
    keys = band_keys(sig)
    conn.execute(insert(_bands), [{"band_key": k, "article_id": article_id} for k in keys])
    candidates = (
        select(_bands.c.article_id)
        .where(_bands.c.band_key.in_(keys), _bands.c.article_id != article_id)
        .distinct()
        .limit(_MAX_CANDIDATES)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(_articles.c.id, _articles.c.minhash, _articles.c.duplicate_group).where(
            _articles.c.id.in_(candidates)
        )
    ).all()
    best: tuple[float, int, int] | None = None
    for row in rows:
        if row.minhash is None:
            continue
        score = similarity(sig, bytes(row.minhash))
        if score >= THRESHOLD and (best is None or (-score, row.id) < (-best[0], best[1])):
            best = (score, int(row.id), int(row.duplicate_group or row.id))
    return best[2] if best else article_id


def _ensure_blob(conn: Connection, item: PreparedFetch) -> str | None:
    sha = item.body_sha256
    if sha is None:
        return None
    exists = conn.execute(select(_blobs.c.sha256).where(_blobs.c.sha256 == sha)).first()
    if exists is None:
        conn.execute(
            _insert(conn, _blobs)
            .values(
                sha256=sha,
                size=len(item.record.body),
                codec=blobs.CODEC,
                data=item.ensure_compressed(),
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    return sha


def _record_article(conn: Connection, item: PreparedFetch, sites: SiteCache) -> RecordResult:
    assert item.content is not None and item.fields is not None
    site_id = sites.site_id(conn, item.record.site.strip(), item.fetched_at)
    article = _lock_article(conn, item, site_id)
    article_id = int(article.id)
    hashes = item.content.field_hashes()
    previous_hashes: dict[str, str] | None = None
    if article.latest_snapshot_id is not None:
        previous = conn.execute(
            select(_snapshots.c.content_hash, _snapshots.c.field_hashes).where(
                _snapshots.c.id == article.latest_snapshot_id
            )
        ).one()
        if previous.content_hash == item.content.content_hash:
            _add_aliases(conn, article_id, item.candidate_urls)
            return RecordResult(
                Outcome.UNCHANGED,
                article_id,
                article.latest_version,
                canonical_url=article.canonical_url,
            )
        previous_hashes = dict(previous.field_hashes)
    version = int(article.latest_version) + 1
    changed = changed_fields(previous_hashes, hashes)
    blob_sha = _ensure_blob(conn, item)
    record = item.record
    snapshot_id = conn.execute(
        _insert(conn, _snapshots)
        .values(
            article_id=article_id,
            version=version,
            fetched_at=item.fetched_at,
            run_id=record.run_id,
            url=record.url,
            final_url=record.final_url or record.url,
            http_status=record.status,
            content_hash=item.content.content_hash,
            field_hashes=hashes,
            changed_fields=list(changed),
            blob_sha256=blob_sha,
            **item.fields,
        )
        .returning(_snapshots.c.id)
    ).scalar_one()
    sig = item.signature()
    group = _duplicate_group(conn, article_id, sig)
    conn.execute(
        update(_articles)
        .where(_articles.c.id == article_id)
        .values(
            latest_version=version,
            latest_snapshot_id=snapshot_id,
            minhash=sig,
            duplicate_group=group,
        )
    )
    index_snapshot(conn, article_id, snapshot_id, article.latest_snapshot_id)
    _add_aliases(conn, article_id, item.candidate_urls)
    outcome = Outcome.NEW_ARTICLE if version == 1 else Outcome.NEW_VERSION
    return RecordResult(outcome, article_id, version, changed, article.canonical_url)


def write_prepared(
    conn: Connection, items: list[PreparedFetch], sites: SiteCache
) -> list[RecordResult]:
    """Record prepared fetches in order, in the caller's transaction."""
    results = []
    for item in items:
        if item.kind is FetchKind.ARTICLE:
            results.append(_record_article(conn, item, sites))
        elif item.kind is FetchKind.CHECK:
            results.append(_record_check(conn, item))
        else:
            results.append(RecordResult(Outcome.NOT_ARTICLE))
    return results


def blob_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(_blobs)).scalar_one())
